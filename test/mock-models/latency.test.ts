import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../policy-engine/clock.js';
import { createMockModels } from '../../mock-models/index.js';
import { createLatency } from '../../mock-models/latency.js';
import { createRandom } from '../../mock-models/random.js';

const BODY = JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] });

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

describe('latency model', () => {
  it('is zero by default: a frozen clock does not block answers', async () => {
    const models = createMockModels({ clock: createVirtualClock(), deployments: [{ name: 'd', model: 'gpt-4.1-mini' }] });
    const res = await models.handle(new Request('http://x/openai/deployments/d/chat/completions?api-version=2024-10-21', { method: 'POST', body: BODY }));
    expect(res.status).toBe(200);
  });

  it('delays a non-streamed answer by ttft + perToken × (tokens − 1) on the injected clock', async () => {
    const clock = createVirtualClock();
    const models = createMockModels({ clock, latency: { ttftMs: 500, perTokenMs: 20 }, deployments: [{ name: 'd', model: 'gpt-4.1-mini' }] });
    let settled = false;
    const pending = models.handle(new Request('http://x/openai/deployments/d/chat/completions?api-version=2024-10-21', { method: 'POST', body: BODY })).then((r) => {
      settled = true;
      return r;
    });
    await flush();
    const tokens = models.calls[0]!.completionTokens!;
    const total = 500 + 20 * (tokens - 1);
    clock.advance(total - 1);
    await flush();
    expect(settled).toBe(false);
    clock.advance(1);
    const res = await pending;
    expect(((await res.json()) as any).usage.completion_tokens).toBe(tokens);
  });

  it('paces streamed chunks: first content after ttft, then one per perToken', async () => {
    const clock = createVirtualClock();
    const models = createMockModels({ clock, deployments: [{ name: 'd', model: 'gpt-4.1-mini', latency: { ttftMs: 300, perTokenMs: 50 } }] });
    const res = await models.handle(new Request('http://x/openai/deployments/d/chat/completions?api-version=2024-10-21', { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }], stream: true }) }));
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const read = async () => decoder.decode((await reader.read()).value);
    expect(await read()).toContain('prompt_filter_results');
    expect(await read()).toContain('"role":"assistant"');
    let next = reader.read();
    let got = false;
    void next.then(() => (got = true));
    await flush();
    expect(got).toBe(false);
    clock.advance(299);
    await flush();
    expect(got).toBe(false);
    clock.advance(1);
    expect(decoder.decode((await next).value)).toContain('"content_filter_results"');
    next = reader.read();
    got = false;
    void next.then(() => (got = true));
    await flush();
    expect(got).toBe(false);
    clock.advance(50);
    await next;
    await reader.cancel();
  });

  it('cancelling a paced stream ends its pending sleep at once; the call log says how each stream ended', async () => {
    const inner = createVirtualClock();
    let pending = 0;
    const clock = { now: () => inner.now(), sleep: (ms: number, signal?: AbortSignal) => (pending++, inner.sleep(ms, signal).finally(() => pending--)) };
    const models = createMockModels({ clock, deployments: [{ name: 'd', model: 'gpt-4.1-mini', latency: { perTokenMs: 50 } }] });
    const stream = (signal?: AbortSignal) =>
      models.handle(new Request('http://x/openai/deployments/d/chat/completions?api-version=2024-10-21', { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }], stream: true }), ...(signal ? { signal } : {}) }));

    const res = await stream();
    const reader = res.body!.getReader();
    for (let i = 0; i < 3; i++) await reader.read(); // filter results, role, first token (no time to first token)
    await flush();
    expect(pending).toBe(1);
    await reader.cancel();
    await flush();
    expect(pending).toBe(0);
    expect(models.calls[0]!.stream).toEqual({ events: 3, end: 'cancelled' });

    const abort = new AbortController();
    const aborted = (await stream(abort.signal)).body!.getReader();
    for (let i = 0; i < 3; i++) await aborted.read();
    abort.abort();
    await expect(aborted.read()).rejects.toThrow();
    expect(pending).toBe(0);
    expect(models.calls[1]!.stream).toEqual({ events: 3, end: 'aborted' });

    const full = (await stream()).body!.getReader();
    let events = 0;
    for (;;) {
      const read = full.read();
      await flush();
      inner.advance(50);
      if ((await read).done) break;
      events++;
    }
    expect(models.calls[2]!.stream).toEqual({ events, end: 'completed' });
    expect(events).toBe(models.calls[2]!.completionTokens! + 4); // + filter results, role, finish and [DONE]
  });

  it('samples seeded normal delays reproducibly and never below zero', () => {
    const a = createLatency({ perTokenMs: { mean: 19, std: 6 } }, createRandom('s'));
    const b = createLatency({ perTokenMs: { mean: 19, std: 6 } }, createRandom('s'));
    const xs = Array.from({ length: 2000 }, () => a.perToken());
    expect(Array.from({ length: 2000 }, () => b.perToken())).toEqual(xs);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    expect(mean).toBeGreaterThan(18.3);
    expect(mean).toBeLessThan(19.7);
    expect(sd).toBeGreaterThan(5.4);
    expect(sd).toBeLessThan(6.6);
    const clamped = createLatency({ ttftMs: { mean: 0, std: 100 } }, createRandom('t'));
    for (let i = 0; i < 100; i++) expect(clamped.ttft()).toBeGreaterThanOrEqual(0);
  });
});
