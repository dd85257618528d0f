import { definePolicy } from './define.js';
import { readBodyText, targetsResponse, writeBodyText } from './shared/message-body.js';

/** `<find-and-replace from="…" to="…"/>`: replaces every occurrence in the request body (inbound, backend) or the response body (outbound, on-error). */
export const findAndReplace = definePolicy({
  name: 'find-and-replace',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    from: { kind: 'string', required: true },
    to: { kind: 'string', required: true },
  },
  compile(node, env) {
    const from = env.attr(node, 'from', { kind: 'string', required: true });
    const to = env.attr(node, 'to', { kind: 'string', required: true });
    if (!from || !to) return undefined;
    return {
      async run(ctx) {
        const response = targetsResponse(env.section, ctx);
        const find = from.get(ctx);
        if (find === '') return;
        const text = await readBodyText(ctx, response);
        if (text.includes(find)) writeBodyText(ctx, response, text.split(find).join(to.get(ctx)));
      },
    };
  },
});
