import type { RequestContext } from '../../pipeline/types.js';
import type { CompileEnv, ValueSource } from '../define.js';
import type { PolicyElement } from '../../xml/model.js';

export const DEFAULT_NAMESPACE = 'API Management';

/** Dimensions whose value APIM supplies when `value` is omitted (policies.md §6.1). */
const DEFAULT_DIMENSIONS: Record<string, (ctx: RequestContext) => string> = {
  'api id': (ctx) => ctx.api.Id,
  'operation id': (ctx) => ctx.operation.Id,
  'product id': (ctx) => ctx.product?.Id ?? '',
  'user id': (ctx) => ctx.user?.Id ?? '',
  'subscription id': (ctx) => ctx.subscription?.Id ?? '',
  location: (ctx) => ctx.deployment.Region,
  'location id': (ctx) => ctx.deployment.Region,
  'gateway id': (ctx) => ctx.deployment.GatewayId,
  'backend id': (ctx) => ctx.backend.backendId ?? '',
};

export interface CompiledDimension {
  name: ValueSource<string>;
  /** Evaluated where the policy stands (request-side values). */
  value: (ctx: RequestContext) => string;
  /** Backend ID is read when the metric is emitted, after set-backend-service ran. */
  late: boolean;
}

/** Compiles `<dimension name value/>` children: at least one, at most the configured number, defaults resolved. */
export function compileDimensions(node: PolicyElement, env: CompileEnv, options: { backendIdAllowed: boolean }): CompiledDimension[] | undefined {
  const elements = node.children.filter((c) => c.name === 'dimension');
  if (elements.length === 0) {
    env.report('PolMissingChild', node.nameSpan, [node.name, 'dimension']);
    return undefined;
  }
  if (elements.length > env.options.maxCustomDimensions) {
    env.report('PolTooManyDimensions', elements[env.options.maxCustomDimensions]!.nameSpan, [node.name, elements.length, env.options.maxCustomDimensions]);
    return undefined;
  }
  const dimensions: CompiledDimension[] = [];
  let ok = true;
  for (const element of elements) {
    for (const a of element.attributes) if (a.name !== 'name' && a.name !== 'value') env.report('PolUnknownAttribute', a.nameSpan, ['dimension', a.name]);
    const name = env.attr(element, 'name', { kind: 'string', required: true });
    if (!name) {
      ok = false;
      continue;
    }
    const value = env.attr(element, 'value', { kind: 'string' });
    if (value) {
      dimensions.push({ name, value: (ctx) => value.get(ctx), late: false });
      continue;
    }
    const key = name.constant?.toLowerCase();
    const fallback = key === undefined ? undefined : DEFAULT_DIMENSIONS[key];
    if (!fallback || (key === 'backend id' && !options.backendIdAllowed)) {
      env.report('PolDimensionNeedsValue', element.nameSpan, [name.constant ?? '(expression)']);
      ok = false;
      continue;
    }
    dimensions.push({ name, value: fallback, late: key === 'backend id' });
  }
  return ok ? dimensions : undefined;
}

/** Evaluates the request-side dimensions now; returns a function completing them at emission time. */
export function evaluateDimensions(dimensions: readonly CompiledDimension[], ctx: RequestContext): () => Record<string, string> {
  // Built in place (no per-request tuples): this runs on every request of a metrics policy.
  const early: Record<string, string> = {};
  let late: Array<[string, CompiledDimension]> | undefined;
  for (const d of dimensions) {
    const name = d.name.get(ctx);
    if (d.late) (late ??= []).push([name, d]);
    else early[name] = d.value(ctx);
  }
  if (!late) return () => early;
  const pending = late;
  return () => {
    const out: Record<string, string> = Object.assign({}, early);
    for (const [name, d] of pending) out[name] = d.value(ctx);
    return out;
  };
}
