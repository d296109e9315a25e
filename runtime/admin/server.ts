/**
 * The admin port: liveness and readiness for orchestrators, apart from the traffic port so
 * probes never queue behind traffic and are never exposed with the route. Also serves the
 * Prometheus metrics and the flow's OpenAPI document.
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

/** What the admin port serves beside the probes. */
export interface AdminContent {
  /** Prometheus text exposition for /metrics. */
  metrics?: { scrape(): Promise<string>; readonly contentType: string };
  /** The flow's OpenAPI document for /openapi.json (built once, at start). */
  openapi?: unknown;
}

export interface AdminServer {
  start(port: number, host: string): Promise<void>;
  stop(): Promise<void>;
  address(): string | undefined;
}

export function createAdminServer(checks: AdminChecks, content: AdminContent = {}): AdminServer {
  let server: Server | undefined;
  const paths = ['/healthz', '/readyz', ...(content.metrics ? ['/metrics'] : []), ...(content.openapi !== undefined ? ['/openapi.json'] : [])];
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
        if (path === '/metrics' && content.metrics) {
          const m = content.metrics;
          m.scrape().then(
            (text) => {
              res.writeHead(200, { 'content-type': m.contentType, 'content-length': Buffer.byteLength(text) });
              res.end(text);
            },
            (err: Error) => send(res, 500, { status: 500, title: 'Metrics collection failed', detail: err.message }),
          );
          return;
        }
        if (path === '/openapi.json' && content.openapi !== undefined) return send(res, 200, content.openapi);
        send(res, 404, { status: 404, title: 'Not found', detail: `admin paths: ${paths.join(', ')}` });
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
