import type { PolicyElement } from '../xml/model.js';
import { definePolicy, type CompileEnv } from './define.js';
import {
  applicableLimits,
  checkOncePerDefinition,
  checkScope,
  compileApiChildren,
  compileNames,
  enforceRateLimits,
  MAX_RATE_LIMIT_RENEWAL_SECONDS,
  RATE_NAME_ATTRIBUTES,
  subscriptionCounterBase,
  type RateWindow,
} from './shared/request-limit.js';

const NAME = 'rate-limit';
const CALLS = { kind: 'int', required: true, min: 1, expressions: false } as const;
const RENEWAL = { kind: 'int', required: true, min: 1, max: MAX_RATE_LIMIT_RENEWAL_SECONDS, expressions: false } as const;

/**
 * `<rate-limit calls renewal-period …><api name|id calls renewal-period><operation …/></api></rate-limit>`
 * (policies.md §7.1): per subscription, at most `calls` per sliding `renewal-period` (≤ 300 s); nested `<api>` and
 * `<operation>` limits apply independently. Inert without a subscription key. Product, API or operation scope,
 * once per policy definition. Exceeded → 429 as rate-limit-by-key, LastError Source `rate-limit`.
 */
export const rateLimit = definePolicy({
  name: NAME,
  sections: ['inbound'],
  attributes: { calls: CALLS, 'renewal-period': RENEWAL, ...RATE_NAME_ATTRIBUTES },
  children: ['api'],
  compile(node, env) {
    let valid = checkScope(node, env, ['product', 'api', 'operation']);
    valid = checkOncePerDefinition(node, env) && valid;
    const own = readWindow(node, env);
    const names = compileNames(node, env);
    const apis = compileApiChildren(node, env, ['calls', 'renewal-period'], (element) => readWindow(element, env));
    if (!valid || !own || !apis) return undefined;
    const scope = env.scope;
    return {
      run(ctx) {
        if (!ctx.subscription) return; // only applied when the API is called with a subscription key
        const checks = applicableLimits(ctx, subscriptionCounterBase(ctx, scope), own, apis).map(({ key, limit }) => ({ key, limit }));
        return enforceRateLimits(ctx, NAME, checks, { count: 1 }, names);
      },
    };
  },
});

function readWindow(element: PolicyElement, env: CompileEnv): RateWindow | undefined {
  const calls = env.attr(element, 'calls', CALLS);
  const renewal = env.attr(element, 'renewal-period', RENEWAL);
  if (!calls || !renewal) return undefined;
  return { calls: calls.constant!, periodMs: renewal.constant! * 1000 };
}
