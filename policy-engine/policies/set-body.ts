import { definePolicy } from './define.js';
import { compileLiquid, liquidBody, liquidContext, renderLiquid } from './shared/liquid.js';
import { readBodyText, targetsResponse, writeBodyText } from './shared/message-body.js';

/**
 * `<set-body>text | @(expr)</set-body>`: the request body in inbound/backend, the response body in outbound/on-error.
 * `template="liquid"`: the content is a Liquid template over `body` (the current body, JSON or XML by Content-Type)
 * and `context`; `parse-date` and `xsi-nil` shape how the body binds.
 */
export const setBody = definePolicy({
  name: 'set-body',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    template: { kind: 'enum', values: ['liquid', 'none'], expressions: false },
    'xsi-nil': { kind: 'enum', values: ['blank', 'null'], expressions: false },
    'parse-date': { kind: 'bool', expressions: false },
  },
  children: 'markup',
  compile(node, env) {
    const template = env.attr(node, 'template', { kind: 'enum', values: ['liquid', 'none'], expressions: false });
    const xsiNil = env.attr(node, 'xsi-nil', { kind: 'enum', values: ['blank', 'null'], expressions: false });
    const parseDate = env.attr(node, 'parse-date', { kind: 'bool', expressions: false });
    if (template?.constant?.toLowerCase() === 'liquid') {
      const parsed = compileLiquid(node, env);
      if (!parsed) return undefined;
      const options = { parseDate: parseDate?.constant ?? true, xsiNil: (xsiNil?.constant ?? 'blank') as 'blank' | 'null' };
      return {
        async run(ctx) {
          const response = targetsResponse(env.section, ctx);
          // return-response starts a new message: its templates see an empty body (as the reference warns).
          const text = ctx.buildingResponse ? '' : await readBodyText(ctx, response);
          const contentType = (response ? ctx.response?.headers.get('content-type') : ctx.request.headers.get('content-type'))?.join(', ');
          const body = liquidBody(text, contentType, options);
          writeBodyText(ctx, response, renderLiquid(parsed, { body, context: liquidContext(ctx) }, ctx.services.clock.now()));
        },
      };
    }
    // Literal XML content (`<set-body><root>…</root></set-body>`) is the body as written.
    const text = env.text(node, { trim: false }) ?? { isExpression: false, constant: '', get: () => '' };
    const markup = node.children.length > 0 && !node.text?.expression ? env.innerMarkup(node) : undefined;
    return {
      run(ctx) {
        writeBodyText(ctx, targetsResponse(env.section, ctx), markup ?? text.get(ctx));
      },
    };
  },
});
