import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { presetConfig } from '../../../emulator/config/presets.js';
import { labPost, chatUrl, LAB_MESSAGES } from '../../support/lab.js';

/** Mock-model faults on demand, and how the gateway maps them (APIM semantics). */
describe('backend faults through the gateway', () => {
  let gw: RunningEmulator;
  const onError = `<policies>
  <inbound><base /><set-backend-service backend-id="foundry1" /></inbound>
  <backend><forward-request timeout="30" /></backend>
  <outbound><base /></outbound>
  <on-error><base />
    <set-header name="x-last-error" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Section)</value></set-header>
  </on-error>
</policies>`;
  beforeAll(async () => {
    const config = presetConfig('token-rate-limiting');
    config.apis[0]!.policy = onError;
    gw = await startEmulator({ config });
  });
  afterAll(() => gw.close());
  beforeEach(() => gw.reset());
  const faults = () => gw.emulator.mocks.get('foundry1')!.faults;
  const key = () => gw.keyFor('subscription1');

  it('a connection reset becomes BackendConnectionFailure in on-error and a 500', async () => {
    faults().add({ kind: 'reset', next: 1 });
    const res = await labPost(gw.url, key());
    expect(res.status).toBe(500);
    expect(res.headers.get('x-last-error')).toBe('forward-request|BackendConnectionFailure|backend');
    expect((await res.json()).message).toBe('Internal server error');
    expect((await labPost(gw.url, key())).status).toBe(200);
  });

  it('no response headers within the forward-request timeout becomes Timeout (virtual time)', async () => {
    faults().add({ kind: 'timeout', next: 1 });
    const pending = labPost(gw.url, key());
    await new Promise((r) => setTimeout(r, 50));
    gw.clock.advance('31s');
    const res = await pending;
    expect(res.status).toBe(500);
    expect(res.headers.get('x-last-error')).toBe('forward-request|Timeout|backend');
  });

  it.each([429, 500, 503])('a backend %d passes through to the client (fail-on-error-status-code is false)', async (status) => {
    faults().add({ kind: 'status', status, next: 1, retryAfterMs: 2000 });
    const res = await labPost(gw.url, key());
    expect(res.status).toBe(status);
    expect(res.headers.get('x-last-error')).toBeNull();
    if (status === 429) {
      expect(res.headers.get('retry-after-ms')).toBe('2000');
      expect((await res.json()).error.code).toBe('429');
    }
  });

  it('malformed JSON from the backend reaches the client unchanged', async () => {
    faults().add({ kind: 'malformed-json', next: 1 });
    const res = await labPost(gw.url, key());
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();
  });

  it('a truncated stream ends the client stream without [DONE]', async () => {
    faults().add({ kind: 'truncated-stream', next: 1 });
    const res = await fetch(chatUrl(gw.url), {
      method: 'POST',
      headers: { 'api-key': key(), 'content-type': 'application/json' },
      body: JSON.stringify({ messages: LAB_MESSAGES, stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await res.text().catch(() => '');
    expect(text).toContain('data: ');
    expect(text).not.toContain('[DONE]');
  });
});
