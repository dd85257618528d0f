import { beforeEach, describe, expect, it } from 'vitest';
import type { EmulatorConfig } from '../../../emulator/config/schema.js';
import { apiPolicy, httpBackendConfig, productPolicy } from '../../support/configs.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';
import { chatUrl, labPost, LAB_MESSAGES } from '../../support/lab.js';
import { startStatusBackend } from '../../support/status-backend.js';

const ON_ERROR = `<set-header name="x-last-error" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Scope)</value></set-header>`;

describe('quota over HTTP (product scope, per subscription, virtual clock)', () => {
  const env = useGatewayPerTest(startStatusBackend);
  const backend = env.backend;
  const start = (inbound: string, extra: Partial<EmulatorConfig> = {}) =>
    env.start({
      config: httpBackendConfig(backend.url, apiPolicy('', { onError: ON_ERROR }), {
        products: [{ id: 'gold', apis: ['inference-api'], policy: productPolicy(inbound) }],
        subscriptions: [
          { name: 'gold-1', scope: '/products/gold' },
          { name: 'gold-2', scope: '/products/gold' },
        ],
        ...extra,
      }),
    });
  beforeEach(() => {
    backend.received.length = 0;
  });

  it('refuses the 2nd call with 403, the hh:mm:ss message and Retry-After; LastError quota/QuotaExceeded (§10.61)', async () => {
    const g = await start(`<quota calls="1" renewal-period="3600" />`);
    const key = g.keyFor('gold-1');
    g.clock.set('2026-01-01T10:00:00Z');
    expect((await labPost(g.url, key)).status).toBe(200);
    g.clock.set('2026-01-01T10:20:00Z');
    const r = await labPost(g.url, key);
    expect(r.status).toBe(403);
    expect(r.statusText).toBe('Forbidden');
    expect(r.headers.get('retry-after')).toBe('2400');
    expect(r.headers.get('x-last-error')).toBe('quota|QuotaExceeded|product');
    expect(await r.text()).toBe('{ "statusCode": 403, "message": "Out of call volume quota. Quota will be replenished in 00:40:00." }');
    expect(backend.received).toHaveLength(1);
    expect((await labPost(g.url, g.keyFor('gold-2'))).status).toBe(200); // per subscription
    g.clock.set('2026-01-01T10:59:59Z');
    expect((await labPost(g.url, key)).headers.get('retry-after')).toBe('1');
    g.clock.set('2026-01-01T11:00:00Z');
    expect((await labPost(g.url, key)).status).toBe(200); // the fixed window renewed
  });

  it('formats renewal periods of a day or more as d.hh:mm:ss (§10.64)', async () => {
    const g = await start(`<quota calls="1" renewal-period="604800" />`);
    const key = g.keyFor('gold-1');
    g.clock.set('2026-01-05T00:00:00Z'); // weekly windows counted from 0001-01-01 (a Monday)
    expect((await labPost(g.url, key)).status).toBe(200);
    const r = await labPost(g.url, key);
    expect(r.headers.get('retry-after')).toBe('604800');
    expect((await r.json()).message).toBe('Out of call volume quota. Quota will be replenished in 7.00:00:00.');
    g.clock.set('2026-01-08T16:58:40Z');
    expect((await (await labPost(g.url, key)).json()).message).toBe('Out of call volume quota. Quota will be replenished in 3.07:01:20.');
  });

  it('never renews with renewal-period="0" (no Retry-After)', async () => {
    const g = await start(`<quota calls="1" renewal-period="0" />`);
    const key = g.keyFor('gold-1');
    expect((await labPost(g.url, key)).status).toBe(200);
    g.clock.advance('3650d');
    const r = await labPost(g.url, key);
    expect(r.status).toBe(403);
    expect(r.headers.get('retry-after')).toBeNull();
    expect(await r.text()).toBe('{ "statusCode": 403, "message": "Out of call volume quota." }');
  });

  it('counts bandwidth in KB of request and response bodies: "Out of bandwidth quota."', async () => {
    const g = await start(`<quota bandwidth="2" renewal-period="3600" />`);
    const key = g.keyFor('gold-1');
    g.clock.set('2026-01-01T10:00:00Z');
    const saved = backend.body;
    backend.body = JSON.stringify({ pad: 'x'.repeat(1500) }); // ~1.5 KB per response
    try {
      expect((await labPost(g.url, key)).status).toBe(200); // ~1.6 KB used: not over 2 KB
      expect((await labPost(g.url, key)).status).toBe(200); // ~3.2 KB used
      const r = await labPost(g.url, key);
      expect(r.status).toBe(403);
      expect(r.headers.get('retry-after')).toBe('3600');
      expect((await r.json()).message).toBe('Out of bandwidth quota. Quota will be replenished in 01:00:00.');
    } finally {
      backend.body = saved;
    }
  });

  it('applies a nested <api> quota independently of the product quota', async () => {
    const g = await start(`<quota calls="100" renewal-period="3600"><api id="inference-api" calls="1" renewal-period="60" /></quota>`);
    const key = g.keyFor('gold-1');
    expect((await labPost(g.url, key)).status).toBe(200);
    const r = await labPost(g.url, key);
    expect(r.status).toBe(403);
    expect(r.headers.get('retry-after')).toBe('60');
  });

  it('is inert without a subscription key (an open product)', async () => {
    const g = await start('', {
      products: [{ id: 'open', apis: ['inference-api'], subscriptionRequired: false, policy: productPolicy(`<quota calls="1" renewal-period="3600" />`) }],
      subscriptions: [{ name: 'subscription1' }],
    });
    const open = () => fetch(chatUrl(g.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: LAB_MESSAGES }) });
    for (let i = 0; i < 3; i++) expect((await open()).status).toBe(200);
  });

  it('refuses to load outside product scope, naming the position (control plane 400)', async () => {
    const g = await start(`<quota calls="1" renewal-period="3600" />`);
    const res = await fetch(`${g.url}/_emulator/policies/apis/inference-api`, { method: 'PUT', body: apiPolicy('<quota calls="1" renewal-period="3600" />') });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { details: Array<{ code: string; line: number; column: number }> } };
    expect(body.error.details[0]).toMatchObject({ code: 'POL3018', line: 5, column: 6 });
  });
});
