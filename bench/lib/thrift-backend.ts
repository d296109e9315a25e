/** Starts scenario S5's Thrift backend (bench/thrift-backend.ts) and waits until it accepts. */
import { connect } from 'node:net';
import { join } from 'node:path';
import { generateOrderCode } from './codegen.ts';
import { sleep, start, type Proc } from './process.ts';

export async function startThriftBackend(cpus: string | undefined, port: number, limitMs = 30_000): Promise<Proc> {
  generateOrderCode();
  const proc = start(cpus, process.execPath, [join(import.meta.dirname, '../thrift-backend.ts')], { env: { ...process.env, PORT: String(port) } });
  const began = performance.now();
  while (performance.now() - began < limitMs) {
    if (proc.child.exitCode !== null) throw new Error(`the Thrift backend exited with ${proc.child.exitCode}: ${proc.stderr()}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' }, () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (open) return proc;
    await sleep(20);
  }
  throw new Error(`the Thrift backend did not listen on ${port} in ${limitMs} ms: ${proc.stderr()}`);
}
