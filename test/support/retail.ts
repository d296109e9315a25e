/**
 * The retail example (flows/retail) on loopback and the real RabbitMQ, for tests: the three
 * services, the store flow and (when asked) the three choreography flows, all on names of
 * their own (exchange, queues) so that tests never meet the demo's or each other's messages.
 */
import type { ConsumeMessage } from 'amqplib';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startFlow, type RunningFlow } from '../../runtime/engine/lifecycle.ts';
import { silentLogger } from '../../runtime/log.ts';
import { SERVICE_NAMES, startService, type ServiceName } from '../../flows/retail/services.ts';
import { AMQP_URL, openBroker, type Broker } from './amqp.ts';
import { ready } from './services.ts';

export const RETAIL = join(import.meta.dirname, '../../flows/retail');
export const CONSUMERS = ['inventory', 'accounting', 'shipping'] as const;
export type Consumer = (typeof CONSUMERS)[number];

export interface Retail {
  broker: Broker;
  urls: Record<ServiceName, string>;
  env: Record<string, string>;
  /** The exchange OrderPlaced goes to, and the prefix of the consumers' queues. */
  exchange: string;
  prefix: string;
  store: RunningFlow;
  consumers: Partial<Record<Consumer, RunningFlow>>;
  /** Every OrderPlaced event, seen through a queue of the test's own bound to the exchange. */
  events: ConsumeMessage[];
  /** Starts one consumer flow (again) and waits until it consumes. */
  startConsumer(name: Consumer): Promise<RunningFlow>;
  order(body: unknown): Promise<Response>;
  get(service: ServiceName, path: string): Promise<Record<string, any>>;
  close(): Promise<void>;
}

export function startRetailFlow(file: string, env: Record<string, string>): Promise<RunningFlow> {
  return startFlow(join(RETAIL, file), { port: 0, adminPort: 0, host: '127.0.0.1', log: silentLogger(), env: { ...process.env, ...env } });
}

export async function startRetail(options: { consumers: boolean; exchange?: string }): Promise<Retail> {
  const servers: Server[] = [];
  const urls = {} as Record<ServiceName, string>;
  for (const name of SERVICE_NAMES) {
    const s = await startService(name, 0);
    servers.push(s.server);
    urls[name] = s.url;
  }
  const broker = await openBroker();
  const prefix = `weft-test.retail.${randomUUID().slice(0, 8)}`;
  const exchange = options.exchange ?? `${prefix}.events`;
  const env = {
    AMQP_URL,
    RETAIL_EVENTS: exchange,
    RETAIL_QUEUES: prefix,
    RETAIL_RETRY_DELAY: '50ms',
    INVENTORY_URL: urls.inventory,
    ACCOUNTING_URL: urls.accounting,
    SHIPPING_URL: urls.shipping,
  };
  const consumers: Retail['consumers'] = {};
  const startConsumer = async (name: Consumer) => {
    const flow = await startRetailFlow(`${name}-events.yaml`, env);
    await ready(flow.adminUrl!);
    return (consumers[name] = flow);
  };
  if (options.consumers) for (const c of CONSUMERS) await startConsumer(c);
  let events: ConsumeMessage[] = [];
  if (!options.exchange) {
    await broker.ch.assertExchange(exchange, 'topic', { durable: true });
    const tap = await broker.queue('retail-tap');
    await broker.ch.bindQueue(tap, exchange, 'order.placed');
    events = await broker.collect(tap);
  }
  const store = await startRetailFlow('store.yaml', env);
  await ready(store.adminUrl!);
  return {
    broker,
    urls,
    env,
    exchange,
    prefix,
    store,
    consumers,
    events,
    startConsumer,
    order: (body) => fetch(`${store.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    get: async (service, path) => (await fetch(`${urls[service]}${path}`)).json() as Promise<Record<string, any>>,
    async close() {
      await store.stop();
      for (const c of Object.values(consumers)) await c.stop();
      for (const c of CONSUMERS) for (const q of ['', '.retry', '.dead']) await broker.ch.deleteQueue(`${prefix}.${c}${q}`).catch(() => {});
      await broker.ch.deleteExchange(exchange).catch(() => {});
      await broker.close();
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}
