import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policySupportMatrix, SUPPORT_MATRIX_END, SUPPORT_MATRIX_START } from '../../../policy-engine/policies/support-matrix.js';

describe('README policy support matrix', () => {
  it('equals the table generated from the registry (run `npm run docs:policies` and paste it when policies change)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf(SUPPORT_MATRIX_START);
    const end = readme.indexOf(SUPPORT_MATRIX_END);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(readme.slice(start, end + SUPPORT_MATRIX_END.length)).toBe(policySupportMatrix());
  });
});
