import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, runProcess, type ProcessRun } from '../../support/process.js';
import { CLI_BIN, startCli, stopCli, type StartedCli } from '../../support/cli.js';
import { labPost } from '../../support/lab.js';

const BIN_DIR = new URL('../../../bin', import.meta.url).pathname;
const AZ = join(BIN_DIR, 'az');
const FIXTURES = new URL('../../fixtures/labs', import.meta.url).pathname;
const TIME_SCALE = 30; // the SDK-retry cell waits Retry-After seconds of wall time: 60 s of window → 2 s


/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}


describe('az stand-in against a running emulator (real CLI processes)', () => {
  let dir: string;
  let emulator: StartedCli;
  let env: NodeJS.ProcessEnv;
  const az = (args: string[], cwd?: string) => runProcess(process.execPath, [AZ, ...args], { env, ...(cwd ? { cwd } : {}) });
  const azJson = async (args: string[], cwd?: string) => {
    const r = await az(args, cwd);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aigw-az-'));
    cpSync(FIXTURES, join(dir, 'labs'), { recursive: true });
    emulator = await startCli(['--data', join(dir, 'data'), '--time-scale', String(TIME_SCALE), '--quiet']);
    env = { ...process.env, PATH: `${BIN_DIR}${delimiter}${process.env.PATH ?? ''}`, AI_GATEWAY_EMULATOR_URL: emulator.url };
  }, 30_000);
  afterAll(async () => {
    await stopCli(emulator?.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an unknown command exits non-zero with one line naming it on stderr and nothing on stdout', async () => {
    const r = await az(['vm', 'list', '-g', 'x']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("ERROR: 'az vm list' is not emulated by the AI Gateway emulator's az stand-in; 'az --help' lists the emulated commands.\n");
    const option = await az(['group', 'list', '--bogus', '1']);
    expect(option.code).toBe(2);
    expect(option.stdout).toBe('');
    expect(option.stderr).toMatch(/^ERROR: unrecognized arguments: --bogus \(not emulated for 'az group list'\)\n$/);
  });

  it('account show prints the fields the notebooks read, as pure JSON', async () => {
    const account = await azJson(['account', 'show']);
    expect(account).toMatchObject({ environmentName: 'AzureCloud', isDefault: true, state: 'Enabled' });
    expect(account.user.name).toMatch(/@/);
    expect(account.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(account.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('group show fails with exit 3 until group create; exists, list with -o tsv / --query, delete', async () => {
    const missing = await az(['group', 'show', '--name', 'lab-groups']);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe("ERROR: (ResourceGroupNotFound) Resource group 'lab-groups' could not be found.\n");
    const created = await azJson(['group', 'create', '--name', 'lab-groups', '--location', 'uksouth', '--tags', 'source=ai-gateway']);
    expect(created).toMatchObject({ name: 'lab-groups', location: 'uksouth', tags: { source: 'ai-gateway' }, properties: { provisioningState: 'Succeeded' } });
    expect(await azJson(['group', 'exists', '-n', 'lab-groups'])).toBe(true);
    expect((await az(['group', 'list', '--query', "[?name=='lab-groups'].location", '-o', 'tsv'])).stdout).toBe('uksouth\n');
    const table = await az(['group', 'show', '-g', 'lab-groups', '-o', 'table', '--query', '{Name:name, Location:location}']);
    expect(table.stdout.split('\n').slice(0, 3)).toEqual(['Name        Location', '----------  --------', 'lab-groups  uksouth']);
    expect(await az(['group', 'delete', '--name', 'lab-groups', '-y'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await azJson(['group', 'exists', '-n', 'lab-groups'])).toBe(false);
  });

  it('deployment group create refuses a folder without policy.xml or a params.json that does not parse, and changes nothing', async () => {
    const lab = join(dir, 'broken-lab');
    cpSync(join(FIXTURES, 'token-rate-limiting'), lab, { recursive: true });
    rmSync(join(lab, 'policy.xml'));
    writeFileSync(join(lab, 'params.json'), '{"parameters": {"aiServicesConfig": {"value": [{"name": "foundry1"}]}}}');
    await azJson(['group', 'create', '-n', 'lab-broken', '-l', 'uksouth']);
    const noPolicy = await az(['deployment', 'group', 'create', '-n', 'broken', '-g', 'lab-broken', '--template-file', 'main.bicep', '--parameters', 'params.json'], lab);
    expect(noPolicy.code).toBe(1);
    expect(noPolicy.stdout).toBe('');
    expect(noPolicy.stderr).toBe(`ERROR: No policy beside the template: ${join(lab, 'policy.xml')} does not exist (the lab's Bicep loads its policy.xml). Nothing was deployed.\n`);

    cpSync(join(FIXTURES, 'token-rate-limiting', 'policy.xml'), join(lab, 'policy.xml'));
    writeFileSync(join(lab, 'params.json'), '{"parameters": {');
    const badJson = await az(['deployment', 'group', 'create', '-n', 'broken', '-g', 'lab-broken', '-f', 'main.bicep', '-p', 'params.json'], lab);
    expect(badJson.code).toBe(1);
    expect(badJson.stdout).toBe('');
    expect(badJson.stderr).toMatch(/^ERROR: Failed to parse the parameters file 'params\.json': .+\. Nothing was deployed\.\n$/);

    writeFileSync(join(lab, 'params.json'), '{"parameters": {"aiServicesConfig": {"value": []}}}');
    const badParams = await az(['deployment', 'group', 'create', '-n', 'broken', '-g', 'lab-broken', '-f', 'main.bicep', '-p', 'params.json'], lab);
    expect(badParams.code).toBe(1);
    expect(badParams.stderr).toBe("ERROR: (InvalidTemplate) Parameter 'aiServicesConfig' must be a non-empty array.\n");

    expect(await azJson(['deployment', 'group', 'list', '-g', 'lab-broken'])).toEqual([]);
    // The start configuration still serves.
    const health = await fetch(`${emulator.url}/_emulator/health`);
    expect(health.status).toBe(200);
    await azJson(['group', 'delete', '-n', 'lab-broken', '-y']).catch(() => undefined);
  });

  it('an unreachable emulator is one error line naming the URL, exit 1', async () => {
    const port = await closedPort();
    const r = await runProcess(process.execPath, [AZ, 'account', 'show'], { env: { ...env, AI_GATEWAY_EMULATOR_URL: `http://127.0.0.1:${port}` } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`ERROR: cannot reach the AI Gateway emulator at http://127.0.0.1:${port} (ECONNREFUSED): start it with 'npx ai-gateway-emulator', or set AI_GATEWAY_EMULATOR_URL to its URL.\n`);
  });

  it("`env` prints the line that puts the stand-in first on PATH; `shell` opens a subshell where az is the stand-in", async () => {
    const printed = await runProcess(process.execPath, [CLI_BIN, 'env', '--url', emulator.url]);
    expect(printed).toEqual({ code: 0, stdout: `export PATH="${BIN_DIR.replace(/\/$/, '')}:$PATH"; export AI_GATEWAY_EMULATOR_URL="${emulator.url}"\n`, stderr: '' });
    const powershell = await runProcess(process.execPath, [CLI_BIN, 'env', '--shell', 'powershell', '--url', emulator.url]);
    expect(powershell.stdout).toBe(`$env:PATH = "${BIN_DIR.replace(/\/$/, '')}${delimiter}" + $env:PATH; $env:AI_GATEWAY_EMULATOR_URL = "${emulator.url}"\n`);
    const cleanEnv = { ...process.env, AI_GATEWAY_EMULATOR_URL: '' };
    const evaluated = await runProcess('/bin/sh', ['-c', `eval "$(${process.execPath} ${CLI_BIN} env --url ${emulator.url})"; az account show --query state -o tsv`], { env: cleanEnv });
    expect(evaluated).toEqual({ code: 0, stdout: 'Enabled\n', stderr: '' });

    const shell = spawn(process.execPath, [CLI_BIN, 'shell', '--url', emulator.url], { env: { ...cleanEnv, SHELL: '/bin/sh' }, stdio: 'pipe' });
    let out = '';
    shell.stdout.on('data', (chunk) => (out += chunk));
    shell.stdin.end('az group exists -n nothing-here\nexit 7\n');
    const code = await new Promise((resolve) => shell.on('exit', resolve));
    expect(out).toBe('false\n');
    expect(code).toBe(7);
  }, 30_000);

  describe.skipIf(!PYTHON)(`the labs' notebooks, unchanged cells, with the stand-in first on PATH (${PYTHON ?? 'python3 missing: .ci/run installs it'})`, () => {
    const python = (script: string, lab: string) => runProcess('python3', [script], { cwd: join(dir, 'labs', lab), env: { ...env, PYTHONIOENCODING: 'utf-8' } });
    const resultOf = (r: ProcessRun) => {
      const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      expect(line, `${r.stdout}\n${r.stderr}`).toBeDefined();
      return JSON.parse(line!.slice('RESULT '.length));
    };

    it('token-rate-limiting: deploy, 2 × 200 then 429 with Retry-After, the SDK retries through, outputs parse as the notebook parses them', async () => {
      const r = await python('notebook.py', 'token-rate-limiting');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const result = resultOf(r);
      expect(result.deployed).toBe(true);
      // Only the probe before the group exists failed (utils.create_resource_group).
      expect(result.failedCommands).toEqual(['az group show --name lab-token-rate-limiting']);
      expect(result.gatewayUrl).toBe(emulator.url);
      expect(result.apimServiceId).toMatch(/^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/lab-token-rate-limiting\/providers\/Microsoft\.ApiManagement\/service\/apim-[a-z0-9]{13}$/);
      expect(result.subscriptions).toEqual([{ name: 'subscription1', displayName: 'Subscription 1', key: expect.stringMatching(/^[0-9a-f]{32}$/) }]);
      const statuses = (result.runs as Array<[number, number, string]>).map(([, status]) => status);
      expect(statuses).toEqual([200, 200, ...Array(28).fill(429)]);
      const [first, second] = result.runs as Array<[number, number, string]>;
      expect(first![0] + second![0]).toBeGreaterThanOrEqual(100);
      expect(result.accumulated[29]).toBe(first![0] + second![0]);
      for (const [, , body] of (result.runs as Array<[number, number, string]>).slice(2)) expect(body).toMatch(/^\{ "statusCode": 429, "message": "Token limit is exceeded\. Try again in \d+ seconds\." \}$/);
      expect(result.retryAfter).toHaveLength(28);
      for (const value of result.retryAfter as string[]) expect(Number(value)).toBeGreaterThanOrEqual(1);
      // Cell 14: every SDK call printed a message; every wait came from Retry-After (never the 0.5–8 s backoff).
      expect(result.sdkContents).toHaveLength(10);
      expect((result.sdkWaits as Array<[number, boolean]>).length).toBeGreaterThan(0);
      for (const [seconds, fromHeader] of result.sdkWaits as Array<[number, boolean]>) {
        expect(fromHeader).toBe(true);
        expect(seconds).toBeGreaterThan(0);
        expect(seconds).toBeLessThanOrEqual(60);
      }
      // The key the deployment printed is the gateway's.
      expect((await labPost(emulator.url, result.subscriptions[0].key)).status).toBeOneOf([200, 429]);
      expect(r.stdout).toContain("✅ Deployment 'token-rate-limiting' succeeded");
    }, 60_000);

    it('token-metrics-emitting: 10 + 30 calls, then the KQL cell returns the six columns whose value sum equals the tokens the clients saw', async () => {
      const r = await python('notebook.py', 'token-metrics-emitting');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const result = resultOf(r);
      expect(result.failedCommands).toEqual(['az group show --name lab-token-metrics-emitting']);
      expect(result.seenTokens).toHaveLength(40);
      expect(result.sdkCalls).toBe(30);
      expect(result.columns).toEqual(['timestamp', 'value', 'clientIP', 'apiId', 'apimSubscription', 'UserId']);
      expect(result.columnTypes).toEqual(['datetime', 'real', 'string', 'string', 'string', 'string']);
      const rows = result.rows as Array<[string, number, string, string, string, string]>;
      expect(rows).toHaveLength(40);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      expect(sum(rows.map((row) => row[1]))).toBe(sum(result.seenTokens));
      const perSubscription = Object.fromEntries(['subscription1', 'subscription2', 'subscription3'].map((s) => [s, rows.filter((row) => row[4] === s).length]));
      expect(perSubscription).toEqual({ subscription1: 20, subscription2: 10, subscription3: 10 });
      for (const row of rows) {
        expect(row[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        expect(row.slice(2)).toEqual(['127.0.0.1', 'inference-api', row[4], 'alex']);
      }
      expect(rows.map((row) => row[0])).toEqual([...rows.map((row) => row[0])].sort());
      expect(result.logAnalyticsId).toMatch(/^[0-9a-f-]{36}$/);

      // The same query through the other query command and output shapes users reach for.
      const ai = await azJson(['monitor', 'app-insights', 'query', '--app', result.appInsightsName, '-g', 'lab-token-metrics-emitting', '--analytics-query', 'customMetrics | summarize n = count() by name | order by name asc']);
      expect(ai.tables[0].rows).toEqual([['Completion Tokens', 40], ['Prompt Tokens', 40], ['Total Tokens', 40]]);
      const la = await azJson(['monitor', 'log-analytics', 'query', '-w', result.logAnalyticsId, '--analytics-query', "AppMetrics | where Name == 'Total Tokens' | summarize count_ = count(), total = sum(Sum)"]);
      expect(la).toEqual([{ count_: '40', total: String(sum(result.seenTokens)), TableName: 'PrimaryResult' }]);
      // --start-time/--end-time bound the query; a window with nothing in it returns no rows.
      const old = await azJson(['monitor', 'app-insights', 'query', '--app', result.appInsightsName, '--analytics-query', 'customMetrics | count', '--start-time', '2020-01-01T00:00:00Z', '--end-time', '2020-01-02T00:00:00Z']);
      expect(old.tables[0].rows).toEqual([[0]]);
      const gatewayUrl = await az(['deployment', 'group', 'show', '-n', 'token-metrics-emitting', '-g', 'lab-token-metrics-emitting', '--query', 'properties.outputs.apimResourceGatewayURL.value', '-o', 'tsv']);
      expect(gatewayUrl).toEqual({ code: 0, stdout: `${emulator.url}\n`, stderr: '' });
    }, 60_000);

    it('the deployment survives an emulator restart with the same data directory', async () => {
      const before = await azJson(['deployment', 'group', 'show', '-n', 'token-metrics-emitting', '-g', 'lab-token-metrics-emitting']);
      await stopCli(emulator.child);
      emulator = await startCli(['--data', join(dir, 'data'), '--time-scale', String(TIME_SCALE), '--quiet']);
      env = { ...env, AI_GATEWAY_EMULATOR_URL: emulator.url };
      expect(emulator.banner).toContain('deployment lab-token-metrics-emitting/token-metrics-emitting');
      const after = await azJson(['deployment', 'group', 'show', '-n', 'token-metrics-emitting', '-g', 'lab-token-metrics-emitting']);
      expect(after.properties.outputs.apimSubscriptions).toEqual(before.properties.outputs.apimSubscriptions);
      const key = after.properties.outputs.apimSubscriptions.value[2].key;
      expect((await labPost(emulator.url, key)).status).toBe(200);
    }, 30_000);

    it.each(['token-rate-limiting', 'token-metrics-emitting'])('%s clean-up-resources: every command succeeds, then nothing of the lab is left', async (lab) => {
      const r = await python('clean-up-resources.py', lab);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      for (const step of ['Deployment provisioning state: Succeeded', 'AI Foundry project deleted', 'Cognitive Services purged', 'API Management purged', 'Resource group deleted', 'Cleanup completed.']) {
        expect(r.stdout).toContain(step);
      }
      expect((await az(['group', 'show', '-n', `lab-${lab}`])).code).toBe(3);
      expect(await azJson(['resource', 'list'])).toEqual(expect.not.arrayContaining([expect.objectContaining({ resourceGroup: `lab-${lab}` })]));
      expect(await azJson(['apim', 'deletedservice', 'list'])).toEqual([]);
      expect(await azJson(['cognitiveservices', 'account', 'list-deleted'])).toEqual([]);
    }, 30_000);
  });
});
