import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { fakeManagedIdentityToken } from '../../../policy-engine/policies/shared/managed-identity-token.js';
import { apiPolicy } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { putPolicy } from '../../support/policy-control.js';
import { useScriptedGateway } from '../../support/scripted-gateway.js';

const COGNITIVE = 'https://cognitiveservices.azure.com';

function decode(token: string): { header: Record<string, unknown>; claims: Record<string, unknown>; signature: string } {
  const [header, claims, signature] = token.split('.');
  const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  return { header: json(header!), claims: json(claims!), signature: signature! };
}

const bearer = (value: string | string[] | undefined) => {
  expect(value).toMatch(/^Bearer [\w-]+\.[\w-]+\.$/);
  return (value as string).slice('Bearer '.length);
};

describe('authentication-managed-identity over HTTP', () => {
  const { backend, gw } = useScriptedGateway();
  beforeEach(async () => {
    await gw.reset();
    backend.received.length = 0;
  });
  const setApi = (xml: string) => gw.policies.set('apis/inference-api', xml);
  const call = (headers: Record<string, string> = {}) => labPost(gw.url, gw.keyFor('subscription1'), headers);
  const lastErrorHeader = `<set-header name="x-err" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason)</value></set-header>`;

  it('sets Authorization: Bearer <fake JWT> on the backend request, audience = resource (§10 #16)', async () => {
    setApi(apiPolicy(`<authentication-managed-identity resource="${COGNITIVE}" />`));
    const res = await call();
    expect(res.status).toBe(200);
    const token = bearer(backend.received[0]!.headers.authorization);
    const { header, claims, signature } = decode(token);
    expect(header).toEqual({ alg: 'none', typ: 'JWT' });
    expect(signature).toBe('');
    const iat = Math.floor(gw.clock.now() / 1000);
    expect(claims).toMatchObject({ aud: COGNITIVE, iat, nbf: iat, exp: iat + 3600 });
    expect(token).toBe(fakeManagedIdentityToken(COGNITIVE, gw.clock.now()));
  });

  it('output-token-variable-name stores the same token string; the lab then sets the header itself (§10 #16)', async () => {
    setApi(
      apiPolicy(
        `<authentication-managed-identity resource="${COGNITIVE}" output-token-variable-name="managed-id-access-token" ignore-error="false" />
         <set-variable name="had-header" value="@(context.Request.Headers.ContainsKey(&quot;Authorization&quot;))" />
         <set-header name="Authorization" exists-action="override"><value>@("Bearer " + (string)context.Variables["managed-id-access-token"])</value></set-header>`,
        {
          outbound: `<set-header name="x-token" exists-action="override"><value>@((string)context.Variables["managed-id-access-token"])</value></set-header>
                     <set-header name="x-had-header" exists-action="override"><value>@(context.Variables["had-header"].ToString())</value></set-header>`,
        },
      ),
    );
    const res = await call();
    expect(res.status).toBe(200);
    const token = res.headers.get('x-token')!;
    expect(decode(token).claims.aud).toBe(COGNITIVE);
    expect(bearer(backend.received[0]!.headers.authorization)).toBe(token);
    expect(res.headers.get('x-had-header')).toBe('False');
  });

  it("overrides the client's own Authorization header", async () => {
    setApi(apiPolicy(`<authentication-managed-identity resource="${COGNITIVE}" />`));
    await call({ authorization: 'Bearer client-token' });
    expect(bearer(backend.received[0]!.headers.authorization)).not.toBe('client-token');
  });

  it('resource and client-id accept expressions; a user-assigned client id appears as appid', async () => {
    const clientId = '0b8f2c3e-5d7a-4f1b-9c2d-3e4f5a6b7c8d';
    setApi(
      apiPolicy(
        `<set-variable name="client" value="${clientId}" />
         <authentication-managed-identity resource="@(&quot;https://&quot; + &quot;ml.azure.com&quot;)" client-id="@((string)context.Variables[&quot;client&quot;])" />`,
      ),
    );
    await call();
    const { claims } = decode(bearer(backend.received[0]!.headers.authorization));
    expect(claims).toMatchObject({ aud: 'https://ml.azure.com', appid: clientId, azp: clientId });
  });

  it('the token is cached per resource until shortly before it expires', async () => {
    setApi(apiPolicy(`<authentication-managed-identity resource="${COGNITIVE}" /><authentication-managed-identity resource="https://search.azure.com" output-token-variable-name="s" />`));
    await call();
    gw.clock.advance('30m');
    await call();
    gw.clock.advance('26m');
    await call();
    const tokens = backend.received.map((r) => bearer(r.headers.authorization));
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).not.toBe(tokens[0]);
    expect(decode(tokens[2]!).claims.iat).toBe(Math.floor(gw.clock.now() / 1000));
  });

  it('a token that cannot be acquired enters on-error; ignore-error="true" continues without a header', async () => {
    setApi(apiPolicy(`<authentication-managed-identity resource="${COGNITIVE}" client-id="not-a-guid" />`, { onError: lastErrorHeader }));
    const failed = await call();
    expect(failed.status).toBe(500);
    expect(failed.headers.get('x-err')).toBe('authentication-managed-identity|TokenAcquisitionFailure');
    expect(backend.received).toHaveLength(0);

    setApi(apiPolicy(`<authentication-managed-identity resource="@(&quot;&quot;)" ignore-error="true" />`, { onError: lastErrorHeader }));
    const ignored = await call();
    expect(ignored.status).toBe(200);
    expect(backend.received[0]!.headers.authorization).toBeUndefined();
  });
});

describe('authentication-managed-identity validation at load', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator();
  });
  afterAll(() => gw.close());
  const put = (xml: string) => putPolicy(gw.url, 'apis/inference-api', xml);

  it.each([
    ['a missing resource', '<inbound><authentication-managed-identity client-id="x" /></inbound>', 'POL3003', 'authentication-managed-identity'],
    ['an expression in output-token-variable-name', '<inbound><authentication-managed-identity resource="r" output-token-variable-name="@(&quot;t&quot;)" /></inbound>', 'POL3006', '@('],
    ['a non-boolean ignore-error', '<inbound><authentication-managed-identity resource="r" ignore-error="maybe" /></inbound>', 'POL3004', 'maybe'],
    ['the outbound section', '<outbound><authentication-managed-identity resource="r" /></outbound>', 'POL3007', 'authentication-managed-identity'],
    ['an unknown attribute', '<inbound><authentication-managed-identity resource="r" scope="x" /></inbound>', 'POL3005', 'scope'],
  ])('rejects %s with its code and line:column', async (_what, section, code, needle) => {
    const xml = `<policies>\n  ${section}\n</policies>`;
    const { status, body } = await put(xml);
    expect(status).toBe(400);
    expect(body.error.details[0]).toMatchObject({ code, line: 2, column: 3 + section.indexOf(needle) });
  });
});
