import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { presetConfig } from '../../../emulator/config/presets.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { retryDelayMs } from '../../../policy-engine/policies/retry.js';
import { httpBackendConfig } from '../../support/configs.js';
import { labPost, LAB_MESSAGES } from '../../support/lab.js';
import { putPolicy, settle, startStatusBackend, until, type StatusBackend } from '../../support/policy-control.js';

const api = (backend: string, extra = '') => `<policies>
  <inbound><base /><set-backend-service backend-id="foundry1" /></inbound>
  <backend>${backend}</backend>
  <outbound><base /></outbound>
  <on-error><base />${extra}</on-error>
</policies>`;

/** The backend-pool-load-balancing lab's backend section (labs.md §8.2), with `{backend-id}` given. */
const poolLab = (backendId: string) => `<policies>
    <inbound><base /></inbound>
    <backend>
        <retry count="2" interval="0" first-fast-retry="true"
            condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)">
            <set-backend-service backend-id="${backendId}" />
            <forward-request buffer-request-body="true" />
        </retry>
    </backend>
    <outbound><base /></outbound>
    <on-error>
        <base />
        <choose>
            <when condition="@(context.Response.StatusCode == 503)">
                <return-response>
                    <set-status code="503" reason="Service Unavailable" />
                </return-response>
            </when>
        </choose>
    </on-error>
</policies>`;

describe('retry over the mock models', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    const config = presetConfig('token-rate-limiting');
    const backends = (config.backends ??= []);
    const foundry1 = backends[0]!;
    backends.push({ ...foundry1, id: 'foundry2', url: 'https://foundry2-emulator.cognitiveservices.azure.com/openai', region: 'Sweden Central' });
    gw = await startEmulator({ config });
  });
  afterAll(() => gw.close());
  beforeEach(() => gw.reset());
  const key = () => gw.keyFor('subscription1');
  const setApi = (xml: string) => gw.policies.set('apis/inference-api', xml);
  const calls = () => gw.models.calls();

  it('count=2 with a backend that always answers 500: exactly 3 backend calls, the final 500 reaches the client (§10 #12)', async () => {
    setApi(api(`<retry condition="@(context.Response.StatusCode == 500)" count="2" interval="0"><forward-request /></retry>`));
    gw.models.faults({ kind: 'status', status: 500 });
    const res = await labPost(gw.url, key());
    expect(res.status).toBe(500);
    expect(calls()).toHaveLength(3);
    expect(calls().every((c) => c.status === 500)).toBe(true);
  });

  it('stops as soon as the condition is false: one call when the first answer is good', async () => {
    setApi(api(`<retry condition="@(context.Response.StatusCode == 500)" count="5" interval="1"><forward-request /></retry>`));
    const res = await labPost(gw.url, key());
    expect(res.status).toBe(200);
    expect(calls()).toHaveLength(1);
  });

  it('first-fast-retry: the first retry is immediate, the second waits interval seconds on the virtual clock (§10 #13)', async () => {
    setApi(api(`<retry condition="@(context.Response.StatusCode == 500)" count="2" interval="10" first-fast-retry="true"><forward-request /></retry>`));
    gw.models.faults({ kind: 'status', status: 500 });
    const start = gw.clock.now();
    const pending = labPost(gw.url, key());
    await until(() => calls().length === 2, 'the immediate first retry');
    expect(calls()[1]!.at).toBe(start);
    await settle();
    expect(calls()).toHaveLength(2);
    gw.clock.advance('9s');
    await settle();
    expect(calls()).toHaveLength(2);
    gw.clock.advance('1s');
    await until(() => calls().length === 3, 'the second retry');
    expect(calls()[2]!.at - start).toBe(10_000);
    expect((await pending).status).toBe(500);
  });

  it('without first-fast-retry every retry waits; linear interval + (n-1)·delta gives 1 s, 3 s, 5 s', async () => {
    setApi(api(`<retry condition="@(context.Response.StatusCode == 503)" count="3" interval="1" delta="2"><forward-request /></retry>`));
    gw.models.faults({ kind: 'status', status: 503 });
    const start = gw.clock.now();
    const pending = labPost(gw.url, key());
    await until(() => calls().length === 1, 'the first call');
    for (const [advance, expected] of [[1000, 2], [3000, 3], [5000, 4]] as const) {
      await settle();
      gw.clock.advance(advance - 1);
      await settle();
      expect(calls()).toHaveLength(expected - 1);
      gw.clock.advance(1);
      await until(() => calls().length === expected, `call ${expected}`);
    }
    expect(calls().map((c) => c.at - start)).toEqual([0, 1000, 4000, 9000]);
    expect((await pending).status).toBe(503);
  });

  it('backend-pool-load-balancing shape: a 429 is retried at once and the client gets the 200', async () => {
    setApi(poolLab('foundry1'));
    gw.models.faults({ kind: 'status', status: 429, next: 1 });
    const res = await labPost(gw.url, key());
    expect(res.status).toBe(200);
    expect((await res.json()).choices[0].message.content).toEqual(expect.any(String));
    expect(calls().map((c) => c.status)).toEqual([429, 200]);
    expect(calls()[0]!.promptTokens ?? calls()[1]!.promptTokens).toBeGreaterThan(0);
  });

  it('backend-pool-load-balancing shape: three 503s end with the last 503 (fail-on-error-status-code is false, on-error not entered)', async () => {
    setApi(poolLab('foundry1'));
    gw.models.faults({ kind: 'status', status: 503 });
    const res = await labPost(gw.url, key());
    expect(res.status).toBe(503);
    expect(calls()).toHaveLength(3);
    expect(gw.requests()[0]!.lastErrorReason).toBeNull();
  });

  it('set-backend-service inside the retry can fail over: backend-id chosen by the previous status', async () => {
    setApi(poolLab(`@(context.Response.StatusCode == 429 ? &quot;foundry2&quot; : &quot;foundry1&quot;)`));
    gw.models.faults({ kind: 'status', status: 429 }, 'foundry1');
    const res = await labPost(gw.url, key());
    expect(res.status).toBe(200);
    expect(gw.emulator.mocks.get('foundry1')!.calls).toHaveLength(1);
    expect(gw.emulator.mocks.get('foundry2')!.calls).toHaveLength(1);
  });

  it('attributes accept expressions: count and condition read variables', async () => {
    setApi(`<policies>
      <inbound><base /><set-backend-service backend-id="foundry1" /><set-variable name="retries" value="@(1)" /></inbound>
      <backend><retry condition="@(context.Response.StatusCode != 200 &amp;&amp; context.Variables.ContainsKey(&quot;retries&quot;))"
        count="@((int)context.Variables[&quot;retries&quot;])" interval="@(0)"><forward-request /></retry></backend>
      <outbound><base /></outbound><on-error><base /></on-error></policies>`);
    gw.models.faults({ kind: 'status', status: 500 });
    expect((await labPost(gw.url, key())).status).toBe(500);
    expect(calls()).toHaveLength(2);
  });

  it('a count expression outside 1..50 fails at run time with ExpressionValueEvaluationFailure', async () => {
    setApi(
      api(
        `<retry condition="@(true)" count="@(51)" interval="0"><forward-request /></retry>`,
        `<set-header name="x-err" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason)</value></set-header>`,
      ),
    );
    const res = await labPost(gw.url, key());
    expect(res.status).toBe(500);
    expect(res.headers.get('x-err')).toBe('retry|ExpressionValueEvaluationFailure');
    expect(calls()).toHaveLength(0);
  });

  it('a policy error inside the children is not retried: on-error runs with the child as LastError', async () => {
    setApi(
      api(
        `<retry condition="@(true)" count="3" interval="0"><set-variable name="x" value="@(int.Parse(&quot;x&quot;))" /><forward-request /></retry>`,
        `<set-header name="x-err" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Path)</value></set-header>`,
      ),
    );
    const res = await labPost(gw.url, key());
    expect(res.status).toBe(500);
    expect(res.headers.get('x-err')).toBe('set-variable|retry[1]/set-variable[1]');
    expect(calls()).toHaveLength(0);
  });

  it('retry in outbound re-runs its children (all sections allowed)', async () => {
    setApi(`<policies><inbound><base /><set-backend-service backend-id="foundry1" /><set-variable name="n" value="@(0)" /></inbound>
      <backend><base /></backend>
      <outbound><base />
        <retry condition="@((int)context.Variables[&quot;n&quot;] &lt; 3)" count="10" interval="0">
          <set-variable name="n" value="@((int)context.Variables[&quot;n&quot;] + 1)" />
        </retry>
        <set-header name="x-n" exists-action="override"><value>@(context.Variables[&quot;n&quot;].ToString())</value></set-header>
      </outbound><on-error><base /></on-error></policies>`);
    const res = await labPost(gw.url, key());
    expect(res.headers.get('x-n')).toBe('3');
  });
});

describe('retry re-sends the buffered request body over HTTP', () => {
  let backend: StatusBackend;
  let gw: RunningEmulator;
  beforeAll(async () => {
    backend = await startStatusBackend();
    gw = await startEmulator({
      config: httpBackendConfig(backend.url, poolLab('backend1')),
    });
  });
  afterAll(async () => {
    await gw.close();
    await backend.close();
  });

  it('every attempt carries the same body and headers, the subscription key included (APIM keeps it)', async () => {
    backend.statuses.push(429, 503);
    const res = await labPost(gw.url, gw.keyFor('subscription1'), { 'x-user-id': 'alex' });
    expect(res.status).toBe(200);
    expect(backend.received).toHaveLength(3);
    const expected = JSON.stringify({ messages: LAB_MESSAGES });
    for (const r of backend.received) {
      expect(r.body).toBe(expected);
      expect(r.method).toBe('POST');
      expect(r.url).toBe('/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview');
      expect(r.headers['x-user-id']).toBe('alex');
      expect(r.headers['api-key']).toBe(gw.keyFor('subscription1'));
    }
  });
});

describe('retry attribute validation at load (control plane PUT)', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator();
  });
  afterAll(() => gw.close());
  const put = (xml: string) => putPolicy(gw.url, 'apis/inference-api', xml);
  const doc = (retryXml: string) => `<policies>
  <inbound><base /></inbound>
  <backend>
    ${retryXml}
  </backend>
</policies>`;

  // The column is where `needle` starts on line 4 (the retry element is indented by 4 spaces).
  it.each([
    ['count above 50', '<retry condition="@(true)" count="51" interval="0"><forward-request /></retry>', 'POL3004', '51"'],
    ['count below 1', '<retry condition="@(true)" count="0" interval="0"><forward-request /></retry>', 'POL3004', '0" interval'],
    ['a missing condition', '<retry count="2" interval="0"><forward-request /></retry>', 'POL3003', 'retry'],
    ['a missing count', '<retry condition="@(true)" interval="0"><forward-request /></retry>', 'POL3003', 'retry'],
    ['a non-boolean first-fast-retry', '<retry condition="@(true)" count="2" interval="0" first-fast-retry="yes"><forward-request /></retry>', 'POL3004', 'yes'],
    ['max-interval without delta', '<retry condition="@(true)" count="2" interval="1" max-interval="10"><forward-request /></retry>', 'POL3012', 'max-interval'],
    ['max-interval below interval', '<retry condition="@(true)" count="2" interval="10" max-interval="5" delta="1"><forward-request /></retry>', 'POL3004', '5"'],
    ['an unknown attribute', '<retry condition="@(true)" count="2" interval="0" tries="3"><forward-request /></retry>', 'POL3005', 'tries'],
    ['a malformed condition expression', '<retry condition="@(context.Response.StatusCode ==)" count="2" interval="0"><forward-request /></retry>', 'EXPR2001', ')"'],
  ])('rejects %s with its code and line:column', async (_what, retryXml, code, needle) => {
    const { status, body } = await put(doc(retryXml));
    expect(status).toBe(400);
    const detail = body.error.details.find((d: { code: string }) => d.code === code);
    expect(detail, JSON.stringify(body.error.details)).toBeDefined();
    expect({ line: detail.line, column: detail.column }).toEqual({ line: 4, column: 5 + retryXml.indexOf(needle) });
  });

  it('checks children against the section: forward-request inside a retry in inbound is refused', async () => {
    const xml = `<policies><inbound><retry condition="@(true)" count="1" interval="0"><forward-request /></retry></inbound></policies>`;
    const { status, body } = await put(xml);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code: 'POL3007', line: 1, column: xml.indexOf('forward-request') + 1 });
  });

  it('accepts the lab shape and the exponential form', async () => {
    expect((await put(poolLab('foundry1'))).status).toBe(200);
    expect((await put(doc('<retry condition="@(true)" count="50" interval="10" max-interval="100" delta="10"><forward-request /></retry>'))).status).toBe(200);
  });
});

describe('retryDelayMs (APIM retry wait formulas)', () => {
  it('fixed: interval every time', () => {
    expect([1, 2, 3].map((n) => retryDelayMs({ interval: 5, firstFastRetry: false }, n))).toEqual([5000, 5000, 5000]);
  });
  it('linear: interval + (n-1)·delta', () => {
    expect([1, 2, 3].map((n) => retryDelayMs({ interval: 1, delta: 2, firstFastRetry: false }, n))).toEqual([1000, 3000, 5000]);
  });
  it('exponential: interval + (2^(n-1) - 1)·delta, capped at max-interval (10, 20, 40, 80, 100)', () => {
    const timing = { interval: 10, delta: 10, maxInterval: 100, firstFastRetry: false };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(timing, n, () => 0.5))).toEqual([10_000, 20_000, 40_000, 80_000, 100_000]);
  });
  it('exponential jitter stays within 0.8·delta..1.2·delta per step', () => {
    const timing = { interval: 0, delta: 10, maxInterval: 1000, firstFastRetry: false };
    expect(retryDelayMs(timing, 2, () => 0)).toBe(8000);
    expect(retryDelayMs(timing, 2, () => 0.999999)).toBeCloseTo(12_000, -1);
  });
  it('first-fast-retry: only the first retry is immediate', () => {
    const timing = { interval: 10, delta: 5, firstFastRetry: true };
    expect([1, 2, 3].map((n) => retryDelayMs(timing, n))).toEqual([0, 15_000, 20_000]);
  });
});
