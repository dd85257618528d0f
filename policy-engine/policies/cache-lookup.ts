import { ReturnResponseSignal } from '../pipeline/last-error.js';
import { definePolicy } from './define.js';
import { CACHING_TYPES } from './cache-store-value.js';
import { cacheControl, rememberLookup, responseCacheFor, toGatewayResponse, type CachedResponse } from './shared/response-cache.js';

/**
 * `<cache-lookup vary-by-developer vary-by-developer-groups …><vary-by-header/>…<vary-by-query-parameter/>…</cache-lookup>`:
 * answers a GET from the response cache when cache-store stored one for the same key. The key is the API,
 * operation, path, the listed query parameters (all of them when none is listed) and headers, and the developer
 * (subscription) or its groups when asked. Requests carrying `Authorization` are not cached unless
 * allow-private-response-caching is true. On a hit the cached response is returned at once, with no backend
 * call and no outbound section [INF: APIM documents the hit, not whether outbound runs].
 */
export const cacheLookup = definePolicy({
  name: 'cache-lookup',
  sections: ['inbound'],
  children: ['vary-by-header', 'vary-by-query-parameter'],
  attributes: {
    'vary-by-developer': { kind: 'bool', required: true },
    'vary-by-developer-groups': { kind: 'bool', required: true },
    'caching-type': { kind: 'enum', values: CACHING_TYPES, default: 'prefer-external', expressions: false },
    'downstream-caching-type': { kind: 'enum', values: ['none', 'private', 'public'], default: 'none' },
    'must-revalidate': { kind: 'bool', default: true },
    'allow-private-response-caching': { kind: 'bool', default: false },
  },
  compile(node, env) {
    const byDeveloper = env.attr(node, 'vary-by-developer', { kind: 'bool', required: true });
    const byGroups = env.attr(node, 'vary-by-developer-groups', { kind: 'bool', required: true });
    const cachingType = env.attr(node, 'caching-type', { kind: 'enum', values: CACHING_TYPES, default: 'prefer-external', expressions: false });
    const downstream = env.attr(node, 'downstream-caching-type', { kind: 'enum', values: ['none', 'private', 'public'], default: 'none' });
    const mustRevalidate = env.attr(node, 'must-revalidate', { kind: 'bool', default: true });
    const allowPrivate = env.attr(node, 'allow-private-response-caching', { kind: 'bool', default: false });
    const headers: string[] = [];
    const queryParameters: string[] = [];
    for (const child of node.children) {
      const text = child.text?.value.trim() ?? '';
      if (child.name === 'vary-by-header' && text) headers.push(text.toLowerCase());
      else if (child.name === 'vary-by-query-parameter' && text) queryParameters.push(...text.split(/[;,]/).map((p) => p.trim()).filter(Boolean));
    }
    if (!byDeveloper || !byGroups || !cachingType || !downstream || !mustRevalidate || !allowPrivate) return undefined;
    return {
      run(ctx) {
        if (ctx.request.method.toUpperCase() !== 'GET') return; // APIM caches GET responses only
        if (ctx.request.headers.has('authorization') && !allowPrivate.get(ctx)) return;
        const url = ctx.request.url;
        const query = queryParameters.length
          ? queryParameters.map((p) => `${p.toLowerCase()}=${url.searchParams.getAll(p).join(',')}`)
          : [...url.searchParams.entries()].map(([k, v]) => `${k.toLowerCase()}=${v}`).sort();
        const key = JSON.stringify([
          ctx.api.Id,
          ctx.operation.Id,
          url.pathname.toLowerCase(),
          query,
          headers.map((h) => `${h}:${(ctx.request.headers.get(h) ?? []).join(',')}`),
          byDeveloper.get(ctx) ? (ctx.user?.Id ?? ctx.subscription?.Id ?? '') : '',
          // Users have no groups in the emulator: varying by groups does not split the cache.
          byGroups.get(ctx) ? 'groups' : '',
        ]);
        const hit = responseCacheFor(ctx.services).get(key, ctx.services.clock.now());
        const lookup = { key, hit: hit.found, downstream: { type: downstream.get(ctx) as 'none' | 'private' | 'public', mustRevalidate: mustRevalidate.get(ctx) } };
        rememberLookup(ctx, lookup);
        if (!hit.found) return;
        const { response: cached, expiresAtMs } = hit.value as { response: CachedResponse; expiresAtMs: number };
        ctx.response = toGatewayResponse(cached);
        const control = cacheControl(lookup, Math.max(0, Math.ceil((expiresAtMs - ctx.services.clock.now()) / 1000)));
        if (control) ctx.response.headers.set('Cache-Control', [control]);
        throw new ReturnResponseSignal();
      },
    };
  },
});
