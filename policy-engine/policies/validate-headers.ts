import { definePolicy } from './define.js';
import { checkValue, INTERNAL_ERROR_PUBLIC, reportValidation, resolveRef, schemaOperation, VALIDATION_ACTIONS, type ValidationAction, type ValidationError } from './shared/api-schema.js';

/**
 * `<validate-headers specified-header-action="…" unspecified-header-action="…" errors-variable-name="…">
 * <header name="…" action="…"/></validate-headers>`: response headers against the headers the API's OpenAPI document
 * lists for the response's status code (exact, NXX, default). prevent → 502 with the public message.
 */
export const validateHeaders = definePolicy({
  name: 'validate-headers',
  sections: ['outbound', 'on-error'],
  attributes: {
    'specified-header-action': { kind: 'enum', values: VALIDATION_ACTIONS, required: true },
    'unspecified-header-action': { kind: 'enum', values: VALIDATION_ACTIONS, required: true },
    'errors-variable-name': { kind: 'string', expressions: false },
  },
  children: ['header'],
  compile(node, env) {
    if (/\[(?:[2-9]|\d{2,})\]$/.test(env.path)) {
      env.report('PolAttributeConflict', node.nameSpan, [node.name, 'this policy can only be used once in a policy section']);
      return undefined;
    }
    const specified = env.attr(node, 'specified-header-action', { kind: 'enum', values: VALIDATION_ACTIONS, required: true });
    const unspecified = env.attr(node, 'unspecified-header-action', { kind: 'enum', values: VALIDATION_ACTIONS, required: true });
    const variable = env.attr(node, 'errors-variable-name', { kind: 'string', expressions: false });
    if (!specified || !unspecified) return undefined;
    const overrides: Array<{ name: string; action: NonNullable<typeof specified> }> = [];
    for (const child of node.children) {
      const name = env.attr(child, 'name', { kind: 'string', required: true, expressions: false });
      const action = env.attr(child, 'action', { kind: 'enum', values: VALIDATION_ACTIONS, required: true });
      if (!name || !action) return undefined;
      overrides.push({ name: (name.constant ?? '').toLowerCase(), action });
    }
    return {
      run(ctx) {
        const status = String(ctx.response?.statusCode ?? 0);
        const responses = (schemaOperation(ctx)?.responses ?? {}) as Record<string, unknown>;
        const key = Object.keys(responses).find((k) => k === status) ?? Object.keys(responses).find((k) => k.toUpperCase() === `${status[0]}XX`) ?? Object.keys(responses).find((k) => k === 'default');
        const response = key ? (resolveRef(ctx, responses[key]) as { headers?: Record<string, unknown> } | undefined) : undefined;
        const defined = new Map(Object.entries(response?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), resolveRef(ctx, v) as { schema?: Record<string, unknown> } | undefined]));
        const errors: ValidationError[] = [];
        for (const [name, values] of ctx.response?.headers.entries() ?? []) {
          const definition = defined.get(name.toLowerCase());
          const override = overrides.find((o) => o.name === name.toLowerCase());
          const action = (override?.action ?? (definition ? specified : unspecified)).get(ctx) as ValidationAction;
          if (action === 'ignore') continue;
          const error = (rule: string, details: string): ValidationError => ({ Name: name, Type: 'ResponseHeader', ValidationRule: rule, Details: details, Action: action });
          if (!definition) {
            errors.push(error('Unspecified', `Unspecified header ${name} is not allowed.`));
            continue;
          }
          const schema = resolveRef(ctx, definition.schema) as Record<string, unknown> | undefined;
          if (values.length > 1 && schema?.type !== 'array') {
            errors.push(error('IncorrectMessage', `Response cannot contain multiple values for the header ${name}.`));
            continue;
          }
          const problem = checkValue(ctx, values.join(','), schema);
          if (problem) errors.push(error('IncorrectMessage', `Value of the header ${name} does not conform to the definition.\n\n${problem}`));
        }
        reportValidation(ctx, 'validate-headers', env.section, errors, variable?.constant, () => INTERNAL_ERROR_PUBLIC);
      },
    };
  },
});
