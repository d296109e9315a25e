/**
 * Which code `weft` runs: the one-file build (dist/weft.mjs, `npm run build`) when it is there and
 * none of the files it was made from changed since, else the TypeScript sources. The bundle starts
 * in about half the CPU (one file to read and compile instead of ~500), the sources are what a
 * developer edits: an edited file is newer than the bundle, so the next start runs the edit.
 *
 * WEFT_BUNDLE=0 always runs the sources; WEFT_BUNDLE=1 runs the bundle without looking at the
 * sources (the container image, where they cannot change after the build). Either way a missing
 * bundle means the sources.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const BUNDLE_FILE = 'weft.mjs';
export const MANIFEST_FILE = 'weft.json';

/** dist/weft.json: the repository files (relative paths) the bundle was made from. */
export interface BundleManifest {
  inputs: string[];
}

export interface Entry {
  /** The module to import; it exports `main(argv)`. */
  url: string;
  kind: 'bundle' | 'sources';
  /** Why the sources run although a bundle exists (stale, switched off); absent otherwise. */
  reason?: string;
}

const mtime = (file: string): number | undefined => statSync(file, { throwIfNoEntry: false })?.mtimeMs;

/** The first of the bundle's inputs that is missing or newer than the bundle, if any. */
export function staleInput(root: string, distDir: string): string | undefined {
  const built = mtime(join(distDir, BUNDLE_FILE));
  if (built === undefined) return BUNDLE_FILE;
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(join(distDir, MANIFEST_FILE), 'utf8')) as BundleManifest;
  } catch {
    return MANIFEST_FILE;
  }
  return manifest.inputs.find((input) => {
    const changed = mtime(join(root, input));
    return changed === undefined || changed > built;
  });
}

export function pickEntry(root: string, env: NodeJS.ProcessEnv = process.env, distDir = join(root, 'dist')): Entry {
  const sources: Entry = { url: pathToFileURL(join(root, 'runtime/cli.ts')).href, kind: 'sources' };
  const bundle: Entry = { url: pathToFileURL(join(distDir, BUNDLE_FILE)).href, kind: 'bundle' };
  if (env.WEFT_BUNDLE === '0') return { ...sources, reason: 'WEFT_BUNDLE=0' };
  if (mtime(join(distDir, BUNDLE_FILE)) === undefined) return sources;
  if (env.WEFT_BUNDLE === '1') return bundle;
  const stale = staleInput(root, distDir);
  return stale === undefined ? bundle : { ...sources, reason: `${stale} is newer than the bundle (npm run build)` };
}
