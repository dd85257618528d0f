import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { labPost } from '../../support/lab.js';

describe('control plane: scripted model responses, faults and state export/import', () => {
  let gw: RunningEmulator;
  const post = (path: string, body: unknown, method = 'POST') =>
    fetch(`${gw.url}/_emulator${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-rate-limiting' });
  });
  afterAll(() => gw.close());
  beforeEach(() => gw.reset());

  it('POST /_emulator/models/{deployment}/script fixes the next responses', async () => {
    const res = await post('/models/gpt-4.1-mini/script', [{ content: 'Exactly this.', usage: { prompt_tokens: 5, completion_tokens: 7 } }]);
    expect(res.status).toBe(200);
    const body = await (await labPost(gw.url, gw.keyFor('subscription1'))).json();
    expect(body.choices[0].message.content).toBe('Exactly this.');
    expect(body.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
    expect((await post('/models/nope/script', [])).status).toBe(404);
    expect((await post('/models/gpt-4.1-mini/script', { content: 'x' })).status).toBe(400);
  });

  it('POST /_emulator/models/faults injects a fault; DELETE clears them; bad rules are 400', async () => {
    expect((await post('/models/faults', { kind: 'status', status: 503, next: 2 })).status).toBe(201);
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(503);
    expect((await fetch(`${gw.url}/_emulator/models/faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
    const bad = await post('/models/faults', { kind: 'earthquake' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('InvalidFault');
    const calls = await (await fetch(`${gw.url}/_emulator/models/calls`)).json();
    expect(calls.map((c: { status: number }) => c.status)).toEqual([503, 200]);
  });

  it('exports state (clock, policies, counters) and imports it into a fresh emulator', async () => {
    gw.models.script('gpt-4.1-mini', [{ usage: { prompt_tokens: 80, completion_tokens: 40 } }]);
    gw.policies.set('global', '<policies><inbound /><backend><forward-request /></backend><outbound><set-header name="x-g" exists-action="override"><value>g</value></set-header></outbound></policies>');
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
    gw.clock.advance('10s');
    const state = await (await fetch(`${gw.url}/_emulator/state`)).json();
    expect(Object.keys(state.policies).sort()).toEqual(['apis/inference-api', 'global']);

    const other = await startEmulator({ preset: 'token-rate-limiting' });
    try {
      const imported = await fetch(`${other.url}/_emulator/state`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(state) });
      expect(imported.status).toBe(200);
      expect(other.clock.now()).toBe(gw.clock.now());
      const refused = await labPost(other.url, other.keyFor('subscription1'));
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('50');
      expect(refused.headers.get('x-g')).toBeNull(); // return of an error skips outbound
      other.clock.advance('50s');
      const ok = await labPost(other.url, other.keyFor('subscription1'));
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-g')).toBe('g');
      const bad = await fetch(`${other.url}/_emulator/state`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"version":99}' });
      expect(bad.status).toBe(400);
    } finally {
      await other.close();
    }
  });
});

describe('state import is all or nothing', () => {
  it('refuses a state with a policy that does not load or malformed counters, and changes nothing', async () => {
    const gw = await startEmulator({ preset: 'token-rate-limiting' });
    try {
      const before = gw.policies.get('apis/inference-api');
      const put = (body: unknown) => fetch(`${gw.url}/_emulator/state`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const badPolicy = await put({ version: 1, clock: { nowMs: 0, frozen: true }, policies: { global: '<policies><inbound><nope /></inbound></policies>', 'apis/inference-api': '<policies />' }, counters: { windows: {}, counters: {}, buckets: {} } });
      expect(badPolicy.status).toBe(400);
      expect((await badPolicy.json()).error.details[0].code).toBe('POL3001');
      const badCounters = await put({ version: 1, policies: {}, counters: { windows: { k: 5 } } });
      expect(badCounters.status).toBe(400);
      expect((await badCounters.json()).error.message).toContain('counters.windows.k');
      expect(gw.policies.get('apis/inference-api')).toBe(before);
    } finally {
      await gw.close();
    }
  });
});
