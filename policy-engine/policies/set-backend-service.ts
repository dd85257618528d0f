import { bicepPlaceholder, definePolicy, placeholderHint } from './define.js';
import { PolicyError } from '../pipeline/last-error.js';

/** `<set-backend-service base-url="…" | backend-id="…"/>`: where forward-request sends the request. */
export const setBackendService = definePolicy({
  name: 'set-backend-service',
  sections: ['inbound', 'backend'],
  attributes: {
    'base-url': { kind: 'string' },
    'backend-id': { kind: 'string' },
    'sf-resolve-condition': { kind: 'string' },
    'sf-service-instance-name': { kind: 'string' },
    'sf-listener-name': { kind: 'string' },
    'sf-partition-key': { kind: 'string' },
    'client-certificate-id': { kind: 'string' },
    'dapr-app-id': { kind: 'string' },
    'dapr-method': { kind: 'string' },
    'dapr-namespace': { kind: 'string' },
  },
  compile(node, env) {
    const baseUrl = env.attr(node, 'base-url', { kind: 'string' });
    const backendId = env.attr(node, 'backend-id', { kind: 'string' });
    const hasBase = node.attributes.some((a) => a.name === 'base-url');
    const hasId = node.attributes.some((a) => a.name === 'backend-id');
    if (hasBase === hasId) {
      env.report('PolAttributeConflict', node.nameSpan, [node.name, "exactly one of 'base-url' or 'backend-id' is required"]);
      return undefined;
    }
    if (backendId && !backendId.isExpression && !env.backendIds.has(backendId.constant!)) {
      const attr = node.attributes.find((a) => a.name === 'backend-id')!;
      const placeholder = bicepPlaceholder(backendId.constant!);
      if (placeholder) {
        env.report('PolBicepPlaceholder', attr.valueSpan, [node.name, 'backend-id', placeholder, placeholderHint(placeholder, 'foundry1')]);
        return undefined;
      }
      // Strict mode refuses the document; otherwise it loads and the request that reaches this policy gets BackendNotFound.
      env.report(env.options.strict ? 'PolUnknownBackend' : 'PolUnknownBackendLoose', attr.valueSpan, [backendId.constant!]);
      if (env.options.strict) return undefined;
    }
    if (backendId) {
      return {
        run(ctx) {
          const id = backendId.get(ctx);
          if (!ctx.services.backends.has(id)) {
            throw new PolicyError({ source: 'set-backend-service', reason: 'BackendNotFound', message: `Backend with id '${id}' could not be found.` });
          }
          ctx.backend = { backendId: id };
        },
      };
    }
    return {
      run(ctx) {
        const url = baseUrl!.get(ctx);
        ctx.backend = { baseUrl: url };
      },
    };
  },
});
