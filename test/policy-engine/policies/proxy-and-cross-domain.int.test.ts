import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { putPolicy } from '../../support/policy-control.js';
import { useScriptedGateway } from '../../support/scripted-gateway.js';

/** A forward HTTP proxy on loopback: absolute-form requests are relayed, CONNECT opens a tunnel; both are recorded. */
async function startProxy(): Promise<{ url: string; seen: Array<{ method: string; target: string; auth: string | undefined }>; close(): Promise<void> }> {
  const seen: Array<{ method: string; target: string; auth: string | undefined }> = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method!, target: req.url!, auth: req.headers['proxy-authorization'] });
    const target = new URL(req.url!);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = httpRequest({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode!, { ...up.headers, 'x-via-test-proxy': '1' });
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  server.on('connect', (req, socket, head) => {
    seen.push({ method: 'CONNECT', target: req.url!, auth: req.headers['proxy-authorization'] });
    const [host, port] = req.url!.split(':');
    const upstream = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

describe('proxy over HTTP', () => {
  const { backend, gw } = useScriptedGateway();
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  beforeAll(async () => void (proxy = await startProxy()));
  afterAll(async () => proxy?.close());
  beforeEach(() => {
    backend.received.length = 0;
    proxy.seen.length = 0;
  });
  const call = () => labPost(gw.url, gw.keyFor('subscription1'));

  it('routes forward-request through the proxy with Basic Proxy-Authorization (the reference example with named values resolved)', async () => {
    gw.policies.set('apis/inference-api', apiPolicy(`<proxy url="${proxy.url}" username="user1" password="p@ss" />`));
    const res = await call();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-via-test-proxy')).toBe('1');
    expect(proxy.seen).toHaveLength(1);
    expect(proxy.seen[0]).toMatchObject({ method: 'POST', auth: `Basic ${Buffer.from('user1:p@ss').toString('base64')}` });
    expect(proxy.seen[0]!.target).toMatch(new RegExp(`^${backend.url}/openai/deployments/gpt-4.1-mini/chat/completions\\?api-version=`));
    expect(backend.received).toHaveLength(1);
    expect(backend.received[0]!.headers['proxy-authorization']).toBeUndefined();
  });

  it('without credentials no Proxy-Authorization; without the policy the backend is called directly', async () => {
    gw.policies.set('apis/inference-api', apiPolicy(`<proxy url="@(&quot;${proxy.url}&quot;)" />`));
    expect((await call()).status).toBe(200);
    expect(proxy.seen[0]!.auth).toBeUndefined();
    gw.policies.set('apis/inference-api', apiPolicy(''));
    expect((await call()).status).toBe(200);
    expect(proxy.seen).toHaveLength(1);
    expect(backend.received).toHaveLength(2);
  });

  it('an unreachable proxy is a BackendConnectionFailure (500), not a direct call', async () => {
    gw.policies.set(
      'apis/inference-api',
      apiPolicy(`<proxy url="http://127.0.0.1:1" />`, { onError: `<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>` }),
    );
    const res = await call();
    expect(res.status).toBe(500);
    expect(res.headers.get('x-reason')).toBe('BackendConnectionFailure');
    expect(backend.received).toHaveLength(0);
  });

  it.each([
    ['an https proxy URL', '<proxy url="https://proxy.contoso.com:8443" />', 'POL3004', 'https://'],
    ['no url', '<proxy username="u" />', 'POL3003', 'proxy'],
    ['an unknown attribute', '<proxy url="http://p:1" auth="ntlm" />', 'POL3005', 'auth'],
    ['proxy in outbound', '<outbound><proxy url="http://p:1" /></outbound>', 'POL3007', 'proxy url'],
  ])('refuses %s at load', async (_what, element, code, needle) => {
    const xml = `<policies>\n${element.startsWith('<outbound>') ? element : `<inbound>${element}</inbound>`}\n</policies>`;
    const { status, body } = await putPolicy(gw.url, 'apis/inference-api', xml);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code, line: 2, column: 1 + xml.split('\n')[1]!.indexOf(needle) });
  });
});

describe('cross-domain over HTTP', () => {
  const { gw } = useScriptedGateway();
  const global = (inbound: string) => `<policies><inbound>${inbound}</inbound><backend><forward-request /></backend><outbound /><on-error /></policies>`;

  it('the reference example: GET /crossdomain.xml answers the policy file (no subscription key), API requests are unchanged', async () => {
    gw.policies.set('apis/inference-api', apiPolicy(''));
    gw.policies.set(
      'global',
      global(`<cross-domain>
    <cross-domain-policy>
        <allow-http-request-headers-from domain='*' headers='*' />
    </cross-domain-policy>
</cross-domain>`),
    );
    try {
      const res = await fetch(`${gw.url}/crossdomain.xml`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/xml');
      expect(await res.text()).toBe(`<?xml version="1.0"?>\n<cross-domain-policy>\n        <allow-http-request-headers-from domain='*' headers='*' />\n    </cross-domain-policy>`);
      expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
    } finally {
      await fetch(`${gw.url}/_emulator/reset`, { method: 'POST' });
    }
  });

  it('without a cross-domain policy /crossdomain.xml is 404 like any unknown path', async () => {
    const res = await fetch(`${gw.url}/crossdomain.xml`);
    expect(res.status).toBe(404);
  });

  it.each([
    ['at API scope', 'apis/inference-api', '<cross-domain><cross-domain-policy /></cross-domain>', 'POL3018'],
    ['without a cross-domain-policy element', 'global', '<cross-domain><allow-access-from domain="*" /></cross-domain>', 'POL3011'],
  ])('refuses it %s', async (_what, scope, element, code) => {
    const { status, body } = await putPolicy(gw.url, scope, `<policies>\n<inbound>${element}</inbound><backend><forward-request /></backend>\n</policies>`);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code, line: 2 });
  });
});
