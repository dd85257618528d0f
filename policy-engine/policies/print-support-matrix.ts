import { readFileSync, writeFileSync } from 'node:fs';
import { policySupportMatrix, SUPPORT_MATRIX_END, SUPPORT_MATRIX_START } from './support-matrix.js';

// `npm run docs:policies` prints the matrix; `npm run docs:policies -- --write` replaces it in README.md.
if (process.argv.includes('--write')) {
  const path = new URL('../../README.md', import.meta.url);
  const readme = readFileSync(path, 'utf8');
  const start = readme.indexOf(SUPPORT_MATRIX_START);
  const end = readme.indexOf(SUPPORT_MATRIX_END);
  if (start < 0 || end < 0) throw new Error(`README.md has no ${SUPPORT_MATRIX_START} … ${SUPPORT_MATRIX_END} block`);
  writeFileSync(path, readme.slice(0, start) + policySupportMatrix() + readme.slice(end + SUPPORT_MATRIX_END.length));
} else {
  process.stdout.write(`${policySupportMatrix()}\n`);
}
