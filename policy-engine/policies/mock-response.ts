import { HeaderBag } from '../expressions/index.js';
import { reasonPhrase } from '../pipeline/http-status.js';
import { ReturnResponseSignal } from '../pipeline/last-error.js';
import type { RequestContext } from '../pipeline/types.js';
import { definePolicy } from './define.js';
import { resolveRef, schemaOperation } from './shared/api-schema.js';

type Json = Record<string, unknown>;

/**
 * `<mock-response status-code="200" content-type="application/json"/>`: ends the pipeline like return-response
 * (the backend is not called in inbound; outbound and on-error stop here) and answers `status-code`.
 *
 * The body comes from the operation's response for that status code in the API's OpenAPI document
 * (`apis[].openApi`; OpenAPI 3 `content`, or Swagger 2 `examples`/`schema`), as APIM picks it: the media type
 * `content-type` names (without it, the first one listed), then its `example`, else the first of its `examples`,
 * else a sample generated from its `schema` (JSON media types: objects with every property, strings "string",
 * numbers 0, booleans true, the first enum value, a schema's own example or default first), else no body. The
 * chosen media type is the Content-Type; `content-type` is sent even when nothing matched.
 */
export const mockResponse = definePolicy({
  name: 'mock-response',
  sections: ['inbound', 'outbound', 'on-error'],
  partial: 'samples are generated from schemas for JSON media types only (XML responses need an example)',
  attributes: {
    'status-code': { kind: 'int', min: 100, max: 599, default: 200, expressions: false },
    'content-type': { kind: 'string', expressions: false },
  },
  compile(node, env) {
    const statusCode = env.attr(node, 'status-code', { kind: 'int', min: 100, max: 599, default: 200, expressions: false });
    const contentType = env.attr(node, 'content-type', { kind: 'string', expressions: false })?.constant?.trim();
    if (!statusCode) return undefined;
    const status = statusCode.constant!;
    const reason = reasonPhrase(status);
    return {
      run(ctx) {
        const headers = new HeaderBag();
        const mocked = mockContent(ctx, status, contentType);
        const type = mocked?.mediaType ?? contentType;
        if (type) headers.set('Content-Type', [type]);
        const body = mocked?.text === undefined ? ({ kind: 'empty' } as const) : ({ kind: 'bytes', bytes: new TextEncoder().encode(mocked.text) } as const);
        ctx.response = { statusCode: status, statusReason: reason, headers, body };
        throw new ReturnResponseSignal();
      },
    };
  },
});

/** The media type and body text the API's schema gives for a status code (undefined: the operation has no such response). */
export function mockContent(ctx: RequestContext, status: number, contentType: string | undefined): { mediaType: string; text: string | undefined } | undefined {
  const operation = schemaOperation(ctx);
  const responses = operation?.responses as Json | undefined;
  const response = resolveRef(ctx, responses?.[String(status)]) as Json | undefined;
  if (!response || typeof response !== 'object') return undefined;
  const wanted = contentType?.split(';')[0]!.trim().toLowerCase();
  if (response.content && typeof response.content === 'object') {
    const entries = Object.entries(response.content as Json);
    const entry = wanted === undefined ? entries[0] : entries.find(([type]) => type.split(';')[0]!.trim().toLowerCase() === wanted);
    if (!entry) return undefined;
    const [mediaType, media] = entry as [string, Json];
    return { mediaType, text: bodyFrom(ctx, mediaType, media?.example, firstExample(ctx, media?.examples), media?.schema) };
  }
  // Swagger 2: examples by media type, one schema for all of them.
  const examples = response.examples as Json | undefined;
  const types = examples && typeof examples === 'object' ? Object.keys(examples) : [];
  const mediaType = wanted === undefined ? types[0] ?? (response.schema ? 'application/json' : undefined) : types.find((t) => t.toLowerCase() === wanted) ?? (response.schema ? contentType : undefined);
  if (!mediaType) return undefined;
  return { mediaType, text: bodyFrom(ctx, mediaType, examples?.[mediaType], undefined, response.schema) };
}

function firstExample(ctx: RequestContext, examples: unknown): unknown {
  if (!examples || typeof examples !== 'object') return undefined;
  const first = resolveRef(ctx, Object.values(examples as Json)[0]) as Json | undefined;
  return first && typeof first === 'object' && 'value' in first ? first.value : undefined;
}

function bodyFrom(ctx: RequestContext, mediaType: string, example: unknown, named: unknown, schema: unknown): string | undefined {
  const value = example !== undefined ? example : named;
  if (value !== undefined) return typeof value === 'string' && !isJson(mediaType) ? value : JSON.stringify(value, null, 2);
  if (schema !== undefined && isJson(mediaType)) return JSON.stringify(sampleFromSchema(ctx, schema, 0), null, 2);
  return undefined;
}

const isJson = (mediaType: string) => /[/+]json\b/i.test(mediaType);

/** A sample instance of a JSON schema, as APIM's developer portal and mock-response generate one. */
export function sampleFromSchema(ctx: RequestContext, raw: unknown, depth: number): unknown {
  const schema = resolveRef(ctx, raw) as Json | undefined;
  if (!schema || typeof schema !== 'object' || depth > 16) return null;
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (Array.isArray(schema.allOf)) return Object.assign({}, ...schema.allOf.map((s) => sampleFromSchema(ctx, s, depth + 1)).filter((s) => s && typeof s === 'object'));
  for (const key of ['oneOf', 'anyOf'] as const) if (Array.isArray(schema[key]) && schema[key].length > 0) return sampleFromSchema(ctx, schema[key][0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type ?? (schema.properties ? 'object' : schema.items ? 'array' : undefined)) {
    case 'object': {
      const out: Json = {};
      for (const [name, prop] of Object.entries((schema.properties as Json | undefined) ?? {})) out[name] = sampleFromSchema(ctx, prop, depth + 1);
      return out;
    }
    case 'array':
      return [sampleFromSchema(ctx, schema.items, depth + 1)];
    case 'string':
      return schema.format === 'date-time' ? '1970-01-01T00:00:00Z' : schema.format === 'date' ? '1970-01-01' : schema.format === 'uuid' ? '00000000-0000-0000-0000-000000000000' : 'string';
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 0;
    case 'boolean':
      return true;
    default:
      return null;
  }
}
