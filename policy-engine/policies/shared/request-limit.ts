import type { CounterStore } from '../../counters/store.js';
import { apimErrorBody, PolicyError } from '../../pipeline/last-error.js';
import type { EngineOptions, RequestContext, ScopeKind } from '../../pipeline/types.js';
import type { PolicyElement } from '../../xml/model.js';
import type { AttributeSpec, CompileEnv, ValueSource } from '../define.js';
import { ensureResponse } from '../set-status.js';
import { wallSeconds } from './token-limit.js';

/**
 * What `rate-limit`, `rate-limit-by-key`, `quota` and `quota-by-key` share (policies.md §7): call-rate ledgers
 * (sliding window on classic tiers, token bucket on v2), fixed-window quota counters, refusals, header names and
 * the `<api>`/`<operation>` children of the per-subscription variants.
 */

export const RATE_LIMIT_EXCEEDED = 'Rate limit is exceeded.';
export const CALL_QUOTA_EXCEEDED = 'Out of call volume quota.';
export const BANDWIDTH_QUOTA_EXCEEDED = 'Out of bandwidth quota.';
export const MAX_RATE_LIMIT_RENEWAL_SECONDS = 300;
export const MIN_QUOTA_BY_KEY_RENEWAL_SECONDS = 300;
/** `first-period-start` default: `0001-01-01T00:00:00Z`. */
export const DEFAULT_FIRST_PERIOD_START = Date.parse('0001-01-01T00:00:00Z');
/** Rate-limit window entries are kept for the longest window any instance may use. */
const MAX_WINDOW_MS = MAX_RATE_LIMIT_RENEWAL_SECONDS * 1000;
/** Expiry of a counter that never resets (`renewal-period="0"`). */
const NEVER = Number.MAX_SAFE_INTEGER;

/** .NET `TimeSpan.ToString()` of whole seconds: `hh:mm:ss`, or `d.hh:mm:ss` from one day up (`07:01:20`, `7.00:00:00`). */
export function formatTimeSpan(totalSeconds: number): string {
  const s = Math.max(0, Math.ceil(totalSeconds));
  const days = Math.floor(s / 86_400);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(Math.floor((s % 86_400) / 3_600))}:${pad(Math.floor((s % 3_600) / 60))}:${pad(s % 60)}`;
  return days > 0 ? `${days}.${time}` : time;
}

/** Admission rule for calls: the request's increment must fit (a count of 1 means "fewer than `calls` so far"). */
export function callsAdmit(used: number, count: number, calls: number): boolean {
  return used + count <= calls;
}

// ---------------------------------------------------------------------------------------------------------------
// Call-rate ledgers

export interface RateWindow {
  calls: number;
  periodMs: number;
}

export interface RateState {
  used: number;
  /** Emulated ms until `count` more calls fit; 0 when they fit now. */
  retryAfterMs: number;
}

export interface CallRateLedger {
  state(key: string, now: number, count: number, limit: RateWindow): Promise<RateState>;
  charge(key: string, at: number, count: number, limit: RateWindow): Promise<void>;
}

/** Classic tiers: a sliding window of `renewal-period` seconds. */
export function createSlidingCallLedger(store: CounterStore): CallRateLedger {
  const k = (key: string) => `rl:${key}`;
  return {
    async state(key, now, count, limit) {
      const entries = await store.windowEntries(k(key), now - limit.periodMs);
      let used = 0;
      for (const e of entries) used += e.amount;
      let retryAfterMs = 0;
      if (!callsAdmit(used, count, limit.calls)) {
        // The oldest entries leave the window first; wait until enough have left. A count that can never fit
        // waits one full window.
        retryAfterMs = limit.periodMs;
        let remaining = used;
        for (const e of entries) {
          remaining -= e.amount;
          if (callsAdmit(remaining, count, limit.calls)) {
            retryAfterMs = Math.max(1, e.at + limit.periodMs - now);
            break;
          }
        }
      }
      return { used, retryAfterMs };
    },
    async charge(key, at, count) {
      await store.windowAdd(k(key), at, count, at + MAX_WINDOW_MS);
    },
  };
}

/** v2 tiers: a token bucket of capacity `calls`, refilled at `calls` per `renewal-period`. */
export function createTokenBucketCallLedger(store: CounterStore): CallRateLedger {
  const k = (key: string) => `rlb:${key}`;
  const refill = (level: number, updatedAt: number, now: number, limit: RateWindow) =>
    Math.min(limit.calls, level + (Math.max(0, now - updatedAt) * limit.calls) / limit.periodMs);
  return {
    state(key, now, count, limit) {
      return store.bucketUpdate(k(key), (s) => {
        const level = s ? refill(s.level, s.updatedAt, now, limit) : limit.calls;
        const used = Math.max(0, limit.calls - level);
        const retryAfterMs = level >= count ? 0 : Math.max(1, ((count - level) * limit.periodMs) / limit.calls);
        return { state: { level, updatedAt: Math.max(now, s?.updatedAt ?? now) }, result: { used, retryAfterMs } };
      });
    },
    async charge(key, at, count, limit) {
      await store.bucketUpdate(k(key), (s) => {
        const level = (s ? refill(s.level, s.updatedAt, at, limit) : limit.calls) - count;
        return { state: { level, updatedAt: Math.max(at, s?.updatedAt ?? at) }, result: undefined };
      });
    },
  };
}

const LEDGERS = new WeakMap<CounterStore, Record<EngineOptions['tokenLimitAlgorithm'], CallRateLedger>>();

/** The ledger of the configured algorithm (`tokenLimitAlgorithm` picks classic vs v2 behaviour for rate limits too). */
export function callLedgerFor(ctx: RequestContext): CallRateLedger {
  const store = ctx.services.counters;
  let cache = LEDGERS.get(store);
  if (!cache) {
    cache = { 'sliding-window': createSlidingCallLedger(store), 'token-bucket': createTokenBucketCallLedger(store) };
    LEDGERS.set(store, cache);
  }
  return cache[ctx.services.options.tokenLimitAlgorithm];
}

// ---------------------------------------------------------------------------------------------------------------
// Increments

/**
 * How much a request adds. `count` is known at inbound when neither increment-condition nor increment-count is an
 * expression; otherwise `deferred` evaluates both after the backend responded (so `context.Response` is usable).
 */
export interface Increment {
  count?: number;
  deferred?: (ctx: RequestContext) => number;
}

export function compileIncrement(
  condition: ValueSource<boolean> | undefined,
  count: ValueSource<number> | undefined,
  policy: string,
): Increment {
  const evaluate = (ctx: RequestContext): number => {
    if (condition && !condition.get(ctx)) return 0;
    const n = count ? count.get(ctx) : 1;
    if (!Number.isInteger(n) || n < 0) {
      throw new PolicyError({
        source: policy,
        reason: 'ExpressionValueEvaluationFailure',
        message: `Expression evaluation failed. Value '${n}' is not valid for attribute 'increment-count' of policy '${policy}'.`,
      });
    }
    return n;
  };
  if (condition?.isExpression || count?.isExpression) return { deferred: evaluate };
  const constant = (condition?.constant ?? true) ? (count?.constant ?? 1) : 0;
  return { count: constant };
}

// ---------------------------------------------------------------------------------------------------------------
// Names of headers and variables

export interface LimitNames {
  retryAfterHeader: string;
  retryAfterVariable?: string;
  remainingHeader?: string;
  remainingVariable?: string;
  totalHeader?: string;
}

const NAME_SPEC: AttributeSpec & { kind: 'string' } = { kind: 'string', expressions: false };

export const RATE_NAME_ATTRIBUTES: Record<string, AttributeSpec> = {
  'retry-after-header-name': NAME_SPEC,
  'retry-after-variable-name': NAME_SPEC,
  'remaining-calls-header-name': NAME_SPEC,
  'remaining-calls-variable-name': NAME_SPEC,
  'total-calls-header-name': NAME_SPEC,
};

export function compileNames(node: PolicyElement, env: CompileEnv): LimitNames {
  const get = (name: string) => env.attr(node, name, NAME_SPEC)?.constant || undefined;
  const names: LimitNames = { retryAfterHeader: get('retry-after-header-name') ?? 'Retry-After' };
  const set = <K extends keyof LimitNames>(key: K, value: LimitNames[K] | undefined) => {
    if (value !== undefined) names[key] = value;
  };
  set('retryAfterVariable', get('retry-after-variable-name'));
  set('remainingHeader', get('remaining-calls-header-name'));
  set('remainingVariable', get('remaining-calls-variable-name'));
  set('totalHeader', get('total-calls-header-name'));
  return names;
}

// ---------------------------------------------------------------------------------------------------------------
// Load-time checks shared by the four policies

/** Reports a policy placed at a scope APIM does not allow (e.g. `quota` outside product scope). */
export function checkScope(node: PolicyElement, env: CompileEnv, allowed: readonly ScopeKind[]): boolean {
  if (allowed.includes(env.scope)) return true;
  env.report('PolWrongScope', node.nameSpan, [node.name, env.scope, allowed.join(', ')]);
  return false;
}

/** `rate-limit` and `quota` may appear once per policy definition (a second instance in a section is refused). */
export function checkOncePerDefinition(node: PolicyElement, env: CompileEnv): boolean {
  const last = env.path.split('/').pop() ?? '';
  const index = /\[(\d+)\]$/.exec(last)?.[1];
  if (index === undefined || Number(index) <= 1) return true;
  env.report('PolOncePerDefinition', node.nameSpan, [node.name]);
  return false;
}

export function hasAttribute(node: PolicyElement, name: string): boolean {
  return node.attributes.some((a) => a.name === name);
}

// ---------------------------------------------------------------------------------------------------------------
// <api>/<operation> children of rate-limit and quota

export interface EntityLimit<L> {
  id?: string;
  name?: string;
  limit: L;
}

export interface ApiLimit<L> extends EntityLimit<L> {
  operations: Array<EntityLimit<L>>;
}

/**
 * Compiles `<api name|id …><operation name|id …/></api>` children. `readLimit` reads the limit attributes of one
 * element (reporting its own diagnostics) and returns undefined when they are invalid.
 */
export function compileApiChildren<L>(
  node: PolicyElement,
  env: CompileEnv,
  limitAttributes: readonly string[],
  readLimit: (element: PolicyElement) => L | undefined,
): Array<ApiLimit<L>> | undefined {
  let valid = true;
  const entity = (element: PolicyElement, label: string): EntityLimit<L> | undefined => {
    // Messages name the element by its path, e.g. "Policy 'rate-limit/api' requires attribute 'calls'".
    const named: PolicyElement = { ...element, name: label };
    for (const a of element.attributes) {
      if (a.name !== 'name' && a.name !== 'id' && !limitAttributes.includes(a.name) && !a.name.startsWith('xmlns')) {
        env.report('PolUnknownAttribute', a.nameSpan, [label, a.name]);
        valid = false;
      }
    }
    const id = env.attr(named, 'id', NAME_SPEC)?.constant || undefined;
    const name = env.attr(named, 'name', NAME_SPEC)?.constant || undefined;
    if (id === undefined && name === undefined) {
      env.report('PolAttributeConflict', element.nameSpan, [label, "either 'name' or 'id' must be specified"]);
      valid = false;
    }
    const limit = readLimit(named);
    if (limit === undefined) {
      valid = false;
      return undefined;
    }
    return { ...(id === undefined ? {} : { id }), ...(name === undefined ? {} : { name }), limit };
  };
  const apis: Array<ApiLimit<L>> = [];
  for (const apiNode of node.children) {
    if (apiNode.name !== 'api') continue; // other children are reported by the engine (POL3010)
    const api = entity(apiNode, `${node.name}/api`);
    const operations: Array<EntityLimit<L>> = [];
    for (const opNode of apiNode.children) {
      if (opNode.name !== 'operation') {
        env.report('PolInvalidChild', opNode.nameSpan, [`${node.name}/api`, opNode.name]);
        valid = false;
        continue;
      }
      if (opNode.children.length > 0) {
        env.report('PolInvalidChild', opNode.children[0]!.nameSpan, [`${node.name}/api/operation`, opNode.children[0]!.name]);
        valid = false;
      }
      const op = entity(opNode, `${node.name}/api/operation`);
      if (op) operations.push(op);
    }
    if (api) apis.push({ ...api, operations });
  }
  return valid ? apis : undefined;
}

/** Matches an `<api>`/`<operation>` element: by id when given, else by name. */
export function entityMatches(e: EntityLimit<unknown>, id: string, name: string): boolean {
  return e.id !== undefined ? e.id === id : e.name === name;
}

/** The limits that apply to this request: the element's own, plus the matching `<api>` and its matching `<operation>`. */
export function applicableLimits<L>(ctx: RequestContext, base: string, own: L | undefined, apis: ReadonlyArray<ApiLimit<L>>): Array<{ key: string; limit: L }> {
  const out: Array<{ key: string; limit: L }> = [];
  if (own !== undefined) out.push({ key: base, limit: own });
  for (const api of apis) {
    if (!entityMatches(api, ctx.api.Id, ctx.api.Name)) continue;
    out.push({ key: `${base}|api:${ctx.api.Id}`, limit: api.limit });
    for (const op of api.operations) {
      if (entityMatches(op, ctx.operation.Id, ctx.operation.Name)) out.push({ key: `${base}|api:${ctx.api.Id}|op:${ctx.operation.Id}`, limit: op.limit });
    }
    break;
  }
  return out;
}

/** The counter identity of a per-subscription policy: the subscription plus the scope entity the policy sits at. */
export function subscriptionCounterBase(ctx: RequestContext, scope: ScopeKind): string {
  const entity =
    scope === 'product' ? `product:${ctx.product?.Id ?? ''}` : scope === 'api' ? `api:${ctx.api.Id}` : scope === 'operation' ? `op:${ctx.api.Id}/${ctx.operation.Id}` : 'global';
  return `${ctx.services.gatewayId}:sub:${ctx.subscription?.Id ?? ''}|${entity}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Refusals and response information

export interface Refusal {
  policy: string;
  status: 429 | 403;
  reason: 'RateLimitExceeded' | 'QuotaExceeded';
  /** Emulated ms until retry; undefined = never (a quota that does not renew). */
  retryAfterMs: number | undefined;
  message: (retryAfterSeconds: number | undefined) => string;
  names: LimitNames;
  extraHeaders?: Record<string, string>;
}

export function refuse(ctx: RequestContext, r: Refusal): never {
  const headers: Record<string, string> = { ...r.extraHeaders };
  let seconds: number | undefined;
  if (r.retryAfterMs !== undefined && Number.isFinite(r.retryAfterMs)) {
    seconds = wallSeconds(r.retryAfterMs, ctx.services.clock.timeScale);
    headers[r.names.retryAfterHeader] = String(seconds);
    if (r.names.retryAfterVariable) ctx.variables.set(r.names.retryAfterVariable, seconds);
  }
  const message = r.message(seconds);
  throw new PolicyError({
    source: r.policy,
    reason: r.reason,
    message,
    response: { statusCode: r.status, headers, body: apimErrorBody(r.status, message) },
  });
}

export function rateLimitMessage(seconds: number | undefined): string {
  return seconds === undefined ? RATE_LIMIT_EXCEEDED : `${RATE_LIMIT_EXCEEDED} Try again in ${seconds} seconds.`;
}

export function quotaMessage(kind: 'calls' | 'bandwidth', seconds: number | undefined): string {
  const head = kind === 'calls' ? CALL_QUOTA_EXCEEDED : BANDWIDTH_QUOTA_EXCEEDED;
  return seconds === undefined ? head : `${head} Quota will be replenished in ${formatTimeSpan(seconds)}.`;
}

/** Adds the remaining/total headers to the response the client will get (after the backend answered). */
export function setCallHeaders(ctx: RequestContext, names: LimitNames, remaining: number, total: number): void {
  if (!names.remainingHeader && !names.totalHeader) return;
  const headers = ensureResponse(ctx).headers;
  if (names.remainingHeader) headers.set(names.remainingHeader, [String(remaining)]);
  if (names.totalHeader) headers.set(names.totalHeader, [String(total)]);
}

// ---------------------------------------------------------------------------------------------------------------
// Rate limits: check, charge, report

export interface RateCheck {
  key: string;
  limit: RateWindow;
}

/**
 * Admits or refuses a request against every applicable window, then charges them (now, or after the backend when
 * the increment is deferred) and reports remaining/total calls of the tightest window.
 */
export async function enforceRateLimits(ctx: RequestContext, policy: string, checks: readonly RateCheck[], increment: Increment, names: LimitNames): Promise<void> {
  if (checks.length === 0) return;
  const ledger = callLedgerFor(ctx);
  const now = ctx.timestamp;
  const admission = Math.max(1, increment.count ?? 1);
  const states = await Promise.all(checks.map((c) => ledger.state(c.key, now, admission, c.limit)));
  const refused = states.filter((s) => s.retryAfterMs > 0);
  if (refused.length > 0) {
    const extraHeaders: Record<string, string> = {};
    const tightest = checks[states.findIndex((s) => s.retryAfterMs > 0)]!;
    if (names.remainingHeader) extraHeaders[names.remainingHeader] = '0';
    if (names.totalHeader) extraHeaders[names.totalHeader] = String(tightest.limit.calls);
    if (names.remainingVariable) ctx.variables.set(names.remainingVariable, 0);
    refuse(ctx, {
      policy,
      status: 429,
      reason: 'RateLimitExceeded',
      retryAfterMs: Math.max(...refused.map((s) => s.retryAfterMs)),
      message: rateLimitMessage,
      names,
      extraHeaders,
    });
  }

  const used = states.map((s) => s.used);
  const report = () => {
    let best = 0;
    let remaining = Number.POSITIVE_INFINITY;
    checks.forEach((c, i) => {
      const r = Math.max(0, Math.floor(c.limit.calls - used[i]!));
      if (r < remaining) {
        remaining = r;
        best = i;
      }
    });
    return { remaining, total: checks[best]!.limit.calls };
  };
  const charge = async (count: number) => {
    if (count <= 0) return;
    await Promise.all(checks.map((c) => ledger.charge(c.key, now, count, c.limit)));
    for (let i = 0; i < used.length; i++) used[i]! += count;
  };

  if (increment.deferred === undefined) await charge(increment.count ?? 1);
  const atInbound = report();
  if (names.remainingVariable) ctx.variables.set(names.remainingVariable, atInbound.remaining);

  ctx.atEnd.push(async () => {
    if (increment.deferred) await charge(increment.deferred(ctx));
    const after = report();
    if (names.remainingVariable) ctx.variables.set(names.remainingVariable, after.remaining);
    setCallHeaders(ctx, names, after.remaining, after.total);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Quotas: fixed windows

export interface QuotaLimit {
  calls?: number;
  /** Kilobytes. */
  bandwidth?: number;
  /** 0 = never renews. */
  renewalSeconds: number;
}

/** The fixed window containing `now`, aligned to `anchor`; a renewal of 0 is one window forever. */
export function quotaWindow(anchor: number, renewalSeconds: number, now: number): { start: number; end: number } {
  if (renewalSeconds <= 0) return { start: anchor, end: Number.POSITIVE_INFINITY };
  const periodMs = renewalSeconds * 1000;
  const start = anchor + Math.floor((now - anchor) / periodMs) * periodMs;
  return { start, end: start + periodMs };
}

export interface QuotaCheck {
  key: string;
  limit: QuotaLimit;
  anchor: number;
}

function bodyBytes(body: { kind: string; bytes?: Uint8Array } | undefined, contentLength: string | undefined): number {
  if (!body) return 0;
  if (body.kind === 'bytes') return body.bytes?.length ?? 0;
  if (body.kind === 'stream') return Number(contentLength) || 0;
  return 0;
}

export function requestBytes(ctx: RequestContext): number {
  return ctx.request.body?.length ?? 0;
}

export function responseBytes(ctx: RequestContext): number {
  const r = ctx.response;
  return r ? bodyBytes(r.body as { kind: string; bytes?: Uint8Array }, r.headers.get('content-length')?.[0]) : 0;
}

/**
 * Admits or refuses a request against every applicable quota (calls first, then bandwidth), then charges the call
 * and the request body now (or everything after the backend when deferred) and the response body after the backend.
 * `chargeOnceKey`: quota-by-key increments one key value once per request however many policies use it.
 */
export async function enforceQuotas(
  ctx: RequestContext,
  policy: string,
  checks: readonly QuotaCheck[],
  increment: Increment,
  names: LimitNames,
  chargeOnceKey?: string,
): Promise<void> {
  if (checks.length === 0) return;
  const store = ctx.services.counters;
  const now = ctx.timestamp;
  const admission = Math.max(1, increment.count ?? 1);
  const counters = checks.map((c) => {
    const w = quotaWindow(c.anchor, c.limit.renewalSeconds, now);
    const expiresAt = Number.isFinite(w.end) ? w.end : NEVER;
    return { check: c, window: w, expiresAt, callsKey: `cq:${c.key}|${w.start}`, bytesKey: `bq:${c.key}|${w.start}` };
  });
  // A key value this request already incremented (through another policy) is checked without that increment.
  const own = chargeOnceKey === undefined ? undefined : OWN_CHARGES.get(ctx)?.get(chargeOnceKey);
  for (const c of counters) {
    const retryAfterMs = Number.isFinite(c.window.end) ? c.window.end - now : undefined;
    if (c.check.limit.calls !== undefined) {
      const used = (await store.counterGet(c.callsKey, now)) - (own?.calls ?? 0);
      if (!callsAdmit(used, admission, c.check.limit.calls)) {
        refuse(ctx, { policy, status: 403, reason: 'QuotaExceeded', retryAfterMs, message: (s) => quotaMessage('calls', s), names });
      }
    }
    if (c.check.limit.bandwidth !== undefined) {
      const used = (await store.counterGet(c.bytesKey, now)) - (own?.bytes ?? 0);
      if (used > c.check.limit.bandwidth * 1024) {
        refuse(ctx, { policy, status: 403, reason: 'QuotaExceeded', retryAfterMs, message: (s) => quotaMessage('bandwidth', s), names });
      }
    }
  }

  if (chargeOnceKey !== undefined) {
    if (ctx.chargedKeys.has(chargeOnceKey)) return;
    ctx.chargedKeys.add(chargeOnceKey);
  }
  let mine: { calls: number; bytes: number } | undefined;
  if (chargeOnceKey !== undefined) {
    let byKey = OWN_CHARGES.get(ctx);
    if (!byKey) OWN_CHARGES.set(ctx, (byKey = new Map()));
    byKey.set(chargeOnceKey, (mine = { calls: 0, bytes: 0 }));
  }
  const charge = async (calls: number, bytes: number) => {
    if (mine) {
      mine.calls += calls;
      mine.bytes += bytes;
    }
    for (const c of counters) {
      if (calls > 0 && c.check.limit.calls !== undefined) await store.counterAdd(c.callsKey, calls, now, c.expiresAt);
      if (bytes > 0 && c.check.limit.bandwidth !== undefined) await store.counterAdd(c.bytesKey, bytes, now, c.expiresAt);
    }
  };
  const counted = increment.deferred === undefined ? (increment.count ?? 1) : 0;
  if (increment.deferred === undefined && counted > 0) await charge(counted, requestBytes(ctx));
  ctx.atEnd.push(async () => {
    if (increment.deferred) {
      const n = increment.deferred(ctx);
      if (n > 0) await charge(n, requestBytes(ctx) + responseBytes(ctx));
    } else if (counted > 0) {
      await charge(0, responseBytes(ctx));
    }
  });
}

/** What each request charged per quota-by-key key value (for the once-per-request rule). */
const OWN_CHARGES = new WeakMap<RequestContext, Map<string, { calls: number; bytes: number }>>();

/** Parses `first-period-start` (`yyyy-MM-ddTHH:mm:ssZ`, ISO 8601). */
export function parseFirstPeriodStart(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(text.trim())) return undefined;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : ms;
}
