import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../../policy-engine/diagnostics.js';
import { readPolicyXml } from '../../../policy-engine/xml/index.js';

/**
 * Golden files for bad inputs: `test/fixtures/policies/bad/<name>.xml` is read and every diagnostic is
 * printed with formatDiagnostic into `<name>.errors.txt`. Set UPDATE_GOLDEN=1 to rewrite them (then review the diff).
 */
const DIR = new URL('../../fixtures/policies/bad/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.xml')).sort();

function render(file: string): string {
  const doc = readPolicyXml(readFileSync(new URL(file, DIR), 'utf8'), { name: `bad/${file}` });
  const lines = doc.diagnostics.map((d) => {
    const related = (d.related ?? []).map((r) => {
      const { line, column } = doc.source.lineAndColumn(r.span.start);
      return `\n  related (${line},${column}): ${r.message}`;
    });
    return formatDiagnostic(d, doc.source) + related.join('');
  });
  return `${lines.join('\n')}\n`;
}

describe('golden diagnostics for bad policy files', () => {
  it('has fixtures', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });
  it.each(files)('%s', (file) => {
    const golden = new URL(file.replace(/\.xml$/, '.errors.txt'), DIR);
    const actual = render(file);
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, actual);
    expect(actual).toBe(readFileSync(golden, 'utf8'));
  });
});
