import { describe, expect, it } from 'vitest';
import { encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { createVirtualClock } from '../../policy-engine/clock.js';
import { createMockModels, type MockModels } from '../../mock-models/index.js';

const LAB_MESSAGES = [
  { role: 'system', content: 'You are a sarcastic, unhelpful assistant.' },
  { role: 'user', content: 'Can you tell me the time, please?' },
];
const CHAT_URL = 'http://foundry1.mock/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview';

function post(models: MockModels, url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return models.handle(
    new Request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

function labModels(): MockModels {
  const clock = createVirtualClock({ startMs: Date.parse('2026-03-01T10:00:00Z') });
  return createMockModels({ clock, deployments: [{ name: 'gpt-4.1-mini', model: 'gpt-4.1-mini', version: '2025-04-14', capacity: 20 }] });
}

interface ChatBody {
  id: string;
  object: string;
  created: number;
  model: string;
  system_fingerprint: string;
  prompt_filter_results: Array<{ prompt_index: number; content_filter_results: Record<string, unknown> }>;
  choices: Array<{
    index: number;
    finish_reason: string;
    logprobs: null;
    message: { role: string; content: string; refusal: null; annotations: unknown[] };
    content_filter_results: Record<string, unknown>;
  }>;
  usage: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    prompt_tokens_details: Record<string, number>;
    completion_tokens_details: Record<string, number>;
  };
}

describe('chat completions: Azure shape', () => {
  it('answers the lab request (no model in body) with the full Azure body', async () => {
    const res = await post(labModels(), CHAT_URL, { messages: LAB_MESSAGES });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as ChatBody;
    expect(body.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(body.object).toBe('chat.completion');
    expect(body.created).toBe(Date.parse('2026-03-01T10:00:00Z') / 1000);
    expect(body.model).toBe('gpt-4.1-mini-2025-04-14');
    expect(body.system_fingerprint).toMatch(/^fp_[0-9a-f]{10}$/);
    expect(body.prompt_filter_results[0]!.prompt_index).toBe(0);
    expect(Object.keys(body.prompt_filter_results[0]!.content_filter_results).sort()).toEqual(['hate', 'jailbreak', 'self_harm', 'sexual', 'violence']);
    const choice = body.choices[0]!;
    expect(choice).toMatchObject({ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', refusal: null, annotations: [] } });
    expect(choice.message.content.length).toBeGreaterThan(0);
    expect(choice.content_filter_results).toHaveProperty('protected_material_text', { filtered: false, detected: false });
    expect(body.usage.prompt_tokens).toBe(31);
    expect(body.usage.completion_tokens).toBe(encodeO200k(choice.message.content).length);
    expect(body.usage.completion_tokens).toBeGreaterThanOrEqual(20);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(60);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(body.usage.total_tokens).toBeGreaterThanOrEqual(50);
    expect(body.usage.total_tokens).toBeLessThanOrEqual(90);
    expect(body.usage.prompt_tokens_details).toEqual({ cached_tokens: 0, audio_tokens: 0 });
    expect(body.usage.completion_tokens_details).toEqual({ reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 });
  });

  it('sends the Azure response headers, echoing x-ms-client-request-id', async () => {
    const res = await post(labModels(), CHAT_URL, { messages: LAB_MESSAGES }, { 'x-ms-client-request-id': 'my-client-id' });
    expect(res.headers.get('x-ms-region')).toBe('UK South');
    expect(res.headers.get('x-ms-deployment-name')).toBe('gpt-4.1-mini');
    expect(res.headers.get('x-ms-client-request-id')).toBe('my-client-id');
    expect(res.headers.get('apim-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(res.headers.get('x-ratelimit-remaining-tokens'))).toBeGreaterThan(0);
    expect(Number(res.headers.get('x-ratelimit-remaining-requests'))).toBeGreaterThan(0);
  });

  it('uses the deployment region and the mock region', async () => {
    const models = createMockModels({
      region: 'Sweden Central',
      deployments: [
        { name: 'a', model: 'gpt-4.1-mini' },
        { name: 'b', model: 'gpt-4.1-mini', region: 'East US' },
      ],
    });
    expect((await post(models, 'http://x/openai/deployments/a/chat/completions?api-version=2024-10-21', { messages: LAB_MESSAGES })).headers.get('x-ms-region')).toBe('Sweden Central');
    expect((await post(models, 'http://x/openai/deployments/b/chat/completions?api-version=2024-10-21', { messages: LAB_MESSAGES })).headers.get('x-ms-region')).toBe('East US');
  });

  it('keeps completions of 200 lab-like requests within 20–59 tokens (total 51–90)', async () => {
    const models = createMockModels({ deployments: [{ name: 'gpt-4.1-mini', model: 'gpt-4.1-mini' }] });
    for (let seed = 0; seed < 200; seed++) {
      const body = (await (await post(models, CHAT_URL, { messages: LAB_MESSAGES, seed })).json()) as ChatBody;
      expect(body.usage.completion_tokens).toBeGreaterThanOrEqual(20);
      expect(body.usage.completion_tokens).toBeLessThanOrEqual(59);
      expect(body.usage.completion_tokens).toBe(encodeO200k(body.choices[0]!.message.content).length);
    }
  });

  it('matches the deployment path under any prefix', async () => {
    const models = labModels();
    for (const url of [
      'http://gw/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview',
      'https://foundry1-abc.cognitiveservices.azure.com/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21',
      'http://x/a/b/c/openai/deployments/gpt-4.1-mini/chat/completions/?api-version=2024-10-21',
    ]) {
      expect((await post(models, url, { messages: LAB_MESSAGES })).status).toBe(200);
    }
  });

  it('serves the v1 surface with the deployment named by body.model', async () => {
    const res = await post(labModels(), 'http://x/openai/v1/chat/completions', { model: 'gpt-4.1-mini', messages: LAB_MESSAGES });
    expect(res.status).toBe(200);
    expect(((await res.json()) as ChatBody).model).toBe('gpt-4.1-mini-2025-04-14');
  });

  it('reports model-version names per catalogue, and bare names for non-dated versions', async () => {
    const models = createMockModels({
      deployments: [
        { name: 'my-4o', model: 'gpt-4o' },
        { name: 'turbo', model: 'gpt-35-turbo' },
        { name: 'pinned', model: 'gpt-4o', version: '2024-08-06' },
      ],
    });
    const model = async (d: string) => ((await (await post(models, `http://x/openai/deployments/${d}/chat/completions?api-version=2024-10-21`, { messages: LAB_MESSAGES })).json()) as ChatBody).model;
    expect(await model('my-4o')).toBe('gpt-4o-2024-11-20');
    expect(await model('turbo')).toBe('gpt-35-turbo');
    expect(await model('pinned')).toBe('gpt-4o-2024-08-06');
  });

  it('counts prompt tokens with cl100k for gpt-35-turbo deployments', async () => {
    const models = createMockModels({ deployments: [{ name: 'chat', model: 'gpt-35-turbo' }] });
    const body = (await (await post(models, 'http://x/openai/deployments/chat/chat/completions?api-version=2024-10-21', { messages: [{ role: 'user', content: '東京 🚀 naïve' }] })).json()) as ChatBody;
    const { encode } = await import('gpt-tokenizer/encoding/cl100k_base');
    expect(body.usage.prompt_tokens).toBe(3 + encode('user').length + encode('東京 🚀 naïve').length + 3);
  });
});

describe('chat completions: determinism', () => {
  it('returns the same text and usage for the same request, across instances', async () => {
    const a = (await (await post(labModels(), CHAT_URL, { messages: LAB_MESSAGES })).json()) as ChatBody;
    const models = labModels();
    const b = (await (await post(models, CHAT_URL, { messages: LAB_MESSAGES, model: 'gpt-4.1-mini' })).json()) as ChatBody;
    const c = (await (await post(models, CHAT_URL, { messages: LAB_MESSAGES })).json()) as ChatBody;
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(c.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(c.usage).toEqual(a.usage);
    expect(c.id).not.toBe(b.id);
  });

  it('changes the text when seed, temperature or messages change', async () => {
    const models = labModels();
    const text = async (extra: Record<string, unknown>) =>
      ((await (await post(models, CHAT_URL, { messages: LAB_MESSAGES, ...extra })).json()) as ChatBody).choices[0]!.message.content;
    const base = await text({});
    expect(await text({ seed: 1 })).not.toBe(base);
    expect(await text({ seed: 2 })).not.toBe(await text({ seed: 1 }));
    expect(await text({ temperature: 0.2 })).not.toBe(base);
    expect(await text({ messages: [{ role: 'user', content: 'Hello' }] })).not.toBe(base);
  });

  it('changes the text with the mock seed option', async () => {
    const run = async (seed: number) =>
      ((await (await post(createMockModels({ seed }), 'http://x/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21', { messages: LAB_MESSAGES })).json()) as ChatBody).choices[0]!.message.content;
    expect(await run(1)).toBe(await run(1));
    expect(await run(1)).not.toBe(await run(2));
  });

  it('produces readable sentences', async () => {
    const body = (await (await post(labModels(), CHAT_URL, { messages: LAB_MESSAGES })).json()) as ChatBody;
    expect(body.choices[0]!.message.content).toMatch(/^[A-Z][a-z]+[ ,].*\.$/);
  });
});

describe('chat completions: limits and options', () => {
  it('cuts at max_tokens with finish_reason length, as a prefix of the uncut text', async () => {
    const models = labModels();
    const full = (await (await post(models, CHAT_URL, { messages: LAB_MESSAGES })).json()) as ChatBody;
    const cut = (await (await post(models, CHAT_URL, { messages: LAB_MESSAGES, max_tokens: 5 })).json()) as ChatBody;
    expect(cut.choices[0]!.finish_reason).toBe('length');
    expect(cut.usage.completion_tokens).toBe(5);
    expect(full.choices[0]!.message.content.startsWith(cut.choices[0]!.message.content)).toBe(true);
    const cut2 = (await (await post(models, CHAT_URL, { messages: LAB_MESSAGES, max_completion_tokens: 7 })).json()) as ChatBody;
    expect(cut2.usage.completion_tokens).toBe(7);
    const roomy = (await (await post(models, CHAT_URL, { messages: LAB_MESSAGES, max_tokens: 4000 })).json()) as ChatBody;
    expect(roomy.choices[0]!.finish_reason).toBe('stop');
    expect(roomy.choices[0]!.message.content).toBe(full.choices[0]!.message.content);
  });

  it('returns n choices and sums their completion tokens', async () => {
    const body = (await (await post(labModels(), CHAT_URL, { messages: LAB_MESSAGES, n: 3 })).json()) as ChatBody;
    expect(body.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(body.choices.map((c) => c.message.content)).size).toBe(3);
    const sum = body.choices.reduce((s, c) => s + encodeO200k(c.message.content).length, 0);
    expect(body.usage.completion_tokens).toBe(sum);
  });

  it('stops before a stop sequence', async () => {
    const models = labModels();
    const full = ((await (await post(models, CHAT_URL, { messages: LAB_MESSAGES })).json()) as ChatBody).choices[0]!.message.content;
    const stopAt = full.indexOf('.');
    const cut = (await (await post(models, CHAT_URL, { messages: LAB_MESSAGES, stop: ['.'] })).json()) as ChatBody;
    expect(cut.choices[0]!.message.content).toBe(full.slice(0, stopAt));
    expect(cut.choices[0]!.finish_reason).toBe('stop');
  });
});

describe('chat completions: errors', () => {
  it('answers an unknown deployment with 404 DeploymentNotFound', async () => {
    const res = await post(labModels(), 'http://x/openai/deployments/nope/chat/completions?api-version=2024-10-21', { messages: LAB_MESSAGES });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('DeploymentNotFound');
    expect(body.error.message).toMatch(/^The API deployment for this resource does not exist/);
  });

  it('answers an unknown path with 404 Resource not found', async () => {
    const res = await post(labModels(), 'http://x/openai/deployments/gpt-4.1-mini/unknown?api-version=2024-10-21', {});
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: '404', message: 'Resource not found' } });
  });

  it('answers invalid JSON with 400 BadRequest and the position of the error', async () => {
    const res = await post(labModels(), CHAT_URL, '{\n  "messages": [1,}');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; innererror: { position: { offset: number; line: number; column: number } } } };
    expect(body.error.code).toBe('BadRequest');
    expect(body.error.message).toContain('line 2, column 18');
    expect(body.error.innererror.position).toMatchObject({ offset: 19, line: 2, column: 18 });
  });

  it.each([
    [{}, 'messages', /Missing required parameter: 'messages'/],
    [{ messages: 'hi' }, 'messages', /expected an array, but got a string/],
    [{ messages: [] }, 'messages', /empty array/],
    [{ messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', /Invalid value: 'robot'/],
    [{ messages: [{ role: 'user', content: 'x' }, { content: 'y' }] }, 'messages[1].role', /Missing required parameter/],
    [{ messages: [{ role: 'user', content: 5 }] }, 'messages[0].content', /Invalid type/],
    [{ messages: LAB_MESSAGES, max_tokens: 0 }, 'max_tokens', /below minimum value/],
    [{ messages: LAB_MESSAGES, n: 1.5 }, 'n', /expected an integer/],
    [{ messages: LAB_MESSAGES, temperature: 3 }, 'temperature', /between 0 and 2/],
    [[1, 2], 'body', /expected an object/],
  ])('rejects %j with 400 naming %s', async (body, param, message) => {
    const res = await post(labModels(), CHAT_URL, body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: string; param: string; message: string; type: string } };
    expect(json.error.code).toBe('BadRequest');
    expect(json.error.param).toBe(param);
    expect(json.error.type).toBe('invalid_request_error');
    expect(json.error.message).toMatch(message);
  });

  it('rejects chat on an embeddings deployment with OperationNotSupported', async () => {
    const models = createMockModels({ deployments: [{ name: 'emb', model: 'text-embedding-3-small' }] });
    const res = await post(models, 'http://x/openai/deployments/emb/chat/completions?api-version=2024-10-21', { messages: LAB_MESSAGES });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('OperationNotSupported');
  });

  it('rejects a v1 request without model', async () => {
    const res = await post(labModels(), 'http://x/openai/v1/chat/completions', { messages: LAB_MESSAGES });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('model');
  });
});
