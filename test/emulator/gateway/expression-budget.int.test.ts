import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { chatUrl, LAB_MESSAGES } from '../../support/lab.js';

const LOOP_POLICY = `<policies><inbound><base />
  <set-header name="x-loop" exists-action="override"><value>@{ int i = 0; while (true) { i++; } return i.ToString(); }</value></set-header>
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

describe('a runaway expression over real HTTP', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({ policies: { 'apis/inference-api': LOOP_POLICY } });
  });
  afterAll(() => gw.close());

  it('fails with 500 ExpressionValueEvaluationFailure within 100 ms of the 50 ms budget while health waits at most one budget', async () => {
    const url = chatUrl(gw.url);
    const started = performance.now();
    const looping = fetch(url, { method: 'POST', headers: { 'api-key': gw.keyFor('subscription1'), 'content-type': 'application/json' }, body: JSON.stringify({ messages: LAB_MESSAGES }) }).then(async (r) => ({ status: r.status, text: await r.text(), ms: performance.now() - started }));
    await new Promise((r) => setTimeout(r, 5));
    const healthStart = performance.now();
    const health = await fetch(`${gw.url}/_emulator/health`);
    const healthMs = performance.now() - healthStart;
    const loop = await looping;
    console.log(`infinite loop: 500 after ${loop.ms.toFixed(1)} ms; concurrent health ${healthMs.toFixed(1)} ms`);
    expect(loop.status).toBe(500);
    expect(loop.ms).toBeLessThan(150);
    expect(health.status).toBe(200);
    // Evaluation is synchronous: a request arriving mid-evaluation waits for the rest of the 50 ms budget.
    // Before the budget it waited the whole 10M-iteration loop (9 s).
    expect(healthMs).toBeLessThan(50 + 50);
    const last = gw.requests().at(-1);
    expect(last?.lastErrorReason).toBe('ExpressionValueEvaluationFailure');
    // The next request is served normally.
    const again = await fetch(`${gw.url}/_emulator/health`);
    expect(again.status).toBe(200);
  });
});
