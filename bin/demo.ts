/**
 * npm run demo: the retail example on this machine, one process per flow or service:
 * inventory, accounting and shipping (flows/retail/services.ts), the store flow
 * (flows/retail/store.yaml) and, when RabbitMQ is reachable, the three flows that consume its
 * OrderPlaced events (flows/retail/*-events.yaml). Prints the curl commands to try; Ctrl-C
 * stops everything.
 * Ports: INVENTORY_PORT 9401, ACCOUNTING_PORT 9402, SHIPPING_PORT 9403, STORE_PORT 8080 (admin +1),
 * the consumers' admin ports 9411-9413; RabbitMQ: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { reachable } from '../runtime/reachable.ts';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ports = {
  inventory: port('INVENTORY_PORT', 9401),
  accounting: port('ACCOUNTING_PORT', 9402),
  shipping: port('SHIPPING_PORT', 9403),
  store: port('STORE_PORT', 8080),
};
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const CONSUMERS = ['inventory', 'accounting', 'shipping'] as const;
const children: ChildProcess[] = [];
let stopping = false;

/** Log lines worth showing without DEMO_VERBOSE: the store's compensations, every line a consumer writes about a message, errors. */
const shown = (label: string, line: string) =>
  line.includes('"compensat') || line.includes('"level":"error"') || (label.endsWith('-events') && line.includes('"reqId"'));

/** Starts one process and resolves when it prints a line containing `readyWhen`. */
function launch(label: string, args: string[], readyWhen: string, env: Record<string, string> = {}): Promise<void> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes(readyWhen)) resolve();
      if (process.env.DEMO_VERBOSE || !line.startsWith('{')) process.stdout.write(`[${label}] ${line}\n`);
      else if (shown(label, line)) process.stdout.write(`[${label}] ${line}\n`);
    });
    child.once('exit', (code) => {
      reject(new Error(`${label} exited with code ${code}`));
      if (!stopping) void stop(1);
    });
  });
}

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Only our own children, by their PIDs; each drains and exits on SIGTERM.
  await Promise.all(
    children
      .filter((c) => c.exitCode === null && c.signalCode === null)
      .map((c) => new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      })),
  );
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

const serviceUrls = {
  INVENTORY_URL: `http://127.0.0.1:${ports.inventory}`,
  ACCOUNTING_URL: `http://127.0.0.1:${ports.accounting}`,
  SHIPPING_URL: `http://127.0.0.1:${ports.shipping}`,
  AMQP_URL,
};
const flow = (file: string, port: number, adminPort: number) =>
  ['bin/weft.js', 'run', `flows/retail/${file}`, '--port', String(port), '--admin-port', String(adminPort), '--host', '127.0.0.1'];
const amqpAt = new URL(AMQP_URL);
const broker = await reachable(Number(amqpAt.port || 5672), amqpAt.hostname);
try {
  await Promise.all(CONSUMERS.map((s) => launch(s, ['flows/retail/services.ts', s, String(ports[s])], 'listening')));
  // The consumers first: they declare their queues and bindings, so the store's first event has somewhere to go.
  if (broker) {
    await Promise.all(CONSUMERS.map((s, i) => launch(`${s}-events`, flow(`${s}-events.yaml`, 0, 9411 + i), '"msg":"ready"', serviceUrls)));
  }
  await launch('store', flow('store.yaml', ports.store, ports.store + 1), '"msg":"ready"', serviceUrls);
} catch (err) {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  await stop(1);
}

if (!broker) {
  process.stdout.write(`
RabbitMQ is NOT reachable at ${new URL(AMQP_URL).host}: the choreography flows (inventory-, accounting-,
shipping-events.yaml) are not started, and the store cannot announce orders, so it cancels every
order it would confirm (502 CANCELLED, failedAt "events", everything undone). Start RabbitMQ (or
set AMQP_URL) and run npm run demo again for the whole example.
`);
}

const store = `http://127.0.0.1:${ports.store}`;
const order = (country: string, qty = 2) => `'{"customer":"ada","sku":"KB-1","qty":${qty},"address":{"country":"${country}"}}'`;
process.stdout.write(`
The retail example is running (docs/retail-example.md walks through it)${broker ? ', with its choreography half:\ninventory-, accounting- and shipping-events consume OrderPlaced from RabbitMQ (admin ports 9411-9413)' : ''}. Try:

  # an order that ships: stock reserved, ada charged, shipment booked
  curl -s -X POST ${store}/orders -H 'content-type: application/json' -d ${order('DE')}

  # shipping refuses Antarctica: the charge is refunded and the reservation released
  curl -s -X POST ${store}/orders -H 'content-type: application/json' -d ${order('AQ')}

  # see that nothing was lost
  curl -s http://127.0.0.1:${ports.inventory}/items/KB-1
  curl -s http://127.0.0.1:${ports.accounting}/accounts/ada
${broker ? `
  # choreography: the OrderPlaced event of the first order was consumed by three flows
  curl -s http://127.0.0.1:${ports.inventory}/reservations/RES-1    # committed: true
  curl -s http://127.0.0.1:${ports.accounting}/invoices/CHG-1       # its invoice
  curl -s http://127.0.0.1:${ports.shipping}/shipments/SHP-1        # status DISPATCHED
` : ''}
Ctrl-C stops everything.
`);
