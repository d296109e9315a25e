/** The Thrift endpoint's TCP connection pool against a real framed peer on 127.0.0.1. */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { TcpPool } from '../../../connectors/thrift/tcp-pool.ts';
import { Cancellation } from '../../../runtime/engine/cancellation.ts';
import { WeftError } from '../../../runtime/errors.ts';

/** Answers each frame with the same frame, except a frame "hold", which it never answers. */
let server: Server;
let port = 0;
const sockets = new Set<Socket>();
before(async () => {
  server = createServer((s) => {
    sockets.add(s);
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(0, 4 + buf.readInt32BE(0));
        buf = buf.subarray(frame.length);
        if (frame.subarray(4).toString() !== 'hold') s.write(frame);
      }
    });
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const read = (bytes: Buffer): string => bytes.toString();
const within = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref())]);

test('a call cancelled while a connection is being opened for it gives that connection back', async () => {
  const pool = new TcpPool({ host: '127.0.0.1', port, framed: true, max: 1, maxReply: 1024, endpoint: 'pricing' });
  const gone = () => new WeftError('ABORTED', 'the caller closed the connection');
  const cancelA = new Cancellation();
  const cancelB = new Cancellation();
  // A holds the only connection; B waits for it.
  const a = pool.request(Buffer.from('hold'), read, cancelA);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const b = pool.request(Buffer.from('b'), read, cancelB);
  // A's caller goes: its connection is closed (a reply may still come), and a fresh one is
  // being opened for B when B's caller goes too.
  cancelA.abort(gone());
  await assert.rejects(a, { code: 'ABORTED' });
  cancelB.abort(gone());
  await assert.rejects(b, { code: 'ABORTED' });
  // The connection opened for B is the pool's again: the next call gets it.
  assert.equal(await within(pool.request(Buffer.from('c'), read, undefined), 2000), 'c');
  assert.equal(await within(pool.request(Buffer.from('d'), read, undefined), 2000), 'd');
  await pool.stop(AbortSignal.timeout(1000));
});
