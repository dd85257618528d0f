import { definePolicy } from './define.js';
import { readBodyText, writeBodyText } from './shared/message-body.js';

/**
 * `<jsonp callback-parameter-name="cb"/>`: when the request's query has that parameter, the response body becomes
 * `callback(body)` (JavaScript); without it the response is left as it is.
 */
export const jsonp = definePolicy({
  name: 'jsonp',
  sections: ['outbound'],
  attributes: {
    'callback-parameter-name': { kind: 'string', required: true },
  },
  compile(node, env) {
    const parameter = env.attr(node, 'callback-parameter-name', { kind: 'string', required: true });
    if (!parameter) return undefined;
    return {
      async run(ctx) {
        const callback = ctx.request.originalUrl.searchParams.get(parameter.get(ctx));
        if (!callback) return;
        writeBodyText(ctx, true, `${callback}(${await readBodyText(ctx, true)})`);
        ctx.response!.headers.set('Content-Type', ['application/javascript; charset=utf-8']);
      },
    };
  },
});
