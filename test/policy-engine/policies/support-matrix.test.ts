import { readFileSync } from 'node:fs';
import { buildProgram } from '../../../emulator/main.js';
import { describe, expect, it } from 'vitest';
import { NOT_EMULATED, REFERENCE_POLICY_NAMES } from '../../../policy-engine/policies/reference.js';
import { POLICY_DEFINITIONS } from '../../../policy-engine/policies/registry.js';
import { policySupportMatrix, SUPPORT_MATRIX_END, SUPPORT_MATRIX_START } from '../../../policy-engine/policies/support-matrix.js';

describe('README policy support matrix', () => {
  it('equals the table generated from the registry (run `npm run docs:policies -- --write` when policies change)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf(SUPPORT_MATRIX_START);
    const end = readme.indexOf(SUPPORT_MATRIX_END);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(readme.slice(start, end + SUPPORT_MATRIX_END.length)).toBe(policySupportMatrix());
  });

  it("lists every policy of Microsoft's policy reference: emulated, or not emulated with the reason", () => {
    const matrix = policySupportMatrix();
    const absent = REFERENCE_POLICY_NAMES.filter((n) => !matrix.includes(`| \`${n}\` |`));
    expect(absent).toEqual([]);
    const emulated = new Set(POLICY_DEFINITIONS.map((d) => d.name));
    const stale = Object.keys(NOT_EMULATED).filter((n) => emulated.has(n));
    expect(stale, 'emulated now: remove from NOT_EMULATED in policy-engine/policies/reference.ts').toEqual([]);
    const unknown = [...emulated].filter((n) => !REFERENCE_POLICY_NAMES.includes(n));
    expect(unknown, 'not in the policy reference: add it to POLICY_REFERENCE (or fix its name)').toEqual([]);
    expect(new Set(REFERENCE_POLICY_NAMES).size).toBe(REFERENCE_POLICY_NAMES.length);
  });

  it('`ai-gateway-emulator policies` prints the matrix: implemented, partial with what is missing, not emulated with why', async () => {
    const lines: string[] = [];
    await buildProgram((line) => lines.push(line)).parseAsync(['node', 'ai-gateway-emulator', 'policies']);
    const printed = lines.join('\n');
    expect(printed).toBe(policySupportMatrix());
    expect(printed).toMatch(/\| `cross-domain` \| inbound \| — \| implemented \|/);
    expect(printed).toMatch(/\| `validate-client-certificate` \| inbound \| .* \| partial: validate-revocation is accepted but no CRL or OCSP is consulted/);
    expect(printed).toMatch(/\| `sql-data-source` \| GraphQL resolvers \| a GraphQL resolver policy/);
    for (const d of POLICY_DEFINITIONS) if (d.partial) expect(d.partial, d.name).not.toContain('|');
  });
});
