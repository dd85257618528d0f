import { HeaderBag } from '../../expressions/index.js';
import type { EngineServices, GatewayResponse, RequestContext } from '../../pipeline/types.js';
import { MemoryValueCache, type ValueCache } from './value-cache.js';

/**
 * The response cache behind `cache-lookup` / `cache-store` (APIM's built-in cache; every caching-type uses it).
 * A lookup leaves the entry's key on the request so the store in outbound writes under the same key.
 */
export interface CachedResponse {
  statusCode: number;
  statusReason: string;
  headers: Array<[string, string[]]>;
  body: Uint8Array;
}

export interface ResponseCacheLookup {
  key: string;
  /** The response came from the cache: cache-store then stores nothing. */
  hit: boolean;
  downstream: { type: 'none' | 'private' | 'public'; mustRevalidate: boolean };
}

const caches = new WeakMap<EngineServices, ValueCache>();
const lookups = new WeakMap<RequestContext, ResponseCacheLookup>();

export function responseCacheFor(services: EngineServices): ValueCache {
  let cache = caches.get(services);
  if (!cache) caches.set(services, (cache = new MemoryValueCache()));
  return cache;
}

export function rememberLookup(ctx: RequestContext, lookup: ResponseCacheLookup): void {
  lookups.set(ctx, lookup);
}

export function lookupOf(ctx: RequestContext): ResponseCacheLookup | undefined {
  return lookups.get(ctx);
}

export function toGatewayResponse(cached: CachedResponse): GatewayResponse {
  return { statusCode: cached.statusCode, statusReason: cached.statusReason, headers: HeaderBag.fromEntries(cached.headers), body: { kind: 'bytes', bytes: cached.body } };
}

/** `Cache-Control` for downstream caches, as downstream-caching-type and must-revalidate ask. */
export function cacheControl(lookup: ResponseCacheLookup, maxAgeSeconds: number): string | undefined {
  if (lookup.downstream.type === 'none') return undefined;
  return [lookup.downstream.type, `max-age=${maxAgeSeconds}`, ...(lookup.downstream.mustRevalidate ? ['must-revalidate'] : [])].join(', ');
}
