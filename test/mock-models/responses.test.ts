import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureOpenAI, OpenAI } from 'openai';
import { encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { createVirtualClock } from '../../policy-engine/clock.js';
import { countChatPromptTokens, createMockModels, createMockModelsServer, type ListeningMockModelsServer } from '../../mock-models/index.js';
import { parseSse } from './support/sse.js';

const clock = createVirtualClock({ startMs: Date.parse('2026-03-01T10:00:00Z') });
const models = createMockModels({
  clock,
  deployments: [
    { name: 'gpt-4.1', model: 'gpt-4.1' },
    { name: 'gpt-4.1-mini', model: 'gpt-4.1-mini' },
    { name: 'model-router', model: 'model-router' },
    { name: 'text-embedding-3-small', model: 'text-embedding-3-small' },
  ],
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await models.handle(new Request(`http://gw/inference${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) }));
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

describe('Responses API (in-process)', () => {
  it('creates a response with the model from the body, output_text content and usage', async () => {
    const { status, json } = await call('POST', '/openai/responses?api-version=2025-03-01-preview', { model: 'gpt-4.1', input: 'Tell me a joke' });
    expect(status).toBe(200);
    expect(json.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(json).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4.1-2025-04-14', created_at: Date.parse('2026-03-01T10:00:00Z') / 1000 });
    expect(json.output).toHaveLength(1);
    expect(json.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    const text = json.output[0].content[0].text as string;
    expect(json.output[0].content[0].type).toBe('output_text');
    expect(json.usage.input_tokens).toBe(countChatPromptTokens([{ role: 'user', content: 'Tell me a joke' }]));
    expect(json.usage.output_tokens).toBe(encodeO200k(text).length);
    expect(json.usage.total_tokens).toBe(json.usage.input_tokens + json.usage.output_tokens);
  });

  it('stores responses: GET by id, input_items, DELETE', async () => {
    const created = (await call('POST', '/openai/responses?api-version=2024-10-21', { model: 'gpt-4.1-mini', instructions: 'Be brief.', input: [{ role: 'user', content: 'Hi' }] })).json;
    const got = await call('GET', `/openai/responses/${created.id}?api-version=2025-03-01-preview`);
    expect(got.status).toBe(200);
    expect(got.json).toEqual(created);
    const items = await call('GET', `/openai/responses/${created.id}/input_items?api-version=2024-10-21`);
    expect(items.json.object).toBe('list');
    expect(items.json.data).toHaveLength(1);
    expect(items.json.data[0]).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] });
    expect(items.json.has_more).toBe(false);
    expect((await call('DELETE', `/openai/responses/${created.id}?api-version=2024-10-21`)).json).toEqual({ id: created.id, object: 'response.deleted', deleted: true });
    expect((await call('GET', `/openai/responses/${created.id}?api-version=2024-10-21`)).status).toBe(404);
  });

  it('chains previous_response_id into the prompt and rejects unknown ids', async () => {
    const first = (await call('POST', '/openai/responses?api-version=2024-10-21', { model: 'gpt-4.1-mini', input: 'Hi' })).json;
    const second = (await call('POST', '/openai/responses?api-version=2024-10-21', { model: 'gpt-4.1-mini', input: 'And then?', previous_response_id: first.id })).json;
    expect(second.previous_response_id).toBe(first.id);
    expect(second.usage.input_tokens).toBe(
      countChatPromptTokens([
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: first.output[0].content[0].text },
        { role: 'user', content: 'And then?' },
      ]),
    );
    const missing = await call('POST', '/openai/responses?api-version=2024-10-21', { model: 'gpt-4.1-mini', input: 'x', previous_response_id: 'resp_nope' });
    expect(missing.status).toBe(400);
    expect(missing.json.error.param).toBe('previous_response_id');
  });

  it('marks max_output_tokens cuts as incomplete', async () => {
    const { json } = await call('POST', '/openai/responses?api-version=2024-10-21', { model: 'gpt-4.1-mini', input: 'Hi', max_output_tokens: 16, seed: 3 });
    // natural lengths are 20–56 tokens, so 16 always cuts
    expect(json.status).toBe('incomplete');
    expect(json.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(json.usage.output_tokens).toBe(16);
  });

  it('reports the routed model for model-router', async () => {
    const { json } = await call('POST', '/openai/responses?api-version=2024-10-21', { model: 'model-router', input: 'Hi' });
    expect(json.model).toMatch(/^(gpt-4\.1-mini|gpt-4\.1-nano|gpt-4\.1|gpt-5-nano)-\d{4}-\d{2}-\d{2}$/);
  });

  it('streams Responses events in SDK order', async () => {
    const res = await models.handle(new Request('http://x/openai/responses?api-version=2024-10-21', { method: 'POST', body: JSON.stringify({ model: 'gpt-4.1-mini', input: 'Hi', stream: true }) }));
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await res.text());
    const types = events.map((e) => e.event);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    for (const e of events) expect(e.data.type).toBe(e.event);
    const deltas = events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('');
    expect(deltas).toBe(events.at(-1)!.data.response.output[0].content[0].text);
  });

  it.each([
    [{ input: 'x' }, 'model'],
    [{ model: 'gpt-4.1' }, 'input'],
    [{ model: 'gpt-4.1', input: 5 }, 'input'],
    [{ model: 'gpt-4.1', input: [{ content: 'x' }] }, 'input[0].role'],
  ])('rejects %j with 400 naming %s', async (body, param) => {
    const { status, json } = await call('POST', '/openai/responses?api-version=2024-10-21', body);
    expect(status).toBe(400);
    expect(json.error.param).toBe(param);
  });

  it('answers 404 DeploymentNotFound for an unknown model', async () => {
    const { status, json } = await call('POST', '/openai/responses?api-version=2024-10-21', { model: 'nope', input: 'x' });
    expect(status).toBe(404);
    expect(json.error.code).toBe('DeploymentNotFound');
  });
});

describe('legacy completions, models list and the v1 surface', () => {
  it('answers /completions with a text_completion whose prompt tokens are the prompt itself', async () => {
    const { status, json } = await call('POST', '/openai/deployments/gpt-4.1-mini/completions?api-version=2024-10-21', { prompt: 'Once upon a time', max_tokens: 10 });
    expect(status).toBe(200);
    expect(json.object).toBe('text_completion');
    expect(json.id).toMatch(/^cmpl-/);
    expect(json.usage.prompt_tokens).toBe(encodeO200k('Once upon a time').length);
    expect(json.usage.completion_tokens).toBe(10);
    expect(json.choices[0].finish_reason).toBe('length');
    expect(encodeO200k(json.choices[0].text).length).toBeLessThanOrEqual(10);
  });

  it('lists the deployed models on /openai/models and /openai/v1/models', async () => {
    for (const path of ['/openai/models?api-version=2024-10-21', '/openai/v1/models']) {
      const { status, json } = await call('GET', path);
      expect(status).toBe(200);
      expect(json.object).toBe('list');
      expect(json.data.map((m: { id: string }) => m.id).sort()).toEqual(['gpt-4.1', 'gpt-4.1-mini', 'model-router', 'text-embedding-3-small']);
      expect(json.data.find((m: { id: string }) => m.id === 'text-embedding-3-small').capabilities.embeddings).toBe(true);
    }
    expect((await call('GET', '/openai/models/gpt-4.1?api-version=2024-10-21')).json.id).toBe('gpt-4.1');
    expect((await call('GET', '/openai/models/nope?api-version=2024-10-21')).status).toBe(404);
  });

  it('serves /openai/v1/embeddings with model in the body', async () => {
    const { status, json } = await call('POST', '/openai/v1/embeddings', { model: 'text-embedding-3-small', input: 'x' });
    expect(status).toBe(200);
    expect(json.data[0].embedding).toHaveLength(1536);
  });

  it('rejects a wrong method with 405', async () => {
    expect((await call('GET', '/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21')).status).toBe(405);
  });
});

describe('Responses and v1 with the openai SDK', () => {
  let server: ListeningMockModelsServer;
  beforeAll(async () => {
    server = await createMockModelsServer(models).listen(0);
  });
  afterAll(() => server.close());

  it('AzureOpenAI responses.create gives output_text; retrieve and input_items work', async () => {
    const client = new AzureOpenAI({ endpoint: server.url, apiKey: 'k', apiVersion: '2025-03-01-preview', maxRetries: 0 });
    const response = await client.responses.create({ model: 'gpt-4.1', input: 'Tell me a joke' });
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.output_text).toBe((response.output[0] as { content: Array<{ text: string }> }).content[0]!.text);
    const again = await client.responses.retrieve(response.id);
    expect(again.id).toBe(response.id);
    const items = await client.responses.inputItems.list(response.id);
    expect(items.data).toHaveLength(1);
  });

  it('the SDK stream helper accumulates the same text as the final response', async () => {
    const client = new AzureOpenAI({ endpoint: server.url, apiKey: 'k', apiVersion: '2025-03-01-preview', maxRetries: 0 });
    const stream = client.responses.stream({ model: 'gpt-4.1-mini', input: 'Stream please' });
    let deltas = '';
    stream.on('response.output_text.delta', (e) => {
      deltas += e.delta;
    });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(deltas);
    expect(final.status).toBe('completed');
  });

  it('plain OpenAI client on /openai/v1 (chat with model in body, models list)', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/openai/v1`, apiKey: 'k', maxRetries: 0 });
    const chat = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Hi' }] });
    expect(chat.model).toBe('gpt-4.1-mini-2025-04-14');
    const list = await client.models.list();
    expect(list.data.length).toBe(4);
  });
});
