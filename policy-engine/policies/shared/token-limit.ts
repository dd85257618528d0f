import type { CounterStore } from '../../counters/store.js';
import { apimErrorBody, PolicyError } from '../../pipeline/last-error.js';
import type { EngineOptions, LlmUsage, RequestContext } from '../../pipeline/types.js';
import { definePolicy, type AttributeSpec, type PolicyDefinition, type ValueSource } from '../define.js';
import { ensureResponse } from '../set-status.js';

export const TPM_WINDOW_MS = 60_000;
export const QUOTA_PERIODS = ['Hourly', 'Daily', 'Weekly', 'Monthly', 'Yearly'] as const;
export type QuotaPeriod = (typeof QUOTA_PERIODS)[number];
export const IMAGE_TOKEN_ESTIMATE = 1200;

export const TOKEN_LIMIT_EXCEEDED = 'Token limit is exceeded.';
export const TOKEN_QUOTA_EXCEEDED = 'Token quota is exceeded.';

/**
 * The admission rule, kept in one place because its exact-equality edge is unverified on a live gateway.
 * Without an estimate a request is admitted while the consumed tokens are under the limit (so the request
 * that crosses it still passes); with an estimate, the estimate must fit.
 */
export function tpmAdmits(used: number, estimate: number, limit: number): boolean {
  return estimate > 0 ? used + estimate <= limit : used < limit;
}

/** Quotas refuse only once consumption exceeds them (observed: a quota spent exactly still admits). */
export function quotaAdmits(used: number, estimate: number, quota: number): boolean {
  return used + estimate <= quota;
}

/** Start and end (exclusive) of the UTC-aligned quota period containing `now`. */
export function quotaPeriodBounds(period: QuotaPeriod, now: number, weekStartsOn: EngineOptions['weekStartsOn'] = 'monday'): { start: number; end: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  switch (period) {
    case 'Hourly': {
      const start = Date.UTC(y, m, day, d.getUTCHours());
      return { start, end: start + 3_600_000 };
    }
    case 'Daily': {
      const start = Date.UTC(y, m, day);
      return { start, end: Date.UTC(y, m, day + 1) };
    }
    case 'Weekly': {
      const offset = (d.getUTCDay() - (weekStartsOn === 'monday' ? 1 : 0) + 7) % 7;
      return { start: Date.UTC(y, m, day - offset), end: Date.UTC(y, m, day - offset + 7) };
    }
    case 'Monthly':
      return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
    case 'Yearly':
      return { start: Date.UTC(y, 0, 1), end: Date.UTC(y + 1, 0, 1) };
  }
}

/** "21 minutes and 33 seconds", "1 hour", "2 days, 3 hours and 1 second". */
export function humanizeDuration(totalSeconds: number): string {
  let s = Math.max(1, Math.ceil(totalSeconds));
  const parts: string[] = [];
  for (const [unit, size] of [['day', 86_400], ['hour', 3_600], ['minute', 60], ['second', 1]] as const) {
    const n = Math.floor(s / size);
    s -= n * size;
    if (n > 0) parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
  }
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** Seconds a client waits, in wall-clock seconds (time-scaled clocks run faster), never below 1. */
export function wallSeconds(emulatedMs: number, timeScale: number): number {
  return Math.max(1, Math.ceil(emulatedMs / 1000 / timeScale));
}

interface TpmState {
  used: number;
  /** Emulated ms until the request (with its estimate) would be admitted. */
  retryAfterMs: number;
}

/** The per-minute ledger for one counter key: a sliding 60 s window (classic tiers) or a token bucket (v2 tiers). */
export interface TpmLedger {
  state(key: string, now: number, estimate: number, limit: number): Promise<TpmState>;
  /** Records consumption; returns a handle to reconcile an estimate later. */
  charge(key: string, at: number, amount: number, limit: number): Promise<string>;
  reconcile(key: string, handle: string, estimate: number, actual: number, at: number, limit: number): Promise<void>;
}

export function createSlidingWindowLedger(store: CounterStore): TpmLedger {
  const tpmKey = (key: string) => `tpm:${key}`;
  return {
    async state(key, now, estimate, limit) {
      // Admitting needs only the total; the entries (a copy per call) only to compute Retry-After.
      if (store.windowTotal) {
        const used = await store.windowTotal(tpmKey(key), now - TPM_WINDOW_MS);
        if (tpmAdmits(used, estimate, limit)) return { used, retryAfterMs: 0 };
      }
      const entries = await store.windowEntries(tpmKey(key), now - TPM_WINDOW_MS);
      let used = 0;
      for (const e of entries) used += e.amount;
      let retryAfterMs = 0;
      if (!tpmAdmits(used, estimate, limit)) {
        let remaining = used;
        retryAfterMs = Number.POSITIVE_INFINITY;
        for (const e of entries) {
          remaining -= e.amount;
          if (tpmAdmits(remaining, estimate, limit)) {
            retryAfterMs = e.at + TPM_WINDOW_MS - now;
            break;
          }
        }
      }
      return { used, retryAfterMs };
    },
    charge(key, at, amount) {
      return store.windowAdd(tpmKey(key), at, amount, at + TPM_WINDOW_MS);
    },
    async reconcile(key, handle, _estimate, actual) {
      await store.windowAdjust(tpmKey(key), handle, actual);
    },
  };
}

/** Token bucket: capacity = TPM, refilled at TPM/60 per second; consumption may drive it into debt. */
export function createTokenBucketLedger(store: CounterStore): TpmLedger {
  const bucketKey = (key: string) => `bucket:${key}`;
  // A clock set backwards (virtual time) refills nothing rather than draining the bucket.
  const refill = (level: number, updatedAt: number, now: number, limit: number) =>
    Math.min(limit, level + (Math.max(0, now - updatedAt) * limit) / TPM_WINDOW_MS);
  return {
    state(key, now, estimate, limit) {
      return store.bucketUpdate(bucketKey(key), (s) => {
        const level = s ? refill(s.level, s.updatedAt, now, limit) : limit;
        const used = limit - level;
        let retryAfterMs = 0;
        if (!tpmAdmits(used, estimate, limit)) {
          // Need level > 0 (no estimate) or level >= estimate; an estimate above the limit never fits.
          const target = estimate > 0 ? estimate : Number.EPSILON;
          retryAfterMs = estimate > limit ? Number.POSITIVE_INFINITY : Math.max(1, ((target - level) * TPM_WINDOW_MS) / limit);
        }
        return { state: { level, updatedAt: Math.max(now, s?.updatedAt ?? now) }, result: { used: Math.max(0, used), retryAfterMs } };
      });
    },
    async charge(key, at, amount, limit) {
      await store.bucketUpdate(bucketKey(key), (s) => {
        const level = (s ? refill(s.level, s.updatedAt, at, limit) : limit) - amount;
        return { state: { level, updatedAt: Math.max(at, s?.updatedAt ?? at) }, result: undefined };
      });
      return '';
    },
    async reconcile(key, _handle, estimate, actual, at, limit) {
      await store.bucketUpdate(bucketKey(key), (s) => {
        const base = s ? refill(s.level, s.updatedAt, at, limit) : limit;
        return { state: { level: base - (actual - estimate), updatedAt: Math.max(at, s?.updatedAt ?? at) }, result: undefined };
      });
    },
  };
}

interface TokenLimitSettings {
  policyName: string;
  counterKey: ValueSource<string>;
  tokensPerMinute: number | undefined;
  quota: ValueSource<number> | undefined;
  quotaPeriod: QuotaPeriod | undefined;
  estimatePromptTokens: ValueSource<boolean>;
  names: {
    retryAfterHeader: string;
    retryAfterVariable?: string;
    remainingTokensHeader?: string;
    remainingTokensVariable?: string;
    remainingQuotaHeader?: string;
    remainingQuotaVariable?: string;
    consumedHeader?: string;
    consumedVariable?: string;
  };
}

const NAME_ATTRIBUTES = {
  'retry-after-header-name': 'retryAfterHeader',
  'retry-after-variable-name': 'retryAfterVariable',
  'remaining-tokens-header-name': 'remainingTokensHeader',
  'remaining-tokens-variable-name': 'remainingTokensVariable',
  'remaining-quota-tokens-header-name': 'remainingQuotaHeader',
  'remaining-quota-tokens-variable-name': 'remainingQuotaVariable',
  'tokens-consumed-header-name': 'consumedHeader',
  'tokens-consumed-variable-name': 'consumedVariable',
} as const;

/** 2024 docs named these `consumed-tokens-*`; accepted with a warning. */
const LEGACY_NAME_ATTRIBUTES: Record<string, keyof typeof NAME_ATTRIBUTES> = {
  'consumed-tokens-header-name': 'tokens-consumed-header-name',
  'consumed-tokens-variable-name': 'tokens-consumed-variable-name',
};

const nameSpec: AttributeSpec & { kind: 'string' } = { kind: 'string', expressions: false };

/** `llm-token-limit` and `azure-openai-token-limit`: one definition, two element names (policies.md §5). */
export function defineTokenLimitPolicy(name: string): PolicyDefinition {
  const attributes: Record<string, AttributeSpec> = {
    'counter-key': { kind: 'string', required: true },
    'tokens-per-minute': { kind: 'int', min: 1, expressions: false },
    'token-quota': { kind: 'int', min: 1 },
    'token-quota-period': { kind: 'enum', values: QUOTA_PERIODS, expressions: false },
    'estimate-prompt-tokens': { kind: 'bool', required: true },
  };
  for (const attr of [...Object.keys(NAME_ATTRIBUTES), ...Object.keys(LEGACY_NAME_ATTRIBUTES)]) attributes[attr] = nameSpec;

  return definePolicy({
    name,
    sections: ['inbound'],
    attributes,
    compile(node, env) {
      const counterKey = env.attr(node, 'counter-key', { kind: 'string', required: true });
      const tpm = env.attr(node, 'tokens-per-minute', { kind: 'int', min: 1, expressions: false });
      const quota = env.attr(node, 'token-quota', { kind: 'int', min: 1 });
      const period = env.attr(node, 'token-quota-period', { kind: 'enum', values: QUOTA_PERIODS, expressions: false });
      const estimate = env.attr(node, 'estimate-prompt-tokens', { kind: 'bool', required: true });
      const has = (a: string) => node.attributes.some((x) => x.name === a);
      let valid = Boolean(counterKey && estimate) && (!has('tokens-per-minute') || tpm) && (!has('token-quota') || quota) && (!has('token-quota-period') || period);
      if (has('token-quota') !== has('token-quota-period')) {
        env.report('PolAttributeConflict', node.nameSpan, [name, "'token-quota' and 'token-quota-period' must be specified together"]);
        valid = false;
      } else if (!has('tokens-per-minute') && !has('token-quota')) {
        env.report('PolAttributeConflict', node.nameSpan, [name, "either 'tokens-per-minute' or both 'token-quota' and 'token-quota-period' must be specified"]);
        valid = false;
      }
      const names: Partial<Record<string, string>> = {};
      for (const [attr, key] of Object.entries(NAME_ATTRIBUTES)) {
        const v = env.attr(node, attr, nameSpec);
        if (v?.constant) names[key] = v.constant;
      }
      for (const [legacy, current] of Object.entries(LEGACY_NAME_ATTRIBUTES)) {
        const v = env.attr(node, legacy, nameSpec);
        if (v?.constant) names[NAME_ATTRIBUTES[current]] ??= v.constant;
      }
      if (!valid) return undefined;
      const settings: TokenLimitSettings = {
        policyName: name,
        counterKey: counterKey!,
        tokensPerMinute: tpm?.constant,
        quota,
        quotaPeriod: period?.constant as QuotaPeriod | undefined,
        estimatePromptTokens: estimate!,
        names: { retryAfterHeader: 'Retry-After', ...names } as TokenLimitSettings['names'],
      };
      return { run: (ctx) => enforceTokenLimitExclusively(ctx, settings) };
    },
  });
}

function ledgerFor(ctx: RequestContext): TpmLedger {
  const store = ctx.services.counters;
  let cache = LEDGERS.get(store);
  if (!cache) {
    cache = { 'sliding-window': createSlidingWindowLedger(store), 'token-bucket': createTokenBucketLedger(store) };
    LEDGERS.set(store, cache);
  }
  return cache[ctx.services.options.tokenLimitAlgorithm];
}
const LEDGERS = new WeakMap<CounterStore, Record<EngineOptions['tokenLimitAlgorithm'], TpmLedger>>();

/** Whether the request asks for a streamed response (prompt tokens are then always estimated). */
function isStreamingRequest(ctx: RequestContext): boolean {
  const body = ctx.requestJson() as { stream?: unknown } | undefined;
  return body?.stream === true;
}

/** On a store shared by several gateways, the check and the estimate's charge run as one step per counter key. */
function enforceTokenLimitExclusively(ctx: RequestContext, s: TokenLimitSettings): Promise<void> {
  const store = ctx.services.counters;
  if (!store.exclusive) return enforceTokenLimit(ctx, s);
  return store.exclusive(`token-limit:${ctx.services.gatewayId}:${s.counterKey.get(ctx)}`, () => enforceTokenLimit(ctx, s));
}

async function enforceTokenLimit(ctx: RequestContext, s: TokenLimitSettings): Promise<void> {
  const { clock, options } = ctx.services;
  const now = ctx.timestamp;
  const key = s.counterKey.get(ctx);
  const streaming = isStreamingRequest(ctx);
  const estimating = s.estimatePromptTokens.get(ctx) || streaming;
  const estimate = estimating ? ctx.promptEstimate() : 0;
  const ledger = ledgerFor(ctx);
  const scopedKey = `${ctx.services.gatewayId}:${key}`;
  // A second instance with the same key in this request checks without re-counting the first one's reservation.
  const tpmEstimate = ctx.chargedKeys.has(`tpm:${scopedKey}`) ? 0 : estimate;

  let tpmUsed = 0;
  if (s.tokensPerMinute !== undefined) {
    const state = await ledger.state(scopedKey, now, tpmEstimate, s.tokensPerMinute);
    tpmUsed = state.used;
    if (state.retryAfterMs > 0) {
      refuse(ctx, s, {
        status: 429,
        reason: 'OpenAITokenLimitExceeded',
        retryAfterMs: state.retryAfterMs,
        // Observed refusals carry no remaining-tokens header (policies.md §5.8); one that can never fit does.
        ...(Number.isFinite(state.retryAfterMs) ? {} : { remainingTokens: Math.max(0, s.tokensPerMinute - state.used) }),
        message: (n) => Number.isFinite(state.retryAfterMs) ? `${TOKEN_LIMIT_EXCEEDED} Try again in ${n} seconds.` : TOKEN_LIMIT_EXCEEDED,
      });
    }
  }

  let quotaUsed = 0;
  let quotaLimit = 0;
  let quotaKey = '';
  let quotaEnd = 0;
  if (s.quota && s.quotaPeriod) {
    quotaLimit = s.quota.get(ctx);
    const bounds = quotaPeriodBounds(s.quotaPeriod, now, options.weekStartsOn);
    quotaKey = `quota:${scopedKey}:${s.quotaPeriod}:${bounds.start}`;
    quotaEnd = bounds.end;
    quotaUsed = await ctx.services.counters.counterGet(quotaKey, now);
    if (!quotaAdmits(quotaUsed, ctx.chargedKeys.has(quotaKey) ? 0 : estimate, quotaLimit)) {
      const retryAfterMs = bounds.end - now;
      refuse(ctx, s, {
        status: 403,
        reason: 'OpenAITokenQuotaExceeded',
        retryAfterMs,
        message: () => `${TOKEN_QUOTA_EXCEEDED} Try again in ${humanizeDuration(wallSeconds(retryAfterMs, clock.timeScale))}.`,
      });
    }
  }

  // Admitted. One charge per counter key per request, however many instances share the key.
  const chargeTpm = s.tokensPerMinute !== undefined && !ctx.chargedKeys.has(`tpm:${scopedKey}`);
  const chargeQuota = quotaKey !== '' && !ctx.chargedKeys.has(quotaKey);
  if (chargeTpm) ctx.chargedKeys.add(`tpm:${scopedKey}`);
  if (chargeQuota) ctx.chargedKeys.add(quotaKey);

  let handle: string | undefined;
  if (estimate > 0) {
    if (chargeTpm) handle = await ledger.charge(scopedKey, now, estimate, s.tokensPerMinute!);
    if (chargeQuota) await ctx.services.counters.counterAdd(quotaKey, estimate, now, quotaEnd);
    // A request that never reaches the backend (a later policy refuses, return-response…) consumes nothing.
    if (chargeTpm || chargeQuota) {
      ctx.releaseIfNotForwarded.push(async () => {
        if (chargeTpm && handle !== undefined) await ledger.reconcile(scopedKey, handle, estimate, 0, now, s.tokensPerMinute!);
        if (chargeQuota) await ctx.services.counters.counterAdd(quotaKey, -estimate, clock.now(), quotaEnd);
      });
    }
  }
  const remainingTpm = () => (s.tokensPerMinute === undefined ? undefined : Math.max(0, s.tokensPerMinute - tpmUsed));
  const remainingQuota = () => (quotaKey === '' ? undefined : Math.max(0, quotaLimit - quotaUsed));
  tpmUsed += estimate;
  quotaUsed += estimate;
  setVariables(ctx, s, remainingTpm(), remainingQuota(), estimate);

  ctx.afterBackend.push(async () => {
    const observation = ctx.llmUsage;
    if (!observation) return;
    const record = async (usage: LlmUsage | undefined) => {
      const actual = chargedTokens(ctx, s, observation.streaming, usage, estimate);
      const delta = actual - estimate;
      if (chargeTpm) {
        if (handle !== undefined) await ledger.reconcile(scopedKey, handle, estimate, actual, now, s.tokensPerMinute!);
        else if (actual > 0) await ledger.charge(scopedKey, now, actual, s.tokensPerMinute!);
      }
      if (chargeQuota && delta !== 0) await ctx.services.counters.counterAdd(quotaKey, delta, clock.now(), quotaEnd);
      tpmUsed += delta;
      quotaUsed += delta;
      return actual;
    };
    if (observation.deferred) {
      // Headers leave before the body ends: report the estimate now, charge the actual count at the end.
      observation.usage.then(record).catch((error) => ctx.warnings.push(`${s.policyName}: failed to record usage: ${String(error)}`));
      setResponseInfo(ctx, s, estimate, remainingTpm(), remainingQuota());
      return;
    }
    const actual = await record(await observation.usage);
    setResponseInfo(ctx, s, actual, remainingTpm(), remainingQuota());
  });
}

/**
 * The tokens a call costs: its usage, or (azure-openai-token-limit, streamed) the prompt estimate plus the
 * streamed completion's tokens, since that policy's documentation says streamed completions are estimated.
 */
function chargedTokens(ctx: RequestContext, s: TokenLimitSettings, streaming: boolean, usage: LlmUsage | undefined, estimate: number): number {
  if (!usage) return estimate;
  if (streaming && !usage.estimated && s.policyName === 'azure-openai-token-limit' && (ctx.services.options.azureOpenAIStreamedCharge ?? 'estimate') === 'estimate') {
    return estimate + ctx.services.estimator.estimateTextTokens(usage.completionText ?? '', usage.model);
  }
  return usage.totalTokens;
}

function setVariables(ctx: RequestContext, s: TokenLimitSettings, remainingTpm: number | undefined, remainingQuota: number | undefined, consumed: number): void {
  if (s.names.remainingTokensVariable && remainingTpm !== undefined) ctx.variables.set(s.names.remainingTokensVariable, remainingTpm);
  if (s.names.remainingQuotaVariable && remainingQuota !== undefined) ctx.variables.set(s.names.remainingQuotaVariable, remainingQuota);
  if (s.names.consumedVariable) ctx.variables.set(s.names.consumedVariable, consumed);
}

function setResponseInfo(ctx: RequestContext, s: TokenLimitSettings, consumed: number, remainingTpm: number | undefined, remainingQuota: number | undefined): void {
  setVariables(ctx, s, remainingTpm, remainingQuota, consumed);
  const headers = ensureResponse(ctx).headers;
  if (s.names.consumedHeader) headers.set(s.names.consumedHeader, [String(consumed)]);
  if (s.names.remainingTokensHeader && remainingTpm !== undefined) headers.set(s.names.remainingTokensHeader, [String(remainingTpm)]);
  if (s.names.remainingQuotaHeader && remainingQuota !== undefined) headers.set(s.names.remainingQuotaHeader, [String(remainingQuota)]);
}

interface Refusal {
  status: 429 | 403;
  reason: string;
  /** Infinite when the request can never fit (its estimate exceeds the limit). */
  retryAfterMs: number;
  /** Sent in remaining-tokens-header-name when set (a TPM refusal that can never fit). */
  remainingTokens?: number;
  message: (retryAfterSeconds: number) => string;
}

function refuse(ctx: RequestContext, s: TokenLimitSettings, r: Refusal): never {
  const headers: Record<string, string> = {};
  let seconds: number | undefined;
  if (Number.isFinite(r.retryAfterMs)) seconds = wallSeconds(r.retryAfterMs, ctx.services.clock.timeScale);
  // A request that can never fit still gets a Retry-After (one window, [INF]) but no time in the message.
  const retryAfter = seconds ?? wallSeconds(TPM_WINDOW_MS, ctx.services.clock.timeScale);
  headers[s.names.retryAfterHeader] = String(retryAfter);
  if (s.names.retryAfterVariable) ctx.variables.set(s.names.retryAfterVariable, retryAfter);
  if (s.names.remainingTokensHeader && r.remainingTokens !== undefined) headers[s.names.remainingTokensHeader] = String(r.remainingTokens);
  if (s.names.remainingTokensVariable && r.remainingTokens !== undefined) ctx.variables.set(s.names.remainingTokensVariable, r.remainingTokens);
  const message = r.message(seconds ?? 0);
  throw new PolicyError({
    source: s.policyName,
    reason: r.reason,
    message,
    response: { statusCode: r.status, headers, body: apimErrorBody(r.status, message) },
  });
}
