import { PolicyError } from '../pipeline/last-error.js';
import type { RequestContext } from '../pipeline/types.js';
import { definePolicy, type ValueSource } from './define.js';

const MIN_COUNT = 1;
const MAX_COUNT = 50;

/** The wait settings of one retry loop, in seconds (as the attributes give them). */
export interface RetryTiming {
  interval: number;
  maxInterval?: number | undefined;
  delta?: number | undefined;
  firstFastRetry: boolean;
}

/**
 * Milliseconds to wait before retry number `retry` (1-based), per APIM's retry policy:
 * - `interval` only: fixed `interval`;
 * - `interval` + `delta`: linear `interval + (retry - 1) * delta`;
 * - `interval` + `max-interval` + `delta`: exponential `interval + (2^(retry-1) - 1) * random(0.8·delta, 1.2·delta)`,
 *   capped at `max-interval` (10, 20, 40, 80, 100… for interval=10, delta=10, max-interval=100);
 * - `first-fast-retry`: the first retry does not wait; later retries keep their own formula.
 * `random` returns a number in [0, 1) and is injectable so that tests are exact.
 */
export function retryDelayMs(timing: RetryTiming, retry: number, random: () => number = Math.random): number {
  if (retry === 1 && timing.firstFastRetry) return 0;
  const { interval, delta, maxInterval } = timing;
  let seconds: number;
  if (delta !== undefined && maxInterval !== undefined) {
    const jitteredDelta = delta * (0.8 + 0.4 * random());
    seconds = Math.min(maxInterval, interval + (2 ** (retry - 1) - 1) * jitteredDelta);
  } else if (delta !== undefined) {
    seconds = interval + (retry - 1) * delta;
  } else {
    seconds = maxInterval !== undefined ? Math.min(interval, maxInterval) : interval;
  }
  return Math.max(0, Math.round(seconds * 1000));
}

/**
 * `<retry condition="@(bool)" count="1..50" interval="s" [max-interval="s"] [delta="s"] [first-fast-retry="false"]>`
 * with any policies of the section as children. The children run once; then, while `condition` is true after an
 * execution and retries remain, the loop waits on the injected clock and runs them again (at most count + 1 runs).
 * A policy error inside the children is not retried: it leaves the loop and enters on-error (INF: the condition is
 * only evaluated after an execution that completed). return-response inside the children ends the pipeline as usual.
 * With `<forward-request/>` inside, the request body is re-sent each time (the gateway buffers it already, so
 * `buffer-request-body` has nothing more to do).
 */
export const retry = definePolicy({
  name: 'retry',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    condition: { kind: 'bool', required: true },
    count: { kind: 'int', required: true, min: MIN_COUNT, max: MAX_COUNT },
    interval: { kind: 'number', required: true, min: 0 },
    'max-interval': { kind: 'number', min: 0 },
    delta: { kind: 'number', min: 0 },
    'first-fast-retry': { kind: 'bool', default: false },
  },
  children: 'policies',
  compile(node, env) {
    const condition = env.attr(node, 'condition', { kind: 'bool', required: true });
    const count = env.attr(node, 'count', { kind: 'int', required: true, min: MIN_COUNT, max: MAX_COUNT });
    const interval = env.attr(node, 'interval', { kind: 'number', required: true, min: 0 });
    const maxInterval = env.attr(node, 'max-interval', { kind: 'number', min: 0 });
    const delta = env.attr(node, 'delta', { kind: 'number', min: 0 });
    const firstFastRetry = env.attr(node, 'first-fast-retry', { kind: 'bool', default: false });
    const steps = env.compileSteps(node.children, env.path);
    if (!condition || !count || !interval || !firstFastRetry) return undefined;
    if (maxInterval && !delta) {
      const attr = node.attributes.find((a) => a.name === 'max-interval')!;
      env.report('PolAttributeConflict', attr.nameSpan, [node.name, "'max-interval' needs 'delta' (exponential retry uses interval, max-interval and delta)"]);
      return undefined;
    }
    if (maxInterval?.constant !== undefined && interval.constant !== undefined && maxInterval.constant < interval.constant) {
      const attr = node.attributes.find((a) => a.name === 'max-interval')!;
      env.report('PolInvalidAttributeValue', attr.valueSpan, [node.name, 'max-interval', attr.value, `must be at least interval (${interval.constant})`]);
      return undefined;
    }
    return {
      async run(ctx) {
        const timing = resolveTiming(ctx, interval, maxInterval, delta, firstFastRetry);
        const retries = checkedCount(count.get(ctx));
        for (let attempt = 0; ; attempt++) {
          await ctx.runChildren(steps);
          if (attempt >= retries || !condition.get(ctx)) return;
          const waitMs = retryDelayMs(timing, attempt + 1);
          discardResponseStream(ctx);
          if (waitMs > 0) await ctx.services.clock.sleep(waitMs);
        }
      },
    };
  },
});

function resolveTiming(
  ctx: RequestContext,
  interval: ValueSource<number>,
  maxInterval: ValueSource<number> | undefined,
  delta: ValueSource<number> | undefined,
  firstFastRetry: ValueSource<boolean>,
): RetryTiming {
  const timing: RetryTiming = {
    interval: nonNegative(interval.get(ctx), 'interval'),
    maxInterval: maxInterval ? nonNegative(maxInterval.get(ctx), 'max-interval') : undefined,
    delta: delta ? nonNegative(delta.get(ctx), 'delta') : undefined,
    firstFastRetry: firstFastRetry.get(ctx),
  };
  return timing;
}

function nonNegative(value: number, attribute: string): number {
  if (value >= 0) return value;
  throw new PolicyError({
    source: 'retry',
    reason: 'ExpressionValueEvaluationFailure',
    message: `Expression evaluation failed. Value '${value}' is not valid for attribute '${attribute}' of policy 'retry': must be at least 0.`,
  });
}

function checkedCount(value: number): number {
  if (Number.isInteger(value) && value >= MIN_COUNT && value <= MAX_COUNT) return value;
  throw new PolicyError({
    source: 'retry',
    reason: 'ExpressionValueEvaluationFailure',
    message: `Expression evaluation failed. Value '${value}' is not valid for attribute 'count' of policy 'retry': expected an integer from ${MIN_COUNT} to ${MAX_COUNT}.`,
  });
}

/** A streamed backend response that is about to be replaced by the next attempt is cancelled, not left open. */
function discardResponseStream(ctx: RequestContext): void {
  const body = ctx.response?.body;
  if (ctx.forwarded && body?.kind === 'stream') void body.stream.cancel().catch(() => undefined);
}
