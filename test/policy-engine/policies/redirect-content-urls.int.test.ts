import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { chatUrl } from '../../support/lab.js';
import { startContentBackend } from '../../support/content-backend.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';

/** redirect-content-urls over HTTP: backend links in the response point at the gateway, and the reverse inbound. */
describe('redirect-content-urls', () => {
  const env = useGatewayPerTest(startContentBackend);
  const backend = env.backend;
  beforeEach(() => {
    backend.received.length = 0;
  });
  const start = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) => env.start({ config: httpBackendConfig(backend.url, apiPolicy(inbound, sections)) });
  const post = (g: { url: string; keyFor(n: string): string }, body: string) =>
    fetch(chatUrl(g.url), { method: 'POST', headers: { 'api-key': g.keyFor('subscription1'), 'content-type': 'application/json' }, body });

  it('outbound: every link to the backend service in the response body is rewritten to the gateway URL, other links stay', async () => {
    backend.reply = {
      status: 200,
      contentType: 'application/json',
      body: () => JSON.stringify({ self: `${backend.url}/openai/deployments/gpt-4.1-mini`, next: `${backend.url}/openai/page/2?x=1`, other: 'http://example.org/openai' }),
    };
    const g = await start('', { outbound: '<redirect-content-urls />' });
    const res = await post(g, '{}');
    const body = await res.json();
    expect(body).toEqual({ self: `${g.url}/inference/openai/deployments/gpt-4.1-mini`, next: `${g.url}/inference/openai/page/2?x=1`, other: 'http://example.org/openai' });
    const plain = await start('');
    expect((await (await post(plain, '{}')).json()).self).toBe(`${backend.url}/openai/deployments/gpt-4.1-mini`);
  });

  it('inbound: links to the gateway in the request body point at the backend (after set-backend-service)', async () => {
    backend.reply = { status: 200, contentType: 'application/json', body: '{}' };
    const g = await start('<redirect-content-urls />');
    await post(g, JSON.stringify({ callback: `${g.url}/inference/openai/hooks/1` }));
    expect(JSON.parse(backend.received[0]!.body)).toEqual({ callback: `${backend.url}/openai/hooks/1` });
  });

  it('is refused twice in one section and outside inbound/outbound', async () => {
    await expect(start('', { outbound: '<redirect-content-urls /><redirect-content-urls />' })).rejects.toThrow(/redirect-content-urls[\s\S]*only be used once in a policy section/);
    await expect(start('', { onError: '<redirect-content-urls />' })).rejects.toThrow(/POL3007/);
  });
});
