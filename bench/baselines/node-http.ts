/**
 * Baseline "node": node:http + undici, nothing else. The floor for any Node proxy.
 * Serves every load scenario (one route each); PORT and BACKEND_URL from the environment.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { config, overview, passthrough, priceOrder, quote, upstream, type Answer } from './work.ts';

const { port, backendUrl } = config();
const pool = upstream(backendUrl);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => JSON.parse((await readBody(req)).toString('utf8'));

async function route(req: IncomingMessage): Promise<Answer | undefined> {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url.startsWith('/items/')) return passthrough(pool, url.slice(7));
  if (req.method === 'POST' && url === '/quotes') return quote(pool, await readJson(req));
  if (req.method === 'GET' && url.startsWith('/overview/')) return overview(pool, url.slice(10));
  if (req.method === 'POST' && url === '/orders/price') return priceOrder(await readBody(req));
  return undefined;
}

function send(res: ServerResponse, a: Answer): void {
  res.writeHead(a.status, { 'content-type': a.contentType, 'content-length': Buffer.byteLength(a.body) });
  res.end(a.body);
}

createServer((req, res) => {
  route(req).then(
    (a) => send(res, a ?? { status: 404, contentType: 'application/json', body: '{"error":"not found"}' }),
    (e: Error) => send(res, { status: 500, contentType: 'application/json', body: JSON.stringify({ error: e.message }) }),
  );
}).listen(port, '127.0.0.1');
// Exit on SIGTERM (as Weft does), so that bench:profile's --cpu-prof gets written.
process.once('SIGTERM', () => process.exit(0));
