import type { Clock } from '../../policy-engine/index.js';

/** A circuit-breaker rule as resolved from the configuration (ARM `properties.circuitBreaker.rules[]`). */
export interface ResolvedBreakerRule {
  name: string;
  /** Failures within `intervalMs` that trip the breaker. */
  count: number;
  /** Optional: trip only when failures are at least this share (0–100) of the calls within the interval. */
  percentage?: number;
  intervalMs: number;
  /** Inclusive status-code ranges that count as failures. */
  statusCodeRanges: Array<{ min: number; max: number }>;
  /** Gateway-side failures that count (lower case): 'timeout', 'backendconnectionfailure', or any text for both. */
  errorReasons: string[];
  tripDurationMs: number;
  /** Trip for the backend's Retry-After (when it sends one) instead of `tripDurationMs`. */
  acceptRetryAfter: boolean;
}

/** What a backend call ended with, as the breaker sees it. */
export type CallOutcome =
  | { kind: 'response'; statusCode: number; retryAfter?: string | undefined }
  | { kind: 'error'; reason: 'Timeout' | 'BackendConnectionFailure' };

interface RuleState {
  /** Times of the calls inside the rule's interval, and whether each failed. */
  calls: Array<{ at: number; failed: boolean }>;
}

/**
 * One backend's circuit breaker on the injected clock. Closed until a rule's failure condition holds within its
 * interval; then open (the backend is skipped) until the trip duration — or the backend's Retry-After — has passed,
 * and closed again with a fresh window. There is no half-open probing: APIM documents none.
 */
export class CircuitBreaker {
  private readonly states: RuleState[];
  private openUntil = 0;
  private trippedBy: string | undefined;

  constructor(
    readonly backendId: string,
    private readonly rules: readonly ResolvedBreakerRule[],
    private readonly clock: Clock,
  ) {
    this.states = rules.map(() => ({ calls: [] }));
  }

  /** True while the breaker is open (tripped). */
  isOpen(): boolean {
    if (this.openUntil === 0) return false;
    if (this.clock.now() < this.openUntil) return true;
    this.openUntil = 0;
    this.trippedBy = undefined;
    for (const state of this.states) state.calls = [];
    return false;
  }

  /** State for the control plane and tests. */
  state(): { open: boolean; until?: string; rule?: string } {
    return this.isOpen() ? { open: true, until: new Date(this.openUntil).toISOString(), rule: this.trippedBy! } : { open: false };
  }

  record(outcome: CallOutcome): void {
    if (this.isOpen()) return;
    const now = this.clock.now();
    this.rules.forEach((rule, i) => {
      const state = this.states[i]!;
      state.calls = state.calls.filter((c) => now - c.at < rule.intervalMs);
      state.calls.push({ at: now, failed: isFailure(rule, outcome) });
      const failures = state.calls.filter((c) => c.failed).length;
      const share = (failures * 100) / state.calls.length;
      if (failures >= rule.count && (rule.percentage === undefined || share >= rule.percentage) && this.openUntil === 0) {
        const retryAfterMs = rule.acceptRetryAfter && outcome.kind === 'response' ? retryAfterToMs(outcome.retryAfter, now) : undefined;
        this.openUntil = now + Math.max(1, retryAfterMs ?? rule.tripDurationMs);
        this.trippedBy = rule.name;
      }
    });
  }

  reset(): void {
    this.openUntil = 0;
    this.trippedBy = undefined;
    for (const state of this.states) state.calls = [];
  }
}

function isFailure(rule: ResolvedBreakerRule, outcome: CallOutcome): boolean {
  if (outcome.kind === 'response') return rule.statusCodeRanges.some((r) => outcome.statusCode >= r.min && outcome.statusCode <= r.max);
  const reason = outcome.reason.toLowerCase();
  return rule.errorReasons.some((r) => r === reason || !KNOWN_ERROR_REASONS.has(r));
}

/** Error reasons matched by name; any other text (the labs' 'Server errors') counts both kinds of gateway failure. */
const KNOWN_ERROR_REASONS = new Set(['timeout', 'backendconnectionfailure']);

/** Retry-After as seconds or an HTTP date → milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterToMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
