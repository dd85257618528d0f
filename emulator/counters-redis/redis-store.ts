/**
 * Counters in Redis, so several gateway instances can share them (policies.md §5.6, peers.md §2.4).
 *
 * Every read-modify-write is one Lua script (atomic on the server). The time is always the caller's (`now`, `at`,
 * `expiresAt` from the emulator's clock, virtual or not) and is passed to the scripts; Redis's own clock only
 * drives TTLs, which bound memory and never decide a limit. Token buckets are updated by compare-and-set: the
 * bucket math runs here, the swap runs as a script and is retried when another instance changed the bucket.
 *
 * Topologies: `shared` (one namespace: one limit across every gateway of the group) or `per-gateway` (the instance
 * name joins the namespace: each gateway counts alone, as APIM's gateways do, so N gateways admit up to N × the
 * limit).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { PolicyError, apimErrorBody, type BucketState, type CounterSnapshot, type CounterStore, type WindowEntry } from '../../policy-engine/index.js';

export type CounterTopology = 'shared' | 'per-gateway';
export type RedisFailureMode = 'open' | 'closed';

export interface RedisCounterStoreOptions {
  /** redis://host:port[/db] */
  url: string;
  /** Emulator group: every key lives under `age:<group>:` (default 'default'). */
  group?: string;
  topology?: CounterTopology;
  /** This gateway's name; required for the per-gateway topology. */
  instance?: string;
  /** fail-open (APIM-like: the request goes on uncounted, the failure is logged and counted) or fail-closed. */
  failureMode?: RedisFailureMode;
  /** No counter operation waits longer than this (ms); default 250. */
  timeoutMs?: number;
  /** How long a request waits for another gateway's check-and-charge on the same key (ms, default 2000). */
  lockWaitMs?: number;
  /** Wall-clock TTL floor for every key (ms, default 10 min): memory stays bounded, limits never depend on it. */
  ttlFloorMs?: number;
  log?: (line: string) => void;
  /** Called for every failed operation (metrics). */
  onError?: (operation: string, error: Error) => void;
}

/** A counter operation that could not reach Redis in fail-closed mode: the request is refused with 503. */
export class CounterStoreUnavailableError extends PolicyError {
  constructor(operation: string, cause: Error) {
    const message = `Counter store (Redis) unavailable during ${operation}: ${cause.message}. The gateway is configured to fail closed.`;
    super({ source: 'counter-store', reason: 'CounterStoreUnavailable', message, response: { statusCode: 503, body: apimErrorBody(503, message) }, cause });
    this.name = 'CounterStoreUnavailableError';
  }
}

// KEYS: at-zset, expiry-zset, amount-hash. ARGV: since. Drops entries expired by `since`, returns [at, amount, …].
const WINDOW_ENTRIES = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for i = 1, #expired, 500 do
  local chunk = {unpack(expired, i, math.min(i + 499, #expired))}
  redis.call('ZREM', KEYS[1], unpack(chunk))
  redis.call('ZREM', KEYS[2], unpack(chunk))
  redis.call('HDEL', KEYS[3], unpack(chunk))
end
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES')
local out = {}
for i = 1, #live, 2 do
  out[#out + 1] = live[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[3], live[i]) or '0'
end
return out`;

// KEYS: at-zset, expiry-zset, amount-hash. ARGV: handle, at, amount, expiresAt, ttlMs.
const WINDOW_ADD = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
local ttl = tonumber(ARGV[5])
for i = 1, 3 do
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`;

// KEYS: amount-hash. ARGV: handle, amount.
const WINDOW_ADJUST = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1`;

// KEYS: counter hash. ARGV: now.
const COUNTER_GET = `
local v = redis.call('HMGET', KEYS[1], 'value', 'expiresAt')
if not v[1] or tonumber(v[2]) <= tonumber(ARGV[1]) then return '0' end
return v[1]`;

// KEYS: counter hash. ARGV: amount, now, expiresAt, ttlMs. Returns the new value (as a string: Lua numbers are cut to integers).
const COUNTER_ADD = `
local v = redis.call('HMGET', KEYS[1], 'value', 'expiresAt')
local value = 0
if v[1] and tonumber(v[2]) > tonumber(ARGV[2]) then value = tonumber(v[1]) end
value = value + tonumber(ARGV[1])
local text = string.format('%.17g', value)
redis.call('HSET', KEYS[1], 'value', text, 'expiresAt', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return text`;

// KEYS: bucket. ARGV: expected ('' = absent), next, ttlMs. 1 when swapped, 0 when another instance changed it.
const BUCKET_CAS = `
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

// KEYS: lock. ARGV: token. Releases the lock only when this holder still has it.
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface Scripts {
  ageWindowEntries(t: string, e: string, a: string, since: number): Promise<string[]>;
  ageWindowAdd(t: string, e: string, a: string, handle: string, at: number, amount: number, expiresAt: number, ttl: number): Promise<number>;
  ageWindowAdjust(a: string, handle: string, amount: number): Promise<number>;
  ageCounterGet(c: string, now: number): Promise<string>;
  ageCounterAdd(c: string, amount: number, now: number, expiresAt: number, ttl: number): Promise<string>;
  ageBucketCas(b: string, expected: string, next: string, ttl: number): Promise<number>;
  ageUnlock(lock: string, token: string): Promise<number>;
}

const MAX_CAS_ATTEMPTS = 100;

export class RedisCounterStore implements CounterStore {
  readonly kind = 'redis';
  readonly prefix: string;
  readonly failureMode: RedisFailureMode;
  /** Operations that failed (Redis down, timeout), since start; per operation in errorsByOperation (/metrics). */
  errors = 0;
  readonly errorsByOperation = new Map<string, number>();
  private readonly redis: Redis & Scripts;
  private readonly ttlFloorMs: number;
  private readonly instanceTag: string;
  private nextHandle = 1;
  private lastLogged = 0;
  private everConnected = false;
  private readonly timeoutMs: number;

  constructor(private readonly options: RedisCounterStoreOptions) {
    const topology = options.topology ?? 'shared';
    if (topology === 'per-gateway' && !options.instance) throw new Error("Redis counters: the per-gateway topology needs an instance name.");
    const group = options.group ?? 'default';
    this.prefix = topology === 'shared' ? `age:${group}:` : `age:${group}:gw:${options.instance}:`;
    this.failureMode = options.failureMode ?? 'open';
    this.ttlFloorMs = options.ttlFloorMs ?? 600_000;
    this.instanceTag = `${options.instance ?? 'gw'}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const timeoutMs = options.timeoutMs ?? 250;
    this.timeoutMs = timeoutMs;
    const redisOptions: RedisOptions = {
      // Commands fail at once while disconnected (no offline queue) or after timeoutMs; reconnects back off to 2 s.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 1000),
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      lazyConnect: false,
    };
    this.redis = new Redis(options.url, redisOptions) as Redis & Scripts;
    this.redis.on('error', (error: Error) => this.logFailure('connection', error));
    this.redis.on('ready', () => {
      if (this.everConnected) this.options.log?.(`counter store (Redis ${this.options.url}): reconnected`);
      this.everConnected = true;
    });
    this.redis.defineCommand('ageWindowEntries', { numberOfKeys: 3, lua: WINDOW_ENTRIES });
    this.redis.defineCommand('ageWindowAdd', { numberOfKeys: 3, lua: WINDOW_ADD });
    this.redis.defineCommand('ageWindowAdjust', { numberOfKeys: 1, lua: WINDOW_ADJUST });
    this.redis.defineCommand('ageCounterGet', { numberOfKeys: 1, lua: COUNTER_GET });
    this.redis.defineCommand('ageCounterAdd', { numberOfKeys: 1, lua: COUNTER_ADD });
    this.redis.defineCommand('ageBucketCas', { numberOfKeys: 1, lua: BUCKET_CAS });
    this.redis.defineCommand('ageUnlock', { numberOfKeys: 1, lua: UNLOCK });
  }

  /** Resolves once connected; rejects after `waitMs` (default 5 s). */
  async ready(waitMs = 5000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const onReady = () => (clearTimeout(timer), resolve());
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        reject(new Error(`Redis at ${this.options.url} did not answer within ${waitMs} ms`));
      }, waitMs);
      this.redis.once('ready', onReady);
    });
  }

  private windowKeys(key: string): [string, string, string] {
    const base = `${this.prefix}w:${key}`;
    return [`${base}:t`, `${base}:e`, `${base}:a`];
  }

  private logFailure(operation: string, error: Error): void {
    if (operation !== 'connection') {
      this.errors++;
      this.errorsByOperation.set(operation, (this.errorsByOperation.get(operation) ?? 0) + 1);
      this.options.onError?.(operation, error);
    }
    const now = performance.now();
    if (now - this.lastLogged > 5000) {
      this.lastLogged = now;
      this.options.log?.(`counter store (Redis ${this.options.url}): ${operation} failed: ${error.message} (fail-${this.failureMode})`);
    }
  }

  /** Runs one operation; on failure fails open (the fallback: nothing counted) or closed (throws). */
  private async guard<T>(operation: string, run: () => Promise<T>, fallback: () => T): Promise<T> {
    try {
      // The first connection is awaited (up to the timeout); after an outage, operations fail at once until reconnected.
      if (!this.everConnected && this.redis.status !== 'ready') await this.ready(this.timeoutMs);
      return await run();
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      this.logFailure(operation, e);
      if (this.failureMode === 'closed') throw new CounterStoreUnavailableError(operation, e);
      return fallback();
    }
  }

  windowEntries(key: string, since: number): Promise<WindowEntry[]> {
    return this.guard('windowEntries', async () => {
      const flat = await this.redis.ageWindowEntries(...this.windowKeys(key), since);
      const out: WindowEntry[] = [];
      for (let i = 0; i < flat.length; i += 2) out.push({ at: Number(flat[i]), amount: Number(flat[i + 1]) });
      return out;
    }, () => []);
  }

  windowAdd(key: string, at: number, amount: number, expiresAt: number): Promise<string> {
    const handle = `${this.instanceTag}:${this.nextHandle++}`;
    return this.guard('windowAdd', async () => {
      await this.redis.ageWindowAdd(...this.windowKeys(key), handle, at, amount, expiresAt, Math.max(this.ttlFloorMs, expiresAt - at));
      return handle;
    }, () => handle);
  }

  async windowAdjust(key: string, handle: string, amount: number): Promise<void> {
    await this.guard('windowAdjust', () => this.redis.ageWindowAdjust(this.windowKeys(key)[2], handle, amount), () => 0);
  }

  counterGet(key: string, now: number): Promise<number> {
    return this.guard('counterGet', async () => Number(await this.redis.ageCounterGet(`${this.prefix}c:${key}`, now)), () => 0);
  }

  counterAdd(key: string, amount: number, now: number, expiresAt: number): Promise<number> {
    return this.guard(
      'counterAdd',
      async () => Number(await this.redis.ageCounterAdd(`${this.prefix}c:${key}`, amount, now, expiresAt, Math.max(this.ttlFloorMs, expiresAt - now))),
      () => amount,
    );
  }

  bucketUpdate<T>(key: string, update: (state: BucketState | undefined) => { state: BucketState; result: T }): Promise<T> {
    const redisKey = `${this.prefix}b:${key}`;
    return this.guard('bucketUpdate', async () => {
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const current = (await this.redis.get(redisKey)) ?? '';
        const { state, result } = update(current === '' ? undefined : (JSON.parse(current) as BucketState));
        if ((await this.redis.ageBucketCas(redisKey, current, JSON.stringify(state), this.ttlFloorMs)) === 1) return result;
      }
      throw new Error(`token bucket ${key}: ${MAX_CAS_ATTEMPTS} conflicting updates in a row`);
    }, () => update(undefined).result);
  }

  async exclusive<T>(key: string, run: () => Promise<T>): Promise<T> {
    const lockKey = `${this.prefix}lock:${key}`;
    const token = `${this.instanceTag}:${this.nextHandle++}`;
    const waitMs = this.options.lockWaitMs ?? 2000;
    const acquired = await this.guard('lock', async () => {
      const deadline = performance.now() + waitMs;
      // The lock expires by itself (a gateway that dies holding it blocks the key for at most waitMs).
      while ((await this.redis.set(lockKey, token, 'PX', waitMs, 'NX')) !== 'OK') {
        if (performance.now() > deadline) throw new Error(`lock on ${key} still held after ${waitMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 2));
      }
      return true;
    }, () => false);
    try {
      return await run();
    } finally {
      if (acquired) await this.guard('unlock', () => this.redis.ageUnlock(lockKey, token), () => 0);
    }
  }

  private async keys(): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      cursor = next;
      out.push(...batch);
    } while (cursor !== '0');
    // The shared namespace must not take the per-gateway namespaces under it.
    return out.filter((k) => !k.slice(this.prefix.length).startsWith('gw:') || this.prefix.includes(':gw:'));
  }

  async clear(): Promise<void> {
    await this.guard('clear', async () => {
      const keys = await this.keys();
      for (let i = 0; i < keys.length; i += 500) await this.redis.del(...keys.slice(i, i + 500));
    }, () => undefined);
  }

  async snapshot(): Promise<CounterSnapshot> {
    return this.guard('snapshot', async () => {
      const snapshot: CounterSnapshot = { windows: {}, counters: {}, buckets: {} };
      for (const full of await this.keys()) {
        const rest = full.slice(this.prefix.length);
        if (rest.startsWith('w:') && rest.endsWith(':t')) {
          const key = rest.slice(2, -2);
          const [t, e, a] = this.windowKeys(key);
          const [ats, exps, amounts] = await Promise.all([this.redis.zrange(t, 0, -1, 'WITHSCORES'), this.redis.zrange(e, 0, -1, 'WITHSCORES'), this.redis.hgetall(a)]);
          const expiresAt = new Map<string, number>();
          for (let i = 0; i < exps.length; i += 2) expiresAt.set(exps[i]!, Number(exps[i + 1]));
          snapshot.windows[key] = [];
          for (let i = 0; i < ats.length; i += 2) {
            snapshot.windows[key].push({ at: Number(ats[i + 1]), amount: Number(amounts[ats[i]!] ?? 0), expiresAt: expiresAt.get(ats[i]!) ?? 0 });
          }
        } else if (rest.startsWith('c:')) {
          const c = await this.redis.hgetall(full);
          snapshot.counters[rest.slice(2)] = { value: Number(c.value ?? 0), expiresAt: Number(c.expiresAt ?? 0) };
        } else if (rest.startsWith('b:')) {
          const b = await this.redis.get(full);
          if (b) snapshot.buckets[rest.slice(2)] = JSON.parse(b) as BucketState;
        }
      }
      return snapshot;
    }, () => ({ windows: {}, counters: {}, buckets: {} }));
  }

  async restore(snapshot: CounterSnapshot): Promise<void> {
    await this.clear();
    for (const [key, entries] of Object.entries(snapshot.windows ?? {})) {
      for (const e of entries) await this.windowAdd(key, e.at, e.amount, e.expiresAt);
    }
    for (const [key, c] of Object.entries(snapshot.counters ?? {})) await this.counterAdd(key, c.value, c.expiresAt - 1, c.expiresAt);
    for (const [key, b] of Object.entries(snapshot.buckets ?? {})) await this.bucketUpdate(key, () => ({ state: b, result: undefined }));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export function createRedisCounterStore(options: RedisCounterStoreOptions): RedisCounterStore {
  return new RedisCounterStore(options);
}
