import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIConnectionError, AzureOpenAI, InternalServerError } from 'openai';
import { createVirtualClock } from '../../policy-engine/clock.js';
import { createMockModels, createMockModelsServer, FaultConfigError, MockConnectionError, type MockModels } from '../../mock-models/index.js';

const URL_A = 'http://x/openai/deployments/a/chat/completions?api-version=2024-10-21';
const BODY = { messages: [{ role: 'user', content: 'Hello' }] };

function setup() {
  const clock = createVirtualClock();
  const models = createMockModels({ clock, deployments: [{ name: 'a', model: 'gpt-4.1-mini' }, { name: 'b', model: 'gpt-4.1-mini' }] });
  return { clock, models };
}

function chat(models: MockModels, deployment = 'a', extra: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Response> {
  return models.handle(new Request(`http://x/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21`, { method: 'POST', body: JSON.stringify({ ...BODY, ...extra }), signal }));
}

describe('fault injection', () => {
  it('status faults for the next n requests of one deployment, with Retry-After', async () => {
    const { models } = setup();
    models.faults.add({ deployment: 'a', next: 2, kind: 'status', status: 503, retryAfterMs: 2500 });
    expect((await chat(models, 'b')).status).toBe(200);
    const r1 = await chat(models);
    expect(r1.status).toBe(503);
    expect(r1.headers.get('retry-after')).toBe('3');
    expect(r1.headers.get('retry-after-ms')).toBe('2500');
    expect(((await r1.json()) as any).error.code).toBe('ServiceUnavailable');
    expect((await chat(models)).status).toBe(503);
    expect((await chat(models)).status).toBe(200);
    expect(models.faults.list()).toHaveLength(0);
  });

  it('429 and 500 status faults use Azure-like bodies', async () => {
    const { models } = setup();
    models.faults.add({ next: 1, kind: 'status', status: 429 });
    const r = await chat(models);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(((await r.json()) as any).error.code).toBe('429');
    models.faults.add({ next: 1, kind: 'status', status: 500 });
    const r500 = await chat(models);
    expect(r500.status).toBe(500);
    expect(r500.headers.get('retry-after')).toBeNull();
  });

  it('probability faults are seeded: reproducible and near the rate', async () => {
    const count = async () => {
      const { models } = setup();
      models.faults.add({ probability: 0.3, kind: 'status', status: 500 });
      const statuses: number[] = [];
      for (let i = 0; i < 200; i++) statuses.push((await chat(models)).status);
      return statuses;
    };
    const a = await count();
    expect(await count()).toEqual(a);
    const failures = a.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(40);
    expect(failures).toBeLessThan(80);
  });

  it("'reset' rejects handle with MockConnectionError", async () => {
    const { models } = setup();
    models.faults.add({ next: 1, kind: 'reset' });
    const error = await chat(models).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MockConnectionError);
    expect((error as MockConnectionError).code).toBe('ECONNRESET');
    expect(models.calls[0]!.outcome).toBe('fault:reset');
    expect((await chat(models)).status).toBe(200);
  });

  it("'timeout' answers 408 after timeoutMs, or hangs until the request is aborted", async () => {
    const { clock, models } = setup();
    models.faults.add({ next: 1, kind: 'timeout', timeoutMs: 30_000 });
    const pending = chat(models);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    clock.advance('30s');
    expect((await pending).status).toBe(408);
    models.faults.add({ next: 1, kind: 'timeout' });
    const abort = new AbortController();
    const hanging = chat(models, 'a', {}, abort.signal);
    clock.advance('10m');
    abort.abort(new Error('client gave up'));
    await expect(hanging).rejects.toThrow('client gave up');
  });

  it("'malformed-json' sends a 200 whose body does not parse", async () => {
    const { models } = setup();
    models.faults.add({ next: 1, kind: 'malformed-json' });
    const r = await chat(models);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text.startsWith('{"choices"')).toBe(true);
  });

  it("'malformed-json' on a stream corrupts one event", async () => {
    const { models } = setup();
    models.faults.add({ next: 1, kind: 'malformed-json' });
    const text = await (await chat(models, 'a', { stream: true })).text();
    const datas = text.split('\n\n').filter(Boolean).map((b) => b.slice(6));
    expect(datas.filter((d) => d !== '[DONE]' && (() => { try { JSON.parse(d); return false; } catch { return true; } })())).toHaveLength(1);
  });

  it("'truncated-stream' cuts a stream with MockConnectionError after the given events", async () => {
    const { models } = setup();
    models.faults.add({ next: 1, kind: 'truncated-stream', afterEvents: 3 });
    const r = await chat(models, 'a', { stream: true });
    const reader = r.body!.getReader();
    for (let i = 0; i < 3; i++) expect((await reader.read()).done).toBe(false);
    await expect(reader.read()).rejects.toBeInstanceOf(MockConnectionError);
  });

  it('validates rules and supports remove/clear', () => {
    const { models } = setup();
    expect(() => models.faults.add({ kind: 'explode' as never })).toThrow(FaultConfigError);
    expect(() => models.faults.add({ kind: 'reset', probability: 2 })).toThrow(/between 0 and 1/);
    expect(() => models.faults.add({ kind: 'reset', next: 0 })).toThrow(/positive integer/);
    const h = models.faults.add({ kind: 'reset' });
    models.faults.add({ kind: 'timeout' });
    h.remove();
    expect(models.faults.list().map((r) => r.kind)).toEqual(['timeout']);
    models.faults.clear();
    expect(models.faults.list()).toEqual([]);
  });

  it('restores configured faults on reset', async () => {
    const models = createMockModels({ clock: createVirtualClock(), deployments: [{ name: 'a', model: 'gpt-4.1-mini' }], faults: [{ next: 1, kind: 'status', status: 500 }] });
    expect((await chat(models)).status).toBe(500);
    expect((await chat(models)).status).toBe(200);
    models.reset();
    expect((await chat(models)).status).toBe(500);
  });
});

describe('faults over HTTP with the openai client', () => {
  const { models } = setup();
  let server: Awaited<ReturnType<ReturnType<typeof createMockModelsServer>['listen']>>;
  let client: AzureOpenAI;
  beforeAll(async () => {
    server = await createMockModelsServer(models).listen(0);
    client = new AzureOpenAI({ endpoint: server.url, apiKey: 'k', apiVersion: '2024-10-21', maxRetries: 0 });
  });
  afterAll(() => server.close());

  it("'reset' destroys the socket: APIConnectionError", async () => {
    models.faults.add({ next: 1, kind: 'reset' });
    await expect(client.chat.completions.create({ model: 'a', messages: BODY.messages as any })).rejects.toBeInstanceOf(APIConnectionError);
  });

  it('a 500 fault is an InternalServerError; retries see the next answer', async () => {
    models.faults.add({ next: 1, kind: 'status', status: 500 });
    await expect(client.chat.completions.create({ model: 'a', messages: BODY.messages as any })).rejects.toBeInstanceOf(InternalServerError);
    models.faults.add({ next: 1, kind: 'status', status: 503, retryAfterMs: 10 });
    const retrying = new AzureOpenAI({ endpoint: server.url, apiKey: 'k', apiVersion: '2024-10-21', maxRetries: 1 });
    const ok = await retrying.chat.completions.create({ model: 'a', messages: BODY.messages as any });
    expect(ok.choices[0]!.message.content).toBeTruthy();
  });

  it("'truncated-stream' makes the SDK stream iteration fail", async () => {
    models.faults.add({ next: 1, kind: 'truncated-stream', afterEvents: 4 });
    const stream = await client.chat.completions.create({ model: 'a', messages: BODY.messages as any, stream: true });
    const consume = async () => {
      for await (const _ of stream) {
        // drain
      }
    };
    await expect(consume()).rejects.toThrow();
  });
});
