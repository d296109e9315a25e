/**
 * `npm run build`: the runtime as one CommonJS file, dist/weft.cjs, which bin/weft.js runs instead of
 * the ~100 TypeScript sources and ~400 library files a start otherwise resolves and compiles one
 * by one (the S4 startup target, docs/benchmarks.md). dist/weft.json lists the files the bundle
 * was made from, so that bin/entry.ts can fall back to the sources as soon as one of them is
 * newer than the bundle: a developer who edits a .ts file never runs stale code.
 *
 * Usage: node bin/build.ts [--outdir DIR]   (default: dist/ beside runtime/)
 */
import { build, type Plugin } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BUNDLE_FILE, MANIFEST_FILE, type BundleManifest } from './entry.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Required lazily (runtime/lazy.ts) yet carried in the bundle: every HTTP call needs undici
 * before its first answer; JSONata is needed only by expressions the fast path cannot parse
 * itself (runtime/expr/expression.ts), so a flow of plain paths never evaluates it.
 */
const CARRIED = ['undici', 'jsonata'];
/**
 * prom-client's index loads its Pushgateway (https, zlib), cluster aggregator and Summary too;
 * the bundle takes only the classes Weft imports. A name missing here fails the build
 * ("No matching export"), it cannot go missing silently.
 */
const PROM_CLIENT_PARTS: Record<string, string> = {
  Registry: 'registry',
  Counter: 'counter',
  Gauge: 'gauge',
  Histogram: 'histogram',
  collectDefaultMetrics: 'defaultMetrics',
};
/**
 * undici's index also loads its fetch, WebSocket, EventSource and mock implementations (~20 ms
 * of a start, and it makes Node load its own fetch too); Weft uses only these dispatcher parts.
 * The API mixin (request, stream, ...) goes onto Dispatcher as the index puts it there. A name
 * used but missing here fails at the call ("undici.X is not a constructor"), and the http,
 * SOAP, TLS and OAuth2 tests run the bundle.
 */
const UNDICI_PARTS = `'use strict';
const Dispatcher = require('undici/lib/dispatcher/dispatcher.js');
Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js'));
const util = require('undici/lib/core/util.js');
module.exports = {
  Dispatcher,
  Client: require('undici/lib/dispatcher/client.js'),
  Pool: require('undici/lib/dispatcher/pool.js'),
  Agent: require('undici/lib/dispatcher/agent.js'),
  buildConnector: require('undici/lib/core/connect.js'),
  errors: require('undici/lib/core/errors.js'),
  util: { parseHeaders: util.parseHeaders, headerNameToString: util.headerNameToString },
};`;
/** What import.meta.url becomes in the CommonJS bundle. */
const IMPORT_META_URL = '__weftImportMetaUrl';
/** The statement runtime/flow/flow-validator.ts names itself by; it must keep naming that file, where its generated neighbour lives. */
const HERE_STATEMENT = 'const HERE = import.meta.url;';

const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir = resolve(values.outdir ?? join(ROOT, 'dist'));
const outfile = join(outdir, BUNDLE_FILE);

const weftSources: Plugin = {
  name: 'weft-sources',
  setup(b) {
    // The sources' empty table of carried libraries becomes bundled, still lazily evaluated, requires.
    b.onLoad({ filter: /[\\/]runtime[\\/]bundled\.ts$/ }, () => ({
      loader: 'js',
      contents: `export const BUNDLED = {${CARRIED.map((id) => `${JSON.stringify(id)}: () => require(${JSON.stringify(id)})`).join(', ')}};`,
    }));
    b.onResolve({ filter: /^prom-client$/ }, () => ({ path: 'prom-client', namespace: 'weft-slim' }));
    b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici', namespace: 'weft-slim' }));
    b.onLoad({ filter: /^undici$/, namespace: 'weft-slim' }, () => ({ loader: 'js', resolveDir: ROOT, contents: UNDICI_PARTS }));
    b.onLoad({ filter: /^prom-client$/, namespace: 'weft-slim' }, () => ({
      loader: 'js',
      resolveDir: ROOT,
      contents: Object.entries(PROM_CLIENT_PARTS)
        .map(([name, file]) => `export { default as ${name} } from 'prom-client/lib/${file}.js';`)
        .join('\n'),
    }));
    b.onLoad({ filter: /[\\/]runtime[\\/]flow[\\/]flow-validator\.ts$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      if (!text.includes(HERE_STATEMENT)) throw new Error(`${a.path} no longer contains '${HERE_STATEMENT}'`);
      const here = relative(outdir, a.path).split('\\').join('/');
      return { loader: 'ts', contents: text.replace(HERE_STATEMENT, `const HERE = new URL(${JSON.stringify(here)}, import.meta.url).href;`) };
    });
  },
};

const result = await build({
  entryPoints: [join(ROOT, 'runtime/cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  // CommonJS, because bin/entry.ts runs it as a vm.Script with a code cache of its own (ES modules
  // cannot be run so without --experimental-vm-modules). Its import.meta.url is the file's URL.
  format: 'cjs',
  target: 'node24',
  define: { 'import.meta.url': IMPORT_META_URL },
  // The sources are ES modules, so strict: the directive must open the file, before the banner's statement.
  banner: { js: `'use strict'; const ${IMPORT_META_URL} = require('node:url').pathToFileURL(__filename).href;` },
  plugins: [weftSources],
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
  // Minified stacks point into dist/weft.cjs; `node --enable-source-maps bin/weft.js` maps them back to the sources.
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
});

const inputs = Object.keys(result.metafile.inputs)
  // Plugin-made modules are named namespace:path (weft-slim:prom-client): no file to watch.
  .filter((p) => !/^[\w-]+:/.test(p))
  .map((p) => relative(ROOT, resolve(process.cwd(), p)).split('\\').join('/'))
  .filter((p) => !p.startsWith('node_modules/') && !p.startsWith('..'));
// Libraries change only through the lock file (npm ci / npm install rewrite it).
const manifest: BundleManifest = { inputs: [...inputs, 'package-lock.json', 'runtime/flow/flow-validator.generated.js'] };
mkdirSync(outdir, { recursive: true });
writeFileSync(join(outdir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
process.stdout.write(`wrote ${relative(process.cwd(), outfile)} from ${inputs.length} own files\n`);
