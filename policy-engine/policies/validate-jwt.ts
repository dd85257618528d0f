import { definePolicy } from './define.js';
import {
  compileFailureSettings,
  compileList,
  compileRequiredClaims,
  compileSigningKeys,
  extractToken,
  fail,
  keySetFrom,
  requireIdentity,
  storeJwt,
  verifyToken,
  type VerificationKey,
} from './shared/token-validation.js';

/**
 * `<validate-jwt header-name|query-parameter-name|token-value="…" [failed-validation-httpcode="401"]
 * [failed-validation-error-message] [require-expiration-time] [require-scheme] [require-signed-tokens] [clock-skew]
 * [output-token-variable-name]>` with `<openid-config url/>`, `<issuer-signing-keys>`, `<audiences>`, `<issuers>`,
 * `<required-claims>`: refuses the request unless the token is present, signed by a known key, current, from an
 * allowed issuer, for an allowed audience and carries the required claims.
 *
 * OpenID configuration URLs are never fetched: the emulator's identity service answers for
 * login.microsoftonline.com, sts.windows.net and its own `/_emulator/identity/` URLs (its signing key) and for
 * URLs configured under `identity.openIdConfigurations`; another URL fails the request with
 * TokenSignatureKeyNotFound naming it. `decryption-keys` and `certificate-id` keys are not emulated (refused at load).
 */
export const validateJwt = definePolicy({
  name: 'validate-jwt',
  sections: ['inbound'],
  attributes: {
    'header-name': { kind: 'string' },
    'query-parameter-name': { kind: 'string' },
    'token-value': { kind: 'string' },
    'failed-validation-httpcode': { kind: 'int', default: 401, min: 100, max: 599 },
    'failed-validation-error-message': { kind: 'string' },
    'require-expiration-time': { kind: 'bool', default: true },
    'require-scheme': { kind: 'string' },
    'require-signed-tokens': { kind: 'bool', default: true },
    'clock-skew': { kind: 'int', default: 0, min: 0 },
    'output-token-variable-name': { kind: 'string', expressions: false },
  },
  children: ['openid-config', 'issuer-signing-keys', 'decryption-keys', 'audiences', 'issuers', 'required-claims'],
  compile(node, env) {
    const header = env.attr(node, 'header-name', { kind: 'string' });
    const query = env.attr(node, 'query-parameter-name', { kind: 'string' });
    const value = env.attr(node, 'token-value', { kind: 'string' });
    const sources = [header, query, value].filter((s) => s !== undefined).length;
    const given = node.attributes.filter((a) => ['header-name', 'query-parameter-name', 'token-value'].includes(a.name));
    if (given.length === 0) env.report('PolMissingAttribute', node.nameSpan, [node.name, 'header-name, query-parameter-name or token-value']);
    if (given.length > 1) env.report('PolAttributeConflict', given[1]!.nameSpan, [node.name, 'use only one of header-name, query-parameter-name and token-value']);
    const failure = compileFailureSettings(env, node);
    const requireExpiration = env.attr(node, 'require-expiration-time', { kind: 'bool', default: true });
    const scheme = env.attr(node, 'require-scheme', { kind: 'string' });
    const requireSigned = env.attr(node, 'require-signed-tokens', { kind: 'bool', default: true });
    const skew = env.attr(node, 'clock-skew', { kind: 'int', default: 0, min: 0 });
    const variable = env.attr(node, 'output-token-variable-name', { kind: 'string', expressions: false });
    const decryption = node.children.find((c) => c.name === 'decryption-keys');
    if (decryption) env.report('PolInvalidChild', decryption.nameSpan, [node.name, 'decryption-keys (encrypted tokens are not emulated)']);
    const openIdUrls: string[] = [];
    for (const config of node.children.filter((c) => c.name === 'openid-config')) {
      for (const a of config.attributes) if (a.name !== 'url' && a.name !== 'validate-connectivity') env.report('PolUnknownAttribute', a.nameSpan, ['openid-config', a.name]);
      const url = env.attr(config, 'url', { kind: 'string', required: true, expressions: false });
      if (url) openIdUrls.push(url.constant!.trim());
    }
    const signingKeys = compileSigningKeys(env, node);
    const audiences = compileList(env, node, 'audiences', 'audience');
    const issuers = compileList(env, node, 'issuers', 'issuer');
    const requiredClaims = compileRequiredClaims(env, node);
    if (given.length !== 1 || sources !== 1 || !failure || !requireExpiration || !requireSigned || !skew || !signingKeys || decryption) return undefined;
    if (variable && variable.constant!.trim() === '') return undefined;
    const variableName = variable?.constant;
    const policy = 'validate-jwt' as const;
    return {
      async run(ctx) {
        const token = extractToken(ctx, { header, query, value, scheme }, undefined, () =>
          fail(ctx, policy, failure, 'TokenSchemeNotFound', `Authorization header scheme is not '${scheme!.get(ctx)}'. Access denied.`),
        );
        if (!token) return fail(ctx, policy, failure, 'TokenNotPresent', 'JWT not present.');
        const keys: VerificationKey[] = [];
        const allowedIssuers = (issuers ?? []).map((i) => i.get(ctx));
        if (openIdUrls.length > 0) {
          const identity = requireIdentity(ctx, policy);
          for (const url of openIdUrls) {
            const source = identity.openIdConfiguration(url);
            if (!source) {
              return fail(ctx, policy, failure, 'TokenSignatureKeyNotFound',
                `Signature validation failed: the OpenID configuration '${url}' is not emulated (the emulator never fetches it); point openid-config at the emulator's /_emulator/identity/.well-known/openid-configuration, login.microsoftonline.com, or list the URL under identity.openIdConfigurations. Access denied.`);
            }
            keys.push(keySetFrom(source));
            // The configuration's issuer is accepted when the policy lists none of its own.
            if (!issuers) allowedIssuers.push(...source.issuers);
          }
        }
        for (const key of signingKeys) {
          const k = key(ctx);
          if (k) keys.push(k);
        }
        const verified = await verifyToken(ctx, token, {
          policy,
          failure,
          keys,
          allowedIssuers,
          audiences: audiences?.map((a) => a.get(ctx)),
          requireExpiration: requireExpiration.get(ctx),
          requireSigned: requireSigned.get(ctx),
          clockSkewSeconds: skew.get(ctx),
          requiredClaims,
        });
        storeJwt(ctx, variableName, token, verified);
      },
    };
  },
});
