/**
 * Preloaded into a target by `npm run bench:gc -- --survivors` (node --import): samples
 * allocations with V8's sampling heap profiler, keeping only those that outlived the young
 * generation (objects collected by a scavenge are dropped, those promoted and later collected
 * by a major GC are kept). That is what makes major GCs: the profile says where it was allocated.
 * The first SIGUSR2 starts sampling, the second writes the profile to WEFT_SURVIVORS_FILE.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

const file = process.env.WEFT_SURVIVORS_FILE;
if (file) {
  const session = new Session();
  session.connect();
  let sampling = false;
  process.on('SIGUSR2', () => {
    void (async () => {
      if (!sampling) {
        sampling = true;
        await session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
        return;
      }
      const { profile } = await session.post('HeapProfiler.stopSampling');
      writeFileSync(file, JSON.stringify(profile));
    })();
  });
}
