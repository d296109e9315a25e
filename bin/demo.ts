/**
 * npm run demo: the retail example on this machine, one process per flow or service:
 * inventory, accounting and shipping (flows/retail/services.ts) and the store flow
 * (flows/retail/store.yaml). Prints the curl commands to try; Ctrl-C stops everything.
 * Ports: INVENTORY_PORT 9401, ACCOUNTING_PORT 9402, SHIPPING_PORT 9403, STORE_PORT 8080 (admin +1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
const children: ChildProcess[] = [];
let stopping = false;

/** Starts one process and resolves when it prints a line containing `readyWhen`. */
function launch(label: string, args: string[], readyWhen: string, env: Record<string, string> = {}): Promise<void> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes(readyWhen)) resolve();
      if (process.env.DEMO_VERBOSE || !line.startsWith('{')) process.stdout.write(`[${label}] ${line}\n`);
      else if (line.includes('"compensat') || line.includes('"level":"error"')) process.stdout.write(`[${label}] ${line}\n`);
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

try {
  await Promise.all(
    (['inventory', 'accounting', 'shipping'] as const).map((s) =>
      launch(s, ['flows/retail/services.ts', s, String(ports[s])], 'listening'),
    ),
  );
  await launch(
    'store',
    ['runtime/cli.ts', 'run', 'flows/retail/store.yaml', '--port', String(ports.store), '--admin-port', String(ports.store + 1), '--host', '127.0.0.1'],
    '"msg":"ready"',
    {
      INVENTORY_URL: `http://127.0.0.1:${ports.inventory}`,
      ACCOUNTING_URL: `http://127.0.0.1:${ports.accounting}`,
      SHIPPING_URL: `http://127.0.0.1:${ports.shipping}`,
    },
  );
} catch (err) {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  await stop(1);
}

const store = `http://127.0.0.1:${ports.store}`;
const order = (country: string, qty = 2) => `'{"customer":"ada","sku":"KB-1","qty":${qty},"address":{"country":"${country}"}}'`;
process.stdout.write(`
The retail example is running (docs/retail-example.md walks through it). Try:

  # an order that ships: stock reserved, ada charged, shipment booked
  curl -s -X POST ${store}/orders -H 'content-type: application/json' -d ${order('DE')}

  # shipping refuses Antarctica: the charge is refunded and the reservation released
  curl -s -X POST ${store}/orders -H 'content-type: application/json' -d ${order('AQ')}

  # see that nothing was lost
  curl -s http://127.0.0.1:${ports.inventory}/items/KB-1
  curl -s http://127.0.0.1:${ports.accounting}/accounts/ada

Ctrl-C stops everything.
`);
