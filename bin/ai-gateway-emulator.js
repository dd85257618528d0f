#!/usr/bin/env node
// The CLI. In the installed package (dist/bin/) it runs the compiled JavaScript beside it; in a source checkout
// (emulator/main.ts next to this folder) it runs the TypeScript sources through tsx, a dev dependency.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node ≥ 22.1 caches compiled module code on disk (faster later starts); earlier versions lack it.
module.enableCompileCache?.();

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
