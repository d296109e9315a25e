/**
 * The three back-end services of the retail example (white paper sections 11 and 14), as small
 * stateful HTTP services kept in memory: what the `store` flow orchestrates. One process per
 * service:  node flows/retail/services.ts inventory|accounting|shipping [port]
 *
 *   inventory   GET /items/:sku, POST /reservations {sku, qty}, DELETE /reservations/:id
 *   accounting  GET /accounts/:customer, POST /charges {customer, amount}, POST /charges/:id/refund
 *   shipping    POST /shipments {reservation, address}: refuses countries it does not serve
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Reply = [status: number, body: unknown];
type Route = (parts: string[], body: Record<string, unknown>) => Reply;

let nextId = 1;
const id = (prefix: string) => `${prefix}-${nextId++}`;

function inventory(): Route {
  const stock = new Map<string, { name: string; price: number; available: number }>([
    ['KB-1', { name: 'Keyboard', price: 49.5, available: 10 }],
    ['MS-2', { name: 'Mouse', price: 19, available: 3 }],
  ]);
  const reservations = new Map<string, { sku: string; qty: number }>();
  return ([kind, key], body) => {
    if (kind === 'items' && key) {
      const item = stock.get(key);
      return item ? [200, { sku: key, ...item }] : [404, { error: `no item ${key}` }];
    }
    if (kind === 'reservations' && !key) {
      const item = stock.get(String(body.sku));
      const qty = Number(body.qty);
      if (!item) return [404, { error: `no item ${body.sku}` }];
      if (!(qty > 0) || qty > item.available) return [409, { error: 'not enough stock', available: item.available }];
      item.available -= qty;
      const r = { id: id('RES'), sku: String(body.sku), qty };
      reservations.set(r.id, r);
      return [201, r];
    }
    if (kind === 'reservations' && key) {
      const r = reservations.get(key);
      if (!r) return [404, { error: `no reservation ${key}` }];
      reservations.delete(key);
      stock.get(r.sku)!.available += r.qty;
      return [200, { released: key, sku: r.sku, qty: r.qty }];
    }
    return [404, { error: 'no such route' }];
  };
}

function accounting(): Route {
  const accounts = new Map<string, { balance: number }>([['ada', { balance: 500 }], ['bob', { balance: 20 }]]);
  const charges = new Map<string, { customer: string; amount: number; refunded: boolean }>();
  return ([kind, key, action], body) => {
    if (kind === 'accounts' && key) {
      const a = accounts.get(key);
      return a ? [200, { customer: key, ...a }] : [404, { error: `no account ${key}` }];
    }
    if (kind === 'charges' && !key) {
      const a = accounts.get(String(body.customer));
      const amount = Number(body.amount);
      if (!a) return [404, { error: `no account ${body.customer}` }];
      if (!(amount > 0) || amount > a.balance) return [402, { error: 'insufficient funds', balance: a.balance }];
      a.balance -= amount;
      const c = { id: id('CHG'), customer: String(body.customer), amount, refunded: false };
      charges.set(c.id, c);
      return [201, c];
    }
    if (kind === 'charges' && key && action === 'refund') {
      const c = charges.get(key);
      if (!c) return [404, { error: `no charge ${key}` }];
      if (!c.refunded) accounts.get(c.customer)!.balance += c.amount;
      c.refunded = true;
      return [200, { refunded: key, amount: c.amount }];
    }
    return [404, { error: 'no such route' }];
  };
}

function shipping(): Route {
  const served = new Set(['DE', 'FR', 'GB', 'US']);
  return ([kind], body) => {
    if (kind !== 'shipments') return [404, { error: 'no such route' }];
    const country = String((body.address as Record<string, unknown> | undefined)?.country ?? '');
    if (!served.has(country)) return [422, { error: `no carrier delivers to '${country}'` }];
    return [201, { id: id('SHP'), reservation: body.reservation, carrier: 'DHL', country }];
  };
}

const SERVICES = { inventory, accounting, shipping } as const;
export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** Starts one service on 127.0.0.1:port (0: any free port). */
export async function startService(name: ServiceName, port: number): Promise<{ url: string; server: Server }> {
  const route = SERVICES[name]();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        if (chunks.length) body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return send(res, [400, { error: 'body is not JSON' }]);
      }
      send(res, route((req.url ?? '/').split('?')[0].split('/').filter(Boolean).map(decodeURIComponent), body));
    });
  });
  // HOST lets a container publish the service (docker-compose.yml); loopback otherwise.
  const host = process.env.HOST ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, server };
}

function send(res: ServerResponse, [status, body]: Reply): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

if (import.meta.main) {
  const [name, port] = process.argv.slice(2);
  if (!SERVICE_NAMES.includes(name as ServiceName)) {
    process.stderr.write(`usage: node flows/retail/services.ts ${SERVICE_NAMES.join('|')} [port]\n`);
    process.exit(2);
  }
  const { url, server } = await startService(name as ServiceName, Number(port ?? 0));
  process.stdout.write(`${name} listening on ${url}\n`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
