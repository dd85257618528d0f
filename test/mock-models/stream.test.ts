import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureOpenAI } from 'openai';
import { createVirtualClock } from '../../policy-engine/clock.js';
import { createMockModels, createMockModelsServer, type ListeningMockModelsServer, type MockModels } from '../../mock-models/index.js';
import { tokenDeltas } from '../../mock-models/stream.js';
import { parseSse } from './support/sse.js';

const LAB_MESSAGES = [
  { role: 'system' as const, content: 'You are a sarcastic, unhelpful assistant.' },
  { role: 'user' as const, content: 'Can you tell me the time, please?' },
];
const URL = 'http://x/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview';

function models(): MockModels {
  return createMockModels({ clock: createVirtualClock({ startMs: 1_700_000_000_000 }), deployments: [{ name: 'gpt-4.1-mini', model: 'gpt-4.1-mini' }] });
}

async function chat(m: MockModels, body: Record<string, unknown>): Promise<Response> {
  return m.handle(new Request(URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: LAB_MESSAGES, ...body }) }));
}

describe('chat streaming (SSE)', () => {
  it('sends chunks in Azure order with include_usage and ends with [DONE]', async () => {
    const res = await chat(models(), { stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-ms-region')).toBe('UK South');
    const text = await res.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const events = parseSse(text).map((e) => e.data);
    const chunks = events.slice(0, -1);
    for (const c of chunks) {
      expect(c).toMatchObject({ object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4.1-mini-2025-04-14' });
      expect(c.id).toMatch(/^chatcmpl-/);
      expect(c.system_fingerprint).toMatch(/^fp_/);
    }
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    // (1) prompt filter results with empty choices
    expect(chunks[0].choices).toEqual([]);
    expect(chunks[0].prompt_filter_results[0].prompt_index).toBe(0);
    expect(chunks[0].usage).toBeNull();
    // (2) role chunk
    expect(chunks[1].choices[0]).toMatchObject({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null });
    // (3) content deltas with filter results
    const content = chunks.slice(2, -2);
    expect(content.length).toBeGreaterThan(5);
    for (const c of content) {
      expect(c.choices[0].finish_reason).toBeNull();
      expect(typeof c.choices[0].delta.content).toBe('string');
      expect(c.choices[0].content_filter_results.hate).toEqual({ filtered: false, severity: 'safe' });
      expect(c.usage).toBeNull();
    }
    // (4) finish chunk
    expect(chunks.at(-2).choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    // (5) usage chunk
    expect(chunks.at(-1).choices).toEqual([]);
    expect(chunks.at(-1).usage.prompt_tokens).toBe(31);
  });

  it('streams the same text and usage as the non-streamed response', async () => {
    const m = models();
    const plain = (await (await chat(m, {})).json()) as { choices: Array<{ message: { content: string } }>; usage: unknown };
    const events = parseSse(await (await chat(m, { stream: true, stream_options: { include_usage: true } })).text()).map((e) => e.data);
    const streamed = events
      .filter((e) => e !== '[DONE]' && e.choices.length > 0)
      .map((e) => e.choices[0].delta.content ?? '')
      .join('');
    expect(streamed).toBe(plain.choices[0]!.message.content);
    expect(events.at(-2).usage).toEqual(plain.usage);
  });

  it('sends one content delta per token', async () => {
    const m = models();
    const plain = (await (await chat(m, {})).json()) as { usage: { completion_tokens: number } };
    const events = parseSse(await (await chat(m, { stream: true })).text()).map((e) => e.data);
    const deltas = events.filter((e) => e !== '[DONE]' && e.choices[0]?.delta?.content);
    expect(deltas.length).toBe(plain.usage.completion_tokens);
  });

  it('omits usage fields without include_usage', async () => {
    const events = parseSse(await (await chat(models(), { stream: true })).text()).map((e) => e.data);
    for (const e of events.slice(0, -1)) expect(e).not.toHaveProperty('usage');
    expect(events.at(-2).choices[0].finish_reason).toBe('stop');
  });

  it('reports finish_reason length when max_tokens cuts a stream', async () => {
    const events = parseSse(await (await chat(models(), { stream: true, max_tokens: 3, stream_options: { include_usage: true } })).text()).map((e) => e.data);
    expect(events.filter((e) => e !== '[DONE]' && e.choices[0]?.delta?.content).length).toBe(3);
    expect(events.at(-3).choices[0].finish_reason).toBe('length');
    expect(events.at(-2).usage.completion_tokens).toBe(3);
  });

  it('keeps multi-byte characters whole in token deltas', () => {
    const text = 'naïve 東京 🚀 done';
    const deltas = tokenDeltas(text, 'o200k_base');
    expect(deltas.join('')).toBe(text);
    for (const d of deltas) expect(d).not.toContain('\uFFFD');
  });
});

describe('chat streaming with the openai client', () => {
  const m = models();
  let server: ListeningMockModelsServer;
  beforeAll(async () => {
    server = await createMockModelsServer(m).listen(0);
  });
  afterAll(() => server.close());

  it('iterates chunks, tolerates the empty-choices chunks and gets the usage chunk', async () => {
    const client = new AzureOpenAI({ endpoint: server.url, apiKey: 'k', apiVersion: '2025-03-01-preview', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: LAB_MESSAGES, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: { total_tokens: number; prompt_tokens: number } | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    const plain = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: LAB_MESSAGES });
    expect(text).toBe(plain.choices[0]!.message.content);
    expect(usage).toEqual(plain.usage);
  });
});
