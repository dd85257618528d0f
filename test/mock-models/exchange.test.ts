import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../policy-engine/clock.js';
import { createMockModels, directCallOf, type MockModels, type ModelRequest, type ModelResponse } from '../../mock-models/index.js';

const BASE = 'http://foundry1.mock/openai';
const CHAT = `${BASE}/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`;
const LAB_MESSAGES = [
  { role: 'system', content: 'You are a sarcastic, unhelpful assistant.' },
  { role: 'user', content: 'Can you tell me the time, please?' },
];

function twin(): MockModels {
  const clock = createVirtualClock({ startMs: Date.parse('2026-03-01T10:00:00Z') });
  return createMockModels({ clock, deployments: [{ name: 'gpt-4.1-mini', model: 'gpt-4.1-mini', version: '2025-04-14', capacity: 10 }] });
}

interface Exchange {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

async function viaHandle(models: MockModels, x: Exchange) {
  try {
    const response = await models.handle(new Request(x.url, { method: x.method, headers: x.headers, body: x.body }));
    return { status: response.status, headers: [...response.headers], body: await response.text() };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

async function viaDirect(models: MockModels, x: Exchange) {
  const headers = new Map(Object.entries(x.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const request: ModelRequest = {
    method: x.method,
    url: new URL(x.url),
    header: (name) => headers.get(name) ?? null,
    text: () => new TextDecoder().decode(new TextEncoder().encode(x.body ?? '')), // as the forwarder decodes
    signal: new AbortController().signal,
  };
  try {
    const response: ModelResponse = await directCallOf(models)!(request);
    const body = typeof response.body === 'string' ? response.body : await new Response(response.body).text();
    return { status: response.status, headers: response.headers.entries(), body };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

const json = (_body: unknown) => ({ 'content-type': 'application/json' });

describe('the direct call answers exactly as handle(Request)', () => {
  it('status, headers (order included), body and the call log agree over a sequence of calls', async () => {
    const web = twin();
    const direct = twin();
    for (const m of [web, direct]) {
      m.script('gpt-4.1-mini', [{ body: { hello: 'world' }, headers: { 'X-Extra': '  padded  ' } }, { status: 429, headers: { 'retry-after': '7' } }]);
    }
    const sequence: Exchange[] = [
      { method: 'POST', url: CHAT, headers: json({}), body: JSON.stringify({ messages: LAB_MESSAGES }) }, // scripted body
      { method: 'POST', url: CHAT, headers: json({}), body: JSON.stringify({ messages: LAB_MESSAGES }) }, // scripted 429
      { method: 'POST', url: CHAT, headers: { ...json({}), 'x-ms-client-request-id': 'abc' }, body: JSON.stringify({ messages: LAB_MESSAGES }) },
      { method: 'POST', url: CHAT, headers: json({}), body: JSON.stringify({ messages: LAB_MESSAGES, max_tokens: 20000 }) }, // capacity 429
      { method: 'POST', url: CHAT, headers: json({}), body: '{"messages": [' }, // invalid JSON
      { method: 'POST', url: `${BASE}/deployments/nope/chat/completions?api-version=2024-10-21`, headers: json({}), body: '{}' },
      { method: 'POST', url: `${BASE}/deployments/gpt-4.1-mini/chat/completions`, headers: json({}), body: '{}' }, // no api-version
      { method: 'GET', url: `${BASE}/models?api-version=2024-10-21` },
      { method: 'GET', url: `${BASE}/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21` }, // wrong method
      { method: 'POST', url: `${BASE}/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21`, headers: json({}), body: `\uFEFF${JSON.stringify({ messages: LAB_MESSAGES, stream: true })}` },
    ];
    const statuses: number[] = [];
    for (const x of sequence) {
      const expected = await viaHandle(web, x);
      expect(await viaDirect(direct, x), `${x.method} ${x.url}`).toEqual(expected);
      statuses.push((expected as { status: number }).status);
    }
    expect(statuses).toEqual([200, 429, 200, 429, 400, 404, 404, 200, 405, 200]);
    expect(direct.calls).toEqual(web.calls);
  });

  it('a scripted status the web Response refuses throws the same error', async () => {
    const web = twin();
    const direct = twin();
    for (const m of [web, direct]) m.script('gpt-4.1-mini', [{ status: 200, body: {}, headers: { 'bad header': 'x' } }]);
    const x: Exchange = { method: 'POST', url: CHAT, headers: json({}), body: JSON.stringify({ messages: LAB_MESSAGES }) };
    const expected = await viaHandle(web, x);
    expect(expected).toHaveProperty('error');
    expect(await viaDirect(direct, x)).toEqual(expected);
    expect(direct.calls).toEqual(web.calls);
  });
});

describe('the call log', () => {
  it('keeps the most recent maxCalls calls', async () => {
    const models = createMockModels({ clock: createVirtualClock({ startMs: 0 }), maxCalls: 10 });
    for (let i = 0; i < 25; i++) await models.handle(new Request(`${BASE}/models/m${i}?api-version=2024-10-21`));
    expect(models.calls.length).toBeLessThanOrEqual(10);
    expect(models.calls.at(-1)!.path).toBe('/openai/models/m24');
    expect(models.calls.map((c) => c.path)).toEqual(Array.from({ length: models.calls.length }, (_, i) => `/openai/models/m${25 - models.calls.length + i}`));
  });
});
