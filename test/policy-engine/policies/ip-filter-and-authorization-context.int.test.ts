import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';

const ON_ERROR = '<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>';

describe('ip-filter and get-authorization-context', () => {
  let backend: ScriptedBackend;
  let gw: RunningEmulator;
  const call = (headers: Record<string, string> = {}) => labPost(gw.url, gw.keyFor('subscription1'), headers);
  const use = (inbound: string) => gw.policies.set('apis/inference-api', apiPolicy(inbound, { onError: ON_ERROR }));

  beforeAll(async () => {
    backend = await startScriptedBackend();
    gw = await startEmulator({
      config: httpBackendConfig(backend.url, apiPolicy(''), {
        identity: {
          authorizations: [
            { providerId: 'github-01', authorizationId: 'auth-01', accessToken: 'gho_emulated_token', claims: { scope: 'repo' } },
            { providerId: 'servicenow', authorizationId: '*', accessToken: 'sn_any_connection' },
          ],
        },
      }),
    });
  });
  afterAll(async () => {
    await gw.close();
    await backend.close();
  });
  beforeEach(() => {
    backend.received.length = 0;
  });

  it('ip-filter allow lets listed callers through and refuses others with APIM’s 403', async () => {
    use('<ip-filter action="allow"><address>127.0.0.1</address><address-range from="10.0.0.0" to="10.0.0.255" /></ip-filter>');
    expect((await call()).status).toBe(200);
    use('<ip-filter action="allow"><address>13.66.201.169</address><address-range from="13.66.140.128" to="13.66.140.143" /></ip-filter>');
    const refused = await call();
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(await refused.text()).toBe('{ "statusCode": 403, "message": "Caller IP address 127.0.0.1 is not allowed. Access denied." }');
    expect(refused.headers.get('x-reason')).toBe('CallerIpNotAllowed');
    expect(backend.received).toHaveLength(1);
  });

  it('ip-filter forbid refuses listed callers (ranges, expressions) and lets others through', async () => {
    use('<ip-filter action="forbid"><address-range from="127.0.0.0" to="127.255.255.255" /></ip-filter>');
    const blocked = await call();
    expect(blocked.status).toBe(403);
    expect(await blocked.text()).toBe('{ "statusCode": 403, "message": "Caller IP address is blocked. Access denied." }');
    expect(blocked.headers.get('x-reason')).toBe('CallerIpBlocked');
    use('<ip-filter action="forbid"><address>@(context.Request.Headers.GetValueOrDefault("x-blocked-ip", "192.0.2.1"))</address></ip-filter>');
    expect((await call()).status).toBe(200);
    expect((await call({ 'x-blocked-ip': '127.0.0.1' })).status).toBe(403);
    expect(() => use('<ip-filter action="allow"><address>not-an-ip</address></ip-filter>')).toThrow("has an invalid value 'not-an-ip': not an IPv4 or IPv6 address");
    expect(() => use('<ip-filter action="allow" />')).toThrow("Policy 'ip-filter' requires at least one <address> or <address-range> element.");
  });

  it('get-authorization-context stores the configured credential for the lab’s Authorization header expression', async () => {
    use(`<get-authorization-context provider-id='@(context.Request.Headers["providerId"][0])' authorization-id='@(context.Request.Headers["authorizationId"][0])' context-variable-name='auth-context' identity-type='managed' ignore-error='false' />
    <set-header name="Authorization" exists-action="override"><value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value></set-header>
    <set-header name="x-scope" exists-action="override"><value>@(((Authorization)context.Variables["auth-context"]).Claims.GetValueOrDefault("scope", "none"))</value></set-header>`);
    expect((await call({ providerId: 'github-01', authorizationId: 'auth-01' })).status).toBe(200);
    expect(backend.received[0]!.headers.authorization).toBe('Bearer gho_emulated_token');
    expect(backend.received[0]!.headers['x-scope']).toBe('repo');
    expect((await call({ providerId: 'servicenow', authorizationId: 'whatever' })).status).toBe(200);
    expect(backend.received[1]!.headers.authorization).toBe('Bearer sn_any_connection');

    const unknown = await call({ providerId: 'github-01', authorizationId: 'missing' });
    expect(unknown.status).toBe(500);
    expect(unknown.headers.get('x-reason')).toBe('AuthorizationContextNotFound');
    expect(backend.received).toHaveLength(2);
  });

  it('get-authorization-context with ignore-error stores null', async () => {
    use(`<get-authorization-context provider-id="nope" authorization-id="nope" context-variable-name="auth" ignore-error="true" />
    <set-header name="x-has" exists-action="override"><value>@((context.Variables["auth"] == null).ToString())</value></set-header>`);
    expect((await call()).status).toBe(200);
    expect(backend.received[0]!.headers['x-has']).toBe('True');
  });
});
