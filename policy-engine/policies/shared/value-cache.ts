import type { EngineServices } from '../../pipeline/types.js';

/**
 * The value cache behind `cache-lookup-value`, `cache-store-value` and `cache-remove-value` (APIM's built-in
 * "internal" cache). Times are epoch milliseconds from the injected clock, passed in by the caller.
 */
export interface ValueCache {
  /** The value stored under `key`, or `{ found: false }` when absent or expired at `nowMs`. */
  get(key: string, nowMs: number): { found: true; value: unknown } | { found: false };
  set(key: string, value: unknown, expiresAtMs: number): void;
  delete(key: string): void;
  clear(): void;
  readonly size: number;
}

export interface MemoryValueCacheOptions {
  /** Entries kept at most; the oldest stored entry is evicted first (APIM's internal cache is bounded too). */
  maxEntries?: number;
}

const DEFAULT_MAX_ENTRIES = 10_000;

/** An in-memory ValueCache: a Map in insertion order, expired entries dropped on read and when full. */
export class MemoryValueCache implements ValueCache {
  private readonly entries = new Map<string, { value: unknown; expiresAtMs: number }>();
  private readonly maxEntries: number;

  constructor(options: MemoryValueCacheOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_MAX_ENTRIES);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, nowMs: number): { found: true; value: unknown } | { found: false } {
    const entry = this.entries.get(key);
    if (!entry) return { found: false };
    if (nowMs >= entry.expiresAtMs) {
      this.entries.delete(key);
      return { found: false };
    }
    return { found: true, value: entry.value };
  }

  set(key: string, value: unknown, expiresAtMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAtMs });
    if (this.entries.size > this.maxEntries) this.evict();
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private evict(): void {
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) return;
      this.entries.delete(key);
    }
  }
}

const caches = new WeakMap<EngineServices, ValueCache>();

/** The value cache of one policy engine (created on first use; a new engine, e.g. after a reset, starts empty). */
export function valueCacheFor(services: EngineServices): ValueCache {
  let cache = caches.get(services);
  if (!cache) caches.set(services, (cache = new MemoryValueCache()));
  return cache;
}
