import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/index.js';
import { labPost } from '../../support/lab.js';

const quotaPolicy = (period: string) => `<policies><inbound><base /><set-backend-service backend-id="foundry1" />
  <llm-token-limit counter-key="@(context.Subscription.Id)" token-quota="100" token-quota-period="${period}" estimate-prompt-tokens="false" />
</inbound></policies>`;

describe('startEmulator harness', () => {
  it('starts and stops a preset emulator in under 100 ms in a warm process', async () => {
    (await startEmulator({ preset: 'token-metrics-emitting' })).close(); // warm-up: module loading
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const gw = await startEmulator({ preset: 'token-metrics-emitting' });
      await gw.close();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    expect(times[5]).toBeLessThan(100);
  });

  it('keeps two emulators with the same subscription names fully isolated', async () => {
    const a = await startEmulator({ preset: 'token-metrics-emitting' });
    const b = await startEmulator({ preset: 'token-metrics-emitting' });
    try {
      const limit = `<policies><inbound><base /><set-backend-service backend-id="foundry1" /><llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="10" estimate-prompt-tokens="false" /><azure-openai-emit-token-metric><dimension name="Subscription ID" /></azure-openai-emit-token-metric></inbound></policies>`;
      a.policies.set('apis/inference-api', limit);
      b.policies.set('apis/inference-api', limit);
      expect((await labPost(a.url, a.keyFor('subscription1'))).status).toBe(200);
      expect((await labPost(a.url, a.keyFor('subscription1'))).status).toBe(429);
      expect((await labPost(b.url, b.keyFor('subscription1'))).status).toBe(200);
      expect(a.metrics({ name: 'Total Tokens' })).toHaveLength(1);
      expect(b.metrics({ name: 'Total Tokens' })).toHaveLength(1);
      expect(await a.query("customMetrics | where name == 'Total Tokens' | count")).toEqual([{ Count: 1 }]);
      expect(await b.query("customMetrics | where name == 'Total Tokens' | count")).toEqual([{ Count: 1 }]);
      b.clock.advance('1h');
      expect(a.clock.now()).not.toBe(b.clock.now());
    } finally {
      await a.close();
      await b.close();
    }
  });

  describe('reset()', () => {
    let gw: RunningEmulator;
    beforeAll(async () => {
      gw = await startEmulator({
        preset: 'token-metrics-emitting',
        policies: { 'apis/inference-api': `<policies><inbound><base /><set-backend-service backend-id="foundry1" /><llm-token-limit counter-key="k" tokens-per-minute="10" estimate-prompt-tokens="false" /><azure-openai-emit-token-metric><dimension name="API ID" /></azure-openai-emit-token-metric></inbound></policies>` },
      });
    });
    afterAll(() => gw.close());

    it('restores counters, metrics, telemetry, scripted responses, faults, policies and the clock', async () => {
      const start = gw.clock.now();
      const key = gw.keyFor('subscription1');
      gw.models.script('gpt-4.1-mini', [{ content: 'scripted one' }, { content: 'scripted two' }]);
      gw.models.faults({ kind: 'status', status: 503, next: 5 });
      const first = await labPost(gw.url, key);
      expect(first.status).toBe(503);
      gw.models.clearFaults();
      expect((await (await labPost(gw.url, key)).json()).choices[0].message.content).toBe('scripted one');
      expect((await labPost(gw.url, key)).status).toBe(429);
      gw.policies.set('global', '<policies><inbound /><backend><forward-request /></backend><outbound><set-header name="x-extra" exists-action="override"><value>1</value></set-header></outbound></policies>');
      gw.clock.advance('5m');
      expect(gw.metrics().length).toBeGreaterThan(0);
      gw.models.faults({ kind: 'status', status: 500, next: 1 });

      await gw.reset();

      expect(gw.clock.now()).toBe(start);
      expect(gw.clock.frozen).toBe(true);
      expect(gw.metrics()).toEqual([]);
      expect(gw.requests()).toEqual([]);
      expect(await gw.query('customMetrics | count')).toEqual([{ Count: 0 }]);
      expect(gw.policies.get('apis/inference-api')).toContain('tokens-per-minute="10"');
      const after = await labPost(gw.url, key);
      expect(after.status).toBe(200);
      expect(after.headers.get('x-extra')).toBeNull();
      expect((await after.json()).choices[0].message.content).not.toMatch(/^scripted/);
    });
  });

  describe('quota periods roll over at UTC boundaries (virtual time)', () => {
    const cases: Array<[string, string, string, string]> = [
      ['Hourly', '2026-03-10T10:59:59Z', '2026-03-10T10:59:59.999Z', '2026-03-10T11:00:00Z'],
      ['Daily', '2026-03-10T23:59:00Z', '2026-03-10T23:59:59.999Z', '2026-03-11T00:00:00Z'],
      ['Weekly', '2026-03-15T12:00:00Z', '2026-03-15T23:59:59Z', '2026-03-16T00:00:00Z'],
      ['Monthly', '2026-01-31T23:59:00Z', '2026-01-31T23:59:59.999Z', '2026-02-01T00:00:00Z'],
      ['Monthly', '2028-02-29T12:00:00Z', '2028-02-29T23:59:59Z', '2028-03-01T00:00:00Z'],
      ['Yearly', '2028-12-31T23:00:00Z', '2028-12-31T23:59:59.999Z', '2029-01-01T00:00:00Z'],
    ];
    it.each(cases)('%s quota spent at %s refuses until %s and resets at %s', async (period, spendAt, lastRefusal, resetAt) => {
      const gw = await startEmulator({ preset: 'token-rate-limiting', startTime: spendAt, policies: { 'apis/inference-api': quotaPolicy(period) } });
      try {
        const key = gw.keyFor('subscription1');
        gw.models.script('gpt-4.1-mini', [{ usage: { prompt_tokens: 60, completion_tokens: 41 } }]);
        expect((await labPost(gw.url, key)).status).toBe(200); // 101 > 100
        expect((await labPost(gw.url, key)).status).toBe(403);
        gw.clock.set(lastRefusal);
        const refused = await labPost(gw.url, key);
        expect(refused.status).toBe(403);
        expect(Number(refused.headers.get('retry-after'))).toBe(Math.ceil((Date.parse(resetAt) - Date.parse(lastRefusal)) / 1000));
        gw.clock.set(resetAt);
        expect((await labPost(gw.url, key)).status).toBe(200);
      } finally {
        await gw.close();
      }
    });
  });
});

describe('mock model latency in virtual time', () => {
  it('a realistic-latency backend answers only once virtual time covers its delay', async () => {
    const { presetConfig } = await import('../../../emulator/config/presets.js');
    const config = presetConfig('token-rate-limiting');
    config.backends![0]!.latency = 'realistic';
    const gw = await startEmulator({ config });
    try {
      let settled = false;
      const pending = labPost(gw.url, gw.keyFor('subscription1')).then((r) => {
        settled = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(settled).toBe(false); // frozen virtual clock: the model is still "thinking"
      gw.clock.advance('10s');
      const res = await pending;
      expect(res.status).toBe(200);
      expect(gw.requests()[0]!.durationMs).toBeGreaterThan(0);
    } finally {
      await gw.close();
    }
  });
});
