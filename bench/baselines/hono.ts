/**
 * Baseline "hono": hono + @hono/node-server + undici, the stack Weft itself is built on, with
 * the same work per route as the Weft flows. PORT and BACKEND_URL from the environment.
 */
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { config, overview, passthrough, priceOrder, quote, upstream, type Answer } from './work.ts';

const { port, backendUrl } = config();
const pool = upstream(backendUrl);

// A string or Buffer body: @hono/node-server is much slower with an ArrayBuffer.
const reply = (c: Context, a: Answer): Response => c.body(a.body as string, a.status as 200, { 'content-type': a.contentType });

const app = new Hono();
app.get('/items/:id', async (c) => reply(c, await passthrough(pool, c.req.param('id'))));
app.post('/quotes', async (c) => reply(c, await quote(pool, await c.req.json())));
app.get('/overview/:id', async (c) => reply(c, await overview(pool, c.req.param('id'))));
app.post('/orders/price', async (c) => reply(c, await priceOrder(new Uint8Array(await c.req.arrayBuffer()))));
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
// Exit on SIGTERM (as Weft does), so that bench:profile's --cpu-prof gets written.
process.once('SIGTERM', () => process.exit(0));
