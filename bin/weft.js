#!/usr/bin/env node
// Weft is TypeScript run by Node's type stripping: refuse older Node with a clear message.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`weft needs Node.js 24 or later (this is ${process.version}). Run it through npm (npx weft, npm start), which uses the project's Node 24.\n`);
  process.exit(2);
}
// Cache compiled (and type-stripped) modules across starts: roughly halves the CPU to start.
// Where no cache folder is writable (read-only root file system) Node silently runs without.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
// The one-file build when it is current (npm run build), else the sources: bin/entry.ts.
const { loadEntry, pickEntry } = await import('./entry.ts');
const entry = pickEntry(new URL('..', import.meta.url).pathname);
// WEFT_CODE_CACHE: a folder for the bundle's code cache instead of Node's (the image's, made at build time).
const { main, codeCache } = await loadEntry(entry, process.env.WEFT_CODE_CACHE || undefined);
if (process.env.WEFT_DEBUG_ENTRY) {
  const why = [entry.reason, codeCache && `code cache ${codeCache}`].filter(Boolean).join('; ');
  process.stderr.write(`weft: running the ${entry.kind}${why ? ` (${why})` : ''}\n`);
}
await main(process.argv.slice(2));
