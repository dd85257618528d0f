import { beforeEach, describe, expect, it } from 'vitest';
import { apiPolicy } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { putPolicy } from '../../support/policy-control.js';
import { useScriptedGateway } from '../../support/scripted-gateway.js';

describe('mock-response over HTTP', () => {
  const { backend, gw } = useScriptedGateway();
  beforeEach(() => void (backend.received.length = 0));
  const setApi = (inbound: string, sections: Parameters<typeof apiPolicy>[1] = {}) => gw.policies.set('apis/inference-api', apiPolicy(inbound, sections));
  const call = () => labPost(gw.url, gw.keyFor('subscription1'));
  const outboundMarker = `<set-header name="x-out" exists-action="override"><value>ran</value></set-header>`;

  it('in inbound: 200 with an empty body by default, no backend call, outbound skipped', async () => {
    setApi(`<mock-response />`, { outbound: outboundMarker });
    const res = await call();
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(res.headers.get('x-out')).toBeNull();
    expect(backend.received).toHaveLength(0);
  });

  it('status-code and content-type: the status with its reason phrase and that Content-Type, no body (the API has no OpenAPI document)', async () => {
    setApi(`<mock-response status-code="404" content-type="application/json" />`);
    const res = await call();
    expect(res.status).toBe(404);
    expect(res.statusText).toBe('Not Found');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('');
    expect(backend.received).toHaveLength(0);
  });

  it('in outbound: replaces the backend response and stops the remaining outbound policies', async () => {
    gw.policies.set(
      'apis/inference-api',
      `<policies><inbound><base /><set-backend-service backend-id="backend1" /></inbound><backend><base /></backend>
       <outbound><base /><mock-response status-code="202" />${outboundMarker}</outbound></policies>`,
    );
    const res = await call();
    expect(backend.received).toHaveLength(1);
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    expect(res.headers.get('x-out')).toBeNull();
  });

  it('in on-error: answers instead of the error response', async () => {
    setApi(`<set-variable name="x" value="@(int.Parse(&quot;x&quot;))" />`, { onError: `<mock-response status-code="503" />` });
    const res = await call();
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('');
  });

  it('inside choose, only when the branch is taken', async () => {
    setApi(`<choose><when condition="@(context.Request.Headers.ContainsKey(&quot;x-mock&quot;))"><mock-response status-code="201" /></when></choose>`);
    expect((await labPost(gw.url, gw.keyFor('subscription1'), { 'x-mock': '1' })).status).toBe(201);
    expect(backend.received).toHaveLength(0);
    expect((await call()).status).toBe(200);
    expect(backend.received).toHaveLength(1);
  });

  it.each([
    ['an expression in status-code', '<inbound><mock-response status-code="@(200)" /></inbound>', 'POL3006', '@('],
    ['a status-code out of range', '<inbound><mock-response status-code="99" /></inbound>', 'POL3004', '99'],
    ['a non-numeric status-code', '<inbound><mock-response status-code="ok" /></inbound>', 'POL3004', 'ok'],
    ['the backend section', '<backend><mock-response /></backend>', 'POL3007', 'mock-response'],
    ['an unknown attribute', '<inbound><mock-response body="x" /></inbound>', 'POL3005', 'body'],
  ])('rejects %s at load with its code and line:column', async (_what, section, code, needle) => {
    const { status, body } = await putPolicy(gw.url, 'apis/inference-api', `<policies>\n  ${section}\n</policies>`);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code, line: 2, column: 3 + section.indexOf(needle) });
  });
});
