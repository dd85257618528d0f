import { AuthorizationObject } from '../identity/types.js';
import { PolicyError } from '../pipeline/last-error.js';
import { definePolicy } from './define.js';
import { requireIdentity } from './shared/token-validation.js';

/**
 * `<get-authorization-context provider-id="…" authorization-id="…" context-variable-name="…"
 * [identity-type="managed|jwt"] [identity="…"] [ignore-error="false"]/>`: stores the `Authorization` object
 * (`AccessToken`, `Claims`) of a credential-manager connection in a variable. The emulator's connections are fake
 * credentials from the configuration (`identity.authorizations`: provider id, authorization id — `*` matches any —
 * access token, claims); no OAuth flow runs. An unknown connection, or `identity-type="jwt"` without an `identity`,
 * fails with 500 (→ on-error), or stores null with `ignore-error="true"` [INF: APIM's Reason/Message are not
 * documented].
 */
export const getAuthorizationContext = definePolicy({
  name: 'get-authorization-context',
  sections: ['inbound'],
  attributes: {
    'provider-id': { kind: 'string', required: true },
    'authorization-id': { kind: 'string', required: true },
    'context-variable-name': { kind: 'string', required: true },
    'identity-type': { kind: 'enum', values: ['managed', 'jwt'], default: 'managed' },
    identity: { kind: 'string' },
    'ignore-error': { kind: 'bool', default: false },
  },
  compile(node, env) {
    const provider = env.attr(node, 'provider-id', { kind: 'string', required: true });
    const authorization = env.attr(node, 'authorization-id', { kind: 'string', required: true });
    const variable = env.attr(node, 'context-variable-name', { kind: 'string', required: true });
    const identityType = env.attr(node, 'identity-type', { kind: 'enum', values: ['managed', 'jwt'], default: 'managed' });
    const identity = env.attr(node, 'identity', { kind: 'string' });
    const ignoreError = env.attr(node, 'ignore-error', { kind: 'bool', default: false });
    if (!provider || !authorization || !variable || !identityType || !ignoreError) return undefined;
    return {
      run(ctx) {
        const name = variable.get(ctx);
        const providerId = provider.get(ctx);
        const authorizationId = authorization.get(ctx);
        const problem =
          identityType.get(ctx) === 'jwt' && !(identity?.get(ctx).trim())
            ? "identity-type is 'jwt' but no identity token was given"
            : undefined;
        const credential = problem ? undefined : requireIdentity(ctx, 'get-authorization-context').authorizationContext(providerId, authorizationId);
        if (credential) {
          ctx.variables.set(name, new AuthorizationObject(credential.accessToken, credential.claims));
          return;
        }
        if (ignoreError.get(ctx)) {
          ctx.variables.set(name, null);
          return;
        }
        throw new PolicyError({
          source: 'get-authorization-context',
          reason: 'AuthorizationContextNotFound',
          message:
            problem ??
            `Connection '${authorizationId}' of credential provider '${providerId}' is not configured in the emulator; add it under identity.authorizations (providerId, authorizationId, accessToken).`,
        });
      },
    };
  },
});
