import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureOpenAI } from 'openai';
import { encode as encodeCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { createMockModels, createMockModelsServer, type ListeningMockModelsServer, type MockModels } from '../../mock-models/index.js';

const models = createMockModels({
  deployments: [
    { name: 'small', model: 'text-embedding-3-small' },
    { name: 'large', model: 'text-embedding-3-large' },
    { name: 'ada', model: 'text-embedding-ada-002' },
    { name: 'chat', model: 'gpt-4.1-mini' },
  ],
});

interface EmbeddingsBody {
  object: string;
  model: string;
  data: Array<{ object: string; index: number; embedding: number[] | string }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

async function embed(m: MockModels, deployment: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await m.handle(
    new Request(`http://x/openai/deployments/${deployment}/embeddings?api-version=2024-10-21`, { method: 'POST', body: JSON.stringify(body) }),
  );
  return { status: res.status, json: await res.json() };
}

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / (norm(a) * norm(b));

function decodeBase64(b64: string): number[] {
  const buf = Buffer.from(b64, 'base64');
  const out: number[] = [];
  for (let i = 0; i < buf.length; i += 4) out.push(buf.readFloatLE(i));
  return out;
}

describe('embeddings', () => {
  it('returns the Azure list shape with unit-norm float vectors and cl100k usage', async () => {
    const { status, json } = await embed(models, 'small', { input: 'The quick brown fox' });
    expect(status).toBe(200);
    const body = json as EmbeddingsBody;
    expect(body.object).toBe('list');
    expect(body.model).toBe('text-embedding-3-small');
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ object: 'embedding', index: 0 });
    const v = body.data[0]!.embedding as number[];
    expect(v).toHaveLength(1536);
    expect(norm(v)).toBeCloseTo(1, 5);
    expect(body.usage).toEqual({ prompt_tokens: encodeCl100k('The quick brown fox').length, total_tokens: encodeCl100k('The quick brown fox').length });
  });

  it.each([
    ['small', 1536],
    ['large', 3072],
    ['ada', 1536],
  ])('%s has %i dimensions', async (deployment, dims) => {
    const { json } = await embed(models, deployment, { input: 'hello' });
    expect((json as EmbeddingsBody).data[0]!.embedding).toHaveLength(dims);
  });

  it('is deterministic, and texts sharing words are closer than unrelated texts', async () => {
    const a = ((await embed(models, 'small', { input: 'What time is it in London?' })).json as EmbeddingsBody).data[0]!.embedding as number[];
    const a2 = ((await embed(models, 'small', { input: 'What time is it in London?' })).json as EmbeddingsBody).data[0]!.embedding as number[];
    const similar = ((await embed(models, 'small', { input: 'What time is it in Paris?' })).json as EmbeddingsBody).data[0]!.embedding as number[];
    const other = ((await embed(models, 'small', { input: 'Recipe for banana bread' })).json as EmbeddingsBody).data[0]!.embedding as number[];
    expect(a2).toEqual(a);
    expect(cosine(a, similar)).toBeGreaterThan(0.7);
    expect(Math.abs(cosine(a, other))).toBeLessThan(0.2);
    expect(cosine(a, similar)).toBeLessThan(0.9999);
  });

  it('accepts string arrays, token arrays and arrays of token arrays', async () => {
    const texts = await embed(models, 'small', { input: ['alpha', 'beta gamma'] });
    expect((texts.json as EmbeddingsBody).data.map((d) => d.index)).toEqual([0, 1]);
    expect((texts.json as EmbeddingsBody).usage.prompt_tokens).toBe(encodeCl100k('alpha').length + encodeCl100k('beta gamma').length);
    const tokens = await embed(models, 'small', { input: [1, 2, 3, 4] });
    expect((tokens.json as EmbeddingsBody).data).toHaveLength(1);
    expect((tokens.json as EmbeddingsBody).usage.prompt_tokens).toBe(4);
    const nested = await embed(models, 'small', { input: [[1, 2], [3]] });
    expect((nested.json as EmbeddingsBody).data).toHaveLength(2);
    expect((nested.json as EmbeddingsBody).usage.total_tokens).toBe(3);
  });

  it('encodes base64 as little-endian float32 equal to the float form', async () => {
    const f = ((await embed(models, 'small', { input: 'hello world' })).json as EmbeddingsBody).data[0]!.embedding as number[];
    const b = ((await embed(models, 'small', { input: 'hello world', encoding_format: 'base64' })).json as EmbeddingsBody).data[0]!.embedding as string;
    expect(typeof b).toBe('string');
    expect(decodeBase64(b)).toEqual(f.map((x) => Math.fround(x)));
  });

  it('honours dimensions for text-embedding-3 (truncated and re-normalised) and rejects it for ada-002', async () => {
    const full = ((await embed(models, 'large', { input: 'hello' })).json as EmbeddingsBody).data[0]!.embedding as number[];
    const short = ((await embed(models, 'large', { input: 'hello', dimensions: 256 })).json as EmbeddingsBody).data[0]!.embedding as number[];
    expect(short).toHaveLength(256);
    expect(norm(short)).toBeCloseTo(1, 5);
    expect(cosine(short, full.slice(0, 256))).toBeCloseTo(1, 5);
    const ada = await embed(models, 'ada', { input: 'hello', dimensions: 256 });
    expect(ada.status).toBe(400);
    expect(ada.json.error.param).toBe('dimensions');
    const tooBig = await embed(models, 'small', { input: 'hello', dimensions: 5000 });
    expect(tooBig.status).toBe(400);
  });

  it.each([
    [{}, 'input'],
    [{ input: '' }, 'input'],
    [{ input: [] }, 'input'],
    [{ input: 5 }, 'input'],
    [{ input: ['ok', { x: 1 }] }, 'input[1]'],
    [{ input: 'x', encoding_format: 'hex' }, 'encoding_format'],
  ])('rejects %j with 400 naming %s', async (body, param) => {
    const { status, json } = await embed(models, 'small', body);
    expect(status).toBe(400);
    expect(json.error.param).toBe(param);
  });

  it('rejects embeddings on a chat deployment with OperationNotSupported', async () => {
    const { status, json } = await embed(models, 'chat', { input: 'x' });
    expect(status).toBe(400);
    expect(json.error.code).toBe('OperationNotSupported');
  });
});

describe('embeddings with the openai client (base64 by default)', () => {
  let server: ListeningMockModelsServer;
  beforeAll(async () => {
    server = await createMockModelsServer(models).listen(0);
  });
  afterAll(() => server.close());

  it('decodes the default base64 response into the float vector', async () => {
    const client = new AzureOpenAI({ endpoint: server.url, apiKey: 'k', apiVersion: '2024-10-21', maxRetries: 0 });
    const res = await client.embeddings.create({ model: 'small', input: 'hello world' });
    const direct = ((await embed(models, 'small', { input: 'hello world' })).json as EmbeddingsBody).data[0]!.embedding as number[];
    expect(res.data[0]!.embedding).toHaveLength(1536);
    expect(res.data[0]!.embedding).toEqual(direct.map((x) => Math.fround(x)));
    const short = await client.embeddings.create({ model: 'small', input: ['a', 'b'], dimensions: 64 });
    expect(short.data.map((d) => d.embedding.length)).toEqual([64, 64]);
  });
});
