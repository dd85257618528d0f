import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AzureOpenAI } from 'openai';
import { startEmulator, type RunningEmulator } from '../../emulator/testing/start-emulator.js';
import { LAB_API_VERSION, LAB_MESSAGES, labPost } from '../support/lab.js';

const BODY_429 = /^\{ "statusCode": 429, "message": "Token limit is exceeded\. Try again in (\d+) seconds\." \}$/;

describe('token-rate-limiting lab (preset, virtual clock)', () => {
  let gw: RunningEmulator;
  let backendCalls: ReturnType<typeof vi.spyOn>;

  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-rate-limiting' });
  });
  afterAll(() => gw.close());
  beforeEach(async () => {
    await gw.reset();
    backendCalls = vi.spyOn(gw.emulator.mocks.get('foundry1')!, 'handle');
  });

  it("runs the lab's 30-call loop: admitted while consumed < 100, then 429 with the exact body, and no backend call when refused", async () => {
    const key = gw.keyFor('subscription1');
    const runs: Array<{ status: number; tokens: number; retryAfter?: number; body: string }> = [];
    for (let i = 0; i < 30; i++) {
      const res = await labPost(gw.url, key);
      const body = await res.text();
      if (res.status === 200) {
        runs.push({ status: 200, tokens: JSON.parse(body).usage.total_tokens, body });
      } else {
        runs.push({ status: res.status, tokens: 0, retryAfter: Number(res.headers.get('retry-after')), body });
        expect(res.statusText).toBe('Too Many Requests');
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      }
    }
    const admitted = runs.filter((r) => r.status === 200);
    const refused = runs.filter((r) => r.status !== 200);
    // Admission rule: every admitted call saw consumed < 100 before it; the first refused call saw >= 100.
    let consumed = 0;
    for (const run of runs) {
      if (run.status === 200) {
        expect(consumed).toBeLessThan(100);
        consumed += run.tokens;
      } else {
        expect(consumed).toBeGreaterThanOrEqual(100);
      }
    }
    expect(admitted.length).toBeGreaterThanOrEqual(2);
    expect(runs.slice(0, admitted.length).every((r) => r.status === 200)).toBe(true);
    expect(refused.length).toBe(30 - admitted.length);
    for (const r of refused) {
      expect(r.status).toBe(429);
      const m = BODY_429.exec(r.body);
      expect(m, r.body).not.toBeNull();
      expect(Number(m![1])).toBe(r.retryAfter);
      expect(r.retryAfter).toBeGreaterThanOrEqual(1);
      expect(r.retryAfter).toBeLessThanOrEqual(60);
    }
    expect(backendCalls).toHaveBeenCalledTimes(admitted.length);

    // Waiting Retry-After seconds frees the window.
    gw.clock.advance(refused[refused.length - 1]!.retryAfter! * 1000);
    const after = await labPost(gw.url, key);
    expect(after.status).toBe(200);
    expect(backendCalls).toHaveBeenCalledTimes(admitted.length + 1);
  });

  it('one second before Retry-After has elapsed the call is still refused', async () => {
    const key = gw.keyFor('subscription1');
    let res: Response;
    do res = await labPost(gw.url, key);
    while (res.status === 200);
    const retryAfter = Number(res.headers.get('retry-after'));
    gw.clock.advance((retryAfter - 1) * 1000);
    const early = await labPost(gw.url, key);
    expect(early.status).toBe(429);
    expect(Number(early.headers.get('retry-after'))).toBe(1);
    gw.clock.advance(1000);
    expect((await labPost(gw.url, key)).status).toBe(200);
  });
});

describe('token-rate-limiting lab with the openai AzureOpenAI client (time-scaled system clock)', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    // 120× time: a 60 s window drains in half a wall second; Retry-After reports wall seconds (1).
    gw = await startEmulator({ preset: 'token-rate-limiting', clock: 'system', timeScale: 120 });
  });
  afterAll(() => gw.close());

  it('completes 10 sequential calls through the SDK’s automatic 429 retries', async () => {
    const key = gw.keyFor('subscription1');
    const statuses: number[] = [];
    const started = performance.now();
    for (let i = 0; i < 10; i++) {
      const client = new AzureOpenAI({
        endpoint: `${gw.url}/inference`,
        apiKey: key,
        apiVersion: LAB_API_VERSION,
        fetch: async (input, init) => {
          const res = await fetch(input, init);
          statuses.push(res.status);
          return res;
        },
      });
      const completion = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [...LAB_MESSAGES] });
      expect(completion.choices[0]!.message.content).toBeTruthy();
      expect(completion.usage!.total_tokens).toBeGreaterThan(0);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.some((s) => s === 429)).toBe(true);
    expect(performance.now() - started).toBeLessThan(30_000);
  }, 60_000);
});
