import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import type { RequestContext } from '../pipeline/types.js';
import type { PolicyElement } from '../xml/model.js';
import { definePolicy, type ValueSource } from './define.js';
import { INTERNAL_ERROR_PUBLIC, reportValidation, resolveRef, schemaOperation, VALIDATION_ACTIONS, type ValidationAction, type ValidationError } from './shared/api-schema.js';
import { bodyContentType } from './shared/conversion-gate.js';
import { readBodyText, targetsResponse } from './shared/message-body.js';

/** The reference's limit for max-size. */
const MAX_SIZE = 102400;

let ajv: Ajv | undefined;
/** Ajv (~70 ms of imports) is required at the first validation, not at start. */
function validator(): Ajv {
  if (!ajv) {
    const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    ajv = new AjvClass({ strict: false, allErrors: false, validateFormats: false });
  }
  return ajv;
}
/** Compiled validators per schema object of the API's document and additional-properties override. */
const compiled = new WeakMap<object, Map<string, ValidateFunction>>();

function validatorFor(ctx: RequestContext, schema: object, additional: boolean | undefined): ValidateFunction {
  let byOverride = compiled.get(schema);
  if (!byOverride) compiled.set(schema, (byOverride = new Map()));
  const key = String(additional);
  let validate = byOverride.get(key);
  if (!validate) byOverride.set(key, (validate = validator().compile(toJsonSchema(schema, ctx, additional) as object)));
  return validate;
}

/** OpenAPI 3.0 schema → JSON Schema: `nullable: true` allows null; `allow-additional-properties` overrides every object. */
function toJsonSchema(schema: unknown, ctx: RequestContext, additional: boolean | undefined, depth = 0): unknown {
  if (depth > 64) return {};
  const resolved = resolveRef(ctx, schema);
  if (Array.isArray(resolved)) return resolved.map((s) => toJsonSchema(s, ctx, additional, depth + 1));
  if (!resolved || typeof resolved !== 'object') return resolved;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resolved)) {
    if (k === 'properties' || k === 'patternProperties' || k === 'definitions') out[k] = Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, toJsonSchema(s, ctx, additional, depth + 1)]));
    else if (['items', 'additionalProperties', 'not', 'allOf', 'anyOf', 'oneOf'].includes(k) && typeof v === 'object') out[k] = toJsonSchema(v, ctx, additional, depth + 1);
    else if (k !== 'nullable' && k !== 'discriminator' && k !== 'xml' && k !== 'example' && k !== 'readOnly' && k !== 'writeOnly') out[k] = v;
  }
  if ((resolved as { nullable?: unknown }).nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  const isObject = out.type === 'object' || (Array.isArray(out.type) && out.type.includes('object')) || out.properties !== undefined;
  if (additional !== undefined && isObject) out.additionalProperties = additional;
  return out;
}

function describe(error: ErrorObject): string {
  const path = error.instancePath === '' ? '' : error.instancePath.slice(1).replace(/\//g, '.');
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `Required properties are missing from object: ${String(p.missingProperty)}. Path '${path}'.`;
    case 'additionalProperties':
      return `Property '${String(p.additionalProperty)}' has not been defined and the schema does not allow additional properties. Path '${path}'.`;
    case 'type':
      return `Invalid type. Expected ${String(p.type)}. Path '${path}'.`;
    default:
      return `${error.message ?? error.keyword}. Path '${path}'.`;
  }
}

interface ContentRule {
  type: string | undefined;
  action: ValueSource<string>;
  additional: boolean | undefined;
}

function attributeValue(node: PolicyElement, name: string): string | undefined {
  return node.attributes.find((a) => a.name === name)?.value;
}

/**
 * `<validate-content unspecified-content-type-action="…" max-size="…" size-exceeded-action="…" errors-variable-name="…">
 * <content-type-map any-content-type-value="…" missing-content-type-value="…"><type from="…" to="…"/></content-type-map>
 * <content type="…" validate-as="json" action="…" allow-additional-properties="…"/></validate-content>`: the body's size
 * and its content type and JSON against the schema the API's OpenAPI document gives the operation's request body
 * (inbound) or response (outbound, by status code). validate-as="xml|soap", schema-id and `type when` are refused at load.
 */
export const validateContent = definePolicy({
  name: 'validate-content',
  sections: ['inbound', 'outbound', 'on-error'],
  attributes: {
    'unspecified-content-type-action': { kind: 'enum', values: VALIDATION_ACTIONS, required: true },
    'max-size': { kind: 'int', required: true, min: 0, max: MAX_SIZE },
    'size-exceeded-action': { kind: 'enum', values: VALIDATION_ACTIONS, required: true },
    'errors-variable-name': { kind: 'string' },
  },
  children: ['content-type-map', 'content'],
  compile(node, env) {
    const unspecified = env.attr(node, 'unspecified-content-type-action', { kind: 'enum', values: VALIDATION_ACTIONS, required: true });
    const maxSize = env.attr(node, 'max-size', { kind: 'int', required: true, min: 0, max: MAX_SIZE });
    const sizeAction = env.attr(node, 'size-exceeded-action', { kind: 'enum', values: VALIDATION_ACTIONS, required: true });
    const variable = env.attr(node, 'errors-variable-name', { kind: 'string' });
    if (!unspecified || !maxSize || !sizeAction) return undefined;
    const map = node.children.find((c) => c.name === 'content-type-map');
    const mapped: Array<[string, string]> = [];
    let ok = true;
    for (const t of map?.children ?? []) {
      const from = attributeValue(t, 'from');
      const to = attributeValue(t, 'to');
      if (t.name !== 'type' || from === undefined || to === undefined) {
        env.report('PolAttributeConflict', t.nameSpan, [node.name, t.name === 'type' && attributeValue(t, 'when') !== undefined ? "<type when=…> is not emulated; use from=" : `<${t.name}> in content-type-map needs from and to`]);
        ok = false;
      } else mapped.push([from.toLowerCase(), to.toLowerCase()]);
    }
    const anyType = map ? attributeValue(map, 'any-content-type-value') : undefined;
    const missingType = map ? attributeValue(map, 'missing-content-type-value') : undefined;
    const rules: ContentRule[] = [];
    for (const c of node.children.filter((c) => c.name === 'content')) {
      const as = attributeValue(c, 'validate-as');
      if (as?.toLowerCase() !== 'json') {
        env.report('PolAttributeConflict', c.nameSpan, [node.name, as === undefined ? "<content> requires validate-as" : `validate-as="${as}": only JSON schema validation is emulated (XML/SOAP schemas are not)`]);
        ok = false;
        continue;
      }
      for (const unsupported of ['schema-id', 'schema-ref']) {
        if (attributeValue(c, unsupported) !== undefined) {
          env.report('PolAttributeConflict', c.nameSpan, [node.name, `${unsupported}: schemas added to the instance are not emulated; the API's openApi document is used`]);
          ok = false;
        }
      }
      const action = env.attr(c, 'action', { kind: 'enum', values: VALIDATION_ACTIONS, required: true });
      const additional = attributeValue(c, 'allow-additional-properties');
      if (!action) {
        ok = false;
        continue;
      }
      rules.push({ type: attributeValue(c, 'type')?.toLowerCase(), action, additional: additional === undefined ? undefined : additional.toLowerCase() === 'true' });
    }
    if (!ok) return undefined;
    return {
      async run(ctx) {
        const response = targetsResponse(env.section, ctx);
        const message = response ? 'response' : 'request';
        const bodyType = response ? 'ResponseBody' : 'RequestBody';
        const errors: ValidationError[] = [];
        const text = await readBodyText(ctx, response);
        const size = Buffer.byteLength(text);
        const limit = maxSize.get(ctx);
        const sizeVerdict = sizeAction.get(ctx) as ValidationAction;
        if (size > limit && sizeVerdict !== 'ignore') {
          errors.push({ Name: '', Type: bodyType, ValidationRule: 'SizeLimit', Details: `${response ? 'Response' : 'Request'}'s body is ${size} bytes long and it exceeds the configured limit of ${limit} bytes.`, Action: sizeVerdict });
        }
        const incoming = (bodyContentType(ctx, response) ?? '').split(';')[0]!.trim().toLowerCase();
        const contentType = mapped.find(([from]) => from === incoming)?.[1] ?? (anyType?.toLowerCase() || (incoming === '' ? missingType?.toLowerCase() || '' : incoming));
        const op = schemaOperation(ctx);
        const status = String(ctx.response?.statusCode ?? 0);
        const responses = (op?.responses ?? {}) as Record<string, unknown>;
        const container = response
          ? resolveRef(ctx, responses[status] ?? responses[Object.keys(responses).find((k) => k.toUpperCase() === `${status[0]}XX`) ?? 'default'])
          : resolveRef(ctx, op?.requestBody);
        const contents = ((container as { content?: Record<string, { schema?: unknown }> } | undefined)?.content ?? {}) as Record<string, { schema?: unknown }>;
        const definedType = Object.keys(contents).find((k) => k.toLowerCase() === contentType);
        if (definedType === undefined) {
          const verdict = unspecified.get(ctx) as ValidationAction;
          if (verdict !== 'ignore' && text !== '') errors.push({ Name: contentType, Type: bodyType, ValidationRule: 'Unspecified', Details: `Unspecified content type ${contentType} is not allowed.`, Action: verdict });
        } else {
          const rule = rules.find((r) => r.type === contentType) ?? rules.find((r) => r.type === undefined || r.type === '');
          const verdict = rule ? (rule.action.get(ctx) as ValidationAction) : 'ignore';
          const schema = contents[definedType]!.schema;
          if (verdict !== 'ignore' && schema) {
            const ref = (schema as { $ref?: string }).$ref;
            const definition = ref ? ref.split('/').pop()! : definedType;
            let body: unknown;
            let problem: string | undefined;
            try {
              body = JSON.parse(text);
            } catch (error) {
              problem = `${(error as Error).message}.`;
            }
            if (problem === undefined) {
              const validate = validatorFor(ctx, schema as object, rule!.additional);
              if (!validate(body)) problem = describe(validate.errors![0]!);
            }
            if (problem !== undefined) {
              errors.push({
                Name: contentType,
                Type: bodyType,
                ValidationRule: 'IncorrectMessage',
                Details: `Body of the ${message} does not conform to the definition ${definition}, which is associated with the content type ${contentType}. ${problem}`,
                Action: verdict,
              });
            }
          }
        }
        reportValidation(ctx, 'validate-content', env.section, errors, variable?.get(ctx), (e) => {
          if (response) return INTERNAL_ERROR_PUBLIC;
          return e.ValidationRule === 'SizeLimit' ? e.Details.replace('the configured limit', 'the limit') : e.Details;
        });
      },
    };
  },
});
