import { apimErrorBody, PolicyError } from '../../pipeline/last-error.js';
import type { RequestContext } from '../../pipeline/types.js';
import { toJToken } from '../../expressions/runtime/json.js';

/** One validation error in APIM's documented shape (logged to errors-variable-name). */
export interface ValidationError {
  Name: string;
  Type: string;
  ValidationRule: string;
  Details: string;
  Action: 'detect' | 'prevent';
}

export type ValidationAction = 'ignore' | 'prevent' | 'detect';
export const VALIDATION_ACTIONS: readonly ValidationAction[] = ['ignore', 'prevent', 'detect'];

/** What the client sees for errors that would leak implementation details (every response-side error). */
export const INTERNAL_ERROR_PUBLIC = 'The request could not be processed due to an internal error. Contact the API owner.';

type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** `/deployments/{deployment-id}/chat` and `/deployments/{id}/chat` are the same path. */
function pathKey(template: string): string {
  return `/${template.split('?')[0]!.replace(/^\/+|\/+$/g, '')}`.replace(/\{[^}]*\}/g, '{}').toLowerCase();
}

/** The OpenAPI operation object of the request's operation (matched by method and URL template), or undefined. */
export function schemaOperation(ctx: RequestContext): Json | undefined {
  const doc = ctx.api.openApi;
  const paths = doc?.paths as Record<string, Json> | undefined;
  if (!paths) return undefined;
  const key = pathKey(ctx.operation.UrlTemplate);
  const method = ctx.operation.Method.toLowerCase();
  for (const [path, item] of Object.entries(paths)) {
    if (pathKey(path) !== key || !item || typeof item !== 'object') continue;
    if (method === '*') return METHODS.map((m) => item[m]).find((o) => o && typeof o === 'object') as Json | undefined;
    const op = item[method];
    if (op && typeof op === 'object') return op as Json;
  }
  return undefined;
}

/** `#/components/…` references resolved within the API's document (one level at a time). */
export function resolveRef(ctx: RequestContext, value: unknown): unknown {
  let current = value;
  for (let depth = 0; depth < 32 && current && typeof current === 'object' && typeof (current as Json).$ref === 'string'; depth++) {
    const ref = (current as Json).$ref as string;
    if (!ref.startsWith('#/')) return undefined;
    current = ref
      .slice(2)
      .split('/')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Json)[part] : undefined), ctx.api.openApi);
  }
  return current;
}

/**
 * Records errors in the errors variable (a JArray of the documented objects, appended to) and, when one has the
 * prevent action, ends processing: 400 in inbound, 502 otherwise, LastError set (on-error runs).
 */
export function reportValidation(ctx: RequestContext, policy: string, section: string, errors: ValidationError[], variableName: string | undefined, publicMessage: (e: ValidationError) => string): void {
  if (errors.length === 0) return;
  if (variableName) {
    const previous = ctx.variables.get(variableName);
    const list = previous && typeof (previous as { ToString?: unknown }).ToString === 'function' ? JSON.parse(String((previous as { ToString(): string }).ToString())) : [];
    ctx.variables.set(variableName, toJToken([...(Array.isArray(list) ? list : []), ...errors]));
  }
  const blocking = errors.find((e) => e.Action === 'prevent');
  if (!blocking) return;
  const inbound = section === 'inbound';
  const status = inbound ? 400 : 502;
  const message = publicMessage(blocking);
  throw new PolicyError({
    source: policy,
    reason: inbound ? 'Bad request' : 'Response not allowed',
    message: blocking.Details,
    response: { statusCode: status, body: apimErrorBody(status, message) },
  });
}
