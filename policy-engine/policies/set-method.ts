import { PolicyError } from '../pipeline/last-error.js';
import { definePolicy } from './define.js';

/** An HTTP method token (RFC 9110 tchar). */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `<set-method>POST</set-method>` (or an expression): changes the HTTP method of the request sent to the backend. */
export const setMethod = definePolicy({
  name: 'set-method',
  sections: ['inbound', 'on-error'],
  attributes: {},
  compile(node, env) {
    const text = env.text(node);
    if (!text) {
      env.report('PolAttributeConflict', node.nameSpan, [node.name, 'the HTTP method is required as element text, e.g. <set-method>POST</set-method>']);
      return undefined;
    }
    if (!text.isExpression && !METHOD.test(text.constant!)) {
      env.report('PolInvalidAttributeValue', node.text!.span, [node.name, '(text)', text.constant!, 'expected an HTTP method such as GET or POST']);
      return undefined;
    }
    return {
      run(ctx) {
        const method = text.get(ctx).trim();
        if (!METHOD.test(method)) {
          throw new PolicyError({
            source: 'set-method',
            reason: 'ExpressionValueEvaluationFailure',
            message: `Expression evaluation failed. '${method}' is not a valid HTTP method.`,
          });
        }
        ctx.request.method = method.toUpperCase();
      },
    };
  },
});
