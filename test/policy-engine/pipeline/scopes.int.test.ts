import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';
import { httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';

/** Scope composition (<base/>), error flow and the core policies, observed at a real HTTP backend. */
describe('pipeline composition across scopes', () => {
  let backend: ScriptedBackend;
  let gw: RunningEmulator;
  const global = `<policies><inbound><set-header name="x-order" exists-action="append"><value>global</value></set-header></inbound>
    <backend><forward-request /></backend><outbound /><on-error /></policies>`;
  beforeAll(async () => {
    backend = await startScriptedBackend();
    gw = await startEmulator({ config: { ...httpBackendConfig(backend.url, ''), globalPolicy: global } });
  });
  afterAll(async () => {
    await gw.close();
    await backend.close();
  });
  const setApi = (xml: string) => gw.emulator.setPolicy({ kind: 'api', apiId: 'inference-api' }, xml);
  const setOp = (xml: string) => gw.emulator.setPolicy({ kind: 'operation', apiId: 'inference-api', operationId: 'chatcompletions-create' }, xml);
  const call = async () => {
    backend.received.length = 0;
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    return { res, seen: backend.received[0] };
  };
  const api = (inbound: string, rest = '') => `<policies><inbound>${inbound}</inbound>${rest}</policies>`;
  const header = (v: string) => `<set-header name="x-order" exists-action="append"><value>${v}</value></set-header>`;

  it('splices <base/> where it stands: API before base runs before global', async () => {
    setApi(api(`${header('api-before')}<base /><set-backend-service backend-id="backend1" />${header('api-after')}`));
    setOp(api(`<base />${header('operation')}`));
    const { seen } = await call();
    expect(seen!.headers['x-order']).toBe('api-before, global, api-after, operation');
  });

  it('drops inherited policies when <base/> is missing', async () => {
    setApi(api(`<set-backend-service backend-id="backend1" />${header('api')}`));
    setOp(api(`<base />`));
    expect((await call()).seen!.headers['x-order']).toBe('api');
  });

  it('an operation backend section without base and without forward-request never calls the backend', async () => {
    setApi(api(`<base /><set-backend-service backend-id="backend1" />`));
    setOp(api('<base />', `<backend /><outbound><set-header name="x-out" exists-action="override"><value>ran</value></set-header></outbound>`));
    const { res, seen } = await call();
    expect(seen).toBeUndefined();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-out')).toBe('ran');
  });

  it('return-response ends inbound: status, headers and body, no backend call, outbound skipped', async () => {
    setApi(
      api(
        `<base /><return-response><set-status code="418" reason="I'm a teapot" /><set-header name="x-r" exists-action="override"><value>@("r" + 1)</value></set-header><set-body>short and stout</set-body></return-response>`,
        `<outbound><set-header name="x-out" exists-action="override"><value>ran</value></set-header></outbound>`,
      ),
    );
    setOp(api('<base />'));
    const { res, seen } = await call();
    expect(seen).toBeUndefined();
    expect(res.status).toBe(418);
    expect(res.headers.get('x-r')).toBe('r1');
    expect(res.headers.get('x-out')).toBeNull();
    expect(await res.text()).toBe('short and stout');
  });

  it('choose runs only the first true branch; otherwise when none is true', async () => {
    setApi(
      api(`<base /><set-backend-service backend-id="backend1" />
        <choose>
          <when condition="@(context.Subscription.Id == &quot;subscription1&quot;)">${header('first')}</when>
          <when condition="@(true)">${header('second')}</when>
          <otherwise>${header('otherwise')}</otherwise>
        </choose>`),
    );
    expect((await call()).seen!.headers['x-order']).toBe('global, first');
  });

  it('an expression that throws enters on-error with ExpressionValueEvaluationFailure; without a handler the client gets 500', async () => {
    setApi(
      api(
        `<base /><set-backend-service backend-id="backend1" /><set-variable id="boom" name="v" value="@(int.Parse(&quot;x&quot;))" />`,
        `<on-error><set-header name="x-err" exists-action="override"><value>@(context.LastError.Reason + "|" + context.LastError.Section + "|" + context.LastError.PolicyId + "|" + context.LastError.Path)</value></set-header></on-error>`,
      ),
    );
    const { res, seen } = await call();
    expect(seen).toBeUndefined();
    expect(res.status).toBe(500);
    expect(res.headers.get('x-err')).toBe('ExpressionValueEvaluationFailure|inbound|boom|set-variable[1]');
    const body = await res.json();
    expect(body.statusCode).toBe(500);
    expect(body.message).toBe('Internal server error');
  });

  it('set-header exists-action skip keeps the client value, delete removes it', async () => {
    setApi(
      api(`<base /><set-backend-service backend-id="backend1" />
      <set-header name="x-user-id" exists-action="skip"><value>policy</value></set-header>
      <set-header name="x-drop" exists-action="delete" />`),
    );
    backend.received.length = 0;
    await labPost(gw.url, gw.keyFor('subscription1'), { 'x-user-id': 'alex', 'x-drop': 'yes' });
    expect(backend.received[0]!.headers['x-user-id']).toBe('alex');
    expect(backend.received[0]!.headers['x-drop']).toBeUndefined();
    expect(backend.received[0]!.headers['api-key']).toBe(gw.keyFor('subscription1')); // APIM keeps the subscription key
  });
});
