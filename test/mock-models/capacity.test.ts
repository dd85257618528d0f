import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureOpenAI, RateLimitError } from 'openai';
import { createVirtualClock } from '../../policy-engine/clock.js';
import { createCapacityWindow, createMockModels, createMockModelsServer, countChatPromptTokens, type DeploymentConfig } from '../../mock-models/index.js';

const MESSAGES = [{ role: 'user', content: 'Hello there' }];
const PROMPT = countChatPromptTokens(MESSAGES, { model: 'gpt-4.1-mini' });

function setup(deployment: Partial<DeploymentConfig>) {
  const clock = createVirtualClock({ startMs: Date.parse('2026-03-01T10:00:00Z') });
  const models = createMockModels({ clock, deployments: [{ name: 'd', model: 'gpt-4.1-mini', ...deployment }] });
  const chat = async (extra: Record<string, unknown> = {}) => {
    const res = await models.handle(
      new Request('http://x/openai/deployments/d/chat/completions?api-version=2025-03-01-preview', { method: 'POST', body: JSON.stringify({ messages: MESSAGES, ...extra }) }),
    );
    return { status: res.status, headers: res.headers, json: (await res.json()) as any };
  };
  return { clock, models, chat };
}

describe('capacity window (unit)', () => {
  it('derives TPM, RPM and the 10-second request allowance from capacity units', () => {
    expect(createCapacityWindow({ capacity: 20 }).limits).toEqual({ tokensPerMinute: 20_000, requestsPerMinute: 120, requestWindowMs: 10_000, requestsPerWindow: 20 });
    expect(createCapacityWindow({ capacity: 1 }).limits.requestsPerWindow).toBe(1);
    expect(createCapacityWindow({ capacity: 20, requestWindowMs: 60_000 }).limits.requestsPerWindow).toBe(120);
  });

  it('computes retry-after from when enough charges leave the window', () => {
    const w = createCapacityWindow({ capacity: 1, requestsPerMinute: 1000 });
    expect(w.admit(0, 400).admitted).toBe(true);
    expect(w.admit(5_000, 400).admitted).toBe(true);
    const refused = w.admit(20_000, 400);
    expect(refused).toMatchObject({ admitted: false, reason: 'tokens', retryAfterMs: 40_000, remainingTokens: 200 });
    expect(w.admit(59_999, 400).admitted).toBe(false);
    expect(w.admit(60_000, 400).admitted).toBe(true);
  });
});

describe('capacity on the mock (Azure OpenAI throttling)', () => {
  it('charges prompt + max_tokens and refuses with Azure 429 body and retry headers', async () => {
    const { clock, chat } = setup({ capacity: 2, requestsPerMinute: 1000 });
    const cost = PROMPT + 500;
    const first = await chat({ max_tokens: 500 });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-remaining-tokens')).toBe(String(2000 - cost));
    clock.advance('5s');
    expect((await chat({ max_tokens: 500 })).headers.get('x-ratelimit-remaining-tokens')).toBe(String(2000 - 2 * cost));
    expect((await chat({ max_tokens: 500 })).status).toBe(200);
    const refused = await chat({ max_tokens: 500 });
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('429');
    expect(refused.json.error.message).toBe(
      'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2025-03-01-preview have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 55 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.',
    );
    expect(refused.headers.get('retry-after')).toBe('55');
    expect(refused.headers.get('retry-after-ms')).toBe('55000');
    expect(refused.headers.get('x-ratelimit-remaining-tokens')).toBe(String(2000 - 3 * cost));
    clock.advance('54s');
    expect((await chat({ max_tokens: 500 })).status).toBe(429);
    clock.advance('1s');
    expect((await chat({ max_tokens: 500 })).status).toBe(200);
  });

  it('charges the default 16 when max_tokens is absent, not the actual usage', async () => {
    const { chat } = setup({ capacity: 1, requestsPerMinute: 1000 });
    const r = await chat();
    expect(r.json.usage.completion_tokens).toBeGreaterThan(16);
    expect(r.headers.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - PROMPT - 16));
  });

  it('enforces RPM over a 10-second window (capacity 1 → one request per 10 s)', async () => {
    const { clock, chat } = setup({ capacity: 1 });
    const ok = await chat();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    clock.advance('3s');
    const refused = await chat();
    expect(refused.status).toBe(429);
    expect(refused.json.error.message).toContain('exceeded call rate limit');
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(refused.headers.get('retry-after-ms')).toBe('7000');
    clock.advance('7s');
    expect((await chat()).status).toBe(200);
  });

  it('capacity 20 admits the 40-call metrics lab burst with a 60-second request window, and throttles it with the default 10 s window', async () => {
    const lab = setup({ capacity: 20, requestWindowMs: 60_000 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      statuses.push((await lab.chat()).status);
      lab.clock.advance(100);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    const strict = setup({ capacity: 20 });
    const strictStatuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      strictStatuses.push((await strict.chat()).status);
      strict.clock.advance(100);
    }
    expect(strictStatuses.filter((s) => s === 200)).toHaveLength(20);
  });

  it('never throttles without capacity', async () => {
    const { chat } = setup({});
    for (let i = 0; i < 50; i++) expect((await chat({ max_tokens: 100_000 })).status).toBe(200);
  });

  it('reports state and resets windows', async () => {
    const { models, chat } = setup({ capacity: 1 });
    await chat();
    expect(models.state('d')).toMatchObject({ remainingRequests: 0, remainingTokens: 1000 - PROMPT - 16, limits: { tokensPerMinute: 1000 } });
    models.reset();
    expect(models.state('d')).toMatchObject({ remainingRequests: 1, remainingTokens: 1000 });
    expect((await chat()).status).toBe(200);
  });

  it('charges embeddings their input tokens with the Embeddings_Create wording', async () => {
    const clock = createVirtualClock();
    const models = createMockModels({ clock, deployments: [{ name: 'e', model: 'text-embedding-3-small', capacity: 1, requestsPerMinute: 1000 }] });
    const embed = () => models.handle(new Request('http://x/openai/deployments/e/embeddings?api-version=2024-10-21', { method: 'POST', body: JSON.stringify({ input: 'word '.repeat(600) }) }));
    expect((await embed()).status).toBe(200);
    const refused = await embed();
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as any).error.message).toContain('Embeddings_Create Operation under Azure OpenAI API version 2024-10-21');
  });
});

describe('capacity with the openai client', () => {
  const { models } = setup({ capacity: 1 });
  let server: Awaited<ReturnType<ReturnType<typeof createMockModelsServer>['listen']>>;
  beforeAll(async () => {
    server = await createMockModelsServer(models).listen(0);
  });
  afterAll(() => server.close());

  it('raises RateLimitError with code 429 and readable retry headers', async () => {
    const client = new AzureOpenAI({ endpoint: server.url, apiKey: 'k', apiVersion: '2024-10-21', maxRetries: 0 });
    await client.chat.completions.create({ model: 'd', messages: [{ role: 'user', content: 'Hello there' }] });
    const error = await client.chat.completions.create({ model: 'd', messages: [{ role: 'user', content: 'Hello there' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const e = error as RateLimitError;
    expect(e.status).toBe(429);
    expect(e.code).toBe('429');
    expect(e.headers?.get('retry-after')).toBe('10');
    expect(e.headers?.get('retry-after-ms')).toBe('10000');
  });
});

describe('capacity 1 with the openai client’s own retries (virtual time)', () => {
  it('admits 1,000 tokens a minute; the 429 carries retry-after-ms and the SDK retry succeeds once time is advanced', async () => {
    const clock = createVirtualClock({ startMs: 0 });
    const models = createMockModels({ clock, deployments: [{ name: 'd', model: 'gpt-4o', capacity: 1, requestWindowMs: 60_000 }] });
    const server = await createMockModelsServer(models).listen(0);
    const statuses: number[] = [];
    const remaining: number[] = [];
    try {
      const client = new AzureOpenAI({
        endpoint: server.url,
        apiKey: 'k',
        apiVersion: '2024-10-21',
        maxRetries: 1,
        // A client whose waits happen in virtual time: on a 429 the test moves the clock by retry-after-ms.
        fetch: async (input, init) => {
          const res = await fetch(input, init);
          statuses.push(res.status);
          const left = res.headers.get('x-ratelimit-remaining-tokens');
          if (left !== null) remaining.push(Number(left));
          if (res.status === 429) {
            expect(Number(res.headers.get('retry-after-ms'))).toBeGreaterThan(0);
            clock.advance(Number(res.headers.get('retry-after-ms')));
          }
          return res;
        },
      });
      const ask = () => client.chat.completions.create({ model: 'd', max_tokens: 400, messages: [{ role: 'user', content: 'Hello there' }] });
      await ask(); // costs prompt + 400
      await ask(); // ~820 of 1,000 charged
      expect(statuses).toEqual([200, 200]);
      expect(remaining[1]!).toBeLessThan(remaining[0]!);
      // Just before the first charge leaves the window the third call does not fit: a 429 whose short
      // retry-after-ms the SDK honours (real time) while the test moves virtual time by the same amount.
      clock.advance(59_900);
      const third = await ask();
      expect(third.choices[0]!.message.content).toBeTruthy();
      expect(statuses).toEqual([200, 200, 429, 200]);
    } finally {
      await server.close();
    }
  });
});
