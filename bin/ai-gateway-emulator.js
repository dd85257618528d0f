#!/usr/bin/env node
// The CLI. In the installed package (dist/bin/) it runs the compiled JavaScript beside it; in a source checkout
// (emulator/main.ts next to this folder) it runs the TypeScript sources through tsx, a dev dependency.
import { existsSync } from 'node:fs';
import module from 'node:module';
import v8 from 'node:v8';

// Node ≥ 22.1 caches compiled module code on disk (faster later starts); earlier versions lack it.
module.enableCompileCache?.();

// A gateway under sustained load: between full GCs V8 lets the old generation grow to up to 4× what survived the
// last one (a ~45 MB live heap, RSS swinging 250–460 MB and creeping up); a fixed 1.5× keeps the heap near 100 MB,
// at no measured throughput cost (bench/README.md "Soak"). The flag is read at every GC, so setting it now applies.
// `node --heap-growing-percent=<n> …` wins (NODE_OPTIONS does not accept the flag).
if (!process.execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) {
  v8.setFlagsFromString('--heap-growing-percent=50');
}

const source = new URL('../emulator/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../emulator/main.js'));
}
await main(process.argv);
