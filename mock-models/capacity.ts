/**
 * Azure OpenAI deployment throttling: capacity units → TPM = capacity × 1000, RPM = capacity × 6.
 * Admission charges the request's estimated cost (prompt tokens + max_tokens, or a default) to a
 * sliding 60-second token window, and counts requests in a sliding 10-second window holding RPM/6.
 * All times come from the injected clock.
 */

export interface CapacityOptions {
  /** Thousands of tokens per minute. */
  capacity: number;
  /** Override RPM (default capacity × 6). */
  requestsPerMinute?: number;
  /** Request window length (default 10 000 ms, holding RPM × window / 60 s requests). */
  requestWindowMs?: number;
}

export interface CapacityDecision {
  admitted: boolean;
  /** Why a request was refused: the window that frees up later. */
  reason?: 'tokens' | 'requests';
  /** Until the refused request would fit, in ms (at least 1). */
  retryAfterMs?: number;
  remainingTokens: number;
  remainingRequests: number;
}

export interface CapacityLimits {
  tokensPerMinute: number;
  requestsPerMinute: number;
  requestWindowMs: number;
  requestsPerWindow: number;
}

export interface CapacityWindow {
  readonly limits: CapacityLimits;
  /** Admits and charges `cost`, or refuses without charging. */
  admit(now: number, cost: number): CapacityDecision;
  remaining(now: number): { tokens: number; requests: number };
  reset(): void;
}

export const TOKEN_WINDOW_MS = 60_000;
export const DEFAULT_REQUEST_WINDOW_MS = 10_000;
/** Charged for max_tokens when a request does not set it (aoai-api-simulator's calibrated value). */
export const DEFAULT_MAX_TOKENS_COST = 16;

export class SlidingCapacityWindow implements CapacityWindow {
  readonly limits: CapacityLimits;
  private tokens: Array<{ at: number; cost: number }> = [];
  private requests: number[] = [];

  constructor(options: CapacityOptions) {
    const rpm = options.requestsPerMinute ?? options.capacity * 6;
    const windowMs = options.requestWindowMs ?? DEFAULT_REQUEST_WINDOW_MS;
    this.limits = {
      tokensPerMinute: Math.round(options.capacity * 1000),
      requestsPerMinute: rpm,
      requestWindowMs: windowMs,
      requestsPerWindow: Math.max(1, Math.ceil((rpm * windowMs) / 60_000)),
    };
  }

  private prune(now: number): void {
    while (this.tokens.length > 0 && this.tokens[0]!.at + TOKEN_WINDOW_MS <= now) this.tokens.shift();
    while (this.requests.length > 0 && this.requests[0]! + this.limits.requestWindowMs <= now) this.requests.shift();
  }

  remaining(now: number): { tokens: number; requests: number } {
    this.prune(now);
    const used = this.tokens.reduce((s, e) => s + e.cost, 0);
    return {
      tokens: Math.max(0, this.limits.tokensPerMinute - used),
      requests: Math.max(0, this.limits.requestsPerWindow - this.requests.length),
    };
  }

  admit(now: number, cost: number): CapacityDecision {
    const { tokens, requests } = this.remaining(now);
    const tokenWait = cost <= tokens ? 0 : this.tokenWait(now, cost - tokens);
    const requestWait = requests >= 1 ? 0 : this.requests[0]! + this.limits.requestWindowMs - now;
    if (tokenWait === 0 && requestWait === 0) {
      this.tokens.push({ at: now, cost });
      this.requests.push(now);
      return { admitted: true, remainingTokens: tokens - cost, remainingRequests: requests - 1 };
    }
    const reason = tokenWait >= requestWait ? 'tokens' : 'requests';
    return { admitted: false, reason, retryAfterMs: Math.max(1, tokenWait, requestWait), remainingTokens: tokens, remainingRequests: requests };
  }

  /** Time until enough of the oldest charges leave the window to free `needed` tokens. */
  private tokenWait(now: number, needed: number): number {
    let freed = 0;
    for (const e of this.tokens) {
      freed += e.cost;
      if (freed >= needed) return Math.max(1, e.at + TOKEN_WINDOW_MS - now);
    }
    // Larger than the whole limit: it can never fit; say so with a full window.
    return TOKEN_WINDOW_MS;
  }

  reset(): void {
    this.tokens = [];
    this.requests = [];
  }
}

export function createCapacityWindow(options: CapacityOptions): CapacityWindow {
  return new SlidingCapacityWindow(options);
}
