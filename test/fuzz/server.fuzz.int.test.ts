import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/testing/index.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 4294967296);
}

/** Garbage at every surface: the server answers each request with a status and stays up. */
describe('fuzzing the HTTP surfaces', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-metrics-emitting' });
  });
  afterAll(() => gw.close());

  it('answers 600 malformed requests without a 5xx from the emulator itself or a crash', async () => {
    const random = rng(7);
    const junk = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join('');
    const { appId } = await (await fetch(`${gw.url}/_emulator/appinsights`)).json();
    const targets = [
      { path: '/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=x', headers: { 'api-key': gw.keyFor('subscription1') } as Record<string, string> },
      { path: `/v1/apps/${appId}/query`, headers: {} },
      { path: '/_emulator/clock', headers: {} },
      { path: '/_emulator/policies/apis/inference-api', headers: {} },
      { path: '/_emulator/models/faults', headers: {} },
      { path: '/_emulator/state', headers: {} },
    ];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const target = targets[i % targets.length]!;
      const method = ['POST', 'PUT', 'GET'][Math.floor(random() * 3)]!;
      const contentType = ['application/json', 'application/xml', 'text/plain'][Math.floor(random() * 3)]!;
      const body = method === 'GET' ? undefined : random() < 0.5 ? junk(Math.floor(random() * 200)) : `{"query":${JSON.stringify(junk(40))},"messages":${junk(5)}`;
      const res = await fetch(`${gw.url}${target.path}`, { method, headers: { 'content-type': contentType, ...target.headers }, body });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      // The gateway may pass a backend 5xx through; the emulator's own routes must not fail with 500.
      if (!target.path.startsWith('/inference')) expect(res.status, `${method} ${target.path}`).toBeLessThan(500);
    }
    expect((await fetch(`${gw.url}/_emulator/health`)).status).toBe(200);
    expect(statuses.size).toBeGreaterThan(2);
    await gw.reset();
    expect((await fetch(`${gw.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=x`, {
      method: 'POST', headers: { 'api-key': gw.keyFor('subscription1'), 'content-type': 'application/json' }, body: '{"messages":[{"role":"user","content":"still here?"}]}',
    })).status).toBe(200);
  });
});
