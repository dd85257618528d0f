import { describe, expect, it } from 'vitest';
import { createMockModels, type MockModels } from '../../mock-models/index.js';
import { parseSse } from './support/sse.js';

/** Completion lengths follow a configured distribution; repeats vary like a sampling model when asked to. */
const URL = 'http://x/openai/deployments/d/chat/completions?api-version=2024-10-21';
type Chat = { choices: Array<{ message: { content: string }; finish_reason: string }>; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };

async function chat(m: MockModels, body: Record<string, unknown>): Promise<Chat> {
  return (await m.handle(new Request(URL, { method: 'POST', body: JSON.stringify(body) }))).json() as Promise<Chat>;
}
const ask = (content: string, extra: Record<string, unknown> = {}) => ({ messages: [{ role: 'user', content }], ...extra });

describe('realistic mock completions', () => {
  it('over 1,000 distinct prompts the completion lengths follow normal(mean, sd) clipped to [min, max]', async () => {
    const m = createMockModels({ deployments: [{ name: 'd', model: 'gpt-4.1-mini', completionTokens: { mean: 40, sd: 8, min: 10, max: 80 } }] });
    const lengths: number[] = [];
    for (let i = 0; i < 1000; i++) lengths.push((await chat(m, ask(`Question number ${i}: what is the time?`))).usage.completion_tokens);
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    const sd = Math.sqrt(lengths.reduce((a, b) => a + (b - mean) ** 2, 0) / lengths.length);
    expect(Math.abs(mean - 40) / 40).toBeLessThan(0.05);
    expect(sd).toBeGreaterThan(8 * 0.8);
    expect(sd).toBeLessThan(8 * 1.25);
    // Text may run a token or two over the drawn length (it ends on a whole word), never under the minimum.
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(82);
  });

  it('the default stays uniform in 20–56, and the same request gets the same answer (no variedRepeats)', async () => {
    const m = createMockModels({ deployments: [{ name: 'd', model: 'gpt-4.1-mini' }] });
    const a = await chat(m, ask('hello'));
    const b = await chat(m, ask('hello'));
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    const lengths = await Promise.all(Array.from({ length: 300 }, (_, i) => chat(m, ask(`prompt ${i}`)).then((r) => r.usage.completion_tokens)));
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(58);
    expect(new Set(lengths).size).toBeGreaterThan(20);
  });

  it('with variedRepeats, repeats of one prompt vary deterministically (the same sequence after reset); a seed fixes the answer', async () => {
    const m = createMockModels({ deployments: [{ name: 'd', model: 'gpt-4.1-mini', variedRepeats: true }] });
    const run = async () => {
      const out: string[] = [];
      for (let i = 0; i < 10; i++) out.push((await chat(m, ask('Can you tell me the time, please?'))).choices[0]!.message.content);
      return out;
    };
    const first = await run();
    expect(new Set(first).size).toBeGreaterThanOrEqual(8);
    m.reset();
    expect(await run()).toEqual(first);
    const seeded = await Promise.all([1, 2, 3].map(() => chat(m, ask('Can you tell me the time, please?', { seed: 7 }))));
    expect(new Set(seeded.map((s) => JSON.stringify([s.choices, s.usage]))).size).toBe(1);
  });

  it('max_tokens caps the completion with finish_reason "length"; streamed and non-streamed answers agree', async () => {
    const m = createMockModels({ deployments: [{ name: 'd', model: 'gpt-4.1-mini', variedRepeats: true, completionTokens: { min: 30, max: 30 } }] });
    const capped = await chat(m, ask('tell me a story', { max_tokens: 5 }));
    expect(capped.usage.completion_tokens).toBe(5);
    expect(capped.choices[0]!.finish_reason).toBe('length');
    const plain = await chat(m, ask('agree?'));
    const events = parseSse(await (await m.handle(new Request(URL, { method: 'POST', body: JSON.stringify(ask('agree?', { stream: true, stream_options: { include_usage: true } })) }))).text()).map((e) => e.data as any);
    const streamed = events.filter((e) => e !== '[DONE]' && e.choices.length > 0).map((e) => e.choices[0].delta.content ?? '').join('');
    expect(streamed).toBe(plain.choices[0]!.message.content);
    expect(events.at(-2).usage).toEqual(plain.usage);
  });
});
