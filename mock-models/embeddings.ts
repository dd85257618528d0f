/**
 * Embeddings: deterministic unit-norm vectors. Each word (or token id) maps to a seeded Gaussian
 * vector; a text's vector is the normalised sum of its words plus a small whole-text component,
 * so equal inputs give equal vectors and texts sharing words are close (useful for semantic caching).
 */
import { azureErrors } from './errors.js';
import { createRandom } from './random.js';
import { countTextTokens, type EncodingName } from './tokenizer.js';

export interface EmbeddingInput {
  text?: string;
  tokens?: number[];
}

export interface EmbeddingsRequest {
  inputs: EmbeddingInput[];
  encodingFormat: 'float' | 'base64';
  dimensions?: number;
}

const MAX_INPUTS = 2048;
const INVALID_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";

export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw azureErrors.invalidType('body', 'an object', body);
  const b = body as Record<string, unknown>;
  const input = b.input;
  if (input === undefined || input === null) throw azureErrors.missingParameter('input');
  let inputs: EmbeddingInput[];
  if (typeof input === 'string') inputs = [{ text: input }];
  else if (Array.isArray(input)) {
    if (input.length === 0) throw azureErrors.badRequest(INVALID_INPUT, 'input');
    if (input.length > MAX_INPUTS) throw azureErrors.badRequest(`Too many inputs. The max number of inputs is ${MAX_INPUTS}.`, 'input');
    if (input.every((x) => typeof x === 'number')) inputs = [{ tokens: checkTokens(input, 'input') }];
    else {
      inputs = input.map((x, i) => {
        if (typeof x === 'string') return { text: x };
        if (Array.isArray(x)) return { tokens: checkTokens(x, `input[${i}]`) };
        throw azureErrors.invalidType(`input[${i}]`, 'a string or an array of token ids', x);
      });
    }
  } else throw azureErrors.invalidType('input', 'a string or an array', input);
  inputs.forEach((x, i) => {
    if ((x.text !== undefined && x.text.length === 0) || (x.tokens !== undefined && x.tokens.length === 0)) {
      throw azureErrors.badRequest(INVALID_INPUT, inputs.length > 1 ? `input[${i}]` : 'input');
    }
  });
  const format = b.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw azureErrors.badRequest(`Invalid value: '${String(format)}'. Supported values are: 'float' and 'base64'.`, 'encoding_format');
  }
  let dimensions: number | undefined;
  if (b.dimensions !== undefined && b.dimensions !== null) {
    if (typeof b.dimensions !== 'number' || !Number.isInteger(b.dimensions)) throw azureErrors.invalidType('dimensions', 'an integer', b.dimensions);
    if (b.dimensions < 1) throw azureErrors.badRequest(`Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got ${b.dimensions} instead.`, 'dimensions');
    dimensions = b.dimensions;
  }
  return { inputs, encodingFormat: format, dimensions };
}

function checkTokens(values: unknown[], param: string): number[] {
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw azureErrors.invalidType(`${param}[${i}]`, 'a non-negative integer token id', v);
  });
  return values as number[];
}

export interface EmbeddingModelShape {
  model: string;
  nativeDimensions: number;
  flexibleDimensions: boolean;
  encoding: EncodingName;
  seed: number;
}

/** Output size for a request, or a 400 when `dimensions` is not allowed for the model. */
export function outputDimensions(shape: EmbeddingModelShape, requested: number | undefined): number {
  if (requested === undefined) return shape.nativeDimensions;
  if (!shape.flexibleDimensions) throw azureErrors.badRequest('This model does not support specifying dimensions.', 'dimensions');
  if (requested > shape.nativeDimensions) {
    throw azureErrors.badRequest(`Invalid 'dimensions': integer above maximum value. Expected a value <= ${shape.nativeDimensions}, but got ${requested} instead.`, 'dimensions');
  }
  return requested;
}

const WORD_CACHE_LIMIT = 20_000;
const wordVectors = new Map<string, Float64Array>();
/** Weight of the whole-text component relative to one word. */
const TEXT_COMPONENT = 0.35;

function gaussianVector(seedText: string, size: number): Float64Array {
  const key = `${size}\u0000${seedText}`;
  const cached = wordVectors.get(key);
  if (cached) return cached;
  const random = createRandom(seedText);
  const v = new Float64Array(size);
  for (let i = 0; i < size; i++) v[i] = random.normal();
  if (wordVectors.size >= WORD_CACHE_LIMIT) wordVectors.clear();
  wordVectors.set(key, v);
  return v;
}

function wordsOf(input: EmbeddingInput): string[] {
  if (input.tokens) return input.tokens.map((t) => `#${t}`);
  return (input.text ?? '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** The unit-norm vector of one input, truncated to `dimensions` and re-normalised. */
export function embed(input: EmbeddingInput, shape: EmbeddingModelShape, dimensions: number): Float32Array {
  const size = shape.nativeDimensions;
  const sum = new Float64Array(size);
  const base = `${shape.model}:${shape.seed}`;
  for (const word of wordsOf(input)) {
    const w = gaussianVector(`${base}:w:${word}`, size);
    for (let i = 0; i < size; i++) sum[i]! += w[i]!;
  }
  const whole = input.tokens ? input.tokens.join(',') : (input.text ?? '');
  const t = createRandom(`${base}:t:${whole}`);
  let norm = 0;
  for (let i = 0; i < size; i++) norm += sum[i]! * sum[i]!;
  const scale = norm > 0 ? TEXT_COMPONENT * Math.sqrt(norm / size) : 1;
  for (let i = 0; i < size; i++) sum[i]! += scale * t.normal();
  let outNorm = 0;
  for (let i = 0; i < dimensions; i++) outNorm += sum[i]! * sum[i]!;
  const inv = 1 / Math.sqrt(outNorm);
  const out = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) out[i] = sum[i]! * inv;
  return out;
}

/** Little-endian float32 bytes in base64, as the openai client decodes them. */
export function toBase64(vector: Float32Array): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  for (let i = 0; i < vector.length; i++) view.setFloat32(i * 4, vector[i]!, true);
  return Buffer.from(view.buffer).toString('base64');
}

export function inputTokens(input: EmbeddingInput, encoding: EncodingName): number {
  return input.tokens ? input.tokens.length : countTextTokens(input.text ?? '', encoding);
}

export function embeddingsBody(request: EmbeddingsRequest, shape: EmbeddingModelShape, reportedModel: string): Record<string, unknown> {
  const dims = outputDimensions(shape, request.dimensions);
  let tokens = 0;
  const data = request.inputs.map((input, index) => {
    tokens += inputTokens(input, shape.encoding);
    const vector = embed(input, shape, dims);
    return { object: 'embedding', index, embedding: request.encodingFormat === 'base64' ? toBase64(vector) : Array.from(vector) };
  });
  return { object: 'list', data, model: reportedModel, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
