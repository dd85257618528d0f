import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EmulatorConfig } from '../../../emulator/config/schema.js';
import { routeOutbound } from '../../../emulator/gateway/outbound-http.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { PolicyLoadError } from '../../../policy-engine/index.js';
import { apiPolicy } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';
import { startSideService, type SideService } from '../../support/side-service.js';

/**
 * send-request / send-one-way-request over HTTP: a client calls the gateway with fetch, the policy calls a real
 * loopback "side service" (or a mock backend in-process), and later expressions read the IResponse.
 */
describe('send-request and send-one-way-request', () => {
  let backend: ScriptedBackend;
  let side: SideService;
  let gw: RunningEmulator;
  const config = (): EmulatorConfig => ({
    backends: [
      { id: 'backend1', url: `${backend.url}/openai`, type: 'http' },
      // A lab's external service answered locally: the backend names the host, connectTo says where to connect.
      { id: 'graph', url: 'https://graph.microsoft.com', type: 'http', connectTo: side.url },
      { id: 'foundry-mock', url: 'https://foundry1.example.com/openai', type: 'mock', deployments: [{ name: 'gpt-4.1-mini', model: 'gpt-4.1-mini' }] },
    ],
    apis: [
      { id: 'inference-api', path: 'inference/openai', type: 'azure-openai', subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' } },
      // A second API on the same gateway, as the content-filtering lab's Content Safety API. The lab requires a
      // subscription there and forwards the caller's api-key, which APIM (and the emulator) keep in the request.
      {
        id: 'contentsafety',
        path: 'contentsafety',
        type: 'http',
        serviceUrl: side.url,
        operations: [
          { id: 'analyze', method: 'POST', urlTemplate: '/text:analyze' },
          { id: 'shield', method: 'POST', urlTemplate: '/text:shieldPrompt' },
        ],
      },
    ],
    subscriptions: [{ name: 'subscription1', displayName: 'Subscription 1' }],
  });
  beforeAll(async () => {
    backend = await startScriptedBackend();
    side = await startSideService();
    gw = await startEmulator({ config: config() });
  });
  afterAll(async () => {
    await gw?.close();
    await side?.close();
    await backend?.close();
  });
  beforeEach(async () => {
    await gw.reset();
    side.received.length = 0;
    side.answer = () => ({});
    backend.received.length = 0;
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const setApi = (xml: string) => gw.policies.set('apis/inference-api', xml);
  const call = (headers: Record<string, string> = {}) => labPost(gw.url, gw.keyFor('subscription1'), headers);
  const lastError = `<set-header name="x-err" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Message)</value></set-header>`;

  it('mode="new": set-url, set-method, set-header, set-body reach the service; the IResponse is read by later expressions', async () => {
    side.answer = () => ({ status: 201, headers: { 'x-side': 'yes' }, body: { answer: 42, items: [1, 2] } });
    setApi(
      apiPolicy(
        `<send-request mode="new" response-variable-name="r" timeout="20" ignore-error="false">
           <set-url>@("${side.url}/lookup?id=" + context.Subscription.Name)</set-url>
           <set-method>POST</set-method>
           <set-header name="x-one" exists-action="override"><value>1</value></set-header>
           <set-header name="x-one" exists-action="append"><value>2</value></set-header>
           <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
           <set-body>@(new JObject(new JProperty("count", context.Request.Body.As&lt;JObject&gt;(preserveContent: true)["messages"].Count())).ToString())</set-body>
         </send-request>`,
        {
          outbound: `<set-header name="x-status" exists-action="override"><value>@(((IResponse)context.Variables["r"]).StatusCode.ToString() + " " + ((IResponse)context.Variables["r"]).StatusReason)</value></set-header>
                     <set-header name="x-side-header" exists-action="override"><value>@(((IResponse)context.Variables["r"]).Headers.GetValueOrDefault("x-side", "none"))</value></set-header>
                     <set-header name="x-answer" exists-action="override"><value>@(((IResponse)context.Variables["r"]).Body.As&lt;JObject&gt;()["answer"].ToString())</value></set-header>`,
        },
      ),
    );
    const res = await call();
    expect(res.status).toBe(200);
    expect(side.received).toHaveLength(1);
    const got = side.received[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/lookup?id=Subscription%201');
    expect(got.headers['x-one']).toBe('1, 2');
    expect(JSON.parse(got.body)).toEqual({ count: 2 });
    expect(res.headers.get('x-status')).toBe('201 Created');
    expect(res.headers.get('x-side-header')).toBe('yes');
    expect(res.headers.get('x-answer')).toBe('42');
    // The client's request still went to the model backend, with its body intact.
    expect(JSON.parse(backend.received[0]!.body).messages).toHaveLength(2);
  });

  it('Body.As<string>() consumes the body unless preserveContent: a second read is empty (as in APIM)', async () => {
    side.answer = () => ({ body: 'plain text' });
    setApi(
      apiPolicy(
        `<send-request response-variable-name="r"><set-url>${side.url}/t</set-url><set-method>GET</set-method></send-request>
         <set-variable name="first" value="@(((IResponse)context.Variables[&quot;r&quot;]).Body.As&lt;string&gt;(preserveContent: true))" />
         <set-variable name="second" value="@(((IResponse)context.Variables[&quot;r&quot;]).Body.As&lt;string&gt;())" />
         <set-variable name="third" value="@(((IResponse)context.Variables[&quot;r&quot;]).Body.As&lt;string&gt;())" />`,
        { outbound: `<set-header name="x-reads" exists-action="override"><value>@((string)context.Variables["first"] + "|" + (string)context.Variables["second"] + "|" + (string)context.Variables["third"])</value></set-header>` },
      ),
    );
    const res = await call();
    expect(res.headers.get('x-reads')).toBe('plain text|plain text|');
  });

  it('a 4xx/5xx answer is a response, not an error; return-response response-variable-name returns it', async () => {
    side.answer = () => ({ status: 404, headers: { 'x-from': 'side' }, body: { error: 'nope' } });
    setApi(
      apiPolicy(
        `<send-request response-variable-name="r"><set-url>${side.url}/missing</set-url><set-method>GET</set-method></send-request>
         <choose><when condition="@(((IResponse)context.Variables[&quot;r&quot;]).StatusCode >= 400)">
           <return-response response-variable-name="r"><set-header name="x-added" exists-action="override"><value>1</value></set-header></return-response>
         </when></choose>`,
      ),
    );
    const res = await call();
    expect(res.status).toBe(404);
    expect(res.headers.get('x-from')).toBe('side');
    expect(res.headers.get('x-added')).toBe('1');
    expect(await res.json()).toEqual({ error: 'nope' });
    expect(backend.received).toHaveLength(0);
  });

  it('mode="copy" sends the current request (method, headers, body) to set-url', async () => {
    setApi(apiPolicy(`<send-request mode="copy" response-variable-name="r"><set-url>${side.url}/copy</set-url></send-request>`));
    await call({ 'x-client': 'c1' });
    const got = side.received[0]!;
    expect(got.method).toBe('POST');
    expect(got.headers['x-client']).toBe('c1');
    expect(JSON.parse(got.body).messages).toHaveLength(2);
  });

  it('a host no backend names is refused without a connection: on-error sees send-request / BackendConnectionFailure, the client gets 500', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    setApi(
      apiPolicy(`<send-request response-variable-name="r"><set-url>https://api.example.com/v1/thing</set-url><set-method>GET</set-method></send-request>`, {
        onError: lastError,
      }),
    );
    const res = await call();
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ statusCode: 500, message: 'Internal server error' });
    const [source, reason, message] = res.headers.get('x-err')!.split('|');
    expect(source).toBe('send-request');
    expect(reason).toBe('BackendConnectionFailure');
    expect(message).toContain("does not send policy requests to 'api.example.com'");
    expect(message).toContain('add a backend whose url names https://api.example.com');
    // Neither fetch nor the model backend saw it: only the test's own call to the gateway went through fetch.
    expect(fetchSpy.mock.calls.map(([input]) => String(input)).filter((u) => u.includes('example.com'))).toEqual([]);
    expect(backend.received).toHaveLength(0);
  });

  it('ignore-error="true": the variable holds null and the pipeline goes on (labs test == null)', async () => {
    setApi(
      apiPolicy(
        `<send-request response-variable-name="r" ignore-error="true"><set-url>https://api.example.com/x</set-url><set-method>GET</set-method></send-request>
         <set-header name="x-null" exists-action="override"><value>@((context.Variables["r"] == null).ToString())</value></set-header>`,
        { outbound: `<set-header name="x-null" exists-action="override"><value>@((context.Variables.GetValueOrDefault&lt;IResponse&gt;("r") == null).ToString())</value></set-header>` },
      ),
    );
    const res = await call();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-null')).toBe('True');
    expect(backend.received[0]!.headers['x-null']).toBe('True');
  });

  it('ignore-error covers the call, not the expressions that build it: a failing set-url expression is an error', async () => {
    setApi(
      apiPolicy(`<send-request response-variable-name="r" ignore-error="true"><set-url>@(((string)null).Trim())</set-url><set-method>GET</set-method></send-request>`, {
        onError: lastError,
      }),
    );
    const res = await call();
    expect(res.status).toBe(500);
    expect(res.headers.get('x-err')).toMatch(/^send-request\|ExpressionValueEvaluationFailure\|/);
  });

  it('timeout runs on the virtual clock: no answer within timeout seconds → Timeout (on-error); nothing fires before', async () => {
    let release!: () => void;
    side.answer = () => ({ hold: new Promise<void>((r) => (release = r)) });
    setApi(
      apiPolicy(`<send-request response-variable-name="r" timeout="5"><set-url>${side.url}/slow</set-url><set-method>GET</set-method></send-request>`, {
        onError: lastError,
      }),
    );
    let settled = false;
    const pending = call().then((r) => {
      settled = true;
      return r;
    });
    await side.arrived(1);
    gw.clock.advance(4_999);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    gw.clock.advance(1);
    const res = await pending;
    expect(res.status).toBe(500);
    expect(res.headers.get('x-err')).toMatch(/^send-request\|Timeout\|.*timed out after 5 seconds/);
    release();
  });

  it('a configured mock backend answers in-process (no socket): send-request to its URL gets a chat completion', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    setApi(
      apiPolicy(
        `<send-request response-variable-name="r">
           <set-url>https://foundry1.example.com/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21</set-url>
           <set-method>POST</set-method>
           <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
           <set-body>{"messages":[{"role":"user","content":"hi"}]}</set-body>
         </send-request>`,
        { outbound: `<set-header name="x-model" exists-action="override"><value>@(((IResponse)context.Variables["r"]).Body.As&lt;JObject&gt;()["object"].ToString())</value></set-header>` },
      ),
    );
    const res = await call();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model')).toBe('chat.completion');
    expect(gw.models.calls('gpt-4.1-mini')).toHaveLength(1);
    expect(fetchSpy.mock.calls.map(([input]) => String(input)).filter((u) => u.includes('foundry1.example.com'))).toEqual([]);
  });

  it('authentication-managed-identity inside send-request sets a Bearer token for its resource on that request only', async () => {
    setApi(
      apiPolicy(`<send-request response-variable-name="r"><set-url>${side.url}/mi</set-url><set-method>GET</set-method>
        <authentication-managed-identity resource="https://cosmos.azure.com" /></send-request>`),
    );
    await call();
    const auth = side.received[0]!.headers.authorization!;
    expect(auth).toMatch(/^Bearer /);
    const claims = JSON.parse(Buffer.from(auth.slice(7).split('.')[1]!, 'base64url').toString());
    expect(claims.aud).toBe('https://cosmos.azure.com');
    expect(backend.received[0]!.headers.authorization).toBeUndefined();
  });

  it('send-one-way-request: the gateway does not wait for the answer', async () => {
    let release!: () => void;
    side.answer = () => ({ hold: new Promise<void>((r) => (release = r)) });
    setApi(
      apiPolicy(`<send-one-way-request mode="new" timeout="30"><set-url>${side.url}/audit</set-url><set-method>POST</set-method>
        <set-body>@(context.Subscription.Name)</set-body></send-one-way-request>`),
    );
    const res = await call();
    expect(res.status).toBe(200);
    await side.arrived(1);
    expect(side.received[0]).toMatchObject({ method: 'POST', url: '/audit', body: 'Subscription 1' });
    release();
  });

  it('send-one-way-request to a refused host is not an error of the request', async () => {
    setApi(apiPolicy(`<send-one-way-request><set-url>https://audit.example.com/x</set-url><set-method>POST</set-method></send-one-way-request>`));
    const res = await call();
    expect(res.status).toBe(200);
    expect(backend.received).toHaveLength(1);
  });

  const DEBUG = `<set-header name="x-err" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Message)</value></set-header>`;
  describe('lab shapes (fixtures of our own reproducing the AI-Gateway labs that use send-request)', () => {
    /** content-filtering / prompt-shield: analyse the prompt with an API on the same gateway at https://{Host}/contentsafety/…. */
    const contentSafetyPolicy = (path: string, verdict: string) =>
      apiPolicy(`<set-variable name="key" value="@(context.Request.Headers.GetValueOrDefault(&quot;api-key&quot;))" />
        <send-request mode="new" response-variable-name="safety">
          <set-url>@("https://" + context.Request.Headers.GetValueOrDefault("Host") + "/contentsafety/${path}?api-version=2023-10-01")</set-url>
          <set-method>POST</set-method>
          <set-header name="Ocp-Apim-Subscription-Key" exists-action="override"><value>@(context.Variables.GetValueOrDefault&lt;string&gt;("key"))</value></set-header>
          <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
          <set-body>@{
            var texts = context.Request.Body.As&lt;JObject&gt;(preserveContent: true)["messages"].Select(m => m.Value&lt;string&gt;("content")).ToArray();
            var o = new JObject();
            o.Add(new JProperty("text", string.Concat(texts)));
            return o.ToString();
          }</set-body>
        </send-request>
        <choose>
          <when condition="@(((IResponse)context.Variables[&quot;safety&quot;]).StatusCode == 200)">
            <choose><when condition="@(${verdict})">
              <return-response><set-status code="400" reason="Bad Request" /><set-body>@(JsonConvert.SerializeObject(new { error = new { message = "filtered" } }))</set-body></return-response>
            </when></choose>
          </when>
          <otherwise><return-response><set-status code="500" reason="Internal Server Error" /></return-response></otherwise>
        </choose>`, { onError: DEBUG });

    it('content-filtering: a category above its threshold → 400 from the policy; the analysis went through the gateway to the Content Safety API', async () => {
      side.answer = (r) => ({ body: { categoriesAnalysis: [{ category: 'Hate', severity: r.body.includes('hate') ? 4 : 0 }] } });
      setApi(
        contentSafetyPolicy(
          'text:analyze',
          `(int)((JArray)((IResponse)context.Variables[&quot;safety&quot;]).Body.As&lt;JObject&gt;(preserveContent: true)[&quot;categoriesAnalysis&quot;]).First()[&quot;severity&quot;] &gt; 0`,
        ),
      );
      const ok = await call();
      expect(ok.headers.get('x-err')).toBeNull();
      expect(ok.status).toBe(200);
      expect(side.received[0]!.url).toBe('/text:analyze?api-version=2023-10-01');
      const blocked = await fetch(`${gw.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21`, {
        method: 'POST',
        headers: { 'api-key': gw.keyFor('subscription1'), 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'some hate here' }] }),
      });
      expect(blocked.status).toBe(400);
      expect(await blocked.json()).toEqual({ error: { message: 'filtered' } });
      expect(backend.received).toHaveLength(1);
      // Both analyses are requests the gateway answered itself.
      expect(gw.requests().filter((r) => r.url.includes('/contentsafety/')).length).toBe(2);
    });

    it('prompt-shield: attackDetected → 400; the Content Safety API failing → 500 from the otherwise branch', async () => {
      side.answer = () => ({ body: { userPromptAnalysis: { attackDetected: true } } });
      const verdict = `(bool)((IResponse)context.Variables[&quot;safety&quot;]).Body.As&lt;JObject&gt;()[&quot;userPromptAnalysis&quot;][&quot;attackDetected&quot;] == true`;
      setApi(contentSafetyPolicy('text:shieldPrompt', verdict));
      expect((await call()).status).toBe(400);
      side.answer = () => ({ status: 503, body: { error: 'down' } });
      expect((await call()).status).toBe(500);
      expect(backend.received).toHaveLength(0);
    });

    // The lab tests !ContainsKey("inGroup") after cache-lookup-value, but a miss assigns null (documented, and so in
    // the emulator): the variable exists. This fixture tests for null, which is what the lab means.
    it('ghcp-byok-foundry: a Graph membership check through a backend naming graph.microsoft.com (connectTo a local stand-in), cached per oid', async () => {
      side.answer = (r) => ({ body: { value: decodeURIComponent(r.url).includes("'member-1'") ? [{ id: 'member-1' }] : [] } });
      setApi(
        apiPolicy(`<set-variable name="oid" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-oid&quot;, &quot;&quot;))" />
          <cache-lookup-value key="@(&quot;grp-&quot; + (string)context.Variables[&quot;oid&quot;])" variable-name="inGroup" />
          <choose><when condition="@(context.Variables.GetValueOrDefault(&quot;inGroup&quot;) == null)">
            <authentication-managed-identity resource="https://graph.microsoft.com" output-token-variable-name="graphToken" />
            <send-request mode="new" response-variable-name="grp" timeout="10" ignore-error="false">
              <set-url>@($"https://graph.microsoft.com/v1.0/groups/g1/transitiveMembers/microsoft.graph.user?$count=true&amp;$filter=id%20eq%20'{(string)context.Variables["oid"]}'&amp;$select=id")</set-url>
              <set-method>GET</set-method>
              <set-header name="Authorization" exists-action="override"><value>@("Bearer " + (string)context.Variables["graphToken"])</value></set-header>
              <set-header name="ConsistencyLevel" exists-action="override"><value>eventual</value></set-header>
            </send-request>
            <set-variable name="inGroup" value="@(((IResponse)context.Variables[&quot;grp&quot;]).Body.As&lt;JObject&gt;()[&quot;value&quot;].HasValues)" />
            <cache-store-value key="@(&quot;grp-&quot; + (string)context.Variables[&quot;oid&quot;])" value="@((bool)context.Variables[&quot;inGroup&quot;])" duration="3600" />
          </when></choose>
          <choose><when condition="@(!(bool)context.Variables[&quot;inGroup&quot;])">
            <return-response><set-status code="403" reason="Forbidden" /><set-body>{"error":"Forbidden"}</set-body></return-response>
          </when></choose>`, { onError: DEBUG }),
      );
      const first = await call({ 'x-oid': 'member-1' });
      expect(first.headers.get('x-err')).toBeNull();
      expect(first.status).toBe(200);
      expect((await call({ 'x-oid': 'stranger' })).status).toBe(403);
      expect((await call({ 'x-oid': 'member-1' })).status).toBe(200); // cached: Graph is not asked again
      expect(side.received.map((r) => r.headers.consistencylevel)).toEqual(['eventual', 'eventual']);
      expect(decodeURIComponent(side.received[0]!.url)).toContain("$filter=id eq 'member-1'");
      expect(side.received[0]!.headers.authorization).toMatch(/^Bearer /);
    });
  });

  describe('load-time checks', () => {
    const load = (inner: string) => () => gw.emulator.validatePolicy({ kind: 'api', apiId: 'inference-api' }, apiPolicy(inner));
    const diagnosticsOf = (inner: string) => {
      try {
        load(inner)();
      } catch (error) {
        if (error instanceof PolicyLoadError) return error.toJSON();
        throw error;
      }
      return [];
    };

    it('refuses proxy and authentication-certificate children naming the element and its position (POL3060)', () => {
      const d = diagnosticsOf(`<send-request response-variable-name="r"><set-url>http://127.0.0.1/x</set-url><set-method>GET</set-method>
        <proxy url="http://proxy:8080" /></send-request>`);
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ code: 'POL3060', line: 6, message: expect.stringContaining('Element <proxy> of policy \'send-request\' is not emulated') });
    });

    it('refuses an unknown attribute, a missing response-variable-name, an expression in set-method, and new mode without set-url', () => {
      expect(diagnosticsOf(`<send-request response-variable-name="r" follow-redirects="true"><set-url>http://127.0.0.1/</set-url><set-method>GET</set-method></send-request>`)[0]).toMatchObject({
        code: 'POL3005',
        message: "Policy 'send-request' has no attribute 'follow-redirects'.",
      });
      expect(diagnosticsOf(`<send-request><set-url>http://127.0.0.1/</set-url><set-method>GET</set-method></send-request>`)[0]).toMatchObject({ code: 'POL3003' });
      expect(diagnosticsOf(`<send-request response-variable-name="r"><set-url>http://127.0.0.1/</set-url><set-method>@("GET")</set-method></send-request>`)[0]).toMatchObject({ code: 'POL3006' });
      expect(diagnosticsOf(`<send-request response-variable-name="r"><set-method>GET</set-method></send-request>`)[0]).toMatchObject({ code: 'POL3011' });
      expect(diagnosticsOf(`<send-request response-variable-name="r"><set-url /><set-method>GET</set-method></send-request>`)[0]).toMatchObject({
        code: 'POL3004',
        message: "Attribute 'set-url' of policy 'send-request' has an invalid value '': a URL (or an expression returning one) is required",
      });
      // An expression that does not compile is reported once, by the expression compiler (not also as a missing URL).
      expect(diagnosticsOf(`<send-request response-variable-name="r"><set-url>@($"https://h/{group-id}")</set-url><set-method>GET</set-method></send-request>`).map((d) => d.code)).toEqual(['EXPR2011', 'EXPR2011']);
      expect(diagnosticsOf(`<send-request response-variable-name="r" ignore-error="@(true)"><set-url>http://127.0.0.1/</set-url><set-method>GET</set-method></send-request>`)[0]).toMatchObject({ code: 'POL3006' });
    });
  });
});

describe('routeOutbound (where a policy request may go)', () => {
  const backends = [
    { id: 'graph', url: 'https://graph.microsoft.com', type: 'http' as const, connectTo: 'http://127.0.0.1:9100' },
    { id: 'openai', url: 'https://x.openai.azure.com/openai', type: 'mock' as const },
    { id: 'real', url: 'https://real.example.net/api', type: 'http' as const },
  ];
  const route = (url: string) => routeOutbound(new URL(url), { backends, selfUrls: () => ['http://127.0.0.1:8080'] });

  it.each([
    ['https://graph.microsoft.com/v1.0/me?$select=id', { kind: 'http', url: 'http://127.0.0.1:9100/v1.0/me?$select=id' }],
    ['https://x.openai.azure.com/openai/deployments/d/embeddings', { kind: 'mock', backendId: 'openai' }],
    ['https://real.example.net/other/path', { kind: 'http', url: 'https://real.example.net/other/path' }],
    ['https://127.0.0.1:8080/contentsafety/x', { kind: 'http', url: 'http://127.0.0.1:8080/contentsafety/x', via: 'the gateway itself' }],
    ['https://127.0.0.1/api', { kind: 'http', url: 'http://127.0.0.1:8080/api', via: 'the gateway itself' }],
    ['http://localhost:9999/x', { kind: 'http', url: 'http://localhost:9999/x', via: 'loopback' }],
    ['https://graph.microsoft.com:8443/x', { kind: 'refused' }],
    ['https://evil.example.org/', { kind: 'refused' }],
  ])('%s', (url, expected) => {
    expect(route(url)).toMatchObject(expected);
  });
});
