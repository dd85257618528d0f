import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureOpenAI } from 'openai';
import { encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { createVirtualClock } from '../../policy-engine/clock.js';
import { createMockModels, createMockModelsServer, type ListeningMockModelsServer } from '../../mock-models/index.js';

const LAB_MESSAGES = [
  { role: 'system' as const, content: 'You are a sarcastic, unhelpful assistant.' },
  { role: 'user' as const, content: 'Can you tell me the time, please?' },
];

describe('mock models over HTTP with the openai AzureOpenAI client', () => {
  const clock = createVirtualClock({ startMs: Date.parse('2026-03-01T10:00:00Z') });
  const models = createMockModels({
    clock,
    deployments: [
      { name: 'gpt-4.1-mini', model: 'gpt-4.1-mini', capacity: 20 },
      { name: 'gpt4o', model: 'gpt-4o' },
    ],
  });
  let server: ListeningMockModelsServer;
  let client: AzureOpenAI;

  beforeAll(async () => {
    server = await createMockModelsServer(models).listen(0, '127.0.0.1');
    client = new AzureOpenAI({ endpoint: server.url, apiKey: 'test-key', apiVersion: '2025-03-01-preview', maxRetries: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('parses a chat completion (endpoint option, model from the call)', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: LAB_MESSAGES });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4.1-mini-2025-04-14');
    expect(completion.created).toBe(Date.parse('2026-03-01T10:00:00Z') / 1000);
    const content = completion.choices[0]!.message.content!;
    expect(content.length).toBeGreaterThan(0);
    expect(completion.usage!.prompt_tokens).toBe(31);
    expect(completion.usage!.completion_tokens).toBe(encodeO200k(content).length);
    expect(completion.usage!.total_tokens).toBe(31 + completion.usage!.completion_tokens);
  });

  it('works with baseURL and a pinned deployment, and exposes headers via withResponse', async () => {
    const pinned = new AzureOpenAI({ baseURL: `${server.url}/openai`, deployment: 'gpt4o', apiKey: 'k', apiVersion: '2024-10-21', maxRetries: 0 });
    const { data, response } = await pinned.chat.completions.create({ model: 'ignored', messages: LAB_MESSAGES }).withResponse();
    expect(data.model).toBe('gpt-4o-2024-11-20');
    expect(response.headers.get('x-ms-region')).toBe('UK South');
    expect(response.headers.get('x-ms-deployment-name')).toBe('gpt4o');
  });

  it('surfaces a 404 DeploymentNotFound as an APIError with the Azure code', async () => {
    await expect(client.chat.completions.create({ model: 'missing', messages: LAB_MESSAGES })).rejects.toMatchObject({
      status: 404,
      code: 'DeploymentNotFound',
    });
  });

  it('surfaces a 400 as BadRequestError naming the parameter', async () => {
    await expect(
      client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 0 }),
    ).rejects.toMatchObject({ status: 400, code: 'BadRequest', param: 'max_tokens' });
  });

  it('answers raw fetch with an invalid body through the socket', async () => {
    const res = await fetch(`${server.url}/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"messages": ',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { innererror: { position: { offset: number } } } }).error.innererror.position.offset).toBe(13);
  });
});
