import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError, parse, readDeploymentInputs, rowObjects, runAz, timespan } from '../../../emulator/az/az.mjs';
import { formatOutput, pythonStr } from '../../../emulator/az/output.mjs';

describe('az stand-in: arguments', () => {
  it('splits command words from options; an option takes every word up to the next option', () => {
    expect(parse(['resource', 'delete', '--ids', 'a', 'b', '-g', 'rg', '--yes', '--name=x y'])).toEqual({
      words: ['resource', 'delete'],
      raw: [['--ids', ['a', 'b']], ['-g', ['rg']], ['--yes', []], ['--name', ['x y']]],
    });
  });

  it('builds the query timespan as the real CLI: offset back from now (the emulator clock), or start/end', () => {
    expect(timespan('1h', undefined, undefined)).toBe('PT1H');
    expect(timespan('1d2h30m', undefined, undefined)).toBe('P1DT2H30M');
    expect(timespan('2d', undefined, undefined)).toBe('P2D');
    expect(timespan('PT15M', undefined, undefined)).toBe('PT15M');
    expect(timespan('1h', '2026-01-01T00:00:00Z', undefined)).toBe('2026-01-01T00:00:00Z/PT1H');
    expect(timespan('1h', undefined, '2026-01-01T00:00:00Z')).toBe('PT1H/2026-01-01T00:00:00Z');
    expect(timespan('1h', 'a', 'b')).toBe('a/b');
    expect(() => timespan('an hour', undefined, undefined)).toThrow(CliError);
  });

  it('a missing required argument and a bad --output are usage errors (exit 2), before any request', async () => {
    const env = { AI_GATEWAY_EMULATOR_URL: 'http://127.0.0.1:1' };
    expect(await runAz(['group', 'show'], { env })).toEqual({ stdout: '', stderr: 'ERROR: the following arguments are required: --name\n', exitCode: 2 });
    expect(await runAz(['account', 'show', '-o', 'xml'], { env })).toMatchObject({ stdout: '', exitCode: 2 });
    expect((await runAz(['--help'], { env })).stdout).toContain('az monitor app-insights query');
  });
});

describe('az stand-in: output formats', () => {
  const items = [
    { name: 'a', location: 'uksouth', enabled: true, tags: { x: '1' }, count: 2 },
    { name: 'bb', location: 'eastus', enabled: false, tags: {}, count: null },
  ];

  it('json is indented; tsv prints scalar fields per line with Python spellings; none prints nothing', () => {
    expect(formatOutput(items[0], 'json')).toBe(`${JSON.stringify(items[0], null, 2)}\n`);
    expect(formatOutput(items, 'tsv')).toBe('a\tuksouth\tTrue\t2\nbb\teastus\tFalse\t\n');
    expect(formatOutput('x', 'tsv')).toBe('x\n');
    expect(formatOutput(items, 'none')).toBe('');
    expect(pythonStr(null)).toBe('None');
  });

  it('table has a header of capitalised scalar fields, a dash rule and aligned columns', () => {
    expect(formatOutput(items, 'table')).toBe(['Name  Location  Enabled  Count', '----  --------  -------  -----', 'a     uksouth   True     2', 'bb    eastus    False', ''].join('\n'));
  });

  it('log-analytics rows become objects with string values and TableName', () => {
    const result = { tables: [{ name: 'PrimaryResult', columns: [{ name: 'n' }, { name: 't' }, { name: 'd' }, { name: 'z' }], rows: [[57, '2026-01-01T00:00:00Z', { a: 1 }, null]] }] };
    expect(rowObjects(result)).toEqual([{ n: '57', t: '2026-01-01T00:00:00Z', d: '{"a":1}', z: null, TableName: 'PrimaryResult' }]);
  });
});

describe('az stand-in: deployment inputs', () => {
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-az-inputs-'));
    writeFileSync(join(dir, 'params.json'), JSON.stringify({ parameters: { inferenceAPIPath: { value: 'inference' } } }));
    return dir;
  };

  it('reads the policy the template loads (loadTextContent), else policy.xml beside it', () => {
    const dir = folder();
    writeFileSync(join(dir, 'main.bicep'), "var policyXml = loadTextContent('custom-policy.xml')\n");
    writeFileSync(join(dir, 'custom-policy.xml'), '<policies/>');
    writeFileSync(join(dir, 'policy.xml'), '<policies><inbound/></policies>');
    expect(readDeploymentInputs(dir, 'main.bicep', ['params.json']).policyXml).toBe('<policies/>');
    writeFileSync(join(dir, 'main.bicep'), '// no policy loaded here\n');
    expect(readDeploymentInputs(dir, 'main.bicep', ['params.json']).policyXml).toBe('<policies><inbound/></policies>');
  });

  it('merges parameter files, @files, inline JSON and name=value overrides in order; a policyXml parameter wins', () => {
    const dir = folder();
    writeFileSync(join(dir, 'main.bicep'), '');
    writeFileSync(join(dir, 'policy.xml'), '<policies/>');
    const inputs = readDeploymentInputs(dir, 'main.bicep', ['@params.json', '{"apimSku": {"value": "Basicv2"}}', 'inferenceAPIPath=other', 'policyXml=<policies><outbound/></policies>']);
    expect(inputs.parametersFile.parameters).toEqual({ inferenceAPIPath: { value: 'other' }, apimSku: { value: 'Basicv2' }, policyXml: { value: '<policies><outbound/></policies>' } });
    expect(inputs.policyXml).toBe('<policies><outbound/></policies>');
  });

  it('a missing template or parameters file names the path it looked at', () => {
    const dir = folder();
    expect(() => readDeploymentInputs(dir, 'main.bicep', [])).toThrow(`Template file 'main.bicep' not found (looked at ${join(dir, 'main.bicep')}).`);
    writeFileSync(join(dir, 'main.bicep'), '');
    expect(() => readDeploymentInputs(dir, 'main.bicep', ['nope.json'])).toThrow(`Parameters file 'nope.json' not found (looked at ${join(dir, 'nope.json')}).`);
  });
});
