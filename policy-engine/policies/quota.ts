import type { PolicyElement } from '../xml/model.js';
import { definePolicy, type CompileEnv } from './define.js';
import {
  applicableLimits,
  checkOncePerDefinition,
  checkScope,
  compileApiChildren,
  DEFAULT_FIRST_PERIOD_START,
  enforceQuotas,
  hasAttribute,
  subscriptionCounterBase,
  type QuotaLimit,
} from './shared/request-limit.js';

const NAME = 'quota';
const CALLS = { kind: 'int', min: 1, expressions: false } as const;
const BANDWIDTH = { kind: 'int', min: 1, expressions: false } as const;
const RENEWAL = { kind: 'int', required: true, min: 0, expressions: false } as const;

/**
 * `<quota calls bandwidth renewal-period><api name|id …><operation …/></api></quota>` (policies.md §7.3): per
 * subscription, a call-volume and/or bandwidth (KB) quota in fixed windows of `renewal-period` seconds (0 = never
 * resets) counted from the subscription's start. Product scope only, once per policy definition, inert without a
 * subscription key. Exceeded → 403 `Out of call volume quota. Quota will be replenished in hh:mm:ss.` + Retry-After.
 */
export const quota = definePolicy({
  name: NAME,
  sections: ['inbound'],
  attributes: { calls: CALLS, bandwidth: BANDWIDTH, 'renewal-period': RENEWAL },
  children: ['api'],
  compile(node, env) {
    let valid = checkScope(node, env, ['product']);
    valid = checkOncePerDefinition(node, env) && valid;
    const own = readQuota(node, env);
    const apis = compileApiChildren(node, env, ['calls', 'bandwidth', 'renewal-period'], (element) => readQuota(element, env));
    if (!valid || !own || !apis) return undefined;
    const scope = env.scope;
    return {
      run(ctx) {
        const subscription = ctx.subscription;
        if (!subscription) return; // only applied when the API is called with a subscription key
        // Windows count from the subscription's start (the emulator's subscriptions may not carry one).
        const started = subscription.StartDate ?? subscription.CreatedDate;
        const anchor = started ? started.getTime() : DEFAULT_FIRST_PERIOD_START;
        const checks = applicableLimits(ctx, subscriptionCounterBase(ctx, scope), own, apis).map(({ key, limit }) => ({ key, limit, anchor }));
        return enforceQuotas(ctx, NAME, checks, { count: 1 }, { retryAfterHeader: 'Retry-After' });
      },
    };
  },
});

function readQuota(element: PolicyElement, env: CompileEnv): QuotaLimit | undefined {
  const calls = env.attr(element, 'calls', CALLS);
  const bandwidth = env.attr(element, 'bandwidth', BANDWIDTH);
  const renewal = env.attr(element, 'renewal-period', RENEWAL);
  let valid = Boolean(renewal) && (!hasAttribute(element, 'calls') || Boolean(calls)) && (!hasAttribute(element, 'bandwidth') || Boolean(bandwidth));
  if (!hasAttribute(element, 'calls') && !hasAttribute(element, 'bandwidth')) {
    env.report('PolAttributeConflict', element.nameSpan, [element.name, "either 'calls' or 'bandwidth' (or both) must be specified"]);
    valid = false;
  }
  if (!valid) return undefined;
  return { ...(calls ? { calls: calls.constant! } : {}), ...(bandwidth ? { bandwidth: bandwidth.constant! } : {}), renewalSeconds: renewal!.constant! };
}
