import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';

/** Subscription scopes (all APIs / one API / a product), product policies, named values and MatchedParameters. */
describe('subscription scopes, product policies and named values', () => {
  let backend: ScriptedBackend;
  let gw: RunningEmulator;
  const echo = `<policies><inbound><base />
      <set-header name="x-deployment" exists-action="override"><value>@(context.Request.MatchedParameters["deployment-id"])</value></set-header>
      <set-header name="x-tier" exists-action="override"><value>{{tier}}</value></set-header>
      <set-header name="x-product" exists-action="override"><value>@(context.Product?.Id ?? "none")</value></set-header>
    </inbound></policies>`;
  beforeAll(async () => {
    backend = await startScriptedBackend();
    gw = await startEmulator({
      config: {
        namedValues: { Tier: 'gold' },
        apis: [
          { id: 'a', path: 'a/openai', type: 'azure-openai', serviceUrl: `${backend.url}/openai`, policy: echo },
          { id: 'b', path: 'b/openai', type: 'azure-openai', serviceUrl: `${backend.url}/openai` },
        ],
        products: [{ id: 'starter', apis: ['b'], policy: '<policies><inbound><base /><set-header name="x-from-product" exists-action="override"><value>yes</value></set-header></inbound></policies>' }],
        subscriptions: [
          { name: 'all-apis', scope: '/apis' },
          { name: 'only-a', scope: '/apis/a' },
          { name: 'starter-sub', scope: '/products/starter' },
        ],
      },
    });
  });
  afterAll(async () => {
    await gw.close();
    await backend.close();
  });

  const call = async (api: string, subscription: string) => {
    backend.received.length = 0;
    const res = await fetch(`${gw.url}/${api}/openai/deployments/my-model/chat/completions?api-version=1`, {
      method: 'POST',
      headers: { 'Ocp-Apim-Subscription-Key': gw.keyFor(subscription), 'content-type': 'application/json' },
      body: '{"messages":[{"role":"user","content":"x"}]}',
    });
    return { status: res.status, seen: backend.received[0] };
  };

  it('an API-scoped key works only on its API', async () => {
    expect((await call('a', 'only-a')).status).toBe(200);
    expect((await call('b', 'only-a')).status).toBe(401);
    expect((await call('a', 'all-apis')).status).toBe(200);
    expect((await call('b', 'all-apis')).status).toBe(200);
  });

  it('a product key works on the product’s APIs, in the product context, with the product policy', async () => {
    const b = await call('b', 'starter-sub');
    expect(b.status).toBe(200);
    expect(b.seen!.headers['x-from-product']).toBe('yes');
    expect((await call('a', 'starter-sub')).status).toBe(401);
    const all = await call('b', 'all-apis');
    expect(all.seen!.headers['x-from-product']).toBeUndefined(); // not applied for an all-APIs subscription
  });

  it('substitutes named values (case-insensitively) and exposes MatchedParameters', async () => {
    const { seen } = await call('a', 'all-apis');
    expect(seen!.headers['x-tier']).toBe('gold');
    expect(seen!.headers['x-deployment']).toBe('my-model');
    expect(seen!.headers['x-product']).toBe('none');
    expect(seen!.url).toBe('/openai/deployments/my-model/chat/completions?api-version=1');
    expect(seen!.headers['ocp-apim-subscription-key']).toBe(gw.keyFor('all-apis')); // APIM keeps the key in the forwarded request
  });
});
