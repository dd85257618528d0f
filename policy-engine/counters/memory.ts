import type { BucketState, CounterSnapshot, CounterStore, WindowEntry } from './store.js';

interface StoredEntry extends WindowEntry {
  handle: string;
  expiresAt: number;
}

/** The embedded default: counters in this process's memory (one gateway instance). */
export class MemoryCounterStore implements CounterStore {
  readonly kind = 'memory';
  private windows = new Map<string, StoredEntry[]>();
  private counters = new Map<string, { value: number; expiresAt: number }>();
  private buckets = new Map<string, BucketState>();
  private nextHandle = 1;

  async windowEntries(key: string, since: number): Promise<WindowEntry[]> {
    const entries = this.windows.get(key);
    if (!entries) return [];
    // Drop what can never be read again (entries are appended in time order per caller).
    const live = entries.filter((e) => e.expiresAt > since);
    if (live.length !== entries.length) this.windows.set(key, live);
    return live.filter((e) => e.at > since).map(({ at, amount }) => ({ at, amount }));
  }

  async windowAdd(key: string, at: number, amount: number, expiresAt: number): Promise<string> {
    const handle = String(this.nextHandle++);
    const entries = this.windows.get(key) ?? [];
    entries.push({ at, amount, expiresAt, handle });
    if (entries.length > 1 && entries[entries.length - 2]!.at > at) entries.sort((a, b) => a.at - b.at);
    this.windows.set(key, entries);
    return handle;
  }

  async windowAdjust(key: string, handle: string, amount: number): Promise<void> {
    const entry = this.windows.get(key)?.find((e) => e.handle === handle);
    if (entry) entry.amount = amount;
  }

  async counterGet(key: string, now: number): Promise<number> {
    const c = this.counters.get(key);
    if (!c || c.expiresAt <= now) return 0;
    return c.value;
  }

  async counterAdd(key: string, amount: number, now: number, expiresAt: number): Promise<number> {
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
