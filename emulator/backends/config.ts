import { parseIsoDuration } from '../app-insights/timespan.js';
import type { BackendConfig, CircuitBreakerRuleConfig } from '../config/schema.js';
import type { ResolvedBreakerRule } from './circuit-breaker.js';

type Fail = (path: string, message: string) => never;

/** APIM allows at most 30 backends in a pool. */
export const MAX_POOL_SERVICES = 30;

export interface PoolMember {
  id: string;
  priority: number;
  weight: number;
}

export function isPoolType(type: unknown): boolean {
  return type === 'pool' || type === 'Pool';
}

/** `/backends/foundry1` or `foundry1` → `foundry1`. */
export function memberId(id: string): string {
  return id.replace(/^.*\/backends\//i, '');
}

/** Checks pools and circuit breakers of a backend list; errors name the path, as resolveConfig's. */
export function validateBackendRouting(backends: readonly BackendConfig[], fail: Fail): void {
  const byId = new Map(backends.map((b) => [b.id, b]));
  backends.forEach((b, i) => {
    const where = `backends[${i}]`;
    if (isPoolType(b.type)) {
      const services = b.pool?.services;
      if (!Array.isArray(services) || services.length === 0) fail(`${where}.pool.services`, 'a pool needs at least one service ({ id, priority?, weight? })');
      if (services!.length > MAX_POOL_SERVICES) fail(`${where}.pool.services`, `at most ${MAX_POOL_SERVICES} services are allowed in a pool`);
      if (b.circuitBreaker !== undefined) fail(`${where}.circuitBreaker`, 'a pool has no circuit breaker of its own; set one on each member backend');
      services!.forEach((s, j) => {
        const at = `${where}.pool.services[${j}]`;
        if (typeof s?.id !== 'string' || s.id.trim() === '') fail(`${at}.id`, "a backend id (or '/backends/{id}') is required");
        const id = memberId(s.id);
        const member = byId.get(id);
        if (!member) fail(`${at}.id`, `backend '${id}' is not defined`);
        if (isPoolType(member!.type)) fail(`${at}.id`, `backend '${id}' is a pool; pool members must be single backends`);
        for (const key of ['priority', 'weight'] as const) {
          const v = s[key];
          if (v !== undefined && v !== null && !(Number.isInteger(v) && v >= 0 && v <= 100)) fail(`${at}.${key}`, 'expected an integer from 0 to 100');
        }
      });
    } else if (b.pool !== undefined) {
      fail(`${where}.pool`, "only a backend of type 'pool' has pool services");
    }
    if (b.circuitBreaker !== undefined) {
      const rules = b.circuitBreaker?.rules;
      if (!Array.isArray(rules) || rules.length === 0) fail(`${where}.circuitBreaker.rules`, 'at least one rule is required');
      rules!.forEach((rule, j) => breakerRule(rule, `${where}.circuitBreaker.rules[${j}]`, fail));
    }
  });
}

export function poolMembers(b: BackendConfig): PoolMember[] {
  return (b.pool?.services ?? []).map((s) => ({ id: memberId(s.id), priority: s.priority ?? 0, weight: s.weight ?? 1 }));
}

export function breakerRules(b: BackendConfig): ResolvedBreakerRule[] {
  const fail: Fail = (path, message) => {
    throw new Error(`${path}: ${message}`);
  };
  return (b.circuitBreaker?.rules ?? []).map((rule, j) => breakerRule(rule, `circuitBreaker.rules[${j}]`, fail));
}

function breakerRule(rule: CircuitBreakerRuleConfig, at: string, fail: Fail): ResolvedBreakerRule {
  if (rule === null || typeof rule !== 'object') fail(at, 'expected { name, failureCondition, tripDuration, acceptRetryAfter? }');
  if (typeof rule.name !== 'string' || rule.name === '') fail(`${at}.name`, 'a rule name is required');
  const c = rule.failureCondition;
  if (c === null || typeof c !== 'object') fail(`${at}.failureCondition`, 'expected { count | percentage, interval, statusCodeRanges?, errorReasons? }');
  if (c.count === undefined && c.percentage === undefined) fail(`${at}.failureCondition`, "'count' or 'percentage' is required");
  if (c.count !== undefined && !(Number.isInteger(c.count) && c.count >= 1)) fail(`${at}.failureCondition.count`, 'expected a positive integer');
  if (c.percentage !== undefined && !(typeof c.percentage === 'number' && c.percentage > 0 && c.percentage <= 100)) fail(`${at}.failureCondition.percentage`, 'expected a number from 1 to 100');
  const intervalMs = duration(c.interval, `${at}.failureCondition.interval`, fail);
  const ranges = c.statusCodeRanges ?? [];
  if (!Array.isArray(ranges)) fail(`${at}.failureCondition.statusCodeRanges`, 'expected an array of { min, max }');
  ranges.forEach((r, k) => {
    if (!(Number.isInteger(r?.min) && Number.isInteger(r?.max) && r.min >= 100 && r.max <= 599 && r.min <= r.max)) {
      fail(`${at}.failureCondition.statusCodeRanges[${k}]`, 'expected { min, max } status codes from 100 to 599 with min ≤ max');
    }
  });
  const reasons = c.errorReasons ?? [];
  if (!Array.isArray(reasons) || reasons.some((r) => typeof r !== 'string')) fail(`${at}.failureCondition.errorReasons`, 'expected an array of strings');
  if (ranges.length === 0 && reasons.length === 0) fail(`${at}.failureCondition`, "'statusCodeRanges' or 'errorReasons' is required");
  if (rule.acceptRetryAfter !== undefined && typeof rule.acceptRetryAfter !== 'boolean') fail(`${at}.acceptRetryAfter`, 'expected true or false');
  return {
    name: rule.name,
    count: c.count ?? 1,
    ...(c.percentage === undefined ? {} : { percentage: c.percentage }),
    intervalMs,
    statusCodeRanges: ranges.map((r) => ({ min: r.min, max: r.max })),
    errorReasons: reasons.map((r) => r.toLowerCase()),
    tripDurationMs: duration(rule.tripDuration, `${at}.tripDuration`, fail),
    acceptRetryAfter: rule.acceptRetryAfter ?? false,
  };
}

function duration(value: unknown, path: string, fail: Fail): number {
  const ms = typeof value === 'string' ? parseIsoDuration(value) : undefined;
  if (ms === undefined || ms <= 0) fail(path, `expected a positive ISO 8601 duration such as PT1M or PT30S, got ${JSON.stringify(value)}`);
  return ms!;
}
