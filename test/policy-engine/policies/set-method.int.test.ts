import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { putPolicy } from '../../support/policy-control.js';
import { useScriptedGateway } from '../../support/scripted-gateway.js';

describe('set-method over HTTP', () => {
  const { backend, gw } = useScriptedGateway();
  beforeEach(() => void (backend.received.length = 0));
  const setApi = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) => gw.policies.set('apis/inference-api', apiPolicy(inbound, sections));
  const call = () => labPost(gw.url, gw.keyFor('subscription1'));

  it('changes the method the backend receives; GET sends no body', async () => {
    setApi(`<set-method>GET</set-method>`);
    expect((await call()).status).toBe(200);
    expect(backend.received[0]!.method).toBe('GET');
    expect(backend.received[0]!.body).toBe('');
  });

  it('accepts an expression, and context.Request.Method sees the new method', async () => {
    setApi(`<set-method>@(context.Request.Headers.GetValueOrDefault("x-method", "put"))</set-method>
            <set-header name="x-seen" exists-action="override"><value>@(context.Request.Method)</value></set-header>`);
    await call();
    expect(backend.received[0]!.method).toBe('PUT');
    expect(backend.received[0]!.headers['x-seen']).toBe('PUT');
    expect(JSON.parse(backend.received[0]!.body).messages).toHaveLength(2);
  });

  it('an expression that yields no valid method fails with ExpressionValueEvaluationFailure', async () => {
    setApi(`<set-method>@("NOT A METHOD")</set-method>`, {
      onError: `<set-header name="x-err" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason)</value></set-header>`,
    });
    const res = await call();
    expect(res.status).toBe(500);
    expect(res.headers.get('x-err')).toBe('set-method|ExpressionValueEvaluationFailure');
    expect(backend.received).toHaveLength(0);
  });

  it.each([
    ['no method text', '<inbound><set-method /></inbound>', 'POL3012', 'set-method'],
    ['an invalid literal', '<inbound><set-method>NOT VALID</set-method></inbound>', 'POL3004', 'NOT VALID'],
    ['the outbound section', '<outbound><set-method>GET</set-method></outbound>', 'POL3007', 'set-method'],
  ])('rejects %s at load with its code and line:column', async (_what, section, code, needle) => {
    const { status, body } = await putPolicy(gw.url, 'apis/inference-api', `<policies>\n  ${section}\n</policies>`);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code, line: 2, column: 3 + section.indexOf(needle) });
  });
});
