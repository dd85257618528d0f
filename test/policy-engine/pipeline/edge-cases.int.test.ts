import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';

describe('pipeline edge cases', () => {
  let backend: ScriptedBackend;
  let gw: RunningEmulator;
  const setInbound = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) => gw.policies.set('apis/inference-api', apiPolicy(inbound, sections));
  beforeAll(async () => {
    backend = await startScriptedBackend();
    gw = await startEmulator({ config: httpBackendConfig(backend.url, apiPolicy('')) });
  });
  afterAll(async () => {
    await gw.close();
    await backend.close();
  });
  beforeEach(async () => {
    await gw.reset();
    backend.received.length = 0;
  });

  it('a request refused after a token-limit reservation gives the reservation back', async () => {
    // Per-user TPM with estimation, then an org-wide quota that refuses: the TPM window must stay empty.
    setInbound(`
      <llm-token-limit counter-key="user" tokens-per-minute="100" estimate-prompt-tokens="true" remaining-tokens-header-name="x-left" />
      <llm-token-limit counter-key="org" token-quota="1" token-quota-period="Hourly" estimate-prompt-tokens="false" />`);
    backend.queue({ prompt: 1, completion: 1 });
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200); // quota now 2 > 1
    for (let i = 0; i < 3; i++) expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(403);
    gw.policies.set('apis/inference-api', apiPolicy('<llm-token-limit counter-key="user" tokens-per-minute="100" estimate-prompt-tokens="true" remaining-tokens-header-name="x-left" />'));
    backend.queue({ prompt: 1, completion: 1 });
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(200);
    // Only the two admitted requests' 2 + 2 tokens are in the window; the refused ones' 31-token estimates were released.
    expect(res.headers.get('x-left')).toBe('96');
  });

  it('two instances with the same counter key in one request do not refuse each other', async () => {
    setInbound(`
      <llm-token-limit counter-key="shared" tokens-per-minute="100" estimate-prompt-tokens="true" />
      <llm-token-limit counter-key="shared" tokens-per-minute="100" estimate-prompt-tokens="true" />`);
    backend.queue({ prompt: 30, completion: 30 });
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
    expect(backend.received).toHaveLength(1);
  });

  it('JObject.FromObject and JsonConvert.SerializeObject list the context model objects by their properties, in declaration order', async () => {
    const key = gw.keyFor('subscription1');
    setInbound(
      '<set-header name="x-model" exists-action="override"><value>@(string.Join(",", JObject.FromObject(context.Request).Properties().Select(p => p.Name)) + "|" + JsonConvert.SerializeObject(context.Response))</value></set-header>',
    );
    expect((await labPost(gw.url, key)).status).toBe(200);
    expect(backend.received[0]!.headers['x-model']).toBe('Body,Headers,IpAddress,MatchedParameters,Method,OriginalUrl,Url,Certificate,PrivateEndpointConnection|{"StatusCode":200,"StatusReason":"OK","Headers":[],"Body":null}');
  });

  it('the subscription key stays in the request, as APIM keeps it: policies read it, it reaches the backend unless a policy overrides it', async () => {
    const key = gw.keyFor('subscription1');
    setInbound('<set-header name="x-seen-key" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("api-key", "none"))</value></set-header>');
    await labPost(gw.url, key);
    expect(backend.received[0]!.headers['x-seen-key']).toBe(key);
    expect(backend.received[0]!.headers['api-key']).toBe(key);
    setInbound('<set-header name="api-key" exists-action="override"><value>backend-secret</value></set-header>');
    await labPost(gw.url, key);
    expect(backend.received[1]!.headers['api-key']).toBe('backend-secret');
  });

  it('gateway.stripSubscriptionKey removes the key (header and query parameter) before the pipeline', async () => {
    const config = httpBackendConfig(backend.url, apiPolicy('<set-header name="x-seen-key" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("api-key", "none") + "|" + context.Request.Url.Query.GetValueOrDefault("api-key", "none"))</value></set-header>'));
    config.gateway = { ...config.gateway, stripSubscriptionKey: true };
    const stripping = await startEmulator({ config });
    try {
      await labPost(stripping.url, stripping.keyFor('subscription1'));
      expect(backend.received[0]!.headers['x-seen-key']).toBe('none|none');
      expect(backend.received[0]!.headers['api-key']).toBeUndefined();
    } finally {
      await stripping.close();
    }
  });

  it('an int attribute expression out of range fails as an expression, not as a silent refusal', async () => {
    setInbound('<llm-token-limit counter-key="k" token-quota="@(-5)" token-quota-period="Hourly" estimate-prompt-tokens="false" />', {
      onError: '<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>',
    });
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(500);
    expect(res.headers.get('x-reason')).toBe('ExpressionValueEvaluationFailure');
  });

  it('a header value Node cannot send becomes a clean 500, and the gateway keeps serving', async () => {
    setInbound('', { outbound: '<set-header name="x-bad" exists-action="override"><value>@("line\\nbreak")</value></set-header>' });
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(500);
    expect(res.headers.get('x-bad')).toBeNull();
    expect((await res.json()).message).toBe('Internal server error');
    setInbound('');
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
  });
});
