import { PolicyError } from '../pipeline/last-error.js';
import type { RequestContext } from '../pipeline/types.js';
import { definePolicy, type ValueSource } from './define.js';
import {
  compileIncrement,
  compileNames,
  enforceRateLimits,
  MAX_RATE_LIMIT_RENEWAL_SECONDS,
  RATE_NAME_ATTRIBUTES,
  type RateWindow,
} from './shared/request-limit.js';

const NAME = 'rate-limit-by-key';

/**
 * `<rate-limit-by-key calls counter-key renewal-period increment-condition increment-count …/>` (policies.md §7.2):
 * at most `calls` per sliding `renewal-period` (≤ 300 s; a token bucket on v2 tiers) per key value, shared by every
 * scope using that key. Exceeded → 429 `Rate limit is exceeded. Try again in N seconds.` + Retry-After.
 * An expression in increment-condition or increment-count defers evaluation and increment until the backend answered.
 */
export const rateLimitByKey = definePolicy({
  name: NAME,
  sections: ['inbound'],
  attributes: {
    calls: { kind: 'int', required: true, min: 1 },
    'renewal-period': { kind: 'int', required: true, min: 1, max: MAX_RATE_LIMIT_RENEWAL_SECONDS },
    'counter-key': { kind: 'string', required: true },
    'increment-condition': { kind: 'bool' },
    'increment-count': { kind: 'int', min: 0 },
    ...RATE_NAME_ATTRIBUTES,
  },
  compile(node, env) {
    const calls = env.attr(node, 'calls', { kind: 'int', required: true, min: 1 });
    const renewal = env.attr(node, 'renewal-period', { kind: 'int', required: true, min: 1, max: MAX_RATE_LIMIT_RENEWAL_SECONDS });
    const counterKey = env.attr(node, 'counter-key', { kind: 'string', required: true });
    const condition = env.attr(node, 'increment-condition', { kind: 'bool' });
    const count = env.attr(node, 'increment-count', { kind: 'int', min: 0 });
    const names = compileNames(node, env);
    const has = (a: string) => node.attributes.some((x) => x.name === a);
    if (!calls || !renewal || !counterKey || (has('increment-condition') && !condition) || (has('increment-count') && !count)) return undefined;
    const increment = compileIncrement(condition, count, NAME);
    const window = windowOf(calls, renewal);
    return {
      run(ctx) {
        const key = `${ctx.services.gatewayId}:key:${counterKey.get(ctx)}`;
        return enforceRateLimits(ctx, NAME, [{ key, limit: window(ctx) }], increment, names);
      },
    };
  },
});

/** calls / renewal-period, validated again when they come from expressions. */
function windowOf(calls: ValueSource<number>, renewal: ValueSource<number>): (ctx: RequestContext) => RateWindow {
  if (!calls.isExpression && !renewal.isExpression) {
    const fixed = { calls: calls.constant!, periodMs: renewal.constant! * 1000 };
    return () => fixed;
  }
  return (ctx) => {
    const c = calls.get(ctx);
    const r = renewal.get(ctx);
    if (!Number.isInteger(c) || c < 1) throw invalid('calls', c);
    if (!Number.isInteger(r) || r < 1 || r > MAX_RATE_LIMIT_RENEWAL_SECONDS) throw invalid('renewal-period', r);
    return { calls: c, periodMs: r * 1000 };
  };
}

function invalid(attribute: string, value: number): PolicyError {
  return new PolicyError({
    source: NAME,
    reason: 'ExpressionValueEvaluationFailure',
    message: `Expression evaluation failed. Value '${value}' is not valid for attribute '${attribute}' of policy '${NAME}'.`,
  });
}
