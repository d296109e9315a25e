/**
 * The three back-end services of the retail example (white paper sections 11 and 14), as small
 * stateful HTTP services kept in memory: what the `store` flow orchestrates. One process per
 * service:  node flows/retail/services.ts inventory|accounting|shipping [port]
 *
 *   inventory   GET /items/:sku, POST /reservations {sku, qty}, DELETE /reservations/:id,
 *               GET /reservations/:id, POST /reservations/:id/commit (the stock leaves for good)
 *   accounting  GET /accounts/:customer, POST /charges {customer, amount}, POST /charges/:id/refund,
 *               PUT /invoices/:charge {customer, amount}, GET /invoices/:charge
 *   shipping    POST /shipments {reservation, address}: refuses countries it does not serve,
 *               GET /shipments/:id, DELETE /shipments/:id, POST /shipments/:id/dispatch
 *
 * The follow-ups (commit, invoice, dispatch) are what the choreography flows call when an
 * OrderPlaced event arrives; they are idempotent, since at-least-once delivery may bring an
 * event twice.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Reply = [status: number, body: unknown];
type Route = (method: string, parts: string[], body: Record<string, unknown>) => Reply;

let nextId = 1;
const id = (prefix: string) => `${prefix}-${nextId++}`;
const NO_ROUTE: Reply = [404, { error: 'no such route' }];

function inventory(): Route {
  const stock = new Map<string, { name: string; price: number; available: number }>([
    ['KB-1', { name: 'Keyboard', price: 49.5, available: 10 }],
    ['MS-2', { name: 'Mouse', price: 19, available: 3 }],
  ]);
  const reservations = new Map<string, { id: string; sku: string; qty: number; committed: boolean }>();
  return (method, [kind, key, action], body) => {
    if (kind === 'items' && key) {
      const item = stock.get(key);
      return item ? [200, { sku: key, ...item }] : [404, { error: `no item ${key}` }];
    }
    if (kind !== 'reservations') return NO_ROUTE;
    if (!key) {
      const item = stock.get(String(body.sku));
      const qty = Number(body.qty);
      if (!item) return [404, { error: `no item ${body.sku}` }];
      if (!(qty > 0) || qty > item.available) return [409, { error: 'not enough stock', available: item.available }];
      item.available -= qty;
      const r = { id: id('RES'), sku: String(body.sku), qty, committed: false };
      reservations.set(r.id, r);
      return [201, r];
    }
    const r = reservations.get(key);
    if (!r) return [404, { error: `no reservation ${key}` }];
    if (method === 'GET' && !action) return [200, r];
    if (method === 'POST' && action === 'commit') {
      r.committed = true;
      return [200, r];
    }
    if (method === 'DELETE' && !action) {
      if (r.committed) return [409, { error: `reservation ${key} is committed` }];
      reservations.delete(key);
      stock.get(r.sku)!.available += r.qty;
      return [200, { released: key, sku: r.sku, qty: r.qty }];
    }
    return NO_ROUTE;
  };
}

function accounting(): Route {
  const accounts = new Map<string, { balance: number }>([['ada', { balance: 500 }], ['bob', { balance: 20 }]]);
  const charges = new Map<string, { customer: string; amount: number; refunded: boolean }>();
  // `requests` counts the PUTs an invoice answered, so a redelivered event can be seen to be harmless.
  const invoices = new Map<string, { id: string; charge: string; customer: string; amount: number; requests: number }>();
  return (method, [kind, key, action], body) => {
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
    // One invoice per charge, whatever how often it is asked for: PUT is idempotent.
    if (kind === 'invoices' && key && method === 'GET') {
      const inv = invoices.get(key);
      return inv ? [200, inv] : [404, { error: `no invoice for ${key}` }];
    }
    if (kind === 'invoices' && key && method === 'PUT') {
      const c = charges.get(key);
      if (!c || c.refunded) return [404, { error: `no open charge ${key}` }];
      const existing = invoices.get(key);
      if (existing) {
        existing.requests++;
        return [200, existing];
      }
      const inv = { id: id('INV'), charge: key, customer: c.customer, amount: c.amount, requests: 1 };
      invoices.set(key, inv);
      return [201, inv];
    }
    return NO_ROUTE;
  };
}

function shipping(): Route {
  const served = new Set(['DE', 'FR', 'GB', 'US']);
  const shipments = new Map<string, { id: string; reservation: unknown; carrier: string; country: string; status: string }>();
  return (method, [kind, key, action], body) => {
    if (kind !== 'shipments') return NO_ROUTE;
    if (!key) {
      const country = String((body.address as Record<string, unknown> | undefined)?.country ?? '');
      if (!served.has(country)) return [422, { error: `no carrier delivers to '${country}'` }];
      const s = { id: id('SHP'), reservation: body.reservation, carrier: 'DHL', country, status: 'BOOKED' };
      shipments.set(s.id, s);
      return [201, s];
    }
    const s = shipments.get(key);
    if (!s) return [404, { error: `no shipment ${key}` }];
    if (method === 'GET' && !action) return [200, s];
    if (method === 'DELETE' && !action) {
      if (s.status === 'DISPATCHED') return [409, { error: `shipment ${key} is on its way` }];
      s.status = 'CANCELLED';
      return [200, s];
    }
    if (method === 'POST' && action === 'dispatch') {
      if (s.status === 'CANCELLED') return [409, { error: `shipment ${key} was cancelled` }];
      s.status = 'DISPATCHED';
      return [200, s];
    }
    return NO_ROUTE;
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
      send(res, route(req.method ?? 'GET', (req.url ?? '/').split('?')[0].split('/').filter(Boolean).map(decodeURIComponent), body));
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
