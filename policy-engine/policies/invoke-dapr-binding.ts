import { definePolicy } from './define.js';
import { childElements, compileMessageContent, compileNamedValues, daprNoContent, publishMessage } from './shared/service-message.js';

/**
 * `<invoke-dapr-binding name operation ignore-error response-variable-name timeout template content-type>
 * <metadata><item key="…">…</item></metadata><data>…</data></invoke-dapr-binding>`: APIM POSTs
 * `{ data, metadata, operation }` to the Dapr sidecar's `/v1.0/bindings/{name}`. The emulator is that sidecar: the
 * invocation is kept in memory (GET /_emulator/messages/dapr-binding, cleared by reset) and the sidecar's answer
 * for an output binding without output data, 204 No Content, goes to `response-variable-name`.
 */
export const invokeDaprBinding = definePolicy({
  name: 'invoke-dapr-binding',
  sections: ['inbound', 'outbound', 'on-error'],
  partial: 'the emulator is the Dapr sidecar: invocations are kept (GET /_emulator/messages/dapr-binding) and it always answers 204, so timeout has nothing to wait for',
  attributes: {
    name: { kind: 'string', required: true },
    operation: { kind: 'string', expressions: false },
    'ignore-error': { kind: 'bool', expressions: false, default: false },
    'response-variable-name': { kind: 'string', expressions: false },
    timeout: { kind: 'int', min: 1, max: 240, default: 5 },
    template: { kind: 'enum', values: ['liquid'], expressions: false },
    'content-type': { kind: 'enum', values: ['application/json'], expressions: false },
  },
  children: ['metadata', 'data'],
  compile(node, env) {
    const name = env.attr(node, 'name', { kind: 'string', required: true });
    const operation = env.attr(node, 'operation', { kind: 'string', expressions: false });
    env.attr(node, 'ignore-error', { kind: 'bool', expressions: false });
    const variable = env.attr(node, 'response-variable-name', { kind: 'string', expressions: false });
    env.attr(node, 'timeout', { kind: 'int', min: 1, max: 240 });
    const template = env.attr(node, 'template', { kind: 'enum', values: ['liquid'], expressions: false });
    const contentType = env.attr(node, 'content-type', { kind: 'enum', values: ['application/json'], expressions: false });
    const children = childElements(node, ['metadata', 'data'], env);
    const metadata = compileNamedValues(node.name, children.get('metadata'), 'item', 'key', env);
    const data = compileMessageContent(children.get('data'), env, template !== undefined);
    if (!name || !data) return undefined;
    return {
      async run(ctx) {
        const items: Record<string, string> = {};
        for (const m of metadata) items[m.name] = m.value.get(ctx);
        const details: Record<string, string> = {};
        if (operation) details.operation = operation.constant!;
        if (contentType) details.contentType = contentType.constant!;
        publishMessage(ctx, { kind: 'dapr-binding', target: name.get(ctx), payload: await data(ctx), properties: items, details });
        if (variable) ctx.variables.set(variable.constant!, daprNoContent());
      },
    };
  },
});
