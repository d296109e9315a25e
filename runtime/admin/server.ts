/**
 * The admin port: liveness and readiness for orchestrators, apart from the traffic port so
 * probes never queue behind traffic and are never exposed with the route.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Health } from '../contract.ts';

export interface AdminChecks {
  /** Live: the process serves its event loop. */
  live(): boolean;
  /** Ready: started, not draining, and every checkable endpoint is healthy. */
  ready(): { ok: boolean; checks: Record<string, Health> };
}

export interface AdminServer {
  start(port: number, host: string): Promise<void>;
  stop(): Promise<void>;
  address(): string | undefined;
}

export function createAdminServer(checks: AdminChecks): AdminServer {
  let server: Server | undefined;
  const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  return {
    start(port, host) {
      server = createServer((req, res) => {
        const path = req.url?.split('?')[0];
        if (path === '/healthz') return send(res, checks.live() ? 200 : 503, { status: checks.live() ? 'ok' : 'down' });
        if (path === '/readyz') {
          const r = checks.ready();
          return send(res, r.ok ? 200 : 503, { status: r.ok ? 'ready' : 'not ready', checks: r.checks });
        }
        send(res, 404, { status: 404, title: 'Not found', detail: 'admin paths: /healthz, /readyz' });
      });
      const s = server;
      return new Promise((resolve, reject) => {
        s.once('error', (err) => reject(new Error(`cannot listen on admin port ${host}:${port}: ${err.message}`)));
        s.listen(port, host, () => resolve());
      });
    },
    stop() {
      const s = server;
      if (!s) return Promise.resolve();
      return new Promise((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
    address() {
      const a = server?.address() as AddressInfo | null | undefined;
      return a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : undefined;
    },
  };
}
