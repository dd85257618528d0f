import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { PolicyLoadError } from '../../../policy-engine/index.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { until } from '../../support/policy-control.js';
import { startSideService, type SideService } from '../../support/side-service.js';

/** limit-concurrency over HTTP, with a backend that holds its answers until the test releases them. */
describe('limit-concurrency', () => {
  let backend: SideService;
  let gw: RunningEmulator;
  let releases: Array<() => void> = [];
  beforeAll(async () => {
    backend = await startSideService();
    gw = await startEmulator({ config: httpBackendConfig(backend.url, '') });
  });
  afterAll(async () => {
    for (const r of releases) r();
    await gw?.close();
    await backend?.close();
  });
  beforeEach(async () => {
    for (const r of releases) r();
    releases = [];
    await gw.reset();
    backend.received.length = 0;
    backend.answer = () => ({ hold: new Promise<void>((r) => releases.push(r)), body: { ok: true } });
  });
  const slots = () => gw.emulator.engine.services.concurrency!;
  const setApi = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) => gw.policies.set('apis/inference-api', apiPolicy(inbound, sections));
  const call = (headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${gw.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21`, {
      method: 'POST',
      headers: { 'api-key': gw.keyFor('subscription1'), 'content-type': 'application/json', ...headers },
      body: '{"messages":[]}',
      ...(signal ? { signal } : {}),
    });
  const limited = (max: number, key = 'backend', inner = '<forward-request timeout="120" />') =>
    setApi('', { backend: `<limit-concurrency key="${key}" max-count="${max}">${inner}</limit-concurrency>` });

  it('max-count requests run the children at once; one more fails at once with 429 and the slots are counted', async () => {
    limited(2);
    const first = call();
    const second = call();
    await backend.arrived(2);
    expect(slots().count('backend')).toBe(2);
    const third = await call();
    expect(third.status).toBe(429);
    expect(third.headers.get('content-type')).toMatch(/application\/json/);
    expect(await third.text()).toBe('{ "statusCode": 429, "message": "Too many concurrent requests." }');
    expect(backend.received).toHaveLength(2);
    for (const r of releases) r();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(slots().count('backend')).toBe(0);
    backend.answer = () => ({ body: { ok: true } });
    expect((await call()).status).toBe(200);
  });

  it('the refusal enters on-error with Source limit-concurrency', async () => {
    setApi('', {
      backend: `<limit-concurrency key="k" max-count="1"><forward-request /></limit-concurrency>`,
      onError: `<set-header name="x-err" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason)</value></set-header>`,
    });
    const held = call();
    await backend.arrived(1);
    const refused = await call();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-err')).toBe('limit-concurrency|ConcurrencyLimitExceeded');
    releases[0]!();
    await held;
  });

  it('keys are separate scopes (key accepts expressions); a key is shared by several policies', async () => {
    setApi(
      `<limit-concurrency key="@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;&quot;))" max-count="1"><set-variable name="x" value="1" /></limit-concurrency>`,
      { backend: `<limit-concurrency key="@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;&quot;))" max-count="1"><forward-request /></limit-concurrency>` },
    );
    const a = call({ 'x-tenant': 'a' });
    await backend.arrived(1);
    expect(slots().count('a')).toBe(1);
    // Tenant b is free; a second request of tenant a finds the key full at the inbound policy (the same key).
    const b = call({ 'x-tenant': 'b' });
    await backend.arrived(2);
    expect((await call({ 'x-tenant': 'a' })).status).toBe(429);
    for (const r of releases) r();
    expect([(await a).status, (await b).status]).toEqual([200, 200]);
    expect([slots().count('a'), slots().count('b')]).toEqual([0, 0]);
  });

  it('the slot is given back when the children fail (fail-on-error-status-code → on-error) and after return-response', async () => {
    backend.answer = () => ({ status: 500, body: { error: 'boom' } });
    limited(1, 'k', '<forward-request fail-on-error-status-code="true" />');
    expect((await call()).status).toBe(500);
    expect(slots().count('k')).toBe(0);
    setApi(`<limit-concurrency key="k" max-count="1"><return-response><set-status code="202" reason="Accepted" /></return-response></limit-concurrency>`);
    expect((await call()).status).toBe(202);
    expect((await call()).status).toBe(202);
    expect(slots().count('k')).toBe(0);
  });

  it('a client that disconnects keeps its slot until the children end, then it is released', async () => {
    limited(1);
    const abort = new AbortController();
    const gone = call({}, abort.signal).catch((error: unknown) => error);
    await backend.arrived(1);
    abort.abort();
    expect(await gone).toBeInstanceOf(Error);
    expect(slots().count('backend')).toBe(1);
    releases[0]!();
    await until(() => slots().count('backend') === 0, 'the slot to be released');
    backend.answer = () => ({ body: { ok: true } });
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
  });

  it('reset clears the slots', async () => {
    limited(1);
    void call().catch(() => undefined);
    await backend.arrived(1);
    expect(slots().count('backend')).toBe(1);
    await gw.reset();
    expect(gw.emulator.engine.services.concurrency!.count('backend')).toBe(0);
  });

  it('load: max-count is required and takes no expression; key is required', () => {
    const diagnostics = (inner: string) => {
      try {
        gw.emulator.validatePolicy({ kind: 'api', apiId: 'inference-api' }, apiPolicy('', { backend: inner }));
        return [];
      } catch (error) {
        if (error instanceof PolicyLoadError) return error.toJSON().map((d) => `${d.code} ${d.line}:${d.column} ${d.message}`);
        throw error;
      }
    };
    expect(diagnostics(`<limit-concurrency key="k" max-count="@(3)"><forward-request /></limit-concurrency>`)).toEqual([
      "POL3006 7:50 Attribute 'max-count' of policy 'limit-concurrency' does not accept policy expressions.",
    ]);
    expect(diagnostics(`<limit-concurrency max-count="3"><forward-request /></limit-concurrency>`)).toEqual(["POL3003 7:13 Policy 'limit-concurrency' requires attribute 'key'."]);
    expect(diagnostics(`<limit-concurrency key="k" max-count="0"><forward-request /></limit-concurrency>`)[0]).toMatch(/^POL3004 .*must be at least 1/);
  });
});
