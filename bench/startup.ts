/**
 * Kept for `npm run bench:startup`: the startup and memory comparison is now the kit's S4
 * (bench/run.ts), Weft beside the hand-written hono baseline. Extra options pass through.
 */
process.argv.splice(2, 0, '--targets', 'weft,hono', '--scenarios', 's4', '--no-docs');
await import('./run.ts');
