import { PolicyError } from '../pipeline/last-error.js';
import { definePolicy } from './define.js';
import { managedIdentityToken } from './shared/managed-identity-token.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `<authentication-managed-identity resource="…" [client-id="…"] [output-token-variable-name="…"] [ignore-error="false"]/>`:
 * obtains an access token for `resource` from the gateway's managed identity (system-assigned, or the user-assigned
 * identity `client-id`) and sets `Authorization: Bearer <token>` on the backend request, replacing any value; with
 * `output-token-variable-name` the token string is stored in that variable instead and no header is set (the labs
 * then set the header themselves). The emulator's token is a fake unsigned JWT (`alg: none`, `aud` = resource),
 * cached per (resource, client id) until shortly before its hour runs out.
 *
 * Token acquisition fails (→ on-error, or nothing happens with `ignore-error="true"`) when the resource is empty or
 * the client id is not a GUID: there is no identity to ask [INF: APIM's exact Reason/Message are not documented].
 */
export const authenticationManagedIdentity = definePolicy({
  name: 'authentication-managed-identity',
  sections: ['inbound'],
  attributes: {
    resource: { kind: 'string', required: true },
    'client-id': { kind: 'string' },
    'output-token-variable-name': { kind: 'string', expressions: false },
    'ignore-error': { kind: 'bool', default: false },
  },
  compile(node, env) {
    const resource = env.attr(node, 'resource', { kind: 'string', required: true });
    const clientId = env.attr(node, 'client-id', { kind: 'string' });
    const variable = env.attr(node, 'output-token-variable-name', { kind: 'string', expressions: false });
    const ignoreError = env.attr(node, 'ignore-error', { kind: 'bool', default: false });
    if (!resource || !ignoreError) return undefined;
    if (variable && variable.constant!.trim() === '') {
      const attr = node.attributes.find((a) => a.name === 'output-token-variable-name')!;
      env.report('PolInvalidAttributeValue', attr.valueSpan, [node.name, 'output-token-variable-name', attr.value, 'a variable name is required']);
      return undefined;
    }
    const variableName = variable?.constant;
    return {
      run(ctx) {
        const target = resource.get(ctx).trim();
        const client = clientId?.get(ctx).trim() || undefined;
        const problem =
          target === '' ? 'the resource is empty' : client !== undefined && !GUID.test(client) ? `no user-assigned identity has client id '${client}'` : undefined;
        if (problem) {
          if (ignoreError.get(ctx)) return;
          throw new PolicyError({
            source: 'authentication-managed-identity',
            reason: 'TokenAcquisitionFailure',
            message: `Unable to acquire a managed identity access token for resource '${target}': ${problem}.`,
          });
        }
        const token = managedIdentityToken(ctx.services, target, client);
        if (variableName !== undefined) ctx.variables.set(variableName, token);
        else ctx.request.headers.set('Authorization', [`Bearer ${token}`]);
      },
    };
  },
});
