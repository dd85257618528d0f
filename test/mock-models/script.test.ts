import { describe, expect, it } from 'vitest';
import { encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { createMockModels, type MockModels } from '../../mock-models/index.js';
import { parseSse } from './support/sse.js';

const MESSAGES = [{ role: 'user', content: 'Can you tell me the time, please?' }];

function models(): MockModels {
  return createMockModels({
    deployments: [
      { name: 'gpt-4.1-mini', model: 'gpt-4.1-mini' },
      { name: 'configured', model: 'gpt-4o', script: [{ content: 'From config.', usage: { prompt_tokens: 100, completion_tokens: 7 } }] },
      { name: 'emb', model: 'text-embedding-3-small' },
    ],
  });
}

async function chat(m: MockModels, deployment = 'gpt-4.1-mini', extra: Record<string, unknown> = {}): Promise<Response> {
  return m.handle(new Request(`http://x/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21`, { method: 'POST', body: JSON.stringify({ messages: MESSAGES, ...extra }) }));
}

describe('scripted responses', () => {
  it('fixes the next N responses in order, then falls back to generation', async () => {
    const m = models();
    const generated = ((await (await chat(m)).json()) as any).choices[0].message.content;
    m.script('gpt-4.1-mini', [
      { content: 'First scripted.', usage: { prompt_tokens: 10, completion_tokens: 20 } },
      { content: 'Second scripted.' },
    ]);
    expect(m.state('gpt-4.1-mini')!.scripted).toBe(2);
    const a = (await (await chat(m)).json()) as any;
    expect(a.choices[0].message.content).toBe('First scripted.');
    expect(a.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 });
    const b = (await (await chat(m)).json()) as any;
    expect(b.choices[0].message.content).toBe('Second scripted.');
    expect(b.usage.prompt_tokens).toBe(3 + 1 + encodeO200k(MESSAGES[0]!.content).length + 3);
    expect(b.usage.completion_tokens).toBe(encodeO200k('Second scripted.').length);
    const c = (await (await chat(m)).json()) as any;
    expect(c.choices[0].message.content).toBe(generated);
    expect(m.state('gpt-4.1-mini')!.scripted).toBe(0);
  });

  it('generates text of the scripted completion length when no content is given', async () => {
    const m = models();
    m.script('gpt-4.1-mini', [{ usage: { completion_tokens: 42 } }]);
    const body = (await (await chat(m)).json()) as any;
    expect(body.usage.completion_tokens).toBe(42);
    expect(encodeO200k(body.choices[0].message.content).length).toBe(42);
  });

  it('scripts an error status with Azure body and custom headers, then continues', async () => {
    const m = models();
    m.script('gpt-4.1-mini', [{ status: 429, headers: { 'retry-after': '7' } }, { status: 500, body: { error: { code: 'Custom', message: 'boom' } } }]);
    const r1 = await chat(m);
    expect(r1.status).toBe(429);
    expect(r1.headers.get('retry-after')).toBe('7');
    expect(((await r1.json()) as any).error.code).toBe('429');
    const r2 = await chat(m);
    expect(r2.status).toBe(500);
    expect(await r2.json()).toEqual({ error: { code: 'Custom', message: 'boom' } });
    expect((await chat(m)).status).toBe(200);
  });

  it('sends a scripted raw body with status 200', async () => {
    const m = models();
    m.script('gpt-4.1-mini', [{ body: { hello: 'world' }, headers: { 'x-extra': '1' } }]);
    const r = await chat(m);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-extra')).toBe('1');
    expect(await r.json()).toEqual({ hello: 'world' });
  });

  it('streams scripted content and usage', async () => {
    const m = models();
    m.script('gpt-4.1-mini', [{ content: 'Streamed script text.', usage: { completion_tokens: 99 } }]);
    const events = parseSse(await (await chat(m, 'gpt-4.1-mini', { stream: true, stream_options: { include_usage: true } })).text()).map((e) => e.data);
    const text = events.filter((e) => e !== '[DONE]' && e.choices.length).map((e) => e.choices[0].delta.content ?? '').join('');
    expect(text).toBe('Streamed script text.');
    expect(events.at(-2).usage.completion_tokens).toBe(99);
  });

  it('serves deployment-configured scripts and restores them on reset', async () => {
    const m = models();
    const first = (await (await chat(m, 'configured')).json()) as any;
    expect(first.choices[0].message.content).toBe('From config.');
    expect(first.usage.total_tokens).toBe(107);
    expect(((await (await chat(m, 'configured')).json()) as any).choices[0].message.content).not.toBe('From config.');
    m.script('gpt-4.1-mini', [{ content: 'dropped by reset' }]);
    m.reset();
    expect(((await (await chat(m, 'configured')).json()) as any).choices[0].message.content).toBe('From config.');
    expect(((await (await chat(m)).json()) as any).choices[0].message.content).not.toBe('dropped by reset');
  });

  it('scripts embeddings usage', async () => {
    const m = models();
    m.script('emb', [{ usage: { prompt_tokens: 1234 } }]);
    const r = await m.handle(new Request('http://x/openai/deployments/emb/embeddings?api-version=2024-10-21', { method: 'POST', body: JSON.stringify({ input: 'x' }) }));
    expect(((await r.json()) as any).usage).toEqual({ prompt_tokens: 1234, total_tokens: 1234 });
  });

  it('refuses to script an unknown deployment', () => {
    expect(() => models().script('nope', [{ content: 'x' }])).toThrow(/unknown deployment 'nope'/);
  });

  it('records calls with outcome and token counts', async () => {
    const m = models();
    m.script('gpt-4.1-mini', [{ content: 'x' }]);
    await chat(m);
    await chat(m);
    await chat(m, 'missing');
    expect(m.calls.map((c) => [c.operation, c.deployment, c.status, c.outcome])).toEqual([
      ['chat', 'gpt-4.1-mini', 200, 'script'],
      ['chat', 'gpt-4.1-mini', 200, 'generated'],
      ['chat', undefined, 404, 'error'],
    ]);
    expect(m.calls[1]!.promptTokens).toBe(3 + 1 + encodeO200k(MESSAGES[0]!.content).length + 3);
    m.reset();
    expect(m.calls).toHaveLength(0);
  });
});
