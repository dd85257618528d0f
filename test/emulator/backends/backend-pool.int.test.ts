import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { labPost } from '../../support/lab.js';
import { poolLabConfig, REGIONS, type MemberId } from './pool-lab.js';

const REGION_TO_ID = Object.fromEntries(Object.entries(REGIONS).map(([id, region]) => [region, id])) as Record<string, MemberId>;

/** Sends `n` lab requests, `parallel` at a time; returns the statuses and the member (by x-ms-region) that answered. */
async function send(gw: RunningEmulator, n: number, parallel = 1): Promise<Array<{ status: number; member: MemberId | undefined }>> {
  const results: Array<{ status: number; member: MemberId | undefined }> = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, n - i) }, async () => {
        const res = await labPost(gw.url, gw.keyFor('subscription1'));
        await res.arrayBuffer();
        return { status: res.status, member: REGION_TO_ID[res.headers.get('x-ms-region') ?? ''] };
      }),
    );
    results.push(...batch);
  }
  return results;
}

const callsOf = (gw: RunningEmulator, id: MemberId) => gw.emulator.mocks.get(id)!.calls.length;
const tally = (results: Array<{ member: MemberId | undefined }>) => {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.member ?? 'none'] = (counts[r.member ?? 'none'] ?? 0) + 1;
  return counts;
};

describe('backend pool (backend-pool-load-balancing lab shape) over HTTP', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({ config: poolLabConfig() });
  });
  afterAll(() => gw.close());
  afterEach(() => gw.reset());

  it('sends every call to the priority-1 backend while its breaker is closed', async () => {
    const results = await send(gw, 20);
    expect(results.every((r) => r.status === 200 && r.member === 'foundry1')).toBe(true);
    expect(['foundry2', 'foundry3', 'foundry4'].map((id) => callsOf(gw, id as MemberId))).toEqual([0, 0, 0]);
  });

  it('fails over in priority order when foundry1 answers 429: its breaker trips for Retry-After, then priority 2 serves', async () => {
    gw.models.faults({ kind: 'status', status: 429, retryAfterMs: 30_000 }, 'foundry1');
    const [first] = await send(gw, 1);
    // The 429 tripped foundry1 (count 1 within PT1M); the retry went back to the pool, which skipped it.
    expect(first!.status).toBe(200);
    expect(['foundry2', 'foundry3']).toContain(first!.member);
    expect(callsOf(gw, 'foundry1')).toBe(1);
    expect(gw.emulator.backendRouter.state().foundry1).toMatchObject({ open: true, rule: 'InferenceBreakerRule' });

    const more = await send(gw, 40, 4);
    expect(more.every((r) => r.status === 200 && (r.member === 'foundry2' || r.member === 'foundry3'))).toBe(true);
    expect(callsOf(gw, 'foundry1')).toBe(1);
    expect(callsOf(gw, 'foundry4')).toBe(0);

    // acceptRetryAfter: open for the backend's 30 s, not the rule's PT1M.
    gw.clock.advance('29s');
    expect(gw.emulator.backendRouter.state().foundry1!.open).toBe(true);
    gw.models.clearFaults();
    gw.clock.advance('1s');
    expect(gw.emulator.backendRouter.state().foundry1!.open).toBe(false);
    const back = await send(gw, 5);
    expect(back.map((r) => r.member)).toEqual(['foundry1', 'foundry1', 'foundry1', 'foundry1', 'foundry1']);
  });

  it('falls through to priority 3 when both priority-2 backends are tripped too', async () => {
    for (const id of ['foundry1', 'foundry2', 'foundry3'] as const) gw.models.faults({ kind: 'status', status: 429, retryAfterMs: 20_000 }, id);
    // 1st call: foundry1, then the two priority-2 members each answer 429 (3 attempts = retry count 2 + 1).
    const [first] = await send(gw, 1);
    expect(first!.status).toBe(429);
    expect([callsOf(gw, 'foundry1'), callsOf(gw, 'foundry2'), callsOf(gw, 'foundry3')]).toEqual([1, 1, 1]);
    const next = await send(gw, 10);
    expect(next.every((r) => r.status === 200 && r.member === 'foundry4')).toBe(true);
  });

  it('splits priority-2 traffic by weight (50/50 within ±5 % over 1,000 requests)', async () => {
    gw.models.faults({ kind: 'status', status: 429, retryAfterMs: 600_000 }, 'foundry1');
    const results = await send(gw, 1_000, 10);
    const counts = tally(results);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(counts.foundry2! + counts.foundry3!).toBe(1_000);
    expect(counts.foundry2).toBeGreaterThanOrEqual(450);
    expect(counts.foundry2).toBeLessThanOrEqual(550);
  });

  it('an exhausted pool ends in on-error: 503 with the lab\'s "Service Unavailable", LastError from forward-request', async () => {
    for (const id of Object.keys(REGIONS) as MemberId[]) gw.models.faults({ kind: 'status', status: 429, retryAfterMs: 60_000 }, id);
    await send(gw, 1); // trips foundry1, foundry2, foundry3 (429 back to the client after 3 attempts)
    const res = await labPost(gw.url, gw.keyFor('subscription1')); // trips foundry4, then the pool has no member left
    expect(res.status).toBe(503);
    expect(res.statusText).toBe('Service Unavailable');
    expect(res.headers.get('x-last-error')).toBe('forward-request|BackendUnavailable');
    const callsBefore = (Object.keys(REGIONS) as MemberId[]).map((id) => callsOf(gw, id));
    const again = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(again.status).toBe(503);
    expect((Object.keys(REGIONS) as MemberId[]).map((id) => callsOf(gw, id))).toEqual(callsBefore);
    // Every breaker closes after the backends' Retry-After (60 s) on the virtual clock.
    gw.models.clearFaults();
    gw.clock.advance('60s');
    const [recovered] = await send(gw, 1);
    expect(recovered).toEqual({ status: 200, member: 'foundry1' });
  });

  it('a single backend whose breaker is open answers 503 "Backend foundry4 is temporarily unavailable" without a call', async () => {
    const direct = `<policies><inbound><base /><set-backend-service backend-id="foundry4" /></inbound><backend><forward-request /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;
    gw.policies.set('apis/inference-api', direct);
    gw.models.faults({ kind: 'status', status: 429, retryAfterMs: 10_000, next: 1 }, 'foundry4');
    expect((await send(gw, 1))[0]!.status).toBe(429);
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect([res.status, res.statusText]).toEqual([503, 'Backend foundry4 is temporarily unavailable']);
    expect(callsOf(gw, 'foundry4')).toBe(1);
    gw.clock.advance('10s');
    expect((await send(gw, 1))[0]).toEqual({ status: 200, member: 'foundry4' });
  });

  it('the openai SDK sees the failover in x-ms-region (with_raw_response)', async () => {
    gw.models.faults({ kind: 'status', status: 429, retryAfterMs: 30_000 }, 'foundry1');
    const client = new OpenAI({ baseURL: `${gw.url}/inference/openai/deployments/gpt-4.1-mini`, apiKey: gw.keyFor('subscription1'), defaultQuery: { 'api-version': '2025-03-01-preview' }, defaultHeaders: { 'api-key': gw.keyFor('subscription1') }, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(['Sweden Central', 'West US']).toContain(response.headers.get('x-ms-region'));
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
  });
});

describe('backend pool: weights, trip duration and the default 503', () => {
  let gw: RunningEmulator;
  afterEach(() => gw.close());

  it('honours unequal weights (80/20 within ±5 % over 1,000 requests)', async () => {
    gw = await startEmulator({ config: poolLabConfig({ weights: [80, 20] }) });
    gw.models.faults({ kind: 'status', status: 429, retryAfterMs: 600_000 }, 'foundry1');
    const counts = tally(await send(gw, 1_000, 10));
    expect(counts.foundry2).toBeGreaterThanOrEqual(750);
    expect(counts.foundry2).toBeLessThanOrEqual(850);
    expect(counts.foundry2! + counts.foundry3!).toBe(1_000);
  });

  it('without acceptRetryAfter the breaker stays open for tripDuration (PT1M) and then closes', async () => {
    gw = await startEmulator({ config: poolLabConfig({ acceptRetryAfter: false }) });
    gw.models.faults({ kind: 'status', status: 429, retryAfterMs: 1_000, next: 1 }, 'foundry1');
    expect((await send(gw, 1))[0]!.member).not.toBe('foundry1');
    gw.clock.advance('59s');
    expect((await send(gw, 3)).map((r) => r.member)).not.toContain('foundry1');
    gw.clock.advance('1s');
    expect((await send(gw, 3)).map((r) => r.member)).toEqual(['foundry1', 'foundry1', 'foundry1']);
  });

  it('without an on-error override the client gets 503 "Backend pool … is temporarily unavailable"', async () => {
    const policy = `<policies><inbound><base /><set-backend-service backend-id="{backend-id}" /></inbound><backend><forward-request /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;
    gw = await startEmulator({ config: poolLabConfig({ policy }) });
    for (const id of Object.keys(REGIONS) as MemberId[]) gw.models.faults({ kind: 'status', status: 429, retryAfterMs: 60_000 }, id);
    const statuses = (await send(gw, 5)).map((r) => r.status);
    expect(statuses).toEqual([429, 429, 429, 429, 503]);
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(503);
    expect(res.statusText).toBe('Backend pool inference-backend-pool is temporarily unavailable');
    expect(await res.json()).toEqual({ statusCode: 503, message: 'Backend pool inference-backend-pool is temporarily unavailable' });
  });
});
