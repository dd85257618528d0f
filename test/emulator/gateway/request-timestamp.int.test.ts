import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVirtualClock, type ControllableClock } from '../../../policy-engine/index.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/index.js';
import { labPost } from '../../support/lab.js';

/** A virtual clock that moves 1 ms forward at every read, so two reads of "now" never agree. */
function tickingClock(): ControllableClock {
  const clock = createVirtualClock({ startMs: '2026-01-01T00:00:00Z' });
  return new Proxy(clock, {
    get(target, property) {
      if (property === 'now') return () => (target.advance(1), target.now());
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * context.Timestamp, the instant a token limit charges a request at, and the log rows' TimeGenerated are the
 * request's arrival: one clock read, not three (a time-scaled bench clock turns a few wall µs between reads into
 * emulated milliseconds that move a request across a window edge).
 */
describe('one instant per request', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({
      preset: 'token-metrics-emitting',
      clock: tickingClock(),
      policies: {
        'apis/inference-api': `<policies><inbound><base /><set-backend-service backend-id="foundry1" /></inbound><backend><base /></backend>
          <outbound><base /><set-header name="x-context-timestamp" exists-action="override"><value>@(context.Timestamp.ToString("o"))</value></set-header></outbound></policies>`,
      },
    });
  });
  afterAll(() => gw.close());

  it('context.Timestamp equals the TimeGenerated of the request’s ApiManagementGatewayLogs and LlmLog rows', async () => {
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(200);
    const stamped = Date.parse(res.headers.get('x-context-timestamp')!);
    const [gateway] = await gw.query('ApiManagementGatewayLogs | project t = tolong(datetime_diff("millisecond", TimeGenerated, datetime(1970-01-01)))');
    const [llm] = await gw.query('ApiManagementGatewayLlmLog | project t = tolong(datetime_diff("millisecond", TimeGenerated, datetime(1970-01-01)))');
    expect(gateway).toEqual({ t: stamped });
    expect(llm).toEqual({ t: stamped });
  });
});
