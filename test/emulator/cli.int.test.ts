import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { wellKnownSubscriptionKey } from '../../emulator/config/load.js';
import { labPost } from '../support/lab.js';
import { startCli as startCliProcess, type StartedCli } from '../support/cli.js';

/** Starts the real CLI on an ephemeral port and waits for its startup banner. */
function startCli(args: string[], command: string[] = [], ready = 'Control plane'): Promise<StartedCli> {
  const isolated = command.length === 0 ? ['--in-memory'] : []; // parallel test files must not share ./.data
  return startCliProcess([...isolated, ...args], { command, ready });
}

describe('CLI', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    child?.kill('SIGTERM');
    child = undefined;
  });

  it('starts on the default preset, prints URL, APIs and subscription keys, and serves the lab request', async () => {
    const started = await startCli([]);
    child = started.child;
    const key = wellKnownSubscriptionKey('subscription1', 'primary');
    expect(started.banner).toContain('preset token-rate-limiting');
    expect(started.banner).toContain(`${started.url}/inference/openai`);
    expect(started.banner).toContain(`subscription1 (Subscription 1, active, scope /apis): primary ${key}`);
    const res = await labPost(started.url, key);
    expect(res.status).toBe(200);
  }, 30_000);

  it('drives the virtual clock over the control plane (--clock virtual)', async () => {
    const started = await startCli(['--preset', 'token-rate-limiting', '--clock', 'virtual']);
    child = started.child;
    const before = await (await fetch(`${started.url}/_emulator/clock`)).json();
    const after = await (await fetch(`${started.url}/_emulator/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advanceMs":61000}' })).json();
    expect(after.nowMs - before.nowMs).toBeGreaterThanOrEqual(61_000);
  }, 30_000);

  it('`models` serves the mock models alone over HTTP for any client', async () => {
    const started = await startCli(['--preset', 'token-metrics-emitting'], ['models'], 'chat/completions');
    child = started.child;
    expect(started.banner).toContain('Mock Azure OpenAI models (foundry1)');
    const res = await fetch(`${started.url}/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).model).toBe('gpt-4.1-mini-2025-04-14');
  }, 30_000);

  it('loads a YAML config with a policy file and refuses a bad policy with its position (exit code 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-cli-'));
    writeFileSync(join(dir, 'policy.xml'), '<policies>\n  <inbound>\n    <base />\n    <quota-by-nothing />\n    <set-backend-service backend-id="foundry1" />\n  </inbound>\n</policies>\n');
    writeFileSync(
      join(dir, 'config.yaml'),
      [
        'backends:',
        '  - { id: foundry1, url: "https://foundry1.example/openai", deployments: [{ name: gpt-4.1-mini, model: gpt-4.1-mini }] }',
        'apis:',
        '  - { id: inference-api, path: inference/openai, type: azure-openai, subscriptionKeyParameterNames: { header: api-key, query: api-key }, policy: ./policy.xml }',
        'subscriptions:',
        '  - { name: team-a, primaryKey: 0123456789abcdef0123456789abcdef }',
      ].join('\n'),
    );
    const failure = await startCli(['--config', join(dir, 'config.yaml')]).catch((e: { code?: number; stderr?: string }) => e);
    expect((failure as { code?: number }).code).toBe(2);
    expect((failure as { stderr?: string }).stderr).toContain('(4,6): error POL3001: Unknown policy \'quota-by-nothing\'');

    const loose = await startCli(['--config', join(dir, 'config.yaml'), '--loose']);
    child = loose.child;
    expect(loose.banner).toContain('warning');
    expect(loose.banner).toContain('team-a');
    const res = await labPost(loose.url, '0123456789abcdef0123456789abcdef');
    expect(res.status).toBe(200);
  }, 30_000);
});
