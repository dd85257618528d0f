import { PolicyError } from '../pipeline/last-error.js';
import { definePolicy } from './define.js';
import { valueCacheFor } from './shared/value-cache.js';

export const CACHING_TYPES = ['prefer-external', 'external', 'internal'] as const;

/**
 * `<cache-store-value key="…" value="…" duration="seconds" [caching-type="…"]/>`: stores a value for `duration`
 * seconds on the injected clock. A literal value is stored as a string; an expression's value keeps its type
 * (objects are stored by reference: the emulator does not serialize them as an external cache would).
 */
export const cacheStoreValue = definePolicy({
  name: 'cache-store-value',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    key: { kind: 'string', required: true },
    value: { kind: 'string', required: true },
    duration: { kind: 'number', required: true, min: 1 },
    'caching-type': { kind: 'enum', values: CACHING_TYPES, default: 'prefer-external', expressions: false },
  },
  compile(node, env) {
    const key = env.attr(node, 'key', { kind: 'string', required: true });
    const duration = env.attr(node, 'duration', { kind: 'number', required: true, min: 1 });
    const cachingType = env.attr(node, 'caching-type', { kind: 'enum', values: CACHING_TYPES, default: 'prefer-external', expressions: false });
    const valueAttr = node.attributes.find((a) => a.name === 'value');
    if (!valueAttr) env.report('PolMissingAttribute', node.nameSpan, [node.name, 'value']);
    const valueExpression = valueAttr?.expression ? env.expression(valueAttr) : undefined;
    if (!key || !duration || !cachingType || !valueAttr || (valueAttr.expression && !valueExpression)) return undefined;
    const literal = valueAttr.value;
    return {
      run(ctx) {
        const seconds = duration.get(ctx);
        if (!(seconds > 0)) {
          throw new PolicyError({
            source: 'cache-store-value',
            reason: 'ExpressionValueEvaluationFailure',
            message: `Expression evaluation failed. Value '${seconds}' is not valid for attribute 'duration' of policy 'cache-store-value': must be a positive number of seconds.`,
          });
        }
        const value = valueExpression ? env.evaluate(valueExpression, ctx) : literal;
        const now = ctx.services.clock.now();
        valueCacheFor(ctx.services).set(key.get(ctx), value, now + Math.round(seconds * 1000));
      },
    };
  },
});
