import { ReturnResponseSignal } from '../pipeline/last-error.js';
import type { RequestContext } from '../pipeline/types.js';
import { HeaderBag } from '../expressions/index.js';
import type { PolicyElement } from '../xml/model.js';
import { definePolicy, type CompileEnv, type ValueSource } from './define.js';

const PREFLIGHTS = new WeakSet<RequestContext>();

/**
 * Marks a request as a CORS preflight the gateway answers with the pipeline's `cors` policies alone (an OPTIONS
 * request with Origin and Access-Control-Request-Method that matches no OPTIONS operation of the API).
 */
export function markCorsPreflight(ctx: RequestContext): void {
  PREFLIGHTS.add(ctx);
}

export function isCorsPreflightRequest(method: string, headers: HeaderBag): boolean {
  return method === 'OPTIONS' && headers.has('Origin') && headers.has('Access-Control-Request-Method');
}

const DEFAULT_METHODS = ['GET', 'POST'];

/**
 * `<cors [allow-credentials="false"] [terminate-unmatched-request="true"]>` with `<allowed-origins>`,
 * `<allowed-methods [preflight-result-max-age]>`, `<allowed-headers>`, `<expose-headers>`.
 *
 * - Preflight (see markCorsPreflight): a matching origin, method and request headers get 200 with
 *   Access-Control-Allow-Origin (the origin, or `*` for a `*` list without credentials), -Allow-Credentials
 *   (when true), -Allow-Methods and -Allow-Headers (the requested ones) and -Max-Age (when > 0); nothing else in
 *   the pipeline runs. An unmatched preflight gets an empty 200 (terminate-unmatched-request true), or the next
 *   `cors` policy of the inbound section decides (false; none left: an empty 200).
 * - A request with Origin: a match gets Access-Control-Allow-Origin, -Allow-Credentials and -Expose-Headers on
 *   whatever response it ends with. An unmatched GET/HEAD ends with an empty 200 when terminate-unmatched-request
 *   is true and proceeds without CORS headers when false; other methods proceed without CORS headers [docs silent].
 *
 * Origins compare by scheme, host and port (`https://ai.azure.com/` matches `https://ai.azure.com`). The default of
 * terminate-unmatched-request is `true` (the docs' usage note; their attribute table says false) [OPEN].
 */
export const cors = definePolicy({
  name: 'cors',
  sections: ['inbound'],
  attributes: {
    'allow-credentials': { kind: 'bool', default: false },
    'terminate-unmatched-request': { kind: 'bool', default: true },
  },
  children: ['allowed-origins', 'allowed-methods', 'allowed-headers', 'expose-headers'],
  compile(node, env) {
    const credentials = env.attr(node, 'allow-credentials', { kind: 'bool', default: false });
    const terminate = env.attr(node, 'terminate-unmatched-request', { kind: 'bool', default: true });
    const origins = list(env, node, 'allowed-origins', 'origin', true);
    const methodsNode = node.children.find((c) => c.name === 'allowed-methods');
    const methods = list(env, node, 'allowed-methods', 'method', false, ['preflight-result-max-age']);
    const maxAge = methodsNode ? env.attr(methodsNode, 'preflight-result-max-age', { kind: 'int', default: 0, min: 0 }) : undefined;
    const allowedHeaders = list(env, node, 'allowed-headers', 'header', false);
    const exposeHeaders = list(env, node, 'expose-headers', 'header', false);
    if (!credentials || !terminate || !origins || methods === null || allowedHeaders === null || exposeHeaders === null) return undefined;
    if (methodsNode && !maxAge) return undefined;
    for (const o of origins) {
      if (o.isExpression) continue;
      const text = o.constant!.trim();
      if (text !== '*' && normalizeOrigin(text) === undefined) {
        env.report('PolInvalidAttributeValue', node.nameSpan, [node.name, 'origin', text, 'an origin is * or a URI with scheme and host']);
        return undefined;
      }
    }

    const match = (ctx: RequestContext, origin: string) => {
      const allowed = origins.map((o) => o.get(ctx).trim());
      if (allowed.includes('*')) return { wildcard: true };
      const wanted = normalizeOrigin(origin);
      return wanted !== undefined && allowed.some((a) => normalizeOrigin(a) === wanted) ? { wildcard: false } : undefined;
    };
    const allowOrigin = (ctx: RequestContext, origin: string, wildcard: boolean, headers: HeaderBag) => {
      const withCredentials = credentials.get(ctx);
      headers.set('Access-Control-Allow-Origin', [wildcard && !withCredentials ? '*' : origin]);
      if (withCredentials) headers.set('Access-Control-Allow-Credentials', ['true']);
    };
    const endWith = (ctx: RequestContext, headers: HeaderBag): never => {
      ctx.response = { statusCode: 200, statusReason: 'OK', headers, body: { kind: 'empty' } };
      throw new ReturnResponseSignal();
    };

    return {
      run(ctx) {
        const origin = ctx.request.headers.get('Origin')?.[0];
        if (origin === undefined) return;
        if (PREFLIGHTS.has(ctx)) {
          const matched = match(ctx, origin);
          const method = (ctx.request.headers.get('Access-Control-Request-Method')?.[0] ?? '').trim().toUpperCase();
          const requested = (ctx.request.headers.get('Access-Control-Request-Headers') ?? [])
            .flatMap((h) => h.split(','))
            .map((h) => h.trim())
            .filter((h) => h !== '');
          const allowedMethods = methods ? methods.map((m) => m.get(ctx).trim().toUpperCase()) : DEFAULT_METHODS;
          const allowedHeaderNames = (allowedHeaders ?? []).map((h) => h.get(ctx).trim().toLowerCase());
          const methodOk = allowedMethods.includes('*') || allowedMethods.includes(method);
          const headersOk = allowedHeaderNames.includes('*') || requested.every((h) => allowedHeaderNames.includes(h.toLowerCase()));
          if (matched && methodOk && headersOk) {
            const headers = new HeaderBag();
            allowOrigin(ctx, origin, matched.wildcard, headers);
            headers.set('Access-Control-Allow-Methods', [method]);
            if (requested.length > 0) headers.set('Access-Control-Allow-Headers', [requested.join(',')]);
            const age = maxAge?.get(ctx) ?? 0;
            if (age > 0) headers.set('Access-Control-Max-Age', [String(age)]);
            endWith(ctx, headers);
          }
          if (terminate.get(ctx)) endWith(ctx, new HeaderBag());
          return;
        }
        const matched = match(ctx, origin);
        const method = ctx.request.method.toUpperCase();
        if (!matched) {
          if ((method === 'GET' || method === 'HEAD') && terminate.get(ctx)) endWith(ctx, new HeaderBag());
          return;
        }
        const exposed = (exposeHeaders ?? []).map((h) => h.get(ctx).trim());
        ctx.atEnd.push(() => {
          const response = ctx.response;
          if (!response) return;
          allowOrigin(ctx, origin, matched.wildcard, response.headers);
          if (exposed.length > 0) response.headers.set('Access-Control-Expose-Headers', [exposed.join(',')]);
        });
      },
    };
  },
});

/** `<name><item>…</item></name>`: undefined when absent (required → reported), null on errors. */
function list(env: CompileEnv, node: PolicyElement, name: string, item: string, required: boolean, attributes: string[] = []): ValueSource<string>[] | undefined | null {
  const element = node.children.find((c) => c.name === name);
  if (!element) {
    if (required) env.report('PolMissingChild', node.nameSpan, [node.name, name]);
    return required ? null : undefined;
  }
  let ok = true;
  for (const a of element.attributes) if (!attributes.includes(a.name)) env.report('PolUnknownAttribute', a.nameSpan, [name, a.name]);
  const items: ValueSource<string>[] = [];
  for (const child of element.children) {
    if (child.name !== item) {
      env.report('PolInvalidChild', child.nameSpan, [name, child.name]);
      ok = false;
      continue;
    }
    const text = env.text(child, { trim: true });
    if (text) items.push(text);
    else ok = false;
  }
  if (items.length === 0) {
    env.report('PolMissingChild', element.nameSpan, [name, item]);
    ok = false;
  }
  return ok ? items : null;
}

function normalizeOrigin(text: string): string | undefined {
  try {
    const url = new URL(text.trim());
    if (!url.host) return undefined;
    return `${url.protocol}//${url.host}`.toLowerCase();
  } catch {
    return undefined;
  }
}

