import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../emulator/config/load.js';
import { presetConfig } from '../../../emulator/config/presets.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { chatUrl, LAB_MESSAGES } from '../../support/lab.js';

/**
 * The bad-requests table of docs/bad-requests.md: each row's status and body, and the next normal request served.
 * The API policy is only `<base />` here, so no token limit interferes with the rows.
 */
const PLAIN_POLICY = '<policies><inbound><base /><set-backend-service backend-id="foundry1" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>';
const BODY_LIMIT = 256 * 1024;

/** One raw HTTP/1.1 exchange over a socket (for bytes fetch refuses to send). */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let out = '';
    socket.on('data', (c) => (out += c));
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

describe('bad requests: a clear status and body, and the next request is served', () => {
  let gw: RunningEmulator;
  let key: string;
  let port: number;
  beforeAll(async () => {
    const config = presetConfig('token-rate-limiting');
    config.gateway = { ...config.gateway, maxRequestBodyBytes: BODY_LIMIT };
    gw = await startEmulator({ config, policies: { 'apis/inference-api': PLAIN_POLICY } });
    key = gw.keyFor('subscription1');
    port = Number(new URL(gw.url).port);
  });
  afterAll(() => gw.close());

  const post = (body: string, headers: Record<string, string> = {}, url = chatUrl(gw.url)) =>
    fetch(url, { method: 'POST', headers: { 'api-key': key, 'content-type': 'application/json', ...headers }, body });
  const normal = JSON.stringify({ messages: LAB_MESSAGES });

  async function expectNextServed(): Promise<void> {
    const res = await post(normal);
    expect(res.status).toBe(200);
    expect((await res.json()).usage.total_tokens).toBeGreaterThan(0);
  }

  it('malformed JSON → 400 BadRequest naming the position', async () => {
    const res = await post('{"messages": [');
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toMatchObject({ code: 'BadRequest', type: 'invalid_request_error', innererror: { code: 'InvalidJson', position: { offset: 14, line: 1, column: 15 } } });
    expect(body.error.message).toContain('line 1, column 15');
    await expectNextServed();
  });

  it('empty body → 400 BadRequest at offset 0', async () => {
    const res = await post('');
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: 'BadRequest', innererror: { code: 'InvalidJson', position: { offset: 0 } } });
    await expectNextServed();
  });

  it('wrong content type (text/plain with a JSON body) → parsed as JSON like the service does with a JSON payload', async () => {
    const res = await post(normal, { 'content-type': 'text/plain' });
    expect(res.status).toBe(200);
    await expectNextServed();
  });

  it('oversize body (> gateway.maxRequestBodyBytes) → 413 before any policy or tokenizer runs', async () => {
    const big = JSON.stringify({ messages: [{ role: 'user', content: 'word '.repeat(BODY_LIMIT / 4) }] });
    const callsBefore = gw.models.calls().length;
    const started = performance.now();
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(await res.text()).toBe('{ "statusCode": 413, "message": "Request entity too large" }');
    expect(res.headers.get('apim-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(gw.models.calls().length).toBe(callsBefore);
    await expectNextServed();
  });

  it('missing api-version → 404 Resource not found (Azure OpenAI answers 404 without one)', async () => {
    const res = await post(normal, {}, chatUrl(gw.url).replace(/\?api-version=.*$/, ''));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: '404', message: 'Resource not found' } });
    await expectNextServed();
  });

  it('unknown api-version (a date no API has, a word) → served like a known one, 200 (Azure\'s answer for unsupported versions is not in the spec: [OPEN])', async () => {
    for (const version of ['1999-01-01', 'banana']) {
      const res = await post(normal, {}, chatUrl(gw.url).replace(/api-version=[^&]*/, `api-version=${version}`));
      expect(res.status).toBe(200);
      expect((await res.json()).object).toBe('chat.completion');
    }
    await expectNextServed();
  });

  it('unknown deployment → 404 DeploymentNotFound', async () => {
    const res = await post(normal, {}, chatUrl(gw.url, 'no-such-deployment'));
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('DeploymentNotFound');
    await expectNextServed();
  });

  it('wrong method (GET, PUT on chat/completions) → APIM 404 Resource not found', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(chatUrl(gw.url), { method, headers: { 'api-key': key }, ...(method === 'PUT' ? { body: normal } : {}) });
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('{ "statusCode": 404, "message": "Resource not found" }');
    }
    await expectNextServed();
  });

  it('__proto__ / constructor keys in the body stay data: 200, no prototype pollution', async () => {
    const res = await post(`{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"messages":${JSON.stringify(LAB_MESSAGES)}}`);
    expect(res.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectNextServed();
  });

  it('__proto__ / constructor keys in the configuration: refused or inert, never polluting', () => {
    const config = JSON.parse(`{"__proto__":{"polluted":"yes"},"gateway":{"constructor":{"prototype":{"polluted":"yes"}}},"subscriptions":[{"name":"s1","__proto__":{"polluted":"yes"}}]}`);
    let outcome: string;
    try {
      resolveConfig(config);
      outcome = 'loaded';
    } catch (e) {
      outcome = (e as Error).name;
    }
    expect(['loaded', 'ConfigError']).toContain(outcome);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('very long header (> 16 KiB) and very long URL → 431, the server keeps serving', async () => {
    const header = await post(normal, { 'x-long': 'a'.repeat(32 * 1024) });
    expect(header.status).toBe(431);
    const url = await post(normal, {}, `${chatUrl(gw.url)}&x=${'a'.repeat(32 * 1024)}`);
    expect(url.status).toBe(431);
    await expectNextServed();
  });

  it('CR/LF inside a header value or the request line (raw socket) → 400 Bad Request, connection closed', async () => {
    const path = new URL(chatUrl(gw.url)).pathname + new URL(chatUrl(gw.url)).search;
    const bareLf = await rawRequest(port, `POST ${path} HTTP/1.1\r\nHost: x\r\napi-key: ${key}\r\nX-A: one\nInjected: two\r\nContent-Length: 2\r\n\r\n{}`);
    expect(bareLf.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    const crInLine = await rawRequest(port, `GET /_emulator/health\rX HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(crInLine.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    await expectNextServed();
  });

  it('CR/LF percent-encoded in the query stays data: no header is injected into the response', async () => {
    const res = await post(normal, {}, `${chatUrl(gw.url)}&x=%0d%0aSet-Cookie:%20injected=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBeNull();
    await expectNextServed();
  });

  it('slow clients (headers dribbled byte by byte, a body that never finishes) do not hold up other requests', async () => {
    const slowHeaders = connect(port, '127.0.0.1');
    const slowBody = connect(port, '127.0.0.1');
    await Promise.all([new Promise((r) => slowHeaders.once('connect', r)), new Promise((r) => slowBody.once('connect', r))]);
    const path = new URL(chatUrl(gw.url)).pathname + new URL(chatUrl(gw.url)).search;
    const head = `POST ${path} HTTP/1.1\r\nHost: x\r\napi-key: ${key}\r\ncontent-type: application/json\r\n`;
    slowBody.write(`${head}Content-Length: 100000\r\n\r\n{"messages": [`);
    let sent = 0;
    const drip = setInterval(() => slowHeaders.write(head[sent++ % head.length]!), 5);
    try {
      const started = performance.now();
      for (let i = 0; i < 10; i++) await expectNextServed();
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      clearInterval(drip);
      slowHeaders.destroy();
      slowBody.destroy();
    }
    await expectNextServed();
  });

  it('client disconnect mid-stream: no timers, sockets or listeners left behind', async () => {
    const streamBody = JSON.stringify({ messages: LAB_MESSAGES, stream: true });
    await expectNextServed();
    await gw.emulator.settled();
    const resources = () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    const before = resources();
    for (let i = 0; i < 20; i++) {
      const res = await post(streamBody);
      expect(res.status).toBe(200);
      if (res.body) {
        const reader = res.body.getReader();
        await reader.read();
        await reader.cancel();
      }
    }
    await gw.emulator.settled();
    await new Promise((r) => setTimeout(r, 50));
    // keep-alive sockets of fetch's pool may linger; allow them, not one leak per aborted stream
    expect(resources() - before).toBeLessThan(5);
    await expectNextServed();
  });
});
