import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../emulator/backends/circuit-breaker.js';
import { breakerRules } from '../../../emulator/backends/config.js';
import { resolveConfig } from '../../../emulator/config/load.js';
import type { BackendConfig } from '../../../emulator/config/schema.js';
import { createVirtualClock } from '../../../policy-engine/index.js';

const single = (id: string, extra: Partial<BackendConfig> = {}): BackendConfig => ({ id, url: `https://${id}.example/openai`, type: 'http', ...extra });
const resolve = (backends: BackendConfig[]) => () => resolveConfig({ apis: [], backends });

describe('pool and circuit-breaker configuration', () => {
  it('accepts ARM-shaped pools (type Pool, /backends/{id}) and resolves a pool with no URL', () => {
    const config = resolveConfig({ apis: [], backends: [single('a'), single('b'), { id: 'p', type: 'Pool', pool: { services: [{ id: '/backends/a', priority: 1 }, { id: 'b' }] } }] });
    expect(config.backends.find((b) => b.id === 'p')).toMatchObject({ type: 'pool', url: '' });
  });

  it.each<[string, BackendConfig[], string]>([
    ['no services', [{ id: 'p', type: 'pool', pool: { services: [] } }], 'backends[0].pool.services: a pool needs at least one service'],
    ['unknown member', [{ id: 'p', type: 'pool', pool: { services: [{ id: '/backends/nope' }] } }], "backends[0].pool.services[0].id: backend 'nope' is not defined"],
    ['nested pool', [single('a'), { id: 'q', type: 'pool', pool: { services: [{ id: 'a' }] } }, { id: 'p', type: 'pool', pool: { services: [{ id: 'q' }] } }], "backends[2].pool.services[0].id: backend 'q' is a pool"],
    ['priority out of range', [single('a'), { id: 'p', type: 'pool', pool: { services: [{ id: 'a', priority: 101 }] } }], 'backends[1].pool.services[0].priority: expected an integer from 0 to 100'],
    ['breaker on a pool', [single('a'), { id: 'p', type: 'pool', pool: { services: [{ id: 'a' }] }, circuitBreaker: { rules: [] } }], 'backends[1].circuitBreaker: a pool has no circuit breaker of its own'],
    [
      'duration not ISO 8601',
      [single('a', { circuitBreaker: { rules: [{ name: 'r', failureCondition: { count: 1, interval: '60s', statusCodeRanges: [{ min: 429, max: 429 }] }, tripDuration: 'PT1M' }] } })],
      'backends[0].circuitBreaker.rules[0].failureCondition.interval: expected a positive ISO 8601 duration such as PT1M or PT30S, got "60s"',
    ],
    [
      'no failure kinds',
      [single('a', { circuitBreaker: { rules: [{ name: 'r', failureCondition: { count: 1, interval: 'PT1M' }, tripDuration: 'PT1M' }] } })],
      "backends[0].circuitBreaker.rules[0].failureCondition: 'statusCodeRanges' or 'errorReasons' is required",
    ],
    ['a URL is still required for single backends', [{ id: 'a', type: 'http' }], 'backends[0].url: a non-empty string is required'],
  ])('refuses %s with the path and the reason', (_name, backends, message) => {
    expect(resolve(backends)).toThrow(message);
  });
});

describe('circuit breaker on the virtual clock', () => {
  const rule = (failureCondition: object, extra: object = {}) =>
    breakerRules(single('a', { circuitBreaker: { rules: [{ name: 'r', failureCondition: { interval: 'PT10S', ...failureCondition }, tripDuration: 'PT30S', ...extra }] } as never }));

  it('counts failures inside the interval only', () => {
    const clock = createVirtualClock({ startMs: 0, frozen: true });
    const breaker = new CircuitBreaker('a', rule({ count: 2, statusCodeRanges: [{ min: 500, max: 599 }] }), clock);
    breaker.record({ kind: 'response', statusCode: 500 });
    clock.advance('10s');
    breaker.record({ kind: 'response', statusCode: 503 });
    expect(breaker.isOpen()).toBe(false); // the first failure left the 10 s window
    breaker.record({ kind: 'response', statusCode: 200 });
    breaker.record({ kind: 'response', statusCode: 502 });
    expect(breaker.isOpen()).toBe(true);
    clock.advance('29.999s');
    expect(breaker.isOpen()).toBe(true);
    clock.advance('1ms');
    expect(breaker.isOpen()).toBe(false);
  });

  it('percentage: trips when failures reach that share of the calls in the interval', () => {
    const clock = createVirtualClock({ startMs: 0, frozen: true });
    const breaker = new CircuitBreaker('a', rule({ percentage: 50, count: 2, statusCodeRanges: [{ min: 429, max: 429 }] }), clock);
    for (const status of [200, 200, 429, 200]) breaker.record({ kind: 'response', statusCode: status });
    expect(breaker.isOpen()).toBe(false);
    breaker.record({ kind: 'response', statusCode: 429 }); // 2 of 5 = 40 %
    expect(breaker.isOpen()).toBe(false);
    breaker.record({ kind: 'response', statusCode: 429 }); // 3 of 6 = 50 %
    expect(breaker.isOpen()).toBe(true);
  });

  it('errorReasons: named reasons match their kind; free text (the labs\' "Server errors") matches gateway failures', () => {
    const clock = createVirtualClock({ startMs: 0, frozen: true });
    const timeoutsOnly = new CircuitBreaker('a', rule({ count: 1, errorReasons: ['timeout'] }), clock);
    timeoutsOnly.record({ kind: 'error', reason: 'BackendConnectionFailure' });
    expect(timeoutsOnly.isOpen()).toBe(false);
    timeoutsOnly.record({ kind: 'error', reason: 'Timeout' });
    expect(timeoutsOnly.isOpen()).toBe(true);
    const any = new CircuitBreaker('b', rule({ count: 1, errorReasons: ['Server errors'] }), clock);
    any.record({ kind: 'response', statusCode: 500 });
    expect(any.isOpen()).toBe(false);
    any.record({ kind: 'error', reason: 'BackendConnectionFailure' });
    expect(any.isOpen()).toBe(true);
  });

  it('acceptRetryAfter reads seconds and HTTP dates', () => {
    const clock = createVirtualClock({ startMs: Date.UTC(2026, 0, 1), frozen: true });
    const breaker = new CircuitBreaker('a', rule({ count: 1, statusCodeRanges: [{ min: 429, max: 429 }] }, { acceptRetryAfter: true }), clock);
    breaker.record({ kind: 'response', statusCode: 429, retryAfter: 'Thu, 01 Jan 2026 00:00:05 GMT' });
    clock.advance('4.999s');
    expect(breaker.isOpen()).toBe(true);
    clock.advance('1ms');
    expect(breaker.isOpen()).toBe(false);
  });
});
