import { HeaderBag } from '../expressions/index.js';
import { reasonPhrase } from '../pipeline/http-status.js';
import type { RequestContext } from '../pipeline/types.js';
import { definePolicy } from './define.js';

/** `<set-status code="…" reason="…"/>`. */
export const setStatus = definePolicy({
  name: 'set-status',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    code: { kind: 'int', required: true, min: 100, max: 599 },
    reason: { kind: 'string' },
  },
  compile(node, env) {
    const code = env.attr(node, 'code', { kind: 'int', required: true, min: 100, max: 599 });
    const reason = env.attr(node, 'reason', { kind: 'string' });
    if (!code) return undefined;
    // Documented as required, but APIM deploys a set-status without it (six AI-Gateway lab files do).
    if (!reason) env.report('PolSetStatusNoReason', node.nameSpan);
    return {
      run(ctx) {
        const response = ensureResponse(ctx);
        response.statusCode = code.get(ctx);
        response.statusReason = reason ? reason.get(ctx) || reasonPhrase(response.statusCode) : '';
      },
    };
  },
});

/** The response policies write to: creates an empty 200 when none exists yet. */
export function ensureResponse(ctx: RequestContext) {
  ctx.response ??= { statusCode: 200, statusReason: 'OK', headers: new HeaderBag(), body: { kind: 'empty' } };
  return ctx.response;
}
