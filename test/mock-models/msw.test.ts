import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { AzureOpenAI } from 'openai';
import { createVirtualClock } from '../../policy-engine/clock.js';
import { createMockModels } from '../../mock-models/index.js';
import { azureOpenAIHandlers } from '../../mock-models/msw.js';

const models = createMockModels({
  clock: createVirtualClock({ startMs: Date.parse('2026-03-01T10:00:00Z') }),
  deployments: [
    { name: 'x', model: 'gpt-4.1-mini' },
    { name: 'emb', model: 'text-embedding-3-small' },
  ],
});
const server = setupServer(...azureOpenAIHandlers({ models }));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  models.reset();
});
afterAll(() => server.close());

const BODY = JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] });

describe('msw handlers', () => {
  it('answers fetch to *.openai.azure.com with no server', async () => {
    const res = await fetch('https://example.openai.azure.com/openai/deployments/x/chat/completions?api-version=2024-10-21', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: BODY,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ms-region')).toBe('UK South');
    const json = (await res.json()) as any;
    expect(json.model).toBe('gpt-4.1-mini-2025-04-14');
    expect(json.usage.prompt_tokens).toBe(3 + 1 + 1 + 3); // per message + 'user' + 'Hello' + priming
  });

  it('answers *.cognitiveservices.azure.com and *.services.ai.azure.com', async () => {
    for (const host of ['foundry1-abc.cognitiveservices.azure.com', 'proj.services.ai.azure.com']) {
      const res = await fetch(`https://${host}/openai/deployments/x/chat/completions?api-version=2024-10-21`, { method: 'POST', body: BODY });
      expect(res.status).toBe(200);
    }
  });

  it('works with the AzureOpenAI client, including scripts, streaming and embeddings', async () => {
    models.script('x', [{ content: 'Scripted via msw.', usage: { prompt_tokens: 1, completion_tokens: 2 } }]);
    const client = new AzureOpenAI({ endpoint: 'https://example.openai.azure.com', apiKey: 'k', apiVersion: '2024-10-21', maxRetries: 0 });
    const c = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'Hello' }] });
    expect(c.choices[0]!.message.content).toBe('Scripted via msw.');
    expect(c.usage!.total_tokens).toBe(3);
    let text = '';
    for await (const chunk of await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'Hello' }], stream: true })) {
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(text.length).toBeGreaterThan(0);
    const e = await client.embeddings.create({ model: 'emb', input: 'hi' });
    expect(e.data[0]!.embedding).toHaveLength(1536);
    expect(models.calls.map((call) => call.operation)).toEqual(['chat', 'chat', 'embeddings']);
  });

  it("turns a 'reset' fault into a network error", async () => {
    models.faults.add({ next: 1, kind: 'reset' });
    await expect(
      fetch('https://example.openai.azure.com/openai/deployments/x/chat/completions?api-version=2024-10-21', { method: 'POST', body: BODY }),
    ).rejects.toThrow(TypeError);
  });

  it('creates its own core when none is given', async () => {
    const own = setupServer(...azureOpenAIHandlers({ deployments: [{ name: 'solo', model: 'gpt-4o' }] }));
    server.close();
    own.listen({ onUnhandledRequest: 'error' });
    try {
      const res = await fetch('https://solo.openai.azure.com/openai/deployments/solo/chat/completions?api-version=2024-10-21', { method: 'POST', body: BODY });
      expect(((await res.json()) as any).model).toBe('gpt-4o-2024-11-20');
    } finally {
      own.close();
      server.listen({ onUnhandledRequest: 'error' });
    }
  });
});
