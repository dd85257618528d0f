import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { startScriptedBackend } from '../../support/scripted-backend.js';
import { useGatewayPerTest } from '../../support/scripted-gateway.js';

/** find-and-replace, jsonp, authentication-basic and wait over HTTP against a scripted backend. */
describe('transformation and flow policies', () => {
  const env = useGatewayPerTest(startScriptedBackend);
  const backend = env.backend;
  beforeEach(() => {
    backend.received.length = 0;
  });
  const start = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) => env.start({ config: httpBackendConfig(backend.url, apiPolicy(inbound, sections)) });

  it('find-and-replace rewrites every occurrence in the request body (inbound) and the response body (outbound)', async () => {
    const g = await start('<find-and-replace from="time" to="TIME" />', { outbound: '<find-and-replace from="chatcmpl-test" to="@(&quot;id-&quot; + context.Subscription.Id)" />' });
    const res = await labPost(g.url, g.keyFor('subscription1'));
    expect(res.status).toBe(200);
    expect(JSON.parse(backend.received[0]!.body).messages[1].content).toBe('Can you tell me the TIME, please?');
    const body = await res.text();
    expect(JSON.parse(body).id).toBe('id-subscription1');
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
  });

  it('jsonp wraps the response in the callback named by the query parameter, and leaves it alone without one', async () => {
    const g = await start('', { outbound: '<jsonp callback-parameter-name="cb" />' });
    const key = g.keyFor('subscription1');
    const url = (query: string) => `${g.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview${query}`;
    const post = (query: string) => fetch(url(query), { method: 'POST', headers: { 'api-key': key, 'content-type': 'application/json' }, body: '{"messages":[{"role":"user","content":"hi"}]}' });
    const wrapped = await post('&cb=show');
    const text = await wrapped.text();
    expect(text).toMatch(/^show\(\{.*\}\)$/s);
    expect(JSON.parse(text.slice(5, -1)).object).toBe('chat.completion');
    expect(wrapped.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    const plain = await post('');
    expect((await plain.json()).object).toBe('chat.completion');
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('authentication-basic sends Authorization: Basic base64(username:password) to the backend', async () => {
    const g = await start('<authentication-basic username="svc" password="@(&quot;p@ss:&quot; + context.Subscription.Id)" />');
    expect((await labPost(g.url, g.keyFor('subscription1'))).status).toBe(200);
    expect(backend.received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('svc:p@ss:subscription1').toString('base64')}`);
  });

  it('wait runs its children and continues when all (default) or the first (for="any") finished', async () => {
    const branches = `<choose><when condition="@(true)"><set-variable name="a" value="1" /></when></choose><choose><when condition="@(true)"><set-variable name="b" value="2" /></when></choose>`;
    const g = await start(`<wait>${branches}</wait>`, { outbound: '<set-header name="x-ab" exists-action="override"><value>@((string)context.Variables["a"] + (string)context.Variables["b"])</value></set-header>' });
    expect((await labPost(g.url, g.keyFor('subscription1'))).headers.get('x-ab')).toBe('12');
    const g2 = await start(`<wait for="any">${branches}</wait>`, { outbound: '<set-header name="x-a" exists-action="override"><value>@(context.Variables.ContainsKey("a") ? "a" : "-")</value></set-header>' });
    expect((await labPost(g2.url, g2.keyFor('subscription1'))).headers.get('x-a')).toBe('a');
    await expect(start('<wait><set-header name="x" exists-action="override"><value>1</value></set-header></wait>')).rejects.toThrow(/Element <set-header> is not allowed inside policy 'wait'/);
  });
});
