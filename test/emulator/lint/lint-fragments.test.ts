import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lintFiles, type LintContext } from '../../../emulator/lint/lint.js';

/** policies lint over a folder holding policy fragments: `<fragment>` files are fragments named after the file. */
describe('policies lint: fragment files', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const context = (strict = true): LintContext => ({ namedValues: {}, backendIds: [], placeholders: {}, scope: 'api', strict });
  const write = (files: Record<string, string>) => {
    dir = mkdtempSync(join(tmpdir(), 'lint-fragments-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return Object.keys(files).map((name) => join(dir, name));
  };
  const policy = (id: string) => `<policies>\n  <inbound>\n    <include-fragment fragment-id="${id}" />\n  </inbound>\n</policies>\n`;

  it("a policy including a fragment file of the folder loads; the fragment's own problems show where it is included", () => {
    const files = write({
      'stamp.xml': '<?xml version="1.0"?>\n<!-- shared -->\n<fragment>\n  <set-header name="x" exists-action="override"><value>1</value></set-header>\n</fragment>\n',
      'broken.xml': '<fragment>\n  <no-such-policy />\n</fragment>\n',
      'api.xml': policy('stamp'),
      'api-broken.xml': policy('broken'),
      'api-missing.xml': policy('absent'),
    });
    const report = lintFiles(files, context(), dir);
    const byFile = Object.fromEntries(report.files.map((f) => [f.file, f]));
    expect(byFile['stamp.xml']).toMatchObject({ status: 'loaded', diagnostics: [] });
    expect(byFile['broken.xml']!.status).toBe('loaded'); // well-formed; its policies are checked where included
    expect(byFile['api.xml']).toMatchObject({ status: 'loaded', diagnostics: [] });
    expect(byFile['api-broken.xml']!.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`)).toEqual(['3:36 POL3064']);
    expect(byFile['api-broken.xml']!.diagnostics[0]!.message).toContain("fragments/broken(2,4): error POL3001: Unknown policy 'no-such-policy'");
    expect(byFile['api-missing.xml']!.diagnostics.map((d) => d.code)).toEqual(['POL3061']);
    expect(report.summary).toEqual({ files: 5, loaded: 3, refused: 2, warnings: 0 });
  });

  it('a fragment given in the context wins over a file of the same name', () => {
    const files = write({ 'stamp.xml': '<fragment><no-such-policy /></fragment>', 'api.xml': policy('stamp') });
    const report = lintFiles(files, { ...context(), fragments: { stamp: '<fragment><set-variable name="v" value="1" /></fragment>' } }, dir);
    expect(report.files.find((f) => f.file === 'api.xml')).toMatchObject({ status: 'loaded' });
  });
});
