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

/** An OpenAPI parameter (operation-level ones override path-item ones with the same name and location). */
export interface SchemaParameter {
  name: string;
  in: 'query' | 'header' | 'path' | 'cookie';
  schema?: Json;
}

/** The operation's parameters from the API's document, `$ref`s resolved. */
export function schemaParameters(ctx: RequestContext): SchemaParameter[] {
  const doc = ctx.api.openApi;
  const paths = doc?.paths as Record<string, Json> | undefined;
  const op = schemaOperation(ctx);
  if (!paths || !op) return [];
  const item = Object.entries(paths).find(([p, i]) => pathKey(p) === pathKey(ctx.operation.UrlTemplate) && i && typeof i === 'object')?.[1];
  const list = [...((item?.parameters as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])].map((p) => resolveRef(ctx, p) as SchemaParameter | undefined);
  const byKey = new Map<string, SchemaParameter>();
  for (const p of list) if (p && typeof p.name === 'string') byKey.set(`${p.in}:${p.in === 'header' ? p.name.toLowerCase() : p.name}`, { ...p, schema: resolveRef(ctx, p.schema) as Json | undefined });
  return [...byKey.values()];
}

/** Checks a string value against a parameter/header schema (type, enum, pattern, length, range); a message when it does not conform. */
export function checkValue(ctx: RequestContext, value: string, schema: Json | undefined): string | undefined {
  if (!schema) return undefined;
  const type = schema.type as string | undefined;
  let typed: unknown = value;
  if (type === 'integer' || type === 'number') {
    const n = Number(value);
    if (value.trim() === '' || Number.isNaN(n) || (type === 'integer' && !Number.isInteger(n))) return `Value '${value}' is not a valid ${type}.`;
    typed = n;
    if (typeof schema.minimum === 'number' && n < schema.minimum) return `Integer ${value} is less than minimum value of ${schema.minimum}.`;
    if (typeof schema.maximum === 'number' && n > schema.maximum) return `Integer ${value} exceeds maximum value of ${schema.maximum}.`;
  } else if (type === 'boolean') {
    if (value !== 'true' && value !== 'false') return `Value '${value}' is not a valid boolean.`;
    typed = value === 'true';
  } else if (type === 'array') {
    const items = resolveRef(ctx, schema.items) as Json | undefined;
    for (const part of value.split(',')) {
      const problem = checkValue(ctx, part, items);
      if (problem) return problem;
    }
    return undefined;
  } else {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) return `String '${value}' is less than minimum length of ${schema.minLength}.`;
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) return `String '${value}' exceeds maximum length of ${schema.maxLength}.`;
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) return `String '${value}' does not match regex pattern '${schema.pattern}'.`;
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(typed)) return `Value '${value}' is not defined in enum.`;
  return undefined;
}
