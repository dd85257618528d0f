export { CounterStoreUnavailableError, RedisCounterStore, createRedisCounterStore } from './redis-store.js';
export type { CounterTopology, RedisCounterStoreOptions, RedisFailureMode } from './redis-store.js';
