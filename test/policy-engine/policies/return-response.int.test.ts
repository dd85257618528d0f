import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { putPolicy } from '../../support/policy-control.js';
import { useScriptedGateway } from '../../support/scripted-gateway.js';

describe('return-response over HTTP (the reference examples and response-variable-name)', () => {
  const { backend, gw } = useScriptedGateway();
  beforeEach(() => void (backend.received.length = 0));
  const call = () => labPost(gw.url, gw.keyFor('subscription1'));
  const outboundMarker = `<set-header name="x-out" exists-action="override"><value>ran</value></set-header>`;

  it('the reference example: 401 with WWW-Authenticate and no body; backend and outbound skipped', async () => {
    gw.policies.set(
      'apis/inference-api',
      apiPolicy(
        `<return-response>
           <set-status code="401" reason="Unauthorized"/>
           <set-header name="WWW-Authenticate" exists-action="override">
              <value>Bearer error="invalid_token"</value>
           </set-header>
        </return-response>`,
        { outbound: outboundMarker },
      ),
    );
    const res = await call();
    expect(res.status).toBe(401);
    expect(res.statusText).toBe('Unauthorized');
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(res.headers.get('x-out')).toBeNull();
    expect(await res.text()).toBe('');
    expect(backend.received).toHaveLength(0);
  });

  it('response-variable-name: the stored response, changed by the children without changing the variable', async () => {
    gw.policies.set(
      'apis/inference-api',
      apiPolicy(`<invoke-dapr-binding name="b" response-variable-name="stored"><data>x</data></invoke-dapr-binding>
        <return-response response-variable-name="stored"><set-status code="202" reason="Accepted" /><set-header name="x-a" exists-action="override"><value>1</value></set-header><set-header name="x-copy" exists-action="override"><value>@(((IResponse)context.Variables["stored"]).Headers.ContainsKey("x-a").ToString())</value></set-header><set-body>queued</set-body></return-response>`),
    );
    const res = await call();
    expect(res.status).toBe(202);
    // x-a went to the returned response only: the stored response's headers are a copy.
    expect(res.headers.get('x-a')).toBe('1');
    expect(res.headers.get('x-copy')).toBe('False');
    expect(await res.text()).toBe('queued');
    expect(backend.received).toHaveLength(0);
  });

  it('a Liquid set-body inside return-response sees an empty body (the reference warns that the body is removed)', async () => {
    gw.policies.set('apis/inference-api', apiPolicy(`<return-response><set-body template="liquid">[{{body.messages.size}}]</set-body></return-response>`));
    const res = await call();
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('[]');
  });

  it('in on-error: answers with the error context', async () => {
    gw.policies.set(
      'apis/inference-api',
      apiPolicy(`<set-variable name="x" value="@(int.Parse(&quot;x&quot;))" />`, {
        onError: `<return-response><set-status code="503" reason="Unavailable" /><set-body>@(context.LastError.Reason)</set-body></return-response>`,
      }),
    );
    const res = await call();
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('ExpressionValueEvaluationFailure');
  });

  it.each([
    ['a child that is not set-status/set-header/set-body', '<return-response><forward-request /></return-response>', 'POL3010', 'forward-request'],
    ['an expression in response-variable-name', '<return-response response-variable-name="@(&quot;v&quot;)" />', 'POL3006', '@('],
  ])('refuses %s at load', async (_what, element, code, needle) => {
    const xml = `<policies>\n<inbound>${element}</inbound>\n</policies>`;
    const { status, body } = await putPolicy(gw.url, 'apis/inference-api', xml);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code, line: 2, column: 1 + xml.split('\n')[1]!.indexOf(needle) });
  });
});
