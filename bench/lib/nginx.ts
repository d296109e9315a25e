/**
 * nginx, in two roles: the static backend every target calls (cheap, so the target is the
 * bottleneck), and the reverse-proxy target (the native reference for S1). Each runs as a
 * non-daemon child with its own config in a temp dir, on loopback ports only.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKEND } from '../scenarios.ts';
import { start, type Proc } from './process.ts';

export const NGINX = '/usr/sbin/nginx';

/** A string literal for nginx's `return` (single quotes; the bodies hold no `$`). */
function quoted(s: string): string {
  if (s.includes('$')) throw new Error('backend bodies must not contain $ (nginx would interpolate it)');
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function config(dir: string, server: string): string {
  // As root nginx would hand its worker to `nobody`, which cannot enter the 0700 temp dir.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  return `${user}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 60s;
${server}
}
`;
}

function run(cpus: string | undefined, server: string): Proc {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-nginx-'));
  writeFileSync(join(dir, 'nginx.conf'), config(dir, server));
  return start(cpus, NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;']);
}

/** The static backend: each BACKEND path answers its fixed body, for any method. */
export function startBackend(cpus: string | undefined, port: number): Proc {
  const locations = Object.entries(BACKEND)
    .map(([path, [type, body]]) => `    location = ${path} { default_type "${type}"; return 200 ${quoted(body)}; }`)
    .join('\n');
  return run(cpus, `  server {\n    listen 127.0.0.1:${port};\n${locations}\n    location / { return 404; }\n  }`);
}

/** nginx as a reverse proxy to the backend, with a keep-alive upstream pool. */
export function startProxy(cpus: string | undefined, port: number, backendPort: number): Proc {
  return run(
    cpus,
    `  upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }`,
  );
}
