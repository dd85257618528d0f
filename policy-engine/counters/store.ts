/**
 * Counters behind an interface, so gateways can share them (Redis) or keep them local (memory).
 * Stores never read the time: every method receives `now` from the caller's clock, so all
 * implementations behave identically under virtual time.
 */
export interface WindowEntry {
  at: number;
  amount: number;
}

export interface CounterStore {
  readonly kind: string;
  /** Sliding window: entries recorded for `key` with `at > since`, oldest first. */
  windowEntries(key: string, since: number): Promise<WindowEntry[]>;
  /**
   * Optional fast path: the sum of the amounts `windowEntries(key, since)` would return, oldest first (same
   * floating-point result), without copying the entries. The token limit reads the entries only to refuse.
   */
  windowTotal?(key: string, since: number): Promise<number>;
  /** Records `amount` at time `at`; the entry may be dropped after `expiresAt`. Returns a handle for `windowAdjust`. */
  windowAdd(key: string, at: number, amount: number, expiresAt: number): Promise<string>;
  /** Replaces the amount of an entry (reconciling an estimate with actual usage). */
  windowAdjust(key: string, handle: string, amount: number): Promise<void>;
  /** Fixed window counter value (0 when absent or expired at `now`). */
  counterGet(key: string, now: number): Promise<number>;
  /** Adds to a fixed window counter that expires at `expiresAt`; returns the new value. */
  counterAdd(key: string, amount: number, now: number, expiresAt: number): Promise<number>;
  /** Token bucket: atomically applies `update` to the stored state (undefined when absent). */
  bucketUpdate<T>(key: string, update: (state: BucketState | undefined) => { state: BucketState; result: T }): Promise<T>;
  /**
   * Runs `run` while no other gateway sharing this store runs one for `key` (a check followed by a charge then acts
   * as one step). Absent on stores one process owns, where a check and its charge already run without interleaving.
   */
  exclusive?<T>(key: string, run: () => Promise<T>): Promise<T>;
  /** Removes every counter (emulator reset). */
  clear(): Promise<void>;
  /** Every counter as JSON (state export). */
  snapshot(): Promise<CounterSnapshot>;
  /** Replaces every counter with a snapshot (state import). */
  restore(snapshot: CounterSnapshot): Promise<void>;
  close(): Promise<void>;
}

export interface BucketState {
  /** Tokens available (negative = debt after an overshoot). */
  level: number;
  updatedAt: number;
}

export interface CounterSnapshot {
  windows: Record<string, Array<WindowEntry & { expiresAt: number }>>;
  counters: Record<string, { value: number; expiresAt: number }>;
  buckets: Record<string, BucketState>;
}
