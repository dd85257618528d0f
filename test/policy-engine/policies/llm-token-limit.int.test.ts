import { beforeEach, describe, expect, it } from 'vitest';
import { startScriptedBackend } from '../../support/scripted-backend.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';

describe('llm-token-limit over HTTP (scripted backend usage, virtual clock)', () => {
  const env = useGatewayPerTest(startScriptedBackend);
  const backend = env.backend;
  const start = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) =>
    env.start({ config: httpBackendConfig(backend.url, apiPolicy(inbound, sections)) });
  beforeEach(() => {
    backend.received.length = 0;
  });

  it('reproduces the observed timeline (policies.md §5.8): TPM 100, estimate off, calls 15 s apart', async () => {
    const g = await start(
      `<llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="100" estimate-prompt-tokens="false"
          remaining-tokens-header-name="x-remaining" tokens-consumed-header-name="x-consumed" />`,
    );
    const key = g.keyFor('subscription1');
    backend.queue({ prompt: 30, completion: 29 }, { prompt: 30, completion: 25 }, { prompt: 30, completion: 25 });
    const observed: Array<{ t: number; status: number; consumed: string | null; remaining: string | null; retryAfter: string | null; message?: string }> = [];
    for (const t of [0, 15, 30, 45, 60]) {
      g.clock.set(Date.parse('2026-01-01T00:00:00Z') + t * 1000);
      const res = await labPost(g.url, key);
      const body = await res.json();
      observed.push({
        t,
        status: res.status,
        consumed: res.headers.get('x-consumed'),
        remaining: res.headers.get('x-remaining'),
        retryAfter: res.headers.get('retry-after'),
        ...(res.status === 429 ? { message: body.message } : {}),
      });
    }
    expect(observed.map((o) => o.status)).toEqual([200, 200, 429, 429, 200]);
    expect(observed[0]).toMatchObject({ consumed: '59', remaining: '41' });
    expect(observed[1]).toMatchObject({ consumed: '55', remaining: '0' });
    expect(observed[4]).toMatchObject({ consumed: '55', remaining: '0' });
    // Observed on a live gateway: "Try again in 29 seconds" at t=30 and 14 at t=45 (within 1 s).
    expect(Math.abs(Number(observed[2]!.retryAfter) - 29)).toBeLessThanOrEqual(1);
    expect(Math.abs(Number(observed[3]!.retryAfter) - 14)).toBeLessThanOrEqual(1);
    expect(observed[2]!.message).toBe(`Token limit is exceeded. Try again in ${observed[2]!.retryAfter} seconds.`);
    expect(observed[2]!.consumed).toBeNull();
    expect(backend.received).toHaveLength(3);
  });

  it('with estimate-prompt-tokens=true refuses before calling the backend when the estimate does not fit', async () => {
    const g = await start(`<llm-token-limit counter-key="k" tokens-per-minute="20" estimate-prompt-tokens="true" />`);
    const res = await labPost(g.url, g.keyFor('subscription1'));
    expect(res.status).toBe(429);
    // The lab prompt's 31 estimated tokens can never fit in 20: no retry time is offered.
    expect(await res.text()).toBe('{ "statusCode": 429, "message": "Token limit is exceeded." }');
    expect(backend.received).toHaveLength(0);
    // With room for the estimate it is admitted.
    const g2 = await start(`<llm-token-limit counter-key="k" tokens-per-minute="31" estimate-prompt-tokens="true" />`);
    expect((await labPost(g2.url, g2.keyFor('subscription1'))).status).toBe(200);
    expect(backend.received).toHaveLength(1);
  });

  it('reconciles the estimate with the actual usage and exposes tokens-consumed in backend and outbound', async () => {
    const g = await start(
      `<llm-token-limit counter-key="k" tokens-per-minute="1000" estimate-prompt-tokens="true" tokens-consumed-variable-name="consumed" remaining-tokens-header-name="x-remaining" />`,
      {
        backend: `<set-header name="x-consumed-in-backend" exists-action="override"><value>@(context.Variables["consumed"].ToString())</value></set-header><forward-request />`,
        outbound: `<set-header name="x-consumed-in-outbound" exists-action="override"><value>@(context.Variables["consumed"].ToString())</value></set-header>`,
      },
    );
    backend.queue({ prompt: 100, completion: 50 });
    const res = await labPost(g.url, g.keyFor('subscription1'));
    expect(res.status).toBe(200);
    const estimate = Number(backend.received[0]!.headers['x-consumed-in-backend']);
    expect(estimate).toBe(31); // the lab prompt on o200k with the chat formula
    expect(res.headers.get('x-consumed-in-outbound')).toBe('150');
    expect(res.headers.get('x-remaining')).toBe('850');
  });

  it('charges a JSON answer forwarded unbuffered (buffer-response="false") by its usage once its body has passed', async () => {
    const g = await start(
      `<llm-token-limit counter-key="k" tokens-per-minute="1000" estimate-prompt-tokens="false" remaining-tokens-header-name="x-remaining" />
       <llm-emit-token-metric namespace="unbuffered"><dimension name="API ID" /></llm-emit-token-metric>`,
      { backend: '<forward-request buffer-response="false" />' },
    );
    backend.queue({ prompt: 100, completion: 50 }, { prompt: 30, completion: 20 });
    const first = await labPost(g.url, g.keyFor('subscription1'));
    expect(first.status).toBe(200);
    expect((await first.json()).usage.total_tokens).toBe(150);
    // Headers left before the body: the first answer reports what was charged at admission (nothing, no estimate).
    expect(first.headers.get('x-remaining')).toBe('1000');
    await g.emulator.settled();
    const second = await labPost(g.url, g.keyFor('subscription1'));
    expect(second.headers.get('x-remaining')).toBe('850');
    await second.json();
    await g.emulator.settled();
    expect(g.metrics({ namespace: 'unbuffered', name: 'Total Tokens' }).map((m) => [m.value, m.estimated])).toEqual([
      [150, false],
      [50, false],
    ]);
  });

  it('refuses with 403 once a Daily quota is exceeded (strictly), and resets at the UTC day boundary', async () => {
    const g = await start(`<llm-token-limit counter-key="@(context.Subscription.Id)" token-quota="100" token-quota-period="Daily" estimate-prompt-tokens="false" remaining-quota-tokens-header-name="x-quota-left" />`);
    const key = g.keyFor('subscription1');
    g.clock.set('2026-03-10T23:00:00Z');
    backend.queue({ prompt: 40, completion: 20 }, { prompt: 20, completion: 20 }, { prompt: 1, completion: 1 });
    const r1 = await labPost(g.url, key);
    expect(r1.status).toBe(200);
    expect(r1.headers.get('x-quota-left')).toBe('40');
    const r2 = await labPost(g.url, key); // 60 + 40 = 100: exactly spent
    expect(r2.status).toBe(200);
    expect(r2.headers.get('x-quota-left')).toBe('0');
    const r3 = await labPost(g.url, key); // 100 is not over 100: still admitted
    expect(r3.status).toBe(200);
    const r4 = await labPost(g.url, key); // 102 > 100
    expect(r4.status).toBe(403);
    expect(r4.statusText).toBe('Forbidden');
    expect(r4.headers.get('retry-after')).toBe('3600');
    expect(await r4.text()).toBe('{ "statusCode": 403, "message": "Token quota is exceeded. Try again in 1 hour." }');
    expect(backend.received).toHaveLength(3);
    g.clock.set('2026-03-10T23:59:59Z');
    expect((await labPost(g.url, key)).status).toBe(403);
    g.clock.set('2026-03-11T00:00:00Z');
    expect((await labPost(g.url, key)).status).toBe(200);
  });

  it('applies TPM and quota of one policy together: the TPM window frees up but the quota keeps refusing', async () => {
    const g = await start(`<llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="100" token-quota="150" token-quota-period="Hourly" estimate-prompt-tokens="false" />`);
    const key = g.keyFor('subscription1');
    g.clock.set('2026-03-10T10:00:00Z');
    backend.queue({ prompt: 60, completion: 40 }, { prompt: 30, completion: 30 });
    expect((await labPost(g.url, key)).status).toBe(200); // 100 used
    const tpm = await labPost(g.url, key);
    expect(tpm.status).toBe(429); // TPM full
    g.clock.advance('60s');
    expect((await labPost(g.url, key)).status).toBe(200); // window empty; quota 160 > 150 now
    g.clock.advance('60s');
    const quota = await labPost(g.url, key);
    expect(quota.status).toBe(403);
    expect((await quota.json()).message).toBe('Token quota is exceeded. Try again in 58 minutes.');
    g.clock.set('2026-03-10T11:00:00Z');
    backend.queue({ prompt: 1, completion: 1 });
    expect((await labPost(g.url, key)).status).toBe(200);
  });

  it('enters on-error with LastError from the refusal and keeps the 429 body unless on-error rewrites it', async () => {
    const g = await start(
      `<llm-token-limit id="tpm" counter-key="k" tokens-per-minute="10" estimate-prompt-tokens="false" retry-after-header-name="x-retry" retry-after-variable-name="wait" />`,
      {
        onError: `
    <set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
    <set-header name="x-source" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Section + "|" + context.LastError.Scope + "|" + context.LastError.PolicyId)</value></set-header>
    <set-header name="x-wait" exists-action="override"><value>@(context.Variables["wait"].ToString())</value></set-header>`,
      },
    );
    const key = g.keyFor('subscription1');
    backend.queue({ prompt: 10, completion: 10 });
    expect((await labPost(g.url, key)).status).toBe(200);
    const refused = await labPost(g.url, key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(refused.headers.get('x-retry')).toBe('60');
    expect(refused.headers.get('x-wait')).toBe('60');
    expect(refused.headers.get('x-reason')).toBe('OpenAITokenLimitExceeded');
    expect(refused.headers.get('x-source')).toBe('llm-token-limit|inbound|api|tpm');
    expect(await refused.text()).toBe('{ "statusCode": 429, "message": "Token limit is exceeded. Try again in 60 seconds." }');
  });

  it('shares one counter per key across subscriptions with a constant key, and separates keys', async () => {
    const g = await start(`<llm-token-limit counter-key="@(&quot;org&quot;)" tokens-per-minute="50" estimate-prompt-tokens="false" />`);
    backend.queue({ prompt: 30, completion: 30 });
    expect((await labPost(g.url, g.keyFor('subscription1'))).status).toBe(200);
    expect((await labPost(g.url, g.keyFor('subscription2'))).status).toBe(429);
  });
});
