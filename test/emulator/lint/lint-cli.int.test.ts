import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, startCli, stopCli, type StartedCli } from '../../support/cli.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const FOLDER = 'test/fixtures/lint';

function lint(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, 'policies', 'lint', ...args], { cwd: ROOT }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const BACKEND_HINT = "Define it under backends in the config file or a lab deployment (policies lint: --backend orders-backend).";

describe('ai-gateway-emulator policies lint (real child process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lint-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints file:line:column code message per diagnostic and the summary; exit 1 when a file is refused', async () => {
    const r = await lint([FOLDER, '--backend', 'foundry1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      `${FOLDER}/loaded/set-status-without-reason.xml:7:22 POL3041 warning: set-status has no 'reason': APIM accepts this and sends an empty reason phrase.`,
      `${FOLDER}/refused/bicep-placeholders.xml:4:42 POL3040 Attribute 'backend-id' of policy 'set-backend-service' holds the Bicep placeholder '{backend-id}', which the lab's Bicep (or notebook) replaces before deploying. Supply its value: policyPlaceholders in the API's configuration, e.g. { "{backend-id}": "foundry1" }, or policies lint --placeholder {backend-id}=foundry1.`,
      `${FOLDER}/refused/bicep-placeholders.xml:5:86 POL3040 Attribute 'tokens-per-minute' of policy 'llm-token-limit' holds the Bicep placeholder '{tpm}', which the lab's Bicep (or notebook) replaces before deploying. Supply its value: policyPlaceholders in the API's configuration, e.g. { "{tpm}": "1" }, or policies lint --placeholder {tpm}=1.`,
      `${FOLDER}/refused/bicep-placeholders.xml:8:23 POL3040 Attribute 'count' of policy 'retry' holds the Bicep placeholder '{retry-count}', which the lab's Bicep (or notebook) replaces before deploying. Supply its value: policyPlaceholders in the API's configuration, e.g. { "{retry-count}": "1" }, or policies lint --placeholder {retry-count}=1.`,
      `${FOLDER}/refused/content-placeholder.xml:5:13 POL3040 Policy 'choose' holds the Bicep placeholder '{product-token-limits}' where its child elements go, which the lab's Bicep (or notebook) replaces before deploying. Supply its value: policyPlaceholders in the API's configuration, e.g. { "{product-token-limits}": "<when condition=…>…</when>" }, or policies lint --placeholder {product-token-limits}=<when condition=…>…</when>.`,
      `${FOLDER}/refused/evaluation-root.xml:1:2 XML1004 The root element must be <policies> (or <fragment>), found <evaluation>.`,
      `${FOLDER}/refused/named-values.xml:5:20 XML1003 Named value 'GatewayUrl' is not defined (2 references). Define it with --named-value GatewayUrl=<value>, under namedValues in the config file, or with PUT /_emulator/named-values/GatewayUrl.`,
      `${FOLDER}/refused/named-values.xml:11:20 XML1003 Named value 'ClientId' is not defined. Define it with --named-value ClientId=<value>, under namedValues in the config file, or with PUT /_emulator/named-values/ClientId.`,
      `${FOLDER}/refused/unknown-backend.xml:4:42 POL3016 Backend 'orders-backend' is not defined. ${BACKEND_HINT}`,
      '7 files: 2 loaded, 5 refused, 1 warning',
    ]);
  });

  it('exit 0 when every file loads (warnings do not refuse)', async () => {
    const r = await lint([`${FOLDER}/loaded`, '--backend', 'foundry1']);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('2 files: 2 loaded, 0 refused, 1 warning');
  });

  it('what the lab defines, from a config file plus flags, makes the refused fixtures load; --format json', async () => {
    const config = join(dir, 'lab.yaml');
    writeFileSync(
      config,
      [
        'namedValues:',
        '  GatewayUrl: https://apim.example',
        'backends:',
        '  - id: foundry1',
        '    url: https://foundry1.example/openai',
        'apis:',
        '  - id: inference-api',
        '    path: inference/openai',
        '    policyPlaceholders:',
        "      '{backend-id}': foundry1",
        '',
      ].join('\n'),
    );
    const r = await lint([`${FOLDER}/refused`, `${FOLDER}/loaded/clean.xml`, '--config', config, '--named-value', 'ClientId=client-1', '--backend', 'orders-backend=https://orders.example', '--placeholder', '{tpm}=1000', '--placeholder', '{retry-count}=2', '--placeholder', '{product-token-limits}=<when condition="@(true)"><set-header name="x-product" exists-action="override"><value>gold</value></set-header></when>', '--format', 'json']);
    const report = JSON.parse(r.stdout) as { files: Array<{ file: string; status: string; diagnostics: Array<{ code: string }> }>; summary: Record<string, number> };
    expect(report.files.map((f) => [f.file, f.status, f.diagnostics.map((d) => d.code)])).toEqual([
      [`${FOLDER}/refused/bicep-placeholders.xml`, 'loaded', []],
      [`${FOLDER}/refused/content-placeholder.xml`, 'loaded', []],
      [`${FOLDER}/refused/evaluation-root.xml`, 'refused', ['XML1004']],
      [`${FOLDER}/refused/named-values.xml`, 'loaded', []],
      [`${FOLDER}/refused/unknown-backend.xml`, 'loaded', []],
      [`${FOLDER}/loaded/clean.xml`, 'loaded', []],
    ]);
    expect(report.summary).toEqual({ files: 6, loaded: 5, refused: 1, warnings: 0 });
    expect(r.code).toBe(1);
  });

  it('--loose: undefined named values and backends become warnings and those files load', async () => {
    const r = await lint([`${FOLDER}/refused/named-values.xml`, `${FOLDER}/refused/unknown-backend.xml`, '--loose']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe(`${FOLDER}/refused/unknown-backend.xml:4:42 POL3016 warning: Backend 'orders-backend' is not defined; a request that reaches it fails (strict mode off). ${BACKEND_HINT}`);
    expect(lines[3]).toBe('2 files: 2 loaded, 0 refused, 3 warnings');
  });

  it('a path that does not exist: exit 2 and a message on stderr', async () => {
    const r = await lint(['no/such/folder']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('policies lint: no/such/folder: no such file or folder\n');
  });
});

describe('start --named-value (real child process)', () => {
  let started: StartedCli | undefined;
  afterAll(() => stopCli(started?.child));

  it('defines named values for the policies PUT afterwards', async () => {
    started = await startCli(['--in-memory', '--named-value', 'GatewayUrl=https://apim.example', '--named-value', 'clientid=client-1']);
    const xml = readFileSync(new URL('../../fixtures/lint/refused/named-values.xml', import.meta.url), 'utf8');
    const res = await fetch(`${started.url}/_emulator/policies/apis/inference-api`, { method: 'PUT', headers: { 'content-type': 'application/xml' }, body: xml });
    expect(res.status).toBe(200);
    expect(await (await fetch(`${started.url}/_emulator/named-values`)).json()).toEqual([
      { name: 'GatewayUrl', value: 'https://apim.example' },
      { name: 'clientid', value: 'client-1' },
    ]);
  });
});
