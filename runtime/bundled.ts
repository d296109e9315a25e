/**
 * Libraries carried inside the one-file build (dist/weft.cjs, `npm run build`), by package name.
 * From the sources this is empty and runtime/lazy.ts requires from node_modules; bin/build.ts
 * swaps this module for one whose entries are bundled `require`s, so that a flow's first call
 * reads undici from the already open bundle instead of resolving ~110 files of it.
 */
export const BUNDLED: Readonly<Record<string, () => unknown>> = {};
