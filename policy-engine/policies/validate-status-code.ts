import { definePolicy } from './define.js';
import { INTERNAL_ERROR_PUBLIC, reportValidation, schemaOperation, VALIDATION_ACTIONS, type ValidationAction } from './shared/api-schema.js';

/**
 * `<validate-status-code unspecified-status-code-action="ignore | prevent | detect" errors-variable-name="…">
 * <status-code code="…" action="…"/></validate-status-code>`: the response status code against the responses the
 * API's OpenAPI document (`openApi` in the API's configuration) lists for the operation (exact, `4XX` ranges, or
 * `default`). prevent → 502 with the public message; detect → only logged to the errors variable.
 */
export const validateStatusCode = definePolicy({
  name: 'validate-status-code',
  sections: ['outbound', 'on-error'],
  attributes: {
    'unspecified-status-code-action': { kind: 'enum', values: VALIDATION_ACTIONS, required: true },
    'errors-variable-name': { kind: 'string' },
  },
  children: ['status-code'],
  compile(node, env) {
    const unspecified = env.attr(node, 'unspecified-status-code-action', { kind: 'enum', values: VALIDATION_ACTIONS, required: true });
    const variable = env.attr(node, 'errors-variable-name', { kind: 'string' });
    if (!unspecified) return undefined;
    const overrides = node.children.map((child) => {
      const code = env.attr(child, 'code', { kind: 'int', required: true, min: 100, max: 599 });
      const action = env.attr(child, 'action', { kind: 'enum', values: VALIDATION_ACTIONS, required: true });
      for (const a of child.attributes) if (a.name !== 'code' && a.name !== 'action') env.report('PolUnknownAttribute', a.nameSpan, ['status-code', a.name]);
      return code && action ? { code, action } : undefined;
    });
    if (overrides.some((o) => o === undefined)) return undefined;
    return {
      run(ctx) {
        const status = ctx.response?.statusCode ?? 0;
        const responses = (schemaOperation(ctx)?.responses ?? {}) as Record<string, unknown>;
        const keys = Object.keys(responses).map((k) => k.toUpperCase());
        const specified = keys.includes(String(status)) || keys.includes(`${String(status)[0]}XX`) || keys.includes('DEFAULT');
        if (specified) return;
        const override = overrides.find((o) => o!.code.get(ctx) === status);
        const action = (override ? override.action.get(ctx) : unspecified.get(ctx)) as ValidationAction;
        if (action === 'ignore') return;
        reportValidation(
          ctx,
          'validate-status-code',
          env.section,
          [{ Name: String(status), Type: 'StatusCode', ValidationRule: 'Unspecified', Details: `Response status code ${status} is not allowed.`, Action: action }],
          variable?.get(ctx),
          () => INTERNAL_ERROR_PUBLIC,
        );
      },
    };
  },
});
