import { beforeEach, describe, expect, it } from 'vitest';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { startStatusBackend } from '../../support/status-backend.js';

describe('quota-by-key over HTTP (virtual clock)', () => {
  const env = useGatewayPerTest(startStatusBackend);
  const backend = env.backend;
  const start = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) =>
    env.start({ config: httpBackendConfig(backend.url, apiPolicy(inbound, sections)) });
  beforeEach(() => {
    backend.received.length = 0;
    backend.status = 200;
  });

  it('refuses past the quota with 403 and Retry-After, and renews at the window boundary', async () => {
    const g = await start(
      `<quota-by-key id="q" calls="2" renewal-period="300" counter-key="@(context.Subscription.Id)" />`,
      { onError: `<set-header name="x-last-error" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.PolicyId)</value></set-header>` },
    );
    const key = g.keyFor('subscription1');
    g.clock.set('2026-01-01T00:01:00Z');
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(200);
    const r = await labPost(g.url, key);
    expect(r.status).toBe(403);
    expect(r.headers.get('retry-after')).toBe('240');
    expect(r.headers.get('x-last-error')).toBe('quota-by-key|QuotaExceeded|q');
    expect(await r.text()).toBe('{ "statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in 00:04:00." }');
    expect(backend.received).toHaveLength(2);
    expect((await labPost(g.url, g.keyFor('subscription2'))).status).toBe(200);
    g.clock.set('2026-01-01T00:05:00Z');
    expect((await labPost(g.url, key)).status).toBe(200);
  });

  it('aligns windows to first-period-start', async () => {
    const g = await start(`<quota-by-key calls="1" renewal-period="300" counter-key="k" first-period-start="2026-01-01T00:02:00Z" />`);
    const key = g.keyFor('subscription1');
    g.clock.set('2026-01-01T00:03:00Z');
    expect((await labPost(g.url, key)).status).toBe(200);
    const r = await labPost(g.url, key);
    expect(r.headers.get('retry-after')).toBe('240'); // window 00:02–00:07
    g.clock.set('2026-01-01T00:07:00Z');
    expect((await labPost(g.url, key)).status).toBe(200);
  });

  it('renewal-period="0" never resets (§10.62)', async () => {
    const g = await start(`<quota-by-key calls="1" renewal-period="0" counter-key="k" />`);
    const key = g.keyFor('subscription1');
    expect((await labPost(g.url, key)).status).toBe(200);
    g.clock.advance('3650d');
    const r = await labPost(g.url, key);
    expect(r.status).toBe(403);
    expect(r.headers.get('retry-after')).toBeNull();
    expect((await r.json()).message).toBe('Out of call volume quota.');
  });

  it('increments a key value once per request however many policies use it (§10.63)', async () => {
    const g = await start(
      `<quota-by-key calls="2" renewal-period="3600" counter-key="shared" />
    <quota-by-key calls="2" renewal-period="3600" counter-key="@(&quot;sha&quot; + &quot;red&quot;)" />`,
    );
    const key = g.keyFor('subscription1');
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(200); // counter is 1 after the first request, not 2
    expect((await labPost(g.url, key)).status).toBe(403);
    // Different key values are each incremented.
    const g2 = await start(
      `<quota-by-key calls="1" renewal-period="3600" counter-key="a" />
    <quota-by-key calls="1" renewal-period="3600" counter-key="b" />`,
    );
    expect((await labPost(g2.url, key)).status).toBe(200);
    expect((await labPost(g2.url, key)).status).toBe(403);
  });

  it('defers an increment-condition on the response: backend 500s are not counted', async () => {
    const g = await start(`<quota-by-key calls="1" renewal-period="3600" counter-key="k" increment-condition="@(context.Response.StatusCode &gt;= 200 &amp;&amp; context.Response.StatusCode &lt; 400)" />`);
    const key = g.keyFor('subscription1');
    backend.status = 500;
    for (let i = 0; i < 3; i++) expect((await labPost(g.url, key)).status).toBe(500);
    backend.status = 200;
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(403);
  });

  it('increment-count adds more than one per call', async () => {
    const g = await start(`<quota-by-key calls="10" renewal-period="3600" counter-key="k" increment-count="@(5)" />`);
    const key = g.keyFor('subscription1');
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(403);
  });

  it('enforces a bandwidth quota with the bandwidth message', async () => {
    const g = await start(`<quota-by-key bandwidth="1" renewal-period="3600" counter-key="k" />`);
    const key = g.keyFor('subscription1');
    g.clock.set('2026-01-01T10:30:00Z');
    const saved = backend.body;
    backend.body = JSON.stringify({ pad: 'x'.repeat(1200) });
    try {
      expect((await labPost(g.url, key)).status).toBe(200);
      const r = await labPost(g.url, key);
      expect(r.status).toBe(403);
      expect((await r.json()).message).toBe('Out of bandwidth quota. Quota will be replenished in 00:30:00.');
    } finally {
      backend.body = saved;
    }
  });
});
