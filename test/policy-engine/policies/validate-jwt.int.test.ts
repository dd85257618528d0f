import { createRemoteJWKSet, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mintTestToken } from '../../../emulator/testing/index.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';

// Fixtures of our own in the shapes of the AI-Gateway labs' policies (mcp-from-api, ai-foundry-private-mcp,
// access-controlling, ghcp-byok-foundry, mcp-prm-oauth).
const MCP_AUDIENCE = 'https://azure-api.net/authorization-manager';
const LAB_MESSAGE = 'Unauthorized. Access token is missing or invalid.';
const ON_ERROR = `<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
  <set-header name="x-error" exists-action="override"><value>@(context.LastError.Source + ": " + context.LastError.Message)</value></set-header>`;

describe('validate-jwt and validate-azure-ad-token', () => {
  let backend: ScriptedBackend;
  let gw: RunningEmulator;
  const key = () => gw.keyFor('subscription1');
  const call = (token?: string, headers: Record<string, string> = {}) =>
    labPost(gw.url, key(), { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), ...headers });
  const use = (inbound: string, sections: { onError?: string } = {}) =>
    gw.policies.set('apis/inference-api', apiPolicy(inbound, { onError: sections.onError ?? ON_ERROR }));

  beforeAll(async () => {
    backend = await startScriptedBackend();
    gw = await startEmulator({ config: httpBackendConfig(backend.url, apiPolicy('')) });
  });
  afterAll(async () => {
    await gw.close();
    await backend.close();
  });
  beforeEach(() => {
    backend.received.length = 0;
  });

  const mcpPolicy = (url: string) => `<validate-jwt header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="${LAB_MESSAGE}" output-token-variable-name="jwt-token">
      <openid-config url="${url}" />
      <audiences><audience>${MCP_AUDIENCE}</audience></audiences>
    </validate-jwt>
    <set-header name="x-user" exists-action="override"><value>@(((Jwt)context.Variables["jwt-token"]).Claims.GetValueOrDefault("email", "n/a"))</value></set-header>
    <set-header name="x-oid" exists-action="override"><value>@(((Jwt)context.Variables["jwt-token"]).Claims.GetValueOrDefault("oid", new string[]{""})[0])</value></set-header>`;

  it("serves an OpenID configuration and JWKS under /_emulator/identity that a JOSE client verifies minted tokens with", async () => {
    const doc = (await (await fetch(`${gw.url}/_emulator/identity/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
    expect(doc.issuer).toBe(`https://login.microsoftonline.com/${gw.emulator.identity.tenantId}/v2.0`);
    expect(doc.jwks_uri).toBe(`${gw.url}/_emulator/identity/discovery/v2.0/keys`);
    const token = await mintTestToken(gw, { audience: MCP_AUDIENCE });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(doc.jwks_uri)), {
      issuer: doc.issuer,
      audience: MCP_AUDIENCE,
      currentDate: new Date(gw.clock.now()),
    });
    expect(payload.tid).toBe(gw.emulator.identity.tenantId);
    const v1 = (await (await fetch(`${gw.url}/_emulator/identity/contoso.onmicrosoft.com/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(v1.issuer).toBe(`https://sts.windows.net/${gw.emulator.identity.tenantId}/`);
  });

  it('issues client-credentials tokens at the token endpoint the OpenID configuration names', async () => {
    const tenant = '0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6';
    const doc = (await (await fetch(`${gw.url}/_emulator/identity/${tenant}/v2.0/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
    expect(doc.token_endpoint).toBe(`${gw.url}/_emulator/identity/${tenant}/oauth2/v2.0/token`);
    const form = (fields: Record<string, string>) => fetch(doc.token_endpoint, { method: 'POST', body: new URLSearchParams(fields) });
    const res = await form({ grant_type: 'client_credentials', client_id: 'client-app-1', client_secret: 'anything', scope: 'api://backend-app/.default' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token_type: string; expires_in: number; access_token: string };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    use(`<validate-azure-ad-token tenant-id="${tenant}"><client-application-ids><application-id>client-app-1</application-id></client-application-ids>
      <backend-application-ids><application-id>backend-app</application-id></backend-application-ids></validate-azure-ad-token>`);
    expect((await call(body.access_token)).status).toBe(200);
    const refused = await form({ grant_type: 'password', client_id: 'c', scope: 'x/.default' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe('unsupported_grant_type');
  });

  it('lets a minted token through openid-config at the emulator and stores the Jwt for expressions', async () => {
    use(mcpPolicy(`${gw.url}/_emulator/identity/.well-known/openid-configuration`));
    const token = await mintTestToken(gw, { audience: MCP_AUDIENCE, subject: 'user-42', claims: { email: 'dev@contoso.example' } });
    const res = await call(token);
    expect(res.status).toBe(200);
    expect(backend.received).toHaveLength(1);
    expect(backend.received[0]!.headers['x-user']).toBe('dev@contoso.example');
    expect(backend.received[0]!.headers['x-oid']).toBe('user-42');
  });

  it("exposes APIM's Jwt members to expressions", async () => {
    use(`<validate-jwt header-name="Authorization" output-token-variable-name="jwt"><openid-config url="https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration" /></validate-jwt>
    <set-header name="x-jwt" exists-action="override"><value>@{
      var jwt = context.Variables.GetValueOrDefault<Jwt>("jwt");
      return string.Join("|", jwt.Subject, jwt.Issuer, jwt.Audiences.First(), jwt.Algorithm, jwt.ExpirationTime.Value.ToString("o"),
        jwt.Claims["roles"].Contains("Admin").ToString(), jwt.Claims.GetValueOrDefault("roles", ""), jwt.Claims.ContainsKey("email").ToString());
    }</value></set-header>`);
    const res = await call(await mintTestToken(gw, { subject: 'sub-1', audience: 'aud-1', roles: ['Reader', 'Admin'], expiresInSeconds: 120 }));
    expect(res.status).toBe(200);
    const exp = new Date(gw.clock.now() + 120_000).toISOString().replace('Z', '0000Z'); // .NET "o": 7 fraction digits
    expect(backend.received[0]!.headers['x-jwt']).toBe(
      `sub-1|https://login.microsoftonline.com/${gw.emulator.identity.tenantId}/v2.0|aud-1|RS256|${exp}|True|Reader,Admin|False`,
    );
  });

  it('maps login.microsoftonline.com/common to the emulator (the MCP labs’ policy) and never fetches it', async () => {
    use(mcpPolicy('https://login.microsoftonline.com/common/.well-known/openid-configuration'));
    expect((await call(await mintTestToken(gw, { audience: MCP_AUDIENCE }))).status).toBe(200);
    expect(backend.received[0]!.headers['x-user']).toBe('n/a');
    expect((await call(await mintTestToken(gw, { audience: MCP_AUDIENCE, version: '1.0', tenant: '11111111-2222-4333-8444-555555555555' }))).status).toBe(200);
  });

  it("answers a missing token, a wrong audience, an expired token with APIM's 401 and the configured message", async () => {
    use(mcpPolicy(`${gw.url}/_emulator/identity/.well-known/openid-configuration`));
    const missing = await call();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toBe('application/json');
    expect(await missing.text()).toBe(`{ "statusCode": 401, "message": "${LAB_MESSAGE}" }`);
    expect(missing.headers.get('x-reason')).toBe('TokenNotPresent');
    expect(missing.headers.get('x-error')).toBe('validate-jwt: JWT not present.');
    expect(missing.headers.get('www-authenticate')).toBeNull();

    const wrongAudience = await call(await mintTestToken(gw, { audience: 'api://someone-else' }));
    expect(wrongAudience.status).toBe(401);
    expect(await wrongAudience.text()).toBe(`{ "statusCode": 401, "message": "${LAB_MESSAGE}" }`);
    expect(wrongAudience.headers.get('x-reason')).toBe('TokenAudienceNotAllowed');
    expect(wrongAudience.headers.get('x-error')).toContain("Audiences: 'api://someone-else'");

    const token = await mintTestToken(gw, { audience: MCP_AUDIENCE, expiresInSeconds: 60 });
    expect((await call(token)).status).toBe(200);
    gw.clock.advance(60_000);
    const expired = await call(token);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('x-reason')).toBe('TokenExpired');
    expect(expired.headers.get('x-error')).toMatch(/^validate-jwt: Lifetime validation failed\. The token is expired\. .*Access denied\.$/);
    expect(backend.received).toHaveLength(1);
  });

  it('uses the default messages, failed-validation-httpcode, issuers and required claims', async () => {
    use(`<validate-jwt header-name="Authorization" failed-validation-httpcode="403" require-scheme="Bearer">
      <openid-config url="${gw.url}/_emulator/identity/.well-known/openid-configuration" />
      <issuers><issuer>https://issuer.contoso.example/</issuer></issuers>
      <required-claims>
        <claim name="roles" match="any"><value>Gateway.Caller</value><value>Gateway.Admin</value></claim>
        <claim name="scp" match="all" separator=" "><value>chat</value><value>embeddings</value></claim>
      </required-claims>
    </validate-jwt>`);
    const good = { issuer: 'https://issuer.contoso.example/', roles: ['Gateway.Caller'], scope: 'embeddings chat' };
    expect((await call(await mintTestToken(gw, good))).status).toBe(200);

    const missing = await call();
    expect(missing.status).toBe(403);
    expect(await missing.text()).toBe('{ "statusCode": 403, "message": "JWT not present." }');

    const wrongIssuer = await call(await mintTestToken(gw, { ...good, issuer: 'https://evil.example/' }));
    expect(wrongIssuer.status).toBe(403);
    expect(wrongIssuer.headers.get('x-reason')).toBe('TokenIssuerNotAllowed');

    const noRoles = await call(await mintTestToken(gw, { ...good, roles: undefined }));
    expect(noRoles.status).toBe(403);
    expect(await noRoles.text()).toBe('{ "statusCode": 403, "message": "JWT token is missing the following claims: roles. Access denied." }');
    expect(noRoles.headers.get('x-reason')).toBe('TokenClaimNotFound');

    const partialScope = await call(await mintTestToken(gw, { ...good, scope: 'chat' }));
    expect(partialScope.status).toBe(403);
    expect(await partialScope.text()).toBe('{ "statusCode": 403, "message": "Claim scp value of chat is not allowed. Access denied." }');

    const wrongScheme = await labPost(gw.url, key(), { Authorization: `Token ${await mintTestToken(gw, good)}` });
    expect(wrongScheme.status).toBe(403);
    expect(backend.received).toHaveLength(1);
  });

  it('refuses a token signed by another key, and accepts inline symmetric signing keys', async () => {
    use(`<validate-jwt header-name="Authorization">
      <openid-config url="https://login.microsoftonline.com/${gw.emulator.identity.tenantId}/v2.0/.well-known/openid-configuration" />
    </validate-jwt>`);
    const other = await generateKeyPair('RS256');
    const now = Math.floor(gw.clock.now() / 1000);
    const forged = await new SignJWT({ iss: gw.emulator.identity.issuerOf(gw.emulator.identity.tenantId), exp: now + 600 })
      .setProtectedHeader({ alg: 'RS256', kid: gw.emulator.identity.signingKey.kid })
      .sign(other.privateKey);
    const res = await call(forged);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-reason')).toBe('TokenSignatureInvalid');
    expect(await res.text()).toBe('{ "statusCode": 401, "message": "Signature validation failed. Access denied." }');
    expect((await call(await mintTestToken(gw))).status).toBe(200);

    const secret = Buffer.from('a-32-byte-secret-for-hs256-tests!');
    use(`<validate-jwt header-name="x-token" require-expiration-time="false">
      <issuer-signing-keys><key>${secret.toString('base64')}</key></issuer-signing-keys>
      <audiences><audience>@(context.Request.OriginalUrl.Host)</audience></audiences>
    </validate-jwt>`);
    const host = new URL(gw.url).hostname; // context.Request.OriginalUrl.Host has no port
    const hs = await new SignJWT({ aud: host }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    const hsOk = await call(undefined, { 'x-token': hs });
    expect(hsOk.headers.get('x-error')).toBeNull();
    expect(hsOk.status).toBe(200);
    const hsWrong = await new SignJWT({ aud: host }).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from('another-secret-another-secret-!!'));
    expect((await call(undefined, { 'x-token': hsWrong })).headers.get('x-reason')).toBe('TokenSignatureInvalid');
  });

  it('names an openid-config URL the emulator does not answer for instead of fetching it', async () => {
    use(`<validate-jwt header-name="Authorization"><openid-config url="https://idp.contoso.example/.well-known/openid-configuration" /></validate-jwt>`);
    const res = await call(await mintTestToken(gw));
    expect(res.status).toBe(401);
    expect(res.headers.get('x-reason')).toBe('TokenSignatureKeyNotFound');
    expect(res.headers.get('x-error')).toContain("'https://idp.contoso.example/.well-known/openid-configuration' is not emulated");
  });

  it('refuses what it does not emulate at load, naming it', () => {
    expect(() => use('<validate-jwt><audiences><audience>x</audience></audiences></validate-jwt>')).toThrow(
      "Policy 'validate-jwt' requires attribute 'header-name, query-parameter-name or token-value'.",
    );
    expect(() => use('<validate-jwt header-name="Authorization"><issuer-signing-keys><key certificate-id="my-cert" /></issuer-signing-keys></validate-jwt>')).toThrow(
      'certificates are not emulated',
    );
    expect(() => use('<validate-azure-ad-token><audiences><audience>x</audience></audiences></validate-azure-ad-token>')).toThrow(
      "Policy 'validate-azure-ad-token' requires attribute 'tenant-id'.",
    );
  });

  it('lets an on-error handler rewrite the 401 as the mcp-prm-oauth lab does', async () => {
    use(
      `<validate-azure-ad-token tenant-id="${gw.emulator.identity.tenantId}" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized">
        <audiences><audience>mcp-client-id</audience></audiences>
      </validate-azure-ad-token>`,
      {
        onError: `<choose><when condition="@(context.Response.StatusCode == 401)"><return-response>
          <set-status code="401" reason="Unauthorized" />
          <set-header name="WWW-Authenticate" exists-action="override"><value>Bearer error="invalid_token", resource_metadata="https://gw.example/.well-known/oauth-protected-resource"</value></set-header>
        </return-response></when></choose>`,
      },
    );
    const res = await call(await mintTestToken(gw, { audience: 'another-client' }));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", resource_metadata="https://gw.example/.well-known/oauth-protected-resource"');
    expect((await call(await mintTestToken(gw, { audience: 'mcp-client-id' }))).status).toBe(200);
  });

  it('validate-azure-ad-token checks the tenant, client application ids and audiences', async () => {
    const tenant = '0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6';
    use(`<validate-azure-ad-token tenant-id="${tenant}" output-token-variable-name="jwt">
        <client-application-ids><application-id>client-app-1</application-id></client-application-ids>
      </validate-azure-ad-token>
      <set-header name="x-app" exists-action="override"><value>@(((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("azp", "?"))</value></set-header>`);
    const ok = await call(await mintTestToken(gw, { tenant, clientId: 'client-app-1' }));
    expect(ok.status).toBe(200);
    expect(backend.received[0]!.headers['x-app']).toBe('client-app-1');
    expect((await call(await mintTestToken(gw, { tenant, clientId: 'client-app-1', version: '1.0' }))).status).toBe(200);

    const otherApp = await call(await mintTestToken(gw, { tenant, clientId: 'client-app-2' }));
    expect(otherApp.status).toBe(401);
    expect(await otherApp.text()).toBe('{ "statusCode": 401, "message": "Claim azp value of client-app-2 is not allowed. Access denied." }');
    const otherTenant = await call(await mintTestToken(gw, { clientId: 'client-app-1' }));
    expect(otherTenant.status).toBe(401);
    expect(otherTenant.headers.get('x-reason')).toBe('TokenIssuerNotAllowed');
    expect((await call()).headers.get('x-reason')).toBe('TokenNotPresent');

    use(`<validate-azure-ad-token tenant-id="contoso.onmicrosoft.com" failed-validation-error-message="Unauthorized. A valid Entra token is required.">
        <audiences><audience>https://cognitiveservices.azure.com</audience></audiences>
      </validate-azure-ad-token>`);
    expect((await call(await mintTestToken(gw, { audience: 'https://cognitiveservices.azure.com' }))).status).toBe(200);
    const wrongAudience = await call(await mintTestToken(gw, { audience: 'https://management.azure.com/' }));
    expect(wrongAudience.status).toBe(401);
    expect(await wrongAudience.text()).toBe('{ "statusCode": 401, "message": "Unauthorized. A valid Entra token is required." }');
    expect(wrongAudience.headers.get('x-reason')).toBe('TokenAudienceNotAllowed');
  });
});

describe('validate-jwt with identity.wwwAuthenticateOnFailure', () => {
  it('adds WWW-Authenticate: Bearer error="invalid_token" to its 401s (and not to other codes)', async () => {
    const backend = await startScriptedBackend();
    const policy = (code: number) =>
      apiPolicy(`<validate-jwt header-name="Authorization" failed-validation-httpcode="${code}"><openid-config url="https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration" /></validate-jwt>`);
    const gw = await startEmulator({ config: httpBackendConfig(backend.url, policy(401), { identity: { wwwAuthenticateOnFailure: true } }) });
    try {
      const res = await labPost(gw.url, gw.keyFor('subscription1'));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(await res.text()).toBe('{ "statusCode": 401, "message": "JWT not present." }');
      gw.policies.set('apis/inference-api', policy(403));
      const forbidden = await labPost(gw.url, gw.keyFor('subscription1'));
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers.get('www-authenticate')).toBeNull();
    } finally {
      await gw.close();
      await backend.close();
    }
  });
});
