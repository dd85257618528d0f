import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { chatUrl, labPost } from '../../support/lab.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';

// Own fixtures in the shapes of the labs' cors policies (ai-agent-service: credentials, * methods/headers;
// mcp-a2a-agents: two origins, allow-credentials="false").
const AGENT_SERVICE_CORS = `<cors allow-credentials="true">
      <allowed-origins><origin>https://ai.azure.com/</origin></allowed-origins>
      <allowed-methods preflight-result-max-age="300"><method>*</method></allowed-methods>
      <allowed-headers><header>*</header></allowed-headers>
      <expose-headers><header>x-ms-region</header><header>x-request-id</header></expose-headers>
    </cors>`;
const A2A_CORS = `<cors allow-credentials="false">
      <allowed-origins><origin>https://studio.contoso.example</origin><origin>https://preview.studio.contoso.example</origin></allowed-origins>
      <allowed-headers><header>content-type</header><header>api-key</header></allowed-headers>
    </cors>`;

describe('cors', () => {
  let backend: ScriptedBackend;
  let gw: RunningEmulator;
  const preflight = (origin: string, method = 'POST', headers = 'content-type,api-key') =>
    fetch(chatUrl(gw.url), { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': headers } });
  const getUrl = () => `${gw.url}/inference/openai/responses/resp_1?api-version=2025-03-01-preview`;
  const use = (inbound: string) => gw.policies.set('apis/inference-api', apiPolicy(inbound));

  beforeAll(async () => {
    backend = await startScriptedBackend();
    gw = await startEmulator({ config: httpBackendConfig(backend.url, apiPolicy(AGENT_SERVICE_CORS)) });
  });
  afterAll(async () => {
    await gw.close();
    await backend.close();
  });
  beforeEach(() => {
    backend.received.length = 0;
  });

  it('answers a preflight from an allowed origin at the gateway, without a subscription key and without the backend', async () => {
    use(`<validate-jwt header-name="Authorization"><openid-config url="https://login.microsoftonline.com/common/.well-known/openid-configuration" /></validate-jwt>${AGENT_SERVICE_CORS}`);
    const res = await preflight('https://ai.azure.com', 'POST', 'Content-Type, api-key, x-custom');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://ai.azure.com');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toBe('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('Content-Type,api-key,x-custom');
    expect(res.headers.get('access-control-max-age')).toBe('300');
    expect(await res.text()).toBe('');
    expect(backend.received).toHaveLength(0);
  });

  it('gives a disallowed origin an empty 200 without CORS headers (terminate-unmatched-request default)', async () => {
    use(AGENT_SERVICE_CORS);
    const res = await preflight('https://evil.example');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-methods')).toBeNull();
    expect(await res.text()).toBe('');
  });

  it('checks the requested method and headers against the lists (GET and POST by default)', async () => {
    use(A2A_CORS);
    const ok = await preflight('https://preview.studio.contoso.example', 'POST', 'content-type');
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://preview.studio.contoso.example');
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    expect(ok.headers.get('access-control-max-age')).toBeNull();
    expect((await preflight('https://studio.contoso.example', 'DELETE', 'content-type')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight('https://studio.contoso.example', 'POST', 'x-not-listed')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight('http://studio.contoso.example', 'POST', 'content-type')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds Access-Control-Allow-Origin and exposed headers to the actual request', async () => {
    use(AGENT_SERVICE_CORS);
    const res = await labPost(gw.url, gw.keyFor('subscription1'), { Origin: 'https://ai.azure.com' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://ai.azure.com');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-expose-headers')).toBe('x-ms-region,x-request-id');
    const other = await labPost(gw.url, gw.keyFor('subscription1'), { Origin: 'https://evil.example' });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const noOrigin = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(noOrigin.headers.get('access-control-allow-origin')).toBeNull();
    expect(backend.received).toHaveLength(3);
  });

  it('terminate-unmatched-request: true ends an unmatched GET with an empty 200; false lets it through and a later cors decides the preflight', async () => {
    use(`<cors terminate-unmatched-request="true"><allowed-origins><origin>https://a.example</origin></allowed-origins><allowed-headers><header>x</header></allowed-headers></cors>`);
    const terminated = await fetch(getUrl(), { headers: { Origin: 'https://b.example', 'api-key': gw.keyFor('subscription1') } });
    expect(terminated.status).toBe(200);
    expect(await terminated.text()).toBe('');
    expect(backend.received).toHaveLength(0);

    use(`<cors terminate-unmatched-request="false"><allowed-origins><origin>https://a.example</origin></allowed-origins><allowed-headers><header>x</header></allowed-headers></cors>
      <cors terminate-unmatched-request="false"><allowed-origins><origin>https://b.example</origin></allowed-origins><allowed-headers><header>content-type</header></allowed-headers></cors>`);
    const second = await preflight('https://b.example', 'POST', 'content-type');
    expect(second.headers.get('access-control-allow-origin')).toBe('https://b.example');
    const passed = await fetch(getUrl(), { headers: { Origin: 'https://c.example', 'api-key': gw.keyFor('subscription1') } });
    expect(passed.status).toBe(200);
    expect(passed.headers.get('access-control-allow-origin')).toBeNull();
    expect(backend.received).toHaveLength(1);
  });

  it('leaves an OPTIONS request without cors policies to the normal routing (404) and refuses a cors without origins at load', async () => {
    use('');
    expect((await preflight('https://ai.azure.com')).status).toBe(404);
    expect(() => use('<cors><allowed-headers><header>x</header></allowed-headers></cors>')).toThrow("Policy 'cors' requires at least one <allowed-origins> element.");
  });
});
