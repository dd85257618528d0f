import type { RequestContext } from '../pipeline/types.js';
import { definePolicy } from './define.js';
import { readBodyText, writeBodyText } from './shared/message-body.js';

/** The backend's base URL in effect (set-backend-service's backend or base-url, else the API's service URL), without a trailing '/'. */
function backendBase(ctx: RequestContext): string | undefined {
  const url = ctx.backend.backendId ? ctx.services.backends.get(ctx.backend.backendId)?.url : (ctx.backend.baseUrl ?? ctx.api.ServiceUrl ?? undefined);
  return typeof url === 'string' && url !== '' ? url.replace(/\/+$/, '') : undefined;
}

/** The API's URL on the gateway as the client called it: origin + API path. */
function gatewayBase(ctx: RequestContext): string {
  const path = ctx.api.Path.replace(/^\/+|\/+$/g, '');
  return path ? `${ctx.request.originalUrl.origin}/${path}` : ctx.request.originalUrl.origin;
}

/**
 * `<redirect-content-urls />`: in outbound, links to the backend service in the response body are rewritten to
 * point at the gateway; in inbound, links to the gateway in the request body point at the backend. Headers
 * (Location…) are left alone, as the reference says.
 */
export const redirectContentUrls = definePolicy({
  name: 'redirect-content-urls',
  sections: ['inbound', 'outbound'],
  attributes: {},
  compile(node, env) {
    if (/\[(?:[2-9]|\d{2,})\]$/.test(env.path)) {
      env.report('PolAttributeConflict', node.nameSpan, [node.name, 'this policy can only be used once in a policy section']);
      return undefined;
    }
    const outbound = env.section === 'outbound';
    return {
      async run(ctx) {
        const backend = backendBase(ctx);
        if (!backend) return;
        const gateway = gatewayBase(ctx);
        const [from, to] = outbound ? [backend, gateway] : [gateway, backend];
        if (from === to) return;
        const text = await readBodyText(ctx, outbound);
        if (text.includes(from)) writeBodyText(ctx, outbound, text.split(from).join(to));
      },
    };
  },
});
