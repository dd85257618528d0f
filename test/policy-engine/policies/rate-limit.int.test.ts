import { beforeEach, describe, expect, it } from 'vitest';
import type { EmulatorConfig } from '../../../emulator/config/schema.js';
import { apiPolicy, httpBackendConfig, productPolicy } from '../../support/configs.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';
import { chatUrl, labPost, LAB_MESSAGES } from '../../support/lab.js';
import { startStatusBackend } from '../../support/status-backend.js';

describe('rate-limit over HTTP (per subscription, virtual clock)', () => {
  const env = useGatewayPerTest(startStatusBackend);
  const backend = env.backend;
  const start = (config: EmulatorConfig) => env.start({ config });
  /** rate-limit in a product's policy; subscriptions gold-1/gold-2 belong to the product. */
  const productConfig = (inbound: string, apiInbound = '', onError = ''): EmulatorConfig =>
    httpBackendConfig(backend.url, apiPolicy(apiInbound, { onError }), {
      products: [{ id: 'gold', apis: ['inference-api'], policy: productPolicy(inbound) }],
      subscriptions: [
        { name: 'gold-1', scope: '/products/gold' },
        { name: 'gold-2', scope: '/products/gold' },
      ],
    });
  beforeEach(() => {
    backend.received.length = 0;
  });

  it('limits each subscription of a product independently, with the rate-limit body and headers', async () => {
    const g = await start(productConfig(`<rate-limit calls="2" renewal-period="60" remaining-calls-header-name="x-rem" total-calls-header-name="x-tot" />`));
    const k1 = g.keyFor('gold-1');
    const r1 = await labPost(g.url, k1);
    expect([r1.status, r1.headers.get('x-rem'), r1.headers.get('x-tot')]).toEqual([200, '1', '2']);
    expect((await labPost(g.url, k1)).headers.get('x-rem')).toBe('0');
    const refused = await labPost(g.url, k1);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(await refused.text()).toBe('{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in 60 seconds." }');
    expect((await labPost(g.url, g.keyFor('gold-2'))).status).toBe(200);
    g.clock.advance('60s');
    expect((await labPost(g.url, k1)).status).toBe(200);
  });

  it('applies a nested <api> limit independently of the product limit (§10.60), matched by id or by name', async () => {
    for (const match of ['id="inference-api"', 'name="inference-api"']) {
      const g = await start(productConfig(`<rate-limit calls="10" renewal-period="60"><api ${match} calls="1" renewal-period="60" /></rate-limit>`));
      const key = g.keyFor('gold-1');
      expect((await labPost(g.url, key)).status).toBe(200);
      const r = await labPost(g.url, key);
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('60');
    }
    // An <api> that does not match leaves only the product limit.
    const g = await start(productConfig(`<rate-limit calls="2" renewal-period="60"><api id="other-api" calls="1" renewal-period="60" /></rate-limit>`));
    const key = g.keyFor('gold-1');
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(429);
  });

  it('applies a nested <operation> limit inside its <api>, matched by id or by name', async () => {
    for (const match of ['id="chatcompletions-create"', 'name="ChatCompletions_Create"']) {
      const g = await start(
        productConfig(`<rate-limit calls="10" renewal-period="60"><api id="inference-api" calls="5" renewal-period="60"><operation ${match} calls="1" renewal-period="20" /></api></rate-limit>`),
      );
      const key = g.keyFor('gold-1');
      expect((await labPost(g.url, key)).status).toBe(200);
      const r = await labPost(g.url, key);
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('20');
    }
  });

  it('is inert without a subscription key (§10.59), and applies when a key is sent', async () => {
    const config = httpBackendConfig(backend.url, apiPolicy(`<rate-limit calls="1" renewal-period="60" />`));
    config.apis[0]!.subscriptionRequired = false;
    const g = await start(config);
    const open = () =>
      fetch(chatUrl(g.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: LAB_MESSAGES }) });
    for (let i = 0; i < 4; i++) expect((await open()).status).toBe(200);
    const key = g.keyFor('subscription1');
    expect((await labPost(g.url, key)).status).toBe(200);
    expect((await labPost(g.url, key)).status).toBe(429);
  });

  it('reports LastError Source rate-limit / RateLimitExceeded with Scope product to on-error', async () => {
    const g = await start(
      productConfig(
        `<rate-limit calls="1" renewal-period="10" />`,
        '',
        `<set-header name="x-last-error" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Scope + "|" + context.LastError.Section)</value></set-header>`,
      ),
    );
    const key = g.keyFor('gold-1');
    expect((await labPost(g.url, key)).status).toBe(200);
    const r = await labPost(g.url, key);
    expect(r.status).toBe(429);
    expect(r.headers.get('x-last-error')).toBe('rate-limit|RateLimitExceeded|product|inbound');
    expect(r.headers.get('retry-after')).toBe('10');
  });
});
