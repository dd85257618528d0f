import { definePolicy } from './define.js';
import { targetsResponse, writeBodyText } from './shared/message-body.js';

/** `<set-body>text | @(expr)</set-body>`: the request body in inbound/backend, the response body in outbound/on-error. */
export const setBody = definePolicy({
  name: 'set-body',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    template: { kind: 'enum', values: ['liquid', 'none'], expressions: false },
    'xsi-nil': { kind: 'enum', values: ['blank', 'null'], expressions: false },
    'parse-date': { kind: 'bool', expressions: false },
  },
  compile(node, env) {
    const template = node.attributes.find((a) => a.name === 'template');
    if (template && template.value.toLowerCase() === 'liquid') {
      env.report('PolInvalidAttributeValue', template.valueSpan, [node.name, 'template', template.value, 'liquid templates are not emulated']);
      return undefined;
    }
    const text = env.text(node, { trim: false }) ?? { isExpression: false, constant: '', get: () => '' };
    return {
      run(ctx) {
        writeBodyText(ctx, targetsResponse(env.section, ctx), text.get(ctx));
      },
    };
  },
});
