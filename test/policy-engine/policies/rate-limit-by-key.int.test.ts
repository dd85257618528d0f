import { beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../../emulator/testing/start-emulator.js';
import type { EngineOptions } from '../../../policy-engine/index.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';
import { startStatusBackend } from '../../support/status-backend.js';

describe('rate-limit-by-key over HTTP (virtual clock)', () => {
  const env = useGatewayPerTest(startStatusBackend);
  const backend = env.backend;
  const start = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}, engineOptions?: Partial<EngineOptions>) =>
    env.start({ config: httpBackendConfig(backend.url, apiPolicy(inbound, sections)), ...(engineOptions ? { engineOptions } : {}) });
  beforeEach(() => {
    backend.received.length = 0;
    backend.status = 200;
  });

  it('refuses the 3rd call in 60 s with 429, Retry-After and the byte-exact body (§10.54), without calling the backend', async () => {
    const g = await start(`<rate-limit-by-key calls="2" renewal-period="60" counter-key="k" />`);
    const key = g.keyFor('subscription1');
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(200);
    const refused = await labPost(g.url, key);
    expect(refused.status).toBe(429);
    expect(refused.statusText).toBe('Too Many Requests');
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(refused.headers.get('content-type')).toBe('application/json');
    const text = await refused.text();
    expect(text).toBe('{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in 60 seconds." }');
    expect(backend.received).toHaveLength(2);
    g.clock.advance('59s');
    const still = await labPost(g.url, key);
    expect(still.status).toBe(429);
    expect(still.headers.get('retry-after')).toBe('1');
    g.clock.advance('1s');
    expect((await labPost(g.url, key)).status).toBe(200);
  });

  it('slides the window: calls at 0 s and 30 s, refused at 45 s (Retry-After 15), admitted at 60 s', async () => {
    const g = await start(`<rate-limit-by-key calls="2" renewal-period="60" counter-key="@(context.Subscription.Id)" />`);
    const key = g.keyFor('subscription1');
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const at = (s: number) => g.clock.set(t0 + s * 1000);
    at(0);
    expect((await labPost(g.url, key)).status).toBe(200);
    at(30);
    expect((await labPost(g.url, key)).status).toBe(200);
    at(45);
    const r = await labPost(g.url, key);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('15');
    expect((await r.json()).message).toBe('Rate limit is exceeded. Try again in 15 seconds.');
    at(60);
    expect((await labPost(g.url, key)).status).toBe(200); // the 0 s call left the window
    at(61);
    const r2 = await labPost(g.url, key); // 30 s and 60 s calls are in the window
    expect(r2.status).toBe(429);
    expect(r2.headers.get('retry-after')).toBe('29');
    // A per-subscription key: another subscription has its own counter.
    expect((await labPost(g.url, g.keyFor('subscription2'))).status).toBe(200);
  });

  it('reports remaining and total calls in headers and a variable (§10.55), and 0 remaining on the refusal', async () => {
    const g = await start(
      `<rate-limit-by-key calls="2" renewal-period="60" counter-key="k" remaining-calls-header-name="x-rem" total-calls-header-name="x-tot" remaining-calls-variable-name="rem" />`,
      { outbound: `<set-header name="x-rem-var" exists-action="override"><value>@(context.Variables.GetValueOrDefault&lt;int&gt;("rem").ToString())</value></set-header>` },
    );
    const key = g.keyFor('subscription1');
    const r1 = await labPost(g.url, key);
    expect([r1.headers.get('x-rem'), r1.headers.get('x-tot'), r1.headers.get('x-rem-var')]).toEqual(['1', '2', '1']);
    const r2 = await labPost(g.url, key);
    expect([r2.headers.get('x-rem'), r2.headers.get('x-tot'), r2.headers.get('x-rem-var')]).toEqual(['0', '2', '0']);
    const r3 = await labPost(g.url, key);
    expect(r3.status).toBe(429);
    expect([r3.headers.get('x-rem'), r3.headers.get('x-tot')]).toEqual(['0', '2']);
  });

  it('defers an increment-condition expression until the backend answered: 500s never count, 200s do (§10.56)', async () => {
    const g = await start(
      `<rate-limit-by-key calls="2" renewal-period="60" counter-key="k" increment-condition="@(context.Response.StatusCode == 200)" remaining-calls-header-name="x-rem" />`,
    );
    const key = g.keyFor('subscription1');
    backend.status = 500;
    for (let i = 0; i < 5; i++) {
      const r = await labPost(g.url, key);
      expect(r.status).toBe(500);
      expect(r.headers.get('x-rem')).toBe('2');
    }
    expect(backend.received).toHaveLength(5);
    backend.status = 200;
    const ok1 = await labPost(g.url, key);
    expect(ok1.headers.get('x-rem')).toBe('1');
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(429);
    expect(backend.received).toHaveLength(7);
  });

  it('a literal increment-condition="false" never counts; a literal "true" counts every call', async () => {
    const g = await start(`<rate-limit-by-key calls="1" renewal-period="60" counter-key="k" increment-condition="false" />`);
    const key = g.keyFor('subscription1');
    for (let i = 0; i < 3; i++) expect((await labPost(g.url, key)).status).toBe(200);
    const g2 = await start(`<rate-limit-by-key calls="1" renewal-period="60" counter-key="k" increment-condition="true" />`);
    expect((await labPost(g2.url, key)).status).toBe(200);
    expect((await labPost(g2.url, key)).status).toBe(429);
  });

  it('increment-count adds more than one per call, as a literal or as a deferred expression (§10.57)', async () => {
    for (const count of ['5', '@(5)']) {
      const g = await start(`<rate-limit-by-key calls="10" renewal-period="60" counter-key="k" increment-count="${count}" remaining-calls-header-name="x-rem" />`);
      const key = g.keyFor('subscription1');
      const r1 = await labPost(g.url, key);
      expect(r1.headers.get('x-rem')).toBe('5');
      const r2 = await labPost(g.url, key);
      expect(r2.headers.get('x-rem')).toBe('0');
      expect((await labPost(g.url, key)).status).toBe(429);
    }
  });

  it('fills LastError (Source, Reason, Section, Scope, PolicyId) for on-error and honours custom retry-after names', async () => {
    const g = await start(
      `<rate-limit-by-key id="rl" calls="1" renewal-period="30" counter-key="k" retry-after-header-name="x-retry" retry-after-variable-name="wait" />`,
      {
        onError: `
    <set-header name="x-last-error" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Section + "|" + context.LastError.Scope + "|" + context.LastError.PolicyId)</value></set-header>
    <set-header name="x-message" exists-action="override"><value>@(context.LastError.Message)</value></set-header>
    <set-header name="x-wait" exists-action="override"><value>@(context.Variables["wait"].ToString())</value></set-header>`,
      },
    );
    const key = g.keyFor('subscription1');
    expect((await labPost(g.url, key)).status).toBe(200);
    const r = await labPost(g.url, key);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBeNull();
    expect(r.headers.get('x-retry')).toBe('30');
    expect(r.headers.get('x-wait')).toBe('30');
    expect(r.headers.get('x-last-error')).toBe('rate-limit-by-key|RateLimitExceeded|inbound|api|rl');
    expect(r.headers.get('x-message')).toBe('Rate limit is exceeded. Try again in 30 seconds.');
    expect(await r.text()).toBe('{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in 30 seconds." }');
  });

  it('evaluates calls and renewal-period expressions per request', async () => {
    const g = await start(`<rate-limit-by-key calls="@(context.Subscription.Id == &quot;subscription1&quot; ? 1 : 2)" renewal-period="@(10)" counter-key="@(context.Subscription.Id)" />`);
    const k1 = g.keyFor('subscription1');
    const k2 = g.keyFor('subscription2');
    expect((await labPost(g.url, k1)).status).toBe(200);
    const r = await labPost(g.url, k1);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('10');
    expect((await labPost(g.url, k2)).status).toBe(200);
    expect((await labPost(g.url, k2)).status).toBe(200);
    expect((await labPost(g.url, k2)).status).toBe(429);
  });

  it('uses a token bucket with tokenLimitAlgorithm=token-bucket (v2 tiers): refills calls/renewal-period', async () => {
    const g = await start(`<rate-limit-by-key calls="2" renewal-period="60" counter-key="k" />`, {}, { tokenLimitAlgorithm: 'token-bucket' });
    const key = g.keyFor('subscription1');
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(200);
    const r = await labPost(g.url, key);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('30'); // one call refills every 30 s
    g.clock.advance('30s');
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(429);
  });

  it('keeps its counters apart from llm-token-limit counters with the same key', async () => {
    const g = await start(
      `<llm-token-limit counter-key="k" tokens-per-minute="1000" estimate-prompt-tokens="false" />
    <rate-limit-by-key calls="3" renewal-period="60" counter-key="k" remaining-calls-header-name="x-rem" />`,
    );
    const r = await labPost(g.url, g.keyFor('subscription1'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-rem')).toBe('2');
  });
});

describe('rate-limit-by-key: deferred increments run at the end of the pipeline', () => {
  it('sees the status outbound set, and counts requests answered by return-response', async () => {
    const gw = await startEmulator({ preset: 'token-rate-limiting' });
    try {
      gw.policies.set(
        'apis/inference-api',
        `<policies><inbound><base /><set-backend-service backend-id="foundry1" />
          <rate-limit-by-key calls="1" renewal-period="60" counter-key="k" increment-condition="@(context.Response.StatusCode == 200)" />
        </inbound><outbound><base /><set-status code="503" reason="Rewritten" /></outbound></policies>`,
      );
      for (let i = 0; i < 3; i++) expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(503); // never counted
      gw.policies.set(
        'apis/inference-api',
        `<policies><inbound><base />
          <rate-limit-by-key calls="1" renewal-period="60" counter-key="answered" increment-condition="@(context.Response.StatusCode == 418)" />
          <return-response><set-status code="418" reason="Teapot" /></return-response>
        </inbound></policies>`,
      );
      expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(418);
      expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(429);
    } finally {
      await gw.close();
    }
  });
});
