import { definePolicy } from './define.js';
import { childElements, compileMessageContent, compileNamedValues, publishMessage } from './shared/service-message.js';

/**
 * `<send-service-bus-message queue-name | topic-name namespace client-id><payload>…</payload>
 * <message-properties><message-property name="…">…</message-property></message-properties></send-service-bus-message>`:
 * sends a message to a Service Bus queue or topic. The emulator keeps it in memory instead (GET
 * /_emulator/messages/service-bus, cleared by reset) with its namespace, client id and properties; the pipeline
 * goes on at once, as APIM sends without waiting for a reply.
 */
export const sendServiceBusMessage = definePolicy({
  name: 'send-service-bus-message',
  sections: ['inbound', 'outbound', 'on-error'],
  partial: 'messages are kept in memory (GET /_emulator/messages/service-bus), not sent to Azure Service Bus',
  attributes: {
    'queue-name': { kind: 'string' },
    'topic-name': { kind: 'string' },
    namespace: { kind: 'string' },
    'client-id': { kind: 'string' },
  },
  children: ['payload', 'message-properties'],
  compile(node, env) {
    const queue = env.attr(node, 'queue-name', { kind: 'string' });
    const topic = env.attr(node, 'topic-name', { kind: 'string' });
    const namespace = env.attr(node, 'namespace', { kind: 'string' });
    const clientId = env.attr(node, 'client-id', { kind: 'string' });
    if (!queue === !topic) {
      env.report('PolAttributeConflict', node.nameSpan, [node.name, "specify exactly one of 'queue-name' and 'topic-name'."]);
      return undefined;
    }
    const children = childElements(node, ['payload', 'message-properties'], env);
    if (!children.has('payload')) {
      env.report('PolMissingChild', node.nameSpan, [node.name, 'payload']);
      return undefined;
    }
    const payload = compileMessageContent(children.get('payload'), env, false);
    const properties = compileNamedValues(node.name, children.get('message-properties'), 'message-property', 'name', env);
    if (!payload) return undefined;
    const entity = queue ? 'queue' : 'topic';
    const target = (queue ?? topic)!;
    return {
      async run(ctx) {
        const props: Record<string, string> = {};
        for (const p of properties) props[p.name] = p.value.get(ctx);
        const details: Record<string, string> = { entityType: entity };
        if (namespace) details.namespace = namespace.get(ctx);
        if (clientId) details.clientId = clientId.get(ctx);
        publishMessage(ctx, { kind: 'service-bus', target: target.get(ctx), payload: await payload(ctx), properties: props, details });
      },
    };
  },
});
