/**
 * Which code `weft` runs: the one-file build (dist/weft.cjs, `npm run build`) when it is there and
 * none of the files it was made from changed since, else the TypeScript sources. The bundle starts
 * in about half the CPU (one file to read and compile instead of ~500), the sources are what a
 * developer edits: an edited file is newer than the bundle, so the next start runs the edit.
 *
 * WEFT_BUNDLE=0 always runs the sources; WEFT_BUNDLE=1 runs the bundle without looking at the
 * sources (the container image, where they cannot change after the build). Either way a missing
 * bundle means the sources.
 *
 * The bundle is run as a vm.Script with its own V8 code cache (loadBundle below), not imported.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, getCompileCacheDir } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { constants as vmConstants, Script } from 'node:vm';
import { crc32 } from 'node:zlib';

export const BUNDLE_FILE = 'weft.cjs';
export const MANIFEST_FILE = 'weft.json';

/** dist/weft.json: the repository files (relative paths) the bundle was made from. */
export interface BundleManifest {
  inputs: string[];
}

export interface Entry {
  /** The module to import; it exports `main(argv)`. */
  url: string;
  kind: 'bundle' | 'sources';
  /** Why the sources run although a bundle exists (stale, switched off); absent otherwise. */
  reason?: string;
}

const mtime = (file: string): number | undefined => statSync(file, { throwIfNoEntry: false })?.mtimeMs;

/** The first of the bundle's inputs that is missing or newer than the bundle, if any. */
export function staleInput(root: string, distDir: string): string | undefined {
  const built = mtime(join(distDir, BUNDLE_FILE));
  if (built === undefined) return BUNDLE_FILE;
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(join(distDir, MANIFEST_FILE), 'utf8')) as BundleManifest;
  } catch {
    return MANIFEST_FILE;
  }
  return manifest.inputs.find((input) => {
    const changed = mtime(join(root, input));
    return changed === undefined || changed > built;
  });
}

export function pickEntry(root: string, env: NodeJS.ProcessEnv = process.env, distDir = join(root, 'dist')): Entry {
  const sources: Entry = { url: pathToFileURL(join(root, 'runtime/cli.ts')).href, kind: 'sources' };
  const bundle: Entry = { url: pathToFileURL(join(distDir, BUNDLE_FILE)).href, kind: 'bundle' };
  if (env.WEFT_BUNDLE === '0') return { ...sources, reason: 'WEFT_BUNDLE=0' };
  if (mtime(join(distDir, BUNDLE_FILE)) === undefined) return sources;
  if (env.WEFT_BUNDLE === '1') return bundle;
  const stale = staleInput(root, distDir);
  return stale === undefined ? bundle : { ...sources, reason: `${stale} is newer than the bundle (npm run build)` };
}

/** What the runtime's entry module exports (runtime/cli.ts). */
export interface Runtime {
  main(argv: string[]): Promise<void>;
}

/** How a bundle start used its code cache: for WEFT_DEBUG_ENTRY and the tests. */
export type CodeCacheState = 'accepted' | 'rejected' | 'none' | 'off';

/** When a start without a usable code cache writes one: after the flow has started and, usually, answered. */
export const CODE_CACHE_DELAY_MS = 1000;

/**
 * The runtime of `entry`: the sources are imported; the bundle is run by loadBundle, its code
 * cache in `codeCacheDir` (WEFT_CODE_CACHE; by default Node's compile cache folder).
 */
export async function loadEntry(entry: Entry, codeCacheDir?: string): Promise<Runtime & { codeCache?: CodeCacheState }> {
  if (entry.kind === 'sources') return (await import(entry.url)) as Runtime;
  return loadBundle(fileURLToPath(entry.url), codeCacheDir);
}

/**
 * Runs the CommonJS bundle as a vm.Script with a V8 code cache made AFTER the start. Node's own
 * compile cache (enabled by bin/weft.js) is made when a file is compiled, so it holds only the
 * few functions V8 compiles eagerly; every other function the start runs was compiled again on
 * every start (~40 ms of CPU of the S4 startup, docs/benchmarks.md). script.createCachedData()
 * taken once the flow runs includes them. The cache lives in Node's compile cache folder (which
 * Node names by Node version, architecture and V8 flags), one file per bundle path, headed by the
 * bundle's size and mtime: V8 itself checks only the source's length, so a rebuild must not be
 * handed the previous build's code. Without a writable folder the bundle runs without a cache,
 * or with one made beforehand: the container image makes one at build time (Dockerfile), in a
 * folder that is read-only at run time, where Node's compile cache is off.
 *
 * With --enable-source-maps the bundle is required as usual, so that its stacks show the sources.
 *
 * A process that ends sooner (`weft validate`, a failing start) writes its cache at exit, marked
 * partial: the next start uses it and replaces it with the cache of a running flow.
 */
export function loadBundle(file: string, cacheDir: string | undefined = getCompileCacheDir()): Runtime & { codeCache: CodeCacheState } {
  // Node maps stack traces (--enable-source-maps) for the files its loaders load, not for vm scripts.
  if (process.sourceMapsEnabled) return { main: (createRequire(file)(file) as Runtime).main, codeCache: 'off' };
  const source = readFileSync(file, 'utf8');
  const stat = statSync(file);
  const cacheFile = cacheDir === undefined ? undefined : join(cacheDir, `weft-bundle-${hashText(file)}.v8`);
  // The header names the bundle (size, mtime), how complete the cache is, and a CRC-32 of the
  // code: V8 checks only the source's length and versions, and a damaged cache of the right
  // length crashes the process (seen: SIGSEGV), so the bytes are checked here first.
  const stamp = `weft ${stat.size} ${stat.mtimeMs}`;
  const header = (kind: 'full' | 'partial', code: Buffer) => Buffer.from(`${stamp} ${kind} ${crc32(code).toString(16)}\n`);
  let cachedData: Buffer | undefined;
  let full = false;
  if (cacheFile !== undefined) {
    try {
      const data = readFileSync(cacheFile);
      const end = data.indexOf(0x0a);
      const [kind, crc] = data.subarray(0, Math.max(end, 0)).toString('latin1').slice(stamp.length + 1).split(' ');
      const code = data.subarray(end + 1);
      if (end > 0 && data.subarray(0, stamp.length + 1).toString('latin1') === `${stamp} ` && (kind === 'full' || kind === 'partial') && crc === crc32(code).toString(16)) {
        cachedData = code;
        full = kind === 'full';
      }
    } catch {
      // no cache yet
    }
  }
  // The CommonJS wrapper on a line of its own, lineOffset keeping stack traces' lines the bundle's.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {\n${source.replace(/^#!/, '//')}\n})`, {
    filename: file,
    lineOffset: -1,
    cachedData,
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} as Runtime };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  const codeCache: CodeCacheState = cacheFile === undefined ? 'off' : cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
  if (cacheFile !== undefined && !(codeCache === 'accepted' && full)) {
    let written = false;
    const write = (kind: 'full' | 'partial'): void => {
      if (!written) writeCodeCache(cacheFile, kind, header, script);
      written = true;
    };
    setTimeout(() => write('full'), CODE_CACHE_DELAY_MS).unref();
    if (codeCache !== 'accepted') process.once('exit', () => write('partial'));
  }
  return { main: module.exports.main, codeCache };
}

function writeCodeCache(cacheFile: string, kind: 'full' | 'partial', header: (kind: 'full' | 'partial', code: Buffer) => Buffer, script: Script): void {
  const partial = `${cacheFile}.${process.pid}`;
  try {
    const code = script.createCachedData();
    writeFileSync(partial, Buffer.concat([header(kind, code), code]));
    renameSync(partial, cacheFile); // whole or not at all, also when two starts write at once
  } catch {
    // a read-only folder: run without a cache, as Node's compile cache does
  }
}

/** FNV-1a of a path, in hex: a file name per bundle location, not a secret. */
function hashText(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
