import { beforeEach, describe, expect, it } from 'vitest';
import type { EmulatorConfig } from '../../../emulator/config/schema.js';
import { startScriptedBackend } from '../../support/scripted-backend.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';

/** Response caching (cache-lookup in inbound, cache-store in outbound) over HTTP, on the virtual clock. */
describe('cache-lookup / cache-store', () => {
  const env = useGatewayPerTest(startScriptedBackend);
  const backend = env.backend;
  beforeEach(() => {
    backend.received.length = 0;
  });

  const config = (lookup: string, store = '<cache-store duration="60" />'): EmulatorConfig => ({
    backends: [{ id: 'backend1', url: `${backend.url}/items-api`, type: 'http' }],
    apis: [
      {
        id: 'items',
        path: 'items-api',
        subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' },
        operations: [
          { id: 'list', method: 'GET', urlTemplate: '/items' },
          { id: 'create', method: 'POST', urlTemplate: '/items' },
        ],
        policy: `<policies><inbound><base /><set-backend-service backend-id="backend1" />${lookup}</inbound><backend><base /></backend><outbound><base />${store}</outbound><on-error><base /></on-error></policies>`,
      },
    ],
    subscriptions: [{ name: 'subscription1' }, { name: 'subscription2' }],
  });
  const LOOKUP = `<cache-lookup vary-by-developer="false" vary-by-developer-groups="false" downstream-caching-type="public"><vary-by-header>Accept</vary-by-header><vary-by-query-parameter>page</vary-by-query-parameter></cache-lookup>`;

  it('serves a repeated GET from the cache within its duration, without calling the backend; expires on the virtual clock', async () => {
    const g = await env.start({ config: config(LOOKUP) });
    const get = (query = '?page=1', headers: Record<string, string> = {}) => fetch(`${g.url}/items-api/items${query}`, { headers: { 'api-key': g.keyFor('subscription1'), ...headers } });
    const first = await get();
    expect(first.status).toBe(200);
    const body = await first.text();
    expect(first.headers.get('cache-control')).toBe('public, max-age=60, must-revalidate');
    const second = await get();
    expect(second.status).toBe(200);
    expect(await second.text()).toBe(body);
    expect(second.headers.get('cache-control')).toBe('public, max-age=60, must-revalidate');
    expect(backend.received).toHaveLength(1);

    g.clock.advance(59_000);
    expect((await get()).headers.get('cache-control')).toBe('public, max-age=1, must-revalidate');
    expect(backend.received).toHaveLength(1);
    g.clock.advance(1_000);
    expect((await get()).status).toBe(200);
    expect(backend.received).toHaveLength(2);
  });

  it('varies by the listed query parameters and headers only; POST and Authorization-carrying requests are not cached', async () => {
    const g = await env.start({ config: config(LOOKUP) });
    const key = g.keyFor('subscription1');
    const get = (query: string, headers: Record<string, string> = {}) => fetch(`${g.url}/items-api/items${query}`, { headers: { 'api-key': key, ...headers } });
    await get('?page=1');
    await get('?page=1&other=x'); // 'other' is not a vary-by parameter: same entry
    expect(backend.received).toHaveLength(1);
    await get('?page=2');
    expect(backend.received).toHaveLength(2);
    await get('?page=1', { accept: 'application/xml' });
    expect(backend.received).toHaveLength(3);
    await get('?page=1', { authorization: 'Bearer x' });
    await get('?page=1', { authorization: 'Bearer x' });
    expect(backend.received).toHaveLength(5);
    const post = () => fetch(`${g.url}/items-api/items?page=1`, { method: 'POST', headers: { 'api-key': key, 'content-type': 'application/json' }, body: '{}' });
    await post();
    await post();
    expect(backend.received).toHaveLength(7);
  });

  it('vary-by-developer keeps one entry per subscription; without cache-response only 200 responses are stored', async () => {
    const g = await env.start({ config: config(`<cache-lookup vary-by-developer="true" vary-by-developer-groups="false" />`) });
    const get = (sub: string) => fetch(`${g.url}/items-api/items`, { headers: { 'api-key': g.keyFor(sub) } });
    await get('subscription1');
    await get('subscription1');
    await get('subscription2');
    expect(backend.received).toHaveLength(2);
    expect((await get('subscription2')).headers.get('cache-control')).toBeNull(); // downstream-caching-type none
    expect(backend.received).toHaveLength(2);

    const g2 = await env.start({ config: config(`<cache-lookup vary-by-developer="false" vary-by-developer-groups="false" />`, '<set-status code="404" reason="Not Found" /><cache-store duration="60" />') });
    const get2 = () => fetch(`${g2.url}/items-api/items`, { headers: { 'api-key': g2.keyFor('subscription1') } });
    expect((await get2()).status).toBe(404);
    expect((await get2()).status).toBe(404);
    expect(backend.received).toHaveLength(4);
  });

  it('refuses what APIM refuses at load: a missing required attribute, a child other than vary-by-*, the wrong section', async () => {
    await expect(env.start({ config: config('<cache-lookup vary-by-developer="false" />') })).rejects.toThrow(/requires attribute 'vary-by-developer-groups'/);
    await expect(env.start({ config: config('<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"><vary-by-cookie>x</vary-by-cookie></cache-lookup>') })).rejects.toThrow(/Element <vary-by-cookie> is not allowed inside policy 'cache-lookup'/);
    await expect(env.start({ config: config(LOOKUP, '<cache-lookup vary-by-developer="false" vary-by-developer-groups="false" />') })).rejects.toThrow(/not allowed in the 'outbound' section/);
  });
});
