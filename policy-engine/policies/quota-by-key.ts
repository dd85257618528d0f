import { definePolicy } from './define.js';
import {
  compileIncrement,
  DEFAULT_FIRST_PERIOD_START,
  enforceQuotas,
  hasAttribute,
  MIN_QUOTA_BY_KEY_RENEWAL_SECONDS,
  parseFirstPeriodStart,
  type QuotaLimit,
} from './shared/request-limit.js';

const NAME = 'quota-by-key';
const CALLS = { kind: 'int', min: 1, expressions: false } as const;
const BANDWIDTH = { kind: 'int', min: 1, expressions: false } as const;
const RENEWAL = { kind: 'int', required: true, min: 0, expressions: false } as const;
const FIRST_PERIOD_START = { kind: 'string', expressions: false } as const;

/**
 * `<quota-by-key calls bandwidth renewal-period counter-key increment-condition increment-count first-period-start/>`
 * (policies.md §7.4): a call-volume and/or bandwidth (KB of request + response bodies) quota per key value, in fixed
 * windows of `renewal-period` seconds (≥ 300; 0 = never resets) aligned to `first-period-start`. A key value is
 * incremented once per request however many policies use it. Exceeded → 403 `Out of call volume quota. Quota will
 * be replenished in hh:mm:ss.` (or `Out of bandwidth quota. …`) + Retry-After.
 */
export const quotaByKey = definePolicy({
  name: NAME,
  sections: ['inbound'],
  attributes: {
    calls: CALLS,
    bandwidth: BANDWIDTH,
    'renewal-period': RENEWAL,
    'counter-key': { kind: 'string', required: true },
    'increment-condition': { kind: 'bool' },
    'increment-count': { kind: 'int', min: 0 },
    'first-period-start': FIRST_PERIOD_START,
  },
  compile(node, env) {
    const calls = env.attr(node, 'calls', CALLS);
    const bandwidth = env.attr(node, 'bandwidth', BANDWIDTH);
    const renewal = env.attr(node, 'renewal-period', RENEWAL);
    const counterKey = env.attr(node, 'counter-key', { kind: 'string', required: true });
    const condition = env.attr(node, 'increment-condition', { kind: 'bool' });
    const count = env.attr(node, 'increment-count', { kind: 'int', min: 0 });
    const start = env.attr(node, 'first-period-start', FIRST_PERIOD_START);
    let valid =
      Boolean(renewal && counterKey) &&
      (!hasAttribute(node, 'calls') || Boolean(calls)) &&
      (!hasAttribute(node, 'bandwidth') || Boolean(bandwidth)) &&
      (!hasAttribute(node, 'increment-condition') || Boolean(condition)) &&
      (!hasAttribute(node, 'increment-count') || Boolean(count)) &&
      (!hasAttribute(node, 'first-period-start') || Boolean(start));
    if (!hasAttribute(node, 'calls') && !hasAttribute(node, 'bandwidth')) {
      env.report('PolAttributeConflict', node.nameSpan, [NAME, "either 'calls' or 'bandwidth' (or both) must be specified"]);
      valid = false;
    }
    const renewalSeconds = renewal?.constant;
    if (renewalSeconds !== undefined && renewalSeconds > 0 && renewalSeconds < MIN_QUOTA_BY_KEY_RENEWAL_SECONDS) {
      const attribute = node.attributes.find((a) => a.name === 'renewal-period')!;
      env.report('PolInvalidAttributeValue', attribute.valueSpan, [
        NAME,
        'renewal-period',
        attribute.value,
        `must be 0 (never resets) or at least ${MIN_QUOTA_BY_KEY_RENEWAL_SECONDS} seconds`,
      ]);
      valid = false;
    }
    let anchor = DEFAULT_FIRST_PERIOD_START;
    if (start?.constant !== undefined) {
      const parsed = parseFirstPeriodStart(start.constant);
      if (parsed === undefined) {
        const attribute = node.attributes.find((a) => a.name === 'first-period-start')!;
        env.report('PolInvalidAttributeValue', attribute.valueSpan, [NAME, 'first-period-start', attribute.value, 'expected yyyy-MM-ddTHH:mm:ssZ']);
        valid = false;
      } else {
        anchor = parsed;
      }
    }
    if (!valid) return undefined;
    const limit: QuotaLimit = {
      ...(calls ? { calls: calls.constant! } : {}),
      ...(bandwidth ? { bandwidth: bandwidth.constant! } : {}),
      renewalSeconds: renewalSeconds!,
    };
    const increment = compileIncrement(condition, count, NAME);
    return {
      run(ctx) {
        const key = `${ctx.services.gatewayId}:key:${counterKey!.get(ctx)}`;
        return enforceQuotas(ctx, NAME, [{ key, limit, anchor }], increment, { retryAfterHeader: 'Retry-After' }, `quota-by-key:${key}`);
      },
    };
  },
});
