import { definePolicy } from './define.js';
import { CACHING_TYPES } from './cache-store-value.js';
import { valueCacheFor } from './shared/value-cache.js';

/**
 * `<cache-lookup-value key="…" variable-name="…" [default-value="…"] [caching-type="prefer-external|external|internal"]/>`:
 * reads a value stored by cache-store-value into a context variable. On a miss the variable gets `default-value`
 * (a literal is a string, an expression keeps its type), or null when there is none.
 * The emulator has one in-memory cache per engine: every caching-type uses it (no external cache is emulated).
 */
export const cacheLookupValue = definePolicy({
  name: 'cache-lookup-value',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    key: { kind: 'string', required: true },
    'variable-name': { kind: 'string', required: true, expressions: false },
    'default-value': { kind: 'string' },
    'caching-type': { kind: 'enum', values: CACHING_TYPES, default: 'prefer-external', expressions: false },
  },
  compile(node, env) {
    const key = env.attr(node, 'key', { kind: 'string', required: true });
    const variable = env.attr(node, 'variable-name', { kind: 'string', required: true, expressions: false });
    const cachingType = env.attr(node, 'caching-type', { kind: 'enum', values: CACHING_TYPES, default: 'prefer-external', expressions: false });
    const defaultAttr = node.attributes.find((a) => a.name === 'default-value');
    const defaultExpression = defaultAttr?.expression ? env.expression(defaultAttr) : undefined;
    if (!key || !variable || !cachingType || (defaultAttr?.expression && !defaultExpression)) return undefined;
    const name = variable.constant!;
    const literalDefault = defaultAttr && !defaultAttr.expression ? defaultAttr.value : null;
    return {
      run(ctx) {
        const hit = valueCacheFor(ctx.services).get(key.get(ctx), ctx.services.clock.now());
        if (hit.found) ctx.variables.set(name, hit.value);
        else ctx.variables.set(name, defaultExpression ? env.evaluate(defaultExpression, ctx) : literalDefault);
      },
    };
  },
});
