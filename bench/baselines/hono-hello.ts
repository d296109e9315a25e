/**
 * Baseline for startup and memory: the bare stack Weft is built on (hono + @hono/node-server)
 * answering the same route as flows/hello.yaml, with nothing else loaded.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/hello/:name', (c) => {
  const greeting = c.req.query('lang') === 'fr' ? 'Bonjour' : 'Hello';
  return c.json({ greeting: `${greeting}, ${c.req.param('name')}!`, flow: 'hello' });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 8080), hostname: '127.0.0.1' });
