import { definePolicy } from './define.js';
import { CACHING_TYPES } from './cache-store-value.js';
import { valueCacheFor } from './shared/value-cache.js';

/** `<cache-remove-value key="…" [caching-type="…"]/>`: removes a value stored by cache-store-value (absent is fine). */
export const cacheRemoveValue = definePolicy({
  name: 'cache-remove-value',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    key: { kind: 'string', required: true },
    'caching-type': { kind: 'enum', values: CACHING_TYPES, default: 'prefer-external', expressions: false },
  },
  compile(node, env) {
    const key = env.attr(node, 'key', { kind: 'string', required: true });
    const cachingType = env.attr(node, 'caching-type', { kind: 'enum', values: CACHING_TYPES, default: 'prefer-external', expressions: false });
    if (!key || !cachingType) return undefined;
    return {
      run(ctx) {
        valueCacheFor(ctx.services).delete(key.get(ctx));
      },
    };
  },
});
