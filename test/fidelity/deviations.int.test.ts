import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { wellKnownSubscriptionKey } from '../../emulator/config/load.js';
import { CLI_BIN } from '../support/cli.js';
import { apiPolicy, httpBackendConfig } from '../support/configs.js';
import { LAB_API_VERSION, labPost } from '../support/lab.js';
import { startScriptedBackend } from '../support/scripted-backend.js';
import { useGatewayPerTest } from '../support/scripted-gateway.js';

/**
 * Deviations from Azure found by trying the emulator as a new user, each pinned to the Azure behaviour it now
 * matches (the source in ../shared/spec is named per case). A failure here means the emulator drifted back.
 */
describe('deviations from Azure, fixed', () => {
  const env = useGatewayPerTest(startScriptedBackend);
  const backend = env.backend;
  beforeEach(() => {
    backend.received.length = 0;
  });

  const tokenLimit = (policy: string, extra = '') =>
    apiPolicy(`<${policy} counter-key="k" tokens-per-minute="1000" estimate-prompt-tokens="false" remaining-tokens-header-name="x-remaining"${extra} />`);

  /** Charges a streamed call whose usage chunk says 900 tokens for the text "ok"; returns what was charged. */
  const chargeOfStreamedCall = async (policy: string, policyEngine?: Record<string, unknown>) => {
    const config = httpBackendConfig(backend.url, tokenLimit(policy));
    const g = await env.start({ config: policyEngine ? { ...config, policyEngine } : config });
    const key = g.keyFor('subscription1');
    backend.queue({ prompt: 500, completion: 400 }, { prompt: 10, completion: 10 });
    const streamed = await fetch(`${g.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=${LAB_API_VERSION}`, {
      method: 'POST',
      headers: { 'api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Can you tell me the time, please?' }], stream: true, stream_options: { include_usage: true } }),
    });
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toContain('"total_tokens":900');
    await g.emulator.settled();
    const plain = await labPost(g.url, key);
    expect(plain.status).toBe(200);
    return 1000 - Number(plain.headers.get('x-remaining')) - 20;
  };

  it('azure-openai-token-limit charges a streamed call by its estimate (prompt estimate + streamed text), as documented (policies.md §5.5, §5.10)', async () => {
    const charged = await chargeOfStreamedCall('azure-openai-token-limit');
    expect(charged).toBeGreaterThan(1);
    expect(charged).toBeLessThan(30); // a short prompt and "ok", not the usage chunk's 900
  });

  it('llm-token-limit charges the usage chunk; azure-openai-token-limit does too with policyEngine.azureOpenAIStreamedCharge "usage"', async () => {
    expect(await chargeOfStreamedCall('llm-token-limit')).toBe(900);
    expect(await chargeOfStreamedCall('azure-openai-token-limit', { azureOpenAIStreamedCharge: 'usage' })).toBe(900);
  });

  it('a prompt estimate above tokens-per-minute is refused with Retry-After and the remaining-tokens header, the message without a time (policies.md §5.7)', async () => {
    const g = await env.start({ config: httpBackendConfig(backend.url, apiPolicy(`<azure-openai-token-limit counter-key="k" tokens-per-minute="20" estimate-prompt-tokens="true" remaining-tokens-header-name="x-remaining" retry-after-variable-name="wait" />`, { onError: `<set-header name="x-wait" exists-action="override"><value>@(context.Variables["wait"].ToString())</value></set-header>` })) });
    const res = await labPost(g.url, g.keyFor('subscription1'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(res.headers.get('x-wait')).toBe('60');
    expect(res.headers.get('x-remaining')).toBe('20');
    expect(await res.text()).toBe('{ "statusCode": 429, "message": "Token limit is exceeded." }');
    expect(backend.received).toHaveLength(0);
  });

  it('POST /_emulator/reset clears telemetry unless ?telemetry=false (documented in the README)', async () => {
    const g = await env.start({ config: httpBackendConfig(backend.url, apiPolicy('<azure-openai-emit-token-metric namespace="openai"><dimension name="API ID" /></azure-openai-emit-token-metric>')) });
    expect((await labPost(g.url, g.keyFor('subscription1'))).status).toBe(200);
    const rows = async () => (await g.query('customMetrics | count'))[0]!.Count;
    await g.emulator.settled();
    expect(await rows()).toBe(3);
    expect(await (await fetch(`${g.url}/_emulator/reset?telemetry=false`, { method: 'POST' })).json()).toMatchObject({ status: 'reset', telemetry: 'kept' });
    expect(await rows()).toBe(3);
    expect(await (await fetch(`${g.url}/_emulator/reset`, { method: 'POST' })).json()).toMatchObject({ status: 'reset', telemetry: 'cleared' });
    expect(await rows()).toBe(0);
    expect(readFileSync(new URL('../../README.md', import.meta.url), 'utf8')).toContain('`POST /_emulator/reset[?telemetry=false]`');
  });

  it("the README's sample banner shows the keys the documented formula gives", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const line = /subscription1 \(Subscription 1, active, scope \/apis\): primary (\S+)\s+secondary (\S+)/.exec(readme);
    expect(line).not.toBeNull();
    expect([line![1], line![2]]).toEqual([wellKnownSubscriptionKey('subscription1', 'primary'), wellKnownSubscriptionKey('subscription1', 'secondary')]);
  });

  it('`ai-gateway-emulator --help` (what `npm start -- --help` runs) lists the start options', async () => {
    const help = await new Promise<string>((resolve, reject) => execFile(process.execPath, [CLI_BIN, '--help'], (error, stdout) => (error ? reject(error) : resolve(stdout))));
    for (const option of ['--port <port>', '--preset <name>', '--time-scale <n>', '--data <dir>']) expect(help).toContain(option);
    expect(help).toContain('Commands:');
  });
});

describe('live mode (npm run test:live)', () => {
  it('without the variables the live suite is skipped with one line saying how to enable it', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AI_GATEWAY_LIVE') && !k.startsWith('VITEST')));
    const vitest = new URL('../../node_modules/vitest/vitest.mjs', import.meta.url).pathname;
    const out = await new Promise<string>((resolve) =>
      execFile(process.execPath, [vitest, 'run', 'test/live', '--mode', 'live'], { cwd: new URL('../..', import.meta.url).pathname, env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' } }, (_e, stdout, stderr) => resolve(stdout + stderr)),
    );
    const lines = out.split('\n').filter((l) => l.includes('live suite skipped'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('set AI_GATEWAY_LIVE_URL, AI_GATEWAY_LIVE_KEYS, AI_GATEWAY_LIVE_APP_ID, AI_GATEWAY_LIVE_APP_KEY (README, "Live mode")');
    expect(out.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/Tests\s+2 skipped \(2\)/);
  }, 60_000);
});

describe('request ids', () => {
  it('1,000 requests get 1,000 distinct UUIDs in apim-request-id, each joinable to its requests row and token metrics by KQL', async () => {
    const { startEmulator } = await import('../../emulator/testing/start-emulator.js');
    const gw = await startEmulator({ preset: 'token-metrics-emitting' });
    try {
      const keys = ['subscription1', 'subscription2', 'subscription3'].map((s) => gw.keyFor(s));
      const ids: string[] = [];
      for (let batch = 0; batch < 20; batch++) {
        const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => labPost(gw.url, keys[i % 3]!)));
        for (const r of responses) {
          expect(r.status).toBe(200);
          await r.arrayBuffer();
          ids.push(r.headers.get('apim-request-id')!);
        }
        gw.clock.advance(61_000); // the mock deployment's 20K TPM / 120 RPM quota
      }
      expect(new Set(ids).size).toBe(1000);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      await gw.emulator.settled();
      const joined = await gw.query("requests | where timestamp > ago(1d) | join kind=inner (customMetrics | where name == 'Total Tokens') on $left.id == $right.operation_Id | project id");
      expect(joined.map((r) => r.id).sort()).toEqual([...ids].sort());
      const unauthorized = await fetch(`${gw.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, { method: 'POST', body: '{}' });
      expect(unauthorized.status).toBe(401);
      const id = unauthorized.headers.get('apim-request-id')!;
      expect(await gw.query(`requests | where id == '${id}' | project resultCode`)).toEqual([{ resultCode: '401' }]);
    } finally {
      await gw.close();
    }
  }, 60_000);
});

describe('api-version', () => {
  it('a chat request without api-version is answered 404 Resource not found, as Azure OpenAI does; the v1 API needs none', async () => {
    const { startEmulator } = await import('../../emulator/testing/start-emulator.js');
    const gw = await startEmulator({ preset: 'token-metrics-emitting' });
    try {
      const res = await fetch(`${gw.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions`, {
        method: 'POST',
        headers: { 'api-key': gw.keyFor('subscription1'), 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: '404', message: 'Resource not found' } });
      const model = gw.emulator.mocks.get('foundry1')!;
      const v1 = await model.handle(new Request('http://x/openai/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }) }));
      expect(v1.status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});
