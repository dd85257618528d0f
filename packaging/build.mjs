#!/usr/bin/env node
// Builds the installable package into dist/: tsc compiles emulator/, policy-engine/ and mock-models/ (ESM + .d.ts),
// then the files that run as they are (the CLI launcher and the az stand-in in bin/, and every non-TypeScript file of
// those folders but READMEs: the az stand-in's .mjs, lab policy XML, the built UI in emulator/ui/dist/) are copied beside them, so dist/ is the whole
// run-time tree and nothing in it needs tsx. Run by `npm run build` and at `prepack`.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const SOURCE_FOLDERS = ['emulator', 'policy-engine', 'mock-models'];
const BIN = ['bin/ai-gateway-emulator.js', 'bin/az', 'bin/az.cmd'];

/** Files of a source folder that tsc does not emit (relative paths). */
function assetsOf(folder) {
  return readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !/\.(ts|md)$/.test(entry.name))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name).slice(root.length))
    .filter((file) => !file.startsWith('emulator/ui/') || file.startsWith('emulator/ui/dist/')); // the UI ships built
}

rmSync(dist, { recursive: true, force: true });
// The browser UI first (its own vite build into emulator/ui/dist/), so dist/ gets the current one.
execFileSync('npm', ['run', '--if-present', 'build:ui'], { cwd: root, stdio: 'inherit' });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
let copied = 0;
for (const file of [...BIN, ...SOURCE_FOLDERS.flatMap(assetsOf)]) {
  mkdirSync(join(dist, dirname(file)), { recursive: true });
  cpSync(join(root, file), join(dist, file));
  copied++;
}
console.log(`dist/: compiled emulator, policy-engine, mock-models; ${copied} files copied as they are`);
