import { definePolicy } from './define.js';
import {
  compileFailureSettings,
  compileList,
  compileRequiredClaims,
  extractToken,
  fail,
  keySetFrom,
  requireIdentity,
  storeJwt,
  verifyToken,
} from './shared/token-validation.js';

/**
 * `<validate-azure-ad-token tenant-id="…" [header-name="Authorization"|query-parameter-name|token-value]
 * [failed-validation-httpcode="401"] [failed-validation-error-message] [output-token-variable-name]>` with
 * `<client-application-ids>`, `<backend-application-ids>`, `<audiences>`, `<required-claims>`: validates an Entra
 * token. The tenant's keys are the emulator's signing key (any tenant id or domain is mapped to the emulator;
 * nothing is fetched from login.microsoftonline.com) and its issuers are
 * `https://login.microsoftonline.com/{tenant}/v2.0` and `https://sts.windows.net/{tenant}/`.
 *
 * The client application is the token's `appid` (v1) or `azp` (v2) claim. Backend application ids are accepted as
 * audiences (also as `api://{id}`). Without audiences and backend application ids the audience is not checked
 * [INF: the docs leave it open]. The lifetime requires `exp` and allows no clock skew.
 */
export const validateAzureAdToken = definePolicy({
  name: 'validate-azure-ad-token',
  sections: ['inbound'],
  attributes: {
    'tenant-id': { kind: 'string', required: true },
    'header-name': { kind: 'string', default: 'Authorization' },
    'query-parameter-name': { kind: 'string' },
    'token-value': { kind: 'string' },
    'failed-validation-httpcode': { kind: 'int', default: 401, min: 100, max: 599 },
    'failed-validation-error-message': { kind: 'string' },
    'output-token-variable-name': { kind: 'string', expressions: false },
  },
  children: ['client-application-ids', 'backend-application-ids', 'audiences', 'required-claims'],
  compile(node, env) {
    const tenant = env.attr(node, 'tenant-id', { kind: 'string', required: true });
    const header = env.attr(node, 'header-name', { kind: 'string' });
    const query = env.attr(node, 'query-parameter-name', { kind: 'string' });
    const value = env.attr(node, 'token-value', { kind: 'string' });
    const given = node.attributes.filter((a) => ['header-name', 'query-parameter-name', 'token-value'].includes(a.name));
    if (given.length > 1) env.report('PolAttributeConflict', given[1]!.nameSpan, [node.name, 'use only one of header-name, query-parameter-name and token-value']);
    const failure = compileFailureSettings(env, node);
    const variable = env.attr(node, 'output-token-variable-name', { kind: 'string', expressions: false });
    const clientIds = compileList(env, node, 'client-application-ids', 'application-id');
    const backendIds = compileList(env, node, 'backend-application-ids', 'application-id');
    const audiences = compileList(env, node, 'audiences', 'audience');
    const requiredClaims = compileRequiredClaims(env, node);
    if (!tenant || !failure || given.length > 1) return undefined;
    const variableName = variable?.constant?.trim() || undefined;
    const policy = 'validate-azure-ad-token' as const;
    return {
      async run(ctx) {
        const token = extractToken(ctx, { header, query, value }, 'Authorization', () => fail(ctx, policy, failure, 'TokenNotPresent', 'JWT not present.'));
        if (!token) return fail(ctx, policy, failure, 'TokenNotPresent', 'JWT not present.');
        const source = requireIdentity(ctx, policy).tenant(tenant.get(ctx).trim());
        const backend = backendIds?.map((b) => b.get(ctx)) ?? [];
        const allowedAudiences = audiences || backendIds ? [...(audiences?.map((a) => a.get(ctx)) ?? []), ...backend, ...backend.map((b) => `api://${b}`)] : undefined;
        const verified = await verifyToken(ctx, token, {
          policy,
          failure,
          keys: [keySetFrom(source)],
          allowedIssuers: source.issuers,
          audiences: allowedAudiences,
          requireExpiration: true,
          requireSigned: true,
          clockSkewSeconds: 0,
          requiredClaims,
        });
        if (clientIds) {
          const allowed = clientIds.map((c) => c.get(ctx));
          const app = String(verified.payload.appid ?? verified.payload.azp ?? '');
          if (!allowed.includes(app)) {
            fail(ctx, policy, failure, 'TokenClaimValueNotAllowed', `Claim ${verified.payload.appid !== undefined ? 'appid' : 'azp'} value of ${app} is not allowed. Access denied.`);
          }
        }
        storeJwt(ctx, variableName, token, verified);
      },
    };
  },
});
