import type { PolicyElement } from '../xml/model.js';
import type { RequestContext } from '../pipeline/types.js';
import { definePolicy, type CompileEnv, type ValueSource } from './define.js';
import { checkValue, reportValidation, schemaParameters, VALIDATION_ACTIONS, type ValidationAction, type ValidationError } from './shared/api-schema.js';

type Location = 'headers' | 'query' | 'path';
const TYPE: Record<Location, { type: string; noun: string; schemaIn: 'header' | 'query' | 'path' }> = {
  headers: { type: 'RequestHeader', noun: 'header', schemaIn: 'header' },
  query: { type: 'QueryParameter', noun: 'query parameter', schemaIn: 'query' },
  path: { type: 'PathParameter', noun: 'path parameter', schemaIn: 'path' },
};

interface LocationSettings {
  specified?: ValueSource<string>;
  unspecified?: ValueSource<string>;
  overrides: Array<{ name: string; action: ValueSource<string> }>;
}

function compileLocation(env: CompileEnv, node: PolicyElement | undefined, location: Location): LocationSettings | undefined {
  if (!node) return { overrides: [] };
  const specified = env.attr(node, 'specified-parameter-action', { kind: 'enum', values: VALIDATION_ACTIONS });
  const unspecified = location === 'path' ? undefined : env.attr(node, 'unspecified-parameter-action', { kind: 'enum', values: VALIDATION_ACTIONS });
  const allowed = location === 'path' ? ['specified-parameter-action'] : ['specified-parameter-action', 'unspecified-parameter-action'];
  for (const a of node.attributes) if (!allowed.includes(a.name)) env.report('PolUnknownAttribute', a.nameSpan, [node.name, a.name]);
  const overrides: LocationSettings['overrides'] = [];
  for (const child of node.children) {
    if (child.name !== 'parameter') {
      env.report('PolInvalidChild', child.nameSpan, [node.name, child.name]);
      return undefined;
    }
    const name = env.attr(child, 'name', { kind: 'string', required: true, expressions: false });
    const action = env.attr(child, 'action', { kind: 'enum', values: VALIDATION_ACTIONS, required: true });
    if (!name || !action) return undefined;
    overrides.push({ name: name.constant ?? '', action });
  }
  return { ...(specified ? { specified } : {}), ...(unspecified ? { unspecified } : {}), overrides };
}

/** The request's values per location: header values, query values, matched path parameters. */
function values(ctx: RequestContext, location: Location): Array<[string, string[]]> {
  if (location === 'headers') return ctx.request.headers.entries();
  if (location === 'query') return [...new Set(ctx.request.url.searchParams.keys())].map((k) => [k, ctx.request.url.searchParams.getAll(k)]);
  return Object.entries(ctx.request.matchedParameters).map(([k, v]) => [k, [v]]);
}

/**
 * `<validate-parameters specified-parameter-action="…" unspecified-parameter-action="…" errors-variable-name="…">
 * <headers|query|path …><parameter name="…" action="…"/></…></validate-parameters>`: request headers, query and path
 * parameters against the operation's parameters in the API's OpenAPI document. prevent → 400 with the public message.
 */
export const validateParameters = definePolicy({
  name: 'validate-parameters',
  sections: ['inbound'],
  attributes: {
    'specified-parameter-action': { kind: 'enum', values: VALIDATION_ACTIONS, required: true },
    'unspecified-parameter-action': { kind: 'enum', values: VALIDATION_ACTIONS, required: true },
    'errors-variable-name': { kind: 'string', expressions: false },
  },
  children: ['headers', 'query', 'path'],
  compile(node, env) {
    if (/\[(?:[2-9]|\d{2,})\]$/.test(env.path)) {
      env.report('PolAttributeConflict', node.nameSpan, [node.name, 'this policy can only be used once in a policy section']);
      return undefined;
    }
    const specified = env.attr(node, 'specified-parameter-action', { kind: 'enum', values: VALIDATION_ACTIONS, required: true });
    const unspecified = env.attr(node, 'unspecified-parameter-action', { kind: 'enum', values: VALIDATION_ACTIONS, required: true });
    const variable = env.attr(node, 'errors-variable-name', { kind: 'string', expressions: false });
    if (!specified || !unspecified) return undefined;
    const locations = {} as Record<Location, LocationSettings>;
    for (const location of ['headers', 'query', 'path'] as Location[]) {
      const settings = compileLocation(env, node.children.find((c) => c.name === location), location);
      if (!settings) return undefined;
      locations[location] = settings;
    }
    return {
      run(ctx) {
        const parameters = schemaParameters(ctx);
        const errors: ValidationError[] = [];
        for (const location of ['headers', 'query', 'path'] as Location[]) {
          const { type, noun, schemaIn } = TYPE[location];
          const settings = locations[location];
          for (const [name, vals] of values(ctx, location)) {
            const fold = (s: string) => (location === 'headers' ? s.toLowerCase() : s);
            const definition = parameters.find((p) => p.in === schemaIn && fold(p.name) === fold(name));
            if (location === 'path' && !definition) continue; // path parameters come from the operation's own template
            const override = settings.overrides.find((o) => fold(o.name) === fold(name));
            const action = (override?.action ?? (definition ? (settings.specified ?? specified) : (settings.unspecified ?? unspecified))).get(ctx) as ValidationAction;
            if (action === 'ignore') continue;
            const error = (rule: string, details: string): ValidationError => ({ Name: name, Type: type, ValidationRule: rule, Details: details, Action: action });
            if (!definition) {
              errors.push(error('Unspecified', `Unspecified ${noun} ${name} is not allowed.`));
              continue;
            }
            if (vals.length > 1 && definition.schema?.type !== 'array') {
              errors.push(error('IncorrectMessage', `Request cannot contain multiple values for the ${noun} ${name}.`));
              continue;
            }
            const problem = checkValue(ctx, vals.join(','), definition.schema);
            if (problem) errors.push(error('IncorrectMessage', `Value of the ${noun} ${name} does not conform to the definition.\n\n${problem}`));
          }
        }
        // Request-side errors are public as they are (the reference's "Public response" column).
        reportValidation(ctx, 'validate-parameters', env.section, errors, variable?.constant, (e) => e.Details.replace(/^Value of the/, 'The value of the'));
      },
    };
  },
});
