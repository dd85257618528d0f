import type { BucketState, CounterSnapshot, CounterStore, WindowEntry } from './store.js';

interface StoredEntry extends WindowEntry {
  handle: string;
  expiresAt: number;
}

/** How often (in the times the writes carry) keys that expired long ago are swept, and how long ago is long. */
export const MEMORY_COUNTER_SWEEP_INTERVAL_MS = 60_000;
/** Longer than any reader's window (rate-limit renewal periods reach 300 s, token limits 60 s), so nothing readable goes. */
export const MEMORY_COUNTER_SWEEP_GRACE_MS = 600_000;

/**
 * The embedded default: counters in this process's memory (one gateway instance). A window key whose entries all
 * expired, and a counter that expired (a quota period's key), more than the grace before a write are dropped then,
 * as Redis drops them by TTL: counter keys per client or per period would otherwise accumulate for ever.
 */
export class MemoryCounterStore implements CounterStore {
  readonly kind = 'memory';
  private windows = new Map<string, StoredEntry[]>();
  private counters = new Map<string, { value: number; expiresAt: number }>();
  private buckets = new Map<string, BucketState>();
  private nextHandle = 1;
  private nextSweepAt = Number.NEGATIVE_INFINITY;

  /** Drops window keys and counters expired more than the grace before `now`, at most once per sweep interval. */
  private maybeSweep(now: number): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + MEMORY_COUNTER_SWEEP_INTERVAL_MS;
    const before = now - MEMORY_COUNTER_SWEEP_GRACE_MS;
    for (const [key, entries] of this.windows) {
      if (entries.every((e) => e.expiresAt <= before)) this.windows.delete(key);
    }
    for (const [key, c] of this.counters) if (c.expiresAt <= before) this.counters.delete(key);
  }

  async windowEntries(key: string, since: number): Promise<WindowEntry[]> {
    const live = this.liveEntries(key, since);
    const out: WindowEntry[] = [];
    for (let i = firstAfter(live, since); i < live.length; i++) out.push({ at: live[i]!.at, amount: live[i]!.amount });
    return out;
  }

  async windowTotal(key: string, since: number): Promise<number> {
    const live = this.liveEntries(key, since);
    let total = 0;
    for (let i = firstAfter(live, since); i < live.length; i++) total += live[i]!.amount;
    return total;
  }

  /** Drops what can never be read again (expired at `since`); copies the list only when something expired. */
  private liveEntries(key: string, since: number): StoredEntry[] {
    const entries = this.windows.get(key);
    if (!entries) return [];
    let expired = false;
    for (const e of entries) {
      if (e.expiresAt <= since) {
        expired = true;
        break;
      }
    }
    if (!expired) return entries;
    const live = entries.filter((e) => e.expiresAt > since);
    this.windows.set(key, live);
    return live;
  }

  async windowAdd(key: string, at: number, amount: number, expiresAt: number): Promise<string> {
    this.maybeSweep(at);
    const handle = String(this.nextHandle++);
    const entries = this.windows.get(key) ?? [];
    entries.push({ at, amount, expiresAt, handle });
    if (entries.length > 1 && entries[entries.length - 2]!.at > at) entries.sort((a, b) => a.at - b.at);
    this.windows.set(key, entries);
    return handle;
  }

  async windowAdjust(key: string, handle: string, amount: number): Promise<void> {
    // Handles are unique; the entry being reconciled is usually one of the newest.
    const entries = this.windows.get(key) ?? [];
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i]!.handle === handle) {
        entries[i]!.amount = amount;
        return;
      }
    }
  }

  async counterGet(key: string, now: number): Promise<number> {
    const c = this.counters.get(key);
    if (!c || c.expiresAt <= now) return 0;
    return c.value;
  }

  async counterAdd(key: string, amount: number, now: number, expiresAt: number): Promise<number> {
    this.maybeSweep(now);
    const c = this.counters.get(key);
    const value = (c && c.expiresAt > now ? c.value : 0) + amount;
    this.counters.set(key, { value, expiresAt });
    return value;
  }

  async bucketUpdate<T>(key: string, update: (state: BucketState | undefined) => { state: BucketState; result: T }): Promise<T> {
    const { state, result } = update(this.buckets.get(key));
    this.buckets.set(key, state);
    return result;
  }

  async clear(): Promise<void> {
    this.windows.clear();
    this.counters.clear();
    this.buckets.clear();
  }

  async snapshot(): Promise<CounterSnapshot> {
    const windows: CounterSnapshot['windows'] = {};
    for (const [key, entries] of this.windows) windows[key] = entries.map(({ at, amount, expiresAt }) => ({ at, amount, expiresAt }));
    return { windows, counters: Object.fromEntries(this.counters), buckets: Object.fromEntries(this.buckets) };
  }

  async restore(snapshot: CounterSnapshot): Promise<void> {
    await this.clear();
    for (const [key, entries] of Object.entries(snapshot.windows ?? {})) {
      this.windows.set(key, entries.map((e) => ({ ...e, handle: String(this.nextHandle++) })));
    }
    for (const [key, c] of Object.entries(snapshot.counters ?? {})) this.counters.set(key, { ...c });
    for (const [key, b] of Object.entries(snapshot.buckets ?? {})) this.buckets.set(key, { ...b });
  }

  async close(): Promise<void> {}
}

export function createMemoryCounterStore(): MemoryCounterStore {
  return new MemoryCounterStore();
}

/** Index of the first entry with `at > since` (entries are kept sorted by `at`). */
function firstAfter(entries: readonly WindowEntry[], since: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.at > since) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
