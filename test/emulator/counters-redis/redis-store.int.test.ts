/**
 * Redis counters shared by two emulator instances under one virtual clock (run when REDIS_URL is set; `.ci/run`
 * starts a redis-server and sets it). Outages go through a TCP proxy in the test that can be cut and restored.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCounterStore, type RedisCounterStore, type RedisCounterStoreOptions } from '../../../emulator/counters-redis/index.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/index.js';
import { createVirtualClock, type ControllableClock, type CounterStore } from '../../../policy-engine/index.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('Redis counter tests skipped: REDIS_URL is not set (.ci/run starts redis-server and sets it).');

const TPM = 1000;
const policy = (estimate: boolean) => `<policies><inbound><base /><set-backend-service backend-id="foundry1" />
  <llm-token-limit counter-key="one-key" tokens-per-minute="${TPM}" estimate-prompt-tokens="${estimate}" />
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

let group = 0;
const stores: RedisCounterStore[] = [];
function redisStore(options: Partial<RedisCounterStoreOptions> & { group: string }, url = REDIS_URL!): RedisCounterStore {
  const store = createRedisCounterStore({ url, timeoutMs: 200, ...options });
  stores.push(store);
  return store;
}

async function gateway(clock: ControllableClock, counters: CounterStore | undefined, estimate = false): Promise<RunningEmulator> {
  return startEmulator({ clock, policies: { 'apis/inference-api': policy(estimate) }, ...(counters ? { counters } : {}) });
}

function chat(gw: RunningEmulator, content = 'Hello') {
  return fetch(`${gw.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, {
    method: 'POST',
    headers: { 'api-key': gw.keyFor('subscription1'), 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content }] }),
  });
}

/** 40 calls of 150 tokens, 3 s of virtual time apart, alternated over the gateways; tokens admitted per minute. */
async function alternate(gateways: RunningEmulator[], clock: ControllableClock): Promise<number[]> {
  for (const gw of gateways) gw.models.script('gpt-4.1-mini', Array.from({ length: 40 }, () => ({ usage: { prompt_tokens: 100, completion_tokens: 50 } })));
  const perMinute: number[] = [0, 0];
  for (let i = 0; i < 40; i++) {
    const res = await chat(gateways[i % gateways.length]!);
    await res.arrayBuffer();
    if (res.status === 200) perMinute[Math.floor((i * 3) / 60)]! += 150;
    else expect(res.status).toBe(429);
    clock.advance(3000);
  }
  return perMinute;
}

describe.skipIf(!REDIS_URL)(`Redis counter store across two gateways (${REDIS_URL ? REDIS_URL : 'skipped: REDIS_URL unset; .ci/run starts redis-server and sets it'})`, () => {
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it('shared counters admit what one instance admits; per-gateway counters admit up to 2× (APIM-like)', async () => {
    const single = createVirtualClock({ startMs: '2026-01-01T00:00:00Z' });
    const one = await gateway(single, undefined);
    const singleResult = await alternate([one], single);
    await one.close();

    const sharedClock = createVirtualClock({ startMs: '2026-01-01T00:00:00Z' });
    const g = `t${process.pid}-${group++}`;
    const a = await gateway(sharedClock, redisStore({ group: g, topology: 'shared' }));
    const b = await gateway(sharedClock, redisStore({ group: g, topology: 'shared' }));
    const sharedResult = await alternate([a, b], sharedClock);
    await Promise.all([a.close(), b.close()]);

    const perClock = createVirtualClock({ startMs: '2026-01-01T00:00:00Z' });
    const p = `t${process.pid}-${group++}`;
    const c = await gateway(perClock, redisStore({ group: p, topology: 'per-gateway', instance: 'gw-a' }));
    const d = await gateway(perClock, redisStore({ group: p, topology: 'per-gateway', instance: 'gw-b' }));
    const perGatewayResult = await alternate([c, d], perClock);
    await Promise.all([c.close(), d.close()]);

    expect(singleResult.every((t) => t <= TPM + 150)).toBe(true); // admission checks past use: one call may overshoot
    expect(sharedResult).toEqual(singleResult);
    expect(perGatewayResult.every((t, i) => t > singleResult[i]! && t <= 2 * singleResult[i]!)).toBe(true);
    expect(perGatewayResult).toEqual(singleResult.map((t) => 2 * t));
  });

  it('200 parallel requests over both gateways admit no more than one instance does for that concurrency', async () => {
    const prompt = 'x '.repeat(40); // an estimate of ~40+ tokens per request, charged at admission
    const run = async (gateways: RunningEmulator[]) => {
      const statuses = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const res = await chat(gateways[i % gateways.length]!, prompt);
          await res.arrayBuffer();
          return res.status;
        }),
      );
      return statuses.filter((s) => s === 200).length;
    };
    const single = createVirtualClock({ startMs: '2026-01-01T00:00:00Z' });
    const one = await gateway(single, undefined, true);
    const singleAdmitted = await run([one]);
    await one.close();

    const clock = createVirtualClock({ startMs: '2026-01-01T00:00:00Z' });
    const g = `t${process.pid}-${group++}`;
    const a = await gateway(clock, redisStore({ group: g }), true);
    const b = await gateway(clock, redisStore({ group: g }), true);
    const sharedAdmitted = await run([a, b]);
    await Promise.all([a.close(), b.close()]);

    expect(singleAdmitted).toBeGreaterThan(0);
    expect(singleAdmitted).toBeLessThan(200);
    expect(sharedAdmitted).toBeLessThanOrEqual(singleAdmitted);
    expect(sharedAdmitted).toBeGreaterThan(0);
  });
});

/** A TCP proxy to Redis that the test can cut (every connection dropped, nothing listening) and restore. */
async function redisProxy(target: URL): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port), target.hostname);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => (client.destroy(), upstream.destroy());
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      server.close(() => resolve());
    });
  await listen();
  return { url: `redis://127.0.0.1:${port}`, cut, restore: listen, close: cut };
}

describe.skipIf(!REDIS_URL)(`Redis unavailable mid-run (${REDIS_URL ? REDIS_URL : 'skipped: REDIS_URL unset; .ci/run starts redis-server and sets it'})`, () => {
  let proxy: Awaited<ReturnType<typeof redisProxy>>;
  beforeAll(async () => {
    proxy = await redisProxy(new URL(REDIS_URL!));
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await proxy.close();
  });

  for (const failureMode of ['open', 'closed'] as const) {
    it(`fail-${failureMode}: answered within the timeout, ${failureMode === 'open' ? 'served uncounted and counted as errors' : 'refused with a clear body'}; limits resume when Redis is back`, async () => {
      const clock = createVirtualClock({ startMs: '2026-01-01T00:00:00Z' });
      const store = redisStore({ group: `t${process.pid}-${group++}`, failureMode, timeoutMs: 200 }, proxy.url);
      await store.ready();
      const gw = await gateway(clock, store);
      gw.models.script('gpt-4.1-mini', Array.from({ length: 50 }, () => ({ usage: { prompt_tokens: 600, completion_tokens: 400 } })));
      try {
        expect((await chat(gw)).status).toBe(200); // 1000 tokens: the limit is spent
        expect((await chat(gw)).status).toBe(429);

        await proxy.cut();
        for (let i = 0; i < 5; i++) {
          const started = performance.now();
          const res = await chat(gw);
          const body = await res.text();
          expect(performance.now() - started).toBeLessThan(1500);
          if (failureMode === 'open') expect(res.status).toBe(200);
          else {
            expect(res.status).toBe(503);
            expect(body).toMatch(/Counter store \(Redis\) unavailable/);
          }
        }
        expect(store.errors).toBeGreaterThanOrEqual(5);
        const scraped = parsePrometheusTextFormat(await (await fetch(`${gw.url}/metrics`)).text());
        const failures = scraped.find((f) => f.name === 'ai_gateway_counter_store_errors_total')!.metrics.reduce((n, m) => n + Number(m.value), 0);
        expect(failures).toBe(store.errors);

        await proxy.restore();
        await store.ready();
        const back = await chat(gw);
        await back.arrayBuffer();
        expect(back.status).toBe(429); // the spent minute is still in Redis
        clock.advance(61_000);
        expect((await chat(gw)).status).toBe(200);
      } finally {
        await gw.close();
      }
    });
  }
});
