import { PolicyError, apimErrorBody } from '../pipeline/last-error.js';
import type { ConcurrencySlots, EngineServices } from '../pipeline/types.js';
import { definePolicy } from './define.js';

/** The 429 body when a key is full [INF: APIM documents the status only, not the body or LastError Reason]. */
export const CONCURRENCY_LIMIT_MESSAGE = 'Too many concurrent requests.';

/** In-memory limit-concurrency slots (one gateway: APIM does not share these counts across instances either). */
export function createMemoryConcurrencySlots(): ConcurrencySlots {
  const taken = new Map<string, number>();
  return {
    tryAcquire(key, max) {
      const n = taken.get(key) ?? 0;
      if (n >= max) return false;
      taken.set(key, n + 1);
      return true;
    },
    release(key) {
      const n = (taken.get(key) ?? 0) - 1;
      if (n > 0) taken.set(key, n);
      else taken.delete(key);
    },
    count: (key) => taken.get(key) ?? 0,
    clear: () => taken.clear(),
  };
}

const fallback = new WeakMap<EngineServices, ConcurrencySlots>();

/** The engine's slots (services.concurrency), or one set per services object when the engine was built without. */
export function concurrencySlotsFor(services: EngineServices): ConcurrencySlots {
  if (services.concurrency) return services.concurrency;
  let slots = fallback.get(services);
  if (!slots) fallback.set(services, (slots = createMemoryConcurrencySlots()));
  return slots;
}

/**
 * `<limit-concurrency key="…" max-count="N">…policies…</limit-concurrency>`: at most N requests run the enclosed
 * policies at once per key (a key may be shared by several policies). A request that finds the key full fails at
 * once with 429 (Source `limit-concurrency`, Reason `ConcurrencyLimitExceeded` [INF]) and on-error runs; it is not
 * queued. The slot is given back when the children finish, however they end: normally, by an error, by
 * return-response, or after the client disconnected (the children still run to their end, as forward-request
 * does). With `<forward-request buffer-response="false"/>` inside, the slot is freed when the headers arrive.
 */
export const limitConcurrency = definePolicy({
  name: 'limit-concurrency',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    key: { kind: 'string', required: true },
    'max-count': { kind: 'int', required: true, min: 1, expressions: false },
  },
  children: 'policies',
  compile(node, env) {
    const key = env.attr(node, 'key', { kind: 'string', required: true });
    const maxCount = env.attr(node, 'max-count', { kind: 'int', required: true, min: 1, expressions: false });
    const steps = env.compileSteps(node.children, env.path);
    if (!key || !maxCount) return undefined;
    const max = maxCount.constant!;
    return {
      async run(ctx) {
        const slots = concurrencySlotsFor(ctx.services);
        const k = key.get(ctx);
        if (!slots.tryAcquire(k, max)) {
          throw new PolicyError({
            source: 'limit-concurrency',
            reason: 'ConcurrencyLimitExceeded',
            message: `Concurrency limit of ${max} is exceeded.`,
            response: { statusCode: 429, body: apimErrorBody(429, CONCURRENCY_LIMIT_MESSAGE) },
          });
        }
        try {
          await ctx.runChildren(steps);
        } finally {
          slots.release(k);
        }
      },
    };
  },
});
