import { definePolicy } from './define.js';
import { cacheControl, lookupOf, responseCacheFor } from './shared/response-cache.js';

/**
 * `<cache-store duration="seconds" [cache-response="bool"]/>`: stores the response under the key cache-lookup
 * computed (nothing without a lookup, or when the response came from the cache). Without cache-response only
 * 200 OK responses are stored; duration counts on the emulator clock.
 */
export const cacheStore = definePolicy({
  name: 'cache-store',
  sections: ['outbound'],
  attributes: {
    duration: { kind: 'int', required: true, min: 0 },
    'cache-response': { kind: 'bool' },
  },
  compile(node, env) {
    const duration = env.attr(node, 'duration', { kind: 'int', required: true, min: 0 });
    const cacheResponse = env.attr(node, 'cache-response', { kind: 'bool' });
    if (!duration) return undefined;
    const explicit = node.attributes.some((a) => a.name === 'cache-response');
    return {
      async run(ctx) {
        const lookup = lookupOf(ctx);
        const response = ctx.response;
        if (!lookup || lookup.hit || !response) return;
        if (explicit ? !cacheResponse!.get(ctx) : response.statusCode !== 200) return;
        let bytes: Uint8Array;
        if (response.body.kind === 'bytes') bytes = response.body.bytes;
        else if (response.body.kind === 'empty') bytes = new Uint8Array();
        else return; // a streamed (event-stream) response is passed through, not cached
        const seconds = duration.get(ctx);
        const now = ctx.services.clock.now();
        const headers = [...response.headers.entries()].map(([name, values]) => [name, [...values]] as [string, string[]]);
        responseCacheFor(ctx.services).set(lookup.key, { response: { statusCode: response.statusCode, statusReason: response.statusReason, headers, body: bytes }, expiresAtMs: now + seconds * 1000 }, now + seconds * 1000);
        const control = cacheControl(lookup, seconds);
        if (control) response.headers.set('Cache-Control', [control]);
      },
    };
  },
});
