import { definePolicy } from './define.js';
import { compileMessageContent, daprError, daprNoContent, publishMessage } from './shared/service-message.js';

const SOURCE = 'publish-to-dapr';

/**
 * `<publish-to-dapr pubsub-name topic ignore-error response-variable-name timeout template content-type>content</publish-to-dapr>`:
 * APIM POSTs the content to the Dapr sidecar's `/v1.0/publish/{pubsub-name}/{topic}`. The emulator is that sidecar:
 * the message is kept in memory (GET /_emulator/messages/dapr-pubsub, cleared by reset) and the sidecar's answer,
 * 204 No Content, goes to `response-variable-name`. Without `pubsub-name`, `topic` is `pubsub-name/topic-name`;
 * a topic without the pubsub part is the sidecar's error (on-error, unless `ignore-error`).
 */
export const publishToDapr = definePolicy({
  name: SOURCE,
  sections: ['inbound'],
  partial: 'the emulator is the Dapr sidecar: messages are kept (GET /_emulator/messages/dapr-pubsub) and it always answers 204, so timeout has nothing to wait for',
  attributes: {
    'pubsub-name': { kind: 'string' },
    topic: { kind: 'string', required: true },
    'ignore-error': { kind: 'bool', expressions: false, default: false },
    'response-variable-name': { kind: 'string', expressions: false },
    timeout: { kind: 'int', min: 1, max: 240, default: 5 },
    template: { kind: 'enum', values: ['liquid'], expressions: false },
    'content-type': { kind: 'enum', values: ['application/json'], expressions: false },
  },
  children: 'markup',
  compile(node, env) {
    const pubsub = env.attr(node, 'pubsub-name', { kind: 'string' });
    const topic = env.attr(node, 'topic', { kind: 'string', required: true });
    const ignoreError = env.attr(node, 'ignore-error', { kind: 'bool', expressions: false });
    const variable = env.attr(node, 'response-variable-name', { kind: 'string', expressions: false });
    env.attr(node, 'timeout', { kind: 'int', min: 1, max: 240 });
    const template = env.attr(node, 'template', { kind: 'enum', values: ['liquid'], expressions: false });
    const contentType = env.attr(node, 'content-type', { kind: 'enum', values: ['application/json'], expressions: false });
    if (!topic) return undefined;
    if (!pubsub && topic.constant !== undefined && !topic.constant.includes('/')) {
      env.report('PolAttributeConflict', node.nameSpan, [node.name, "without 'pubsub-name', 'topic' must be 'pubsub-name/topic-name'."]);
      return undefined;
    }
    const content = compileMessageContent(node, env, template !== undefined);
    if (!content) return undefined;
    const ignore = ignoreError?.constant ?? false;
    return {
      async run(ctx) {
        let name = pubsub?.get(ctx);
        let topicName = topic.get(ctx);
        if (name === undefined) {
          const slash = topicName.indexOf('/');
          if (slash <= 0) {
            if (ignore) return;
            throw daprError(SOURCE, `Topic '${topicName}' names no Pub/Sub component (expected 'pubsub-name/topic-name').`);
          }
          [name, topicName] = [topicName.slice(0, slash), topicName.slice(slash + 1)];
        }
        const details: Record<string, string> = { pubsubName: name, topic: topicName };
        if (contentType) details.contentType = contentType.constant!;
        publishMessage(ctx, { kind: 'dapr-pubsub', target: `${name}/${topicName}`, payload: await content(ctx), properties: {}, details });
        if (variable) ctx.variables.set(variable.constant!, daprNoContent());
      },
    };
  },
});
