import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { labPost } from '../../support/lab.js';

describe('control plane under /_emulator/', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-metrics-emitting' });
  });
  afterAll(() => gw.close());

  it('GET /_emulator/health', async () => {
    const res = await fetch(`${gw.url}/_emulator/health`);
    expect(res.status).toBe(200);
    expect((await res.json()).status).toBe('ok');
  });

  it('GET /_emulator/subscriptions lists name, displayName, keys, state and scope', async () => {
    const list = await (await fetch(`${gw.url}/_emulator/subscriptions`)).json();
    expect(list).toHaveLength(3);
    expect(list[0]).toEqual({
      name: 'subscription1',
      displayName: 'Subscription 1',
      primaryKey: gw.keyFor('subscription1'),
      secondaryKey: gw.subscriptions[0]!.secondaryKey,
      state: 'active',
      scope: '/apis',
    });
  });

  it('GET/POST /_emulator/clock: freeze, advanceMs, setMs; bad input is a 400 that names the field', async () => {
    const post = (body: unknown) =>
      fetch(`${gw.url}/_emulator/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const before = await (await fetch(`${gw.url}/_emulator/clock`)).json();
    expect(before).toMatchObject({ mode: 'virtual', frozen: true });
    const advanced = await (await post({ advanceMs: 61_000 })).json();
    expect(advanced.nowMs).toBe(before.nowMs + 61_000);
    const set = await (await post({ setMs: Date.parse('2030-02-28T23:59:59Z') })).json();
    expect(set.iso).toBe('2030-02-28T23:59:59.000Z');
    const unfrozen = await (await post({ freeze: false })).json();
    expect(unfrozen.frozen).toBe(false);
    expect((await (await post({ freeze: true })).json()).frozen).toBe(true);
    const bad = await post({ advanceMs: 'soon' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/advanceMs/);
    const unknown = await post({ jump: 1 });
    expect(unknown.status).toBe(400);
    const malformed = await fetch(`${gw.url}/_emulator/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advanceMs":' });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe('InvalidJson');
  });

  it('POST /_emulator/reset restores counters', async () => {
    gw.emulator.setPolicy(
      { kind: 'api', apiId: 'inference-api' },
      `<policies><inbound><base /><set-backend-service backend-id="foundry1" /><llm-token-limit counter-key="k" tokens-per-minute="10" estimate-prompt-tokens="false" /></inbound></policies>`,
    );
    const key = gw.keyFor('subscription1');
    expect((await labPost(gw.url, key)).status).toBe(200);
    expect((await labPost(gw.url, key)).status).toBe(429);
    const res = await fetch(`${gw.url}/_emulator/reset`, { method: 'POST' });
    expect(res.status).toBe(200);
    // The start configuration's policy (no token limit) is back, and counters are empty.
    for (let i = 0; i < 3; i++) expect((await labPost(gw.url, key)).status).toBe(200);
  });

  it('PUT /_emulator/policies/apis/{id} loads raw XML; a bad policy is a 400 with diagnostics and the old policy stays', async () => {
    const url = `${gw.url}/_emulator/policies/apis/inference-api`;
    const good = `<policies><inbound><base /><set-backend-service backend-id="{backend-id}" /><return-response><set-status code="418" reason="Teapot" /></return-response></inbound></policies>`;
    expect((await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/xml' }, body: good })).status).toBe(200);
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(418);
    const bad = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/xml' }, body: '<policies>\n  <inbound>\n    <rate-limit-by-nothing />\n  </inbound>\n</policies>' });
    expect(bad.status).toBe(400);
    const details = (await bad.json()).error.details;
    expect(details[0]).toMatchObject({ code: 'POL3001', line: 3, column: 6 });
    expect(details[0].message).toContain('rate-limit-by-nothing');
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(418);
    expect(await (await fetch(url)).text()).toBe(good);
    await fetch(`${gw.url}/_emulator/reset`, { method: 'POST' });
  });

  it('is not reachable under an API path and unknown control routes are 404 JSON', async () => {
    const res = await fetch(`${gw.url}/inference/openai/_emulator/health`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('{ "statusCode": 404, "message": "Resource not found" }');
    const unknown = await fetch(`${gw.url}/_emulator/nope`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('NotFound');
  });
});
