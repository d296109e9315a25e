/**
 * Node-RED, the flow-based Node peer, run headless (no editor, no admin API) with a flow file
 * equivalent to the Weft flows. It is installed on demand into bench/.cache/node-red rather
 * than as a devDependency: it brings ~120 MB that every `npm ci` (and CI) would pay for a
 * benchmark run by hand. The version is pinned so results stay comparable.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XML_BUILDER_OPTIONS, XML_PARSER_OPTIONS } from '../baselines/work.ts';
import { S3_BRANCHES, SOAP } from '../scenarios.ts';
import { start, type Proc } from './process.ts';

export const NODE_RED_VERSION = '5.0.7';
const ROOT = join(import.meta.dirname, '../..');
const PREFIX = join(ROOT, 'bench/.cache/node-red');
const RED_JS = join(PREFIX, 'node_modules/node-red/red.js');

export const nodeRedInstalled = (): boolean => existsSync(RED_JS);

/** Installs the pinned Node-RED into the cache folder with npm (idempotent). */
export function ensureNodeRed(): void {
  if (nodeRedInstalled()) return;
  mkdirSync(PREFIX, { recursive: true });
  if (!existsSync(join(PREFIX, 'package.json'))) writeFileSync(join(PREFIX, 'package.json'), '{ "private": true }\n');
  console.error(`installing node-red@${NODE_RED_VERSION} into ${PREFIX} (once)`);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', `node-red@${NODE_RED_VERSION}`], { cwd: PREFIX, stdio: 'inherit' });
  if (r.status !== 0 || !nodeRedInstalled()) throw new Error(`npm could not install node-red@${NODE_RED_VERSION}`);
}

type Node = Record<string, unknown> & { id: string; type: string };

const httpIn = (id: string, method: string, url: string, next: string): Node => ({ id, type: 'http in', z: 'bench', name: '', url, method, upload: false, swaggerDoc: '', wires: [[next]] });
const httpRequest = (id: string, method: string, url: string, ret: 'txt' | 'bin' | 'obj', next: string): Node => ({
  id, type: 'http request', z: 'bench', name: '', method, ret, paytoqs: 'ignore', url, tls: '', persist: true, proxy: '', insecureHTTPParser: false, authType: '', senderr: false, headers: [], wires: [[next]],
});
const fn = (id: string, func: string, next: string): Node => ({ id, type: 'function', z: 'bench', name: id, func, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [[next]] });
// The http request node leaves the upstream's headers in msg.headers, which http response would send.
const dropHeaders = (id: string, next: string): Node => ({ id, type: 'change', z: 'bench', name: '', rules: [{ t: 'delete', p: 'headers', pt: 'msg' }], wires: [[next]] });
const httpResponse = (id: string): Node => ({ id, type: 'http response', z: 'bench', name: '', statusCode: '', headers: { 'content-type': 'application/json' }, wires: [] });

/** The flow file: one route per load scenario, the same contract as bench/flows/*.yaml. */
export function nodeRedFlows(backendUrl: string): Node[] {
  // Node-RED takes a node without a position for a config node: give each a place on the tab.
  return flowNodes(backendUrl).map((n, i) => (n.type === 'tab' ? n : { ...n, x: 100 + 150 * (i % 6), y: 60 + 80 * Math.floor(i / 6) }));
}

function flowNodes(backendUrl: string): Node[] {
  const branches = JSON.stringify(S3_BRANCHES);
  return [
    { id: 'bench', type: 'tab', label: 'weft bench', disabled: false, info: '' },
    // S1: passthrough.
    httpIn('s1in', 'get', '/items/:id', 's1req'),
    httpRequest('s1req', 'GET', `${backendUrl}/items/{{{req.params.id}}}`, 'bin', 's1hdr'),
    dropHeaders('s1hdr', 's1out'),
    httpResponse('s1out'),
    // S2: JSON -> SOAP envelope (fast-xml-parser, from the global context) -> JSON.
    httpIn('s2in', 'post', '/quotes', 's2env'),
    fn(
      's2env',
      `const b = msg.payload;
msg.payload = global.get('soapBuilder').build({ 'soap:Envelope': { '@xmlns:soap': ${JSON.stringify(SOAP.envelopeNs)},
  'soap:Body': { ${SOAP.operation}: { '@xmlns': ${JSON.stringify(SOAP.namespace)}, sku: b.sku, qty: b.qty } } } });
msg.headers = { 'content-type': 'text/xml; charset=utf-8', soapaction: ${JSON.stringify(`"${SOAP.action}"`)} };
return msg;`,
      's2req',
    ),
    httpRequest('s2req', 'POST', `${backendUrl}/quote`, 'txt', 's2parse'),
    fn(
      's2parse',
      `if (msg.statusCode >= 400) { msg.statusCode = 502; msg.payload = { error: 'soap', status: msg.statusCode }; delete msg.headers; return msg; }
const r = global.get('soapParser').parse(msg.payload).Envelope.Body.getQuoteResponse.getQuoteResult;
msg.payload = { sku: r.sku, unitPrice: Number(r.unitPrice), qty: Number(r.qty), total: Number(r.total), currency: r.currency };
delete msg.headers;
return msg;`,
      's2out',
    ),
    httpResponse('s2out'),
    // S3: split into three requests tagged with msg.parts, joined back into one object.
    httpIn('s3in', 'get', '/overview/:id', 's3split'),
    fn(
      's3split',
      `const branches = ${branches};
const id = encodeURIComponent(msg.req.params.id);
const keys = Object.keys(branches);
return [keys.map((key, index) => Object.assign({}, msg, {
  url: ${JSON.stringify(backendUrl)} + branches[key].replace('42', id),
  parts: { id: msg._msgid, index, count: keys.length, type: 'object', key },
}))];`,
      's3req',
    ),
    httpRequest('s3req', 'GET', '', 'obj', 's3join'),
    { id: 's3join', type: 'join', z: 'bench', name: '', mode: 'auto', build: 'object', property: 'payload', propertyType: 'msg', key: 'topic', joiner: '\\n', joinerType: 'str', accumulate: false, timeout: '', count: '', reduceRight: false, wires: [['s3hdr']] },
    dropHeaders('s3hdr', 's3out'),
    httpResponse('s3out'),
  ];
}

/** Starts Node-RED headless on `port` with the bench flows; its own userDir in a temp dir. */
export function startNodeRed(cpus: string | undefined, port: number, backendUrl: string, env: NodeJS.ProcessEnv): Proc {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-nodered-'));
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(nodeRedFlows(backendUrl), null, 1));
  const fxp = createRequire(join(ROOT, 'package.json')).resolve('fast-xml-parser');
  writeFileSync(
    join(dir, 'settings.js'),
    `const { XMLBuilder, XMLParser } = require(${JSON.stringify(fxp)});
module.exports = {
  uiPort: ${port}, uiHost: '127.0.0.1', httpAdminRoot: false, httpNodeRoot: '/',
  userDir: ${JSON.stringify(dir)}, flowFile: 'flows.json', credentialSecret: false,
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  diagnostics: { enabled: false }, telemetry: { enabled: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  functionExternalModules: false,
  functionGlobalContext: {
    soapBuilder: new XMLBuilder(${JSON.stringify(XML_BUILDER_OPTIONS)}),
    soapParser: new XMLParser(${JSON.stringify(XML_PARSER_OPTIONS)}),
  },
};
`,
  );
  return start(cpus, process.execPath, [RED_JS, '--settings', join(dir, 'settings.js'), '--userDir', dir], { env });
}
