import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmulatorConfig } from '../../emulator/config/schema.js';
import { routeOutbound } from '../../emulator/gateway/outbound-http.js';
import { startEmulator, type RunningEmulator } from '../../emulator/testing/start-emulator.js';
import { labPost } from '../support/lab.js';

/**
 * Isolation of policy-made requests (send-request / send-one-way-request): a host that no backend names and that
 * is not loopback is never contacted. Each attempt below is a URL a policy could build to get around the host check;
 * the test fails if any of them is routed anywhere.
 */
const BACKENDS = [
  { id: 'graph', url: 'https://graph.microsoft.com', type: 'http' as const, connectTo: 'http://127.0.0.1:9100' },
  { id: 'openai', url: 'https://foundry1.openai.azure.com/openai', type: 'mock' as const },
];

const ESCAPES: Array<[string, string]> = [
  ['userinfo naming an allowed host', 'https://graph.microsoft.com@evil.example.org/'],
  ['userinfo with a port', 'https://graph.microsoft.com:443@evil.example.org/x'],
  ['backslash before @ (WHATWG treats it as /)', 'https://evil.example.org\\@graph.microsoft.com/'],
  ['allowed host as a subdomain of another', 'https://graph.microsoft.com.evil.example.org/'],
  ['allowed host in the query', 'https://evil.example.org/?host=graph.microsoft.com'],
  ['allowed host in the fragment', 'https://evil.example.org/#graph.microsoft.com'],
  ['trailing dot (another name to the resolver)', 'https://graph.microsoft.com./'],
  ['another port on an allowed host', 'https://graph.microsoft.com:8443/'],
  ['plain http on an allowed https host (port 80)', 'http://graph.microsoft.com/'],
  ['look-alike host (IDN)', 'https://gr\u00e4ph.microsoft.com/'],
  ['cloud metadata address', 'http://169.254.169.254/latest/meta-data/'],
  ['Azure instance metadata with a header-free path', 'http://169.254.169.254/metadata/instance?api-version=2021-02-01'],
  ['0.0.0.0 (reaches local services on Linux)', 'http://0.0.0.0:8080/'],
  ['IPv4-mapped IPv6 loopback spelled differently', 'http://[::ffff:127.0.0.1]:9100/'],
  ['private network address', 'http://10.0.0.1/'],
  ['localhost as a subdomain', 'http://localhost.evil.example.org/'],
  ['127.0.0.1 as a subdomain', 'http://127.0.0.1.nip.io/'],
  ['file scheme', 'file:///etc/passwd'],
  ['ftp scheme on an allowed host', 'ftp://graph.microsoft.com/'],
  ['data URL', 'data:text/plain,hello'],
  ['mock backend host on another port', 'https://foundry1.openai.azure.com:444/openai/deployments/x/chat/completions'],
];

describe('send-request host isolation: escape attempts are refused before any connection', () => {
  it.each(ESCAPES)('%s: %s', (_label, url) => {
    const route = routeOutbound(new URL(url), { backends: BACKENDS, selfUrls: () => ['http://127.0.0.1:8080'] });
    expect(route.kind, `${url} → ${JSON.stringify(route)}`).toBe('refused');
  });

  it('the hosts the configuration names still route (the list above is not refused for being malformed)', () => {
    const route = (url: string) => routeOutbound(new URL(url), { backends: BACKENDS, selfUrls: () => ['http://127.0.0.1:8080'] });
    expect(route('https://GRAPH.microsoft.com/v1.0/me')).toMatchObject({ kind: 'http', url: 'http://127.0.0.1:9100/v1.0/me' });
    expect(route('https://foundry1.openai.azure.com/openai/deployments/x/chat/completions')).toMatchObject({ kind: 'mock' });
  });
});

describe('send-request over HTTP: redirects are not followed, refused hosts get no connection', () => {
  let gw: RunningEmulator;
  let redirector: Server;
  let target: Server;
  let targetHits = 0;
  let redirectorHits = 0;
  const listen = async (server: Server) => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  let redirectorUrl = '';
  let targetUrl = '';
  beforeAll(async () => {
    target = createServer((_req, res) => {
      targetHits++;
      res.end('followed');
    });
    targetUrl = await listen(target);
    redirector = createServer((_req, res) => {
      redirectorHits++;
      res.writeHead(302, { location: `${targetUrl}/after-redirect` }).end();
    });
    redirectorUrl = await listen(redirector);
    const config: EmulatorConfig = {
      backends: [{ id: 'openai', url: 'https://foundry1.openai.azure.com/openai', type: 'mock', deployments: [{ name: 'gpt-4.1-mini', model: 'gpt-4.1-mini' }] }],
      apis: [{ id: 'inference-api', path: 'inference/openai', type: 'azure-openai', subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' } }],
      subscriptions: [{ name: 'subscription1', displayName: 'Subscription 1' }],
    };
    gw = await startEmulator({ config });
  });
  afterAll(async () => {
    await gw?.close();
    redirector?.close();
    target?.close();
  });

  const policy = (url: string) => `<policies><inbound><base /><set-backend-service backend-id="openai" />
    <send-request mode="new" response-variable-name="r" ignore-error="true"><set-url>${url}</set-url><set-method>GET</set-method></send-request>
    <return-response><set-status code="200" reason="OK" /><set-body>@(context.Variables["r"] == null ? "null" : ((IResponse)context.Variables["r"]).StatusCode.ToString() + " " + ((IResponse)context.Variables["r"]).Headers.GetValueOrDefault("Location", ""))</set-body></return-response>
  </inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

  it('a 302 from an allowed loopback service is the response; its Location is not fetched', async () => {
    gw.policies.set('apis/inference-api', policy(`${redirectorUrl}/start`));
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`302 ${targetUrl}/after-redirect`);
    expect(redirectorHits).toBe(1);
    expect(targetHits).toBe(0);
  });

  it.each(ESCAPES.filter(([, u]) => /^https?:/.test(u)))('%s over HTTP: the variable is null (refused), no fetch was made', async (_label, url) => {
    gw.policies.set('apis/inference-api', policy(url.replace(/&/g, '&amp;')));
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    let text: string;
    try {
      const res = await labPost(gw.url, gw.keyFor('subscription1'));
      expect(res.status).toBe(200);
      text = await res.text();
      // Only the test's own call to the gateway went through fetch.
      expect(fetchSpy.mock.calls.map(([input]) => String(input))).toEqual([expect.stringContaining(gw.url)]);
    } finally {
      fetchSpy.mockRestore();
    }
    expect(text).toBe('null');
    // The gateway still serves the next request.
    expect((await fetch(`${gw.url}/_emulator/health`)).status).toBe(200);
  });
});
