import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from '../../../emulator/config/presets.js';
import { startEmulatorFromCli, type StartOptions } from '../../../emulator/main.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { chatUrl, labPost } from '../../support/lab.js';

/**
 * Slow clients (gateway.headersTimeoutMs / requestTimeoutMs): headers dribbled byte by byte, or a body that never
 * completes, are answered 408 and disconnected once the limit passes, while other requests are served meanwhile —
 * on the HTTP listener and on the HTTPS one `start --https` adds.
 */
const HEADERS_TIMEOUT = 1000;
const REQUEST_TIMEOUT = 2000;

/** Opens a raw connection; resolves with what the server sent and when the connection closed. */
function rawClient(port: number): { socket: Socket; closed: Promise<{ text: string; afterMs: number }> } {
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (c) => (text += c));
  const closed = new Promise<{ text: string; afterMs: number }>((resolve) => socket.on('close', () => resolve({ text, afterMs: performance.now() - started })));
  socket.on('error', () => {});
  return { socket, closed };
}

describe('slow clients are cut off at the configured limits', () => {
  let gw: RunningEmulator;
  let port: number;
  beforeAll(async () => {
    const config = presetConfig('token-rate-limiting');
    config.gateway = { ...config.gateway, headersTimeoutMs: HEADERS_TIMEOUT, requestTimeoutMs: REQUEST_TIMEOUT };
    gw = await startEmulator({ config, policies: { 'apis/inference-api': '<policies><inbound><base /><set-backend-service backend-id="foundry1" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>' } });
    port = Number(new URL(gw.url).port);
  });
  afterAll(() => gw.close());

  it('headers dribbled one byte every 50 ms: 408 and closed after headersTimeoutMs; other requests served meanwhile', async () => {
    const path = new URL(chatUrl(gw.url)).pathname + new URL(chatUrl(gw.url)).search;
    const head = `POST ${path} HTTP/1.1\r\nHost: x\r\napi-key: ${gw.keyFor('subscription1')}\r\ncontent-type: application/json\r\nx-padding: ${'a'.repeat(400)}\r\n`;
    const { socket, closed } = rawClient(port);
    let sent = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && sent < head.length) socket.write(head[sent++]!);
    }, 50);
    try {
      for (let i = 0; i < 3; i++) expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
      const { text, afterMs } = await closed;
      expect(text.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      expect(afterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT - 50);
      // Node checks every connectionsCheckingInterval (half the headers limit here) — allow that plus a loaded machine.
      expect(afterMs).toBeLessThan(HEADERS_TIMEOUT + HEADERS_TIMEOUT / 2 + 1500);
      expect(sent).toBeLessThan(head.length); // cut off while still sending headers
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
  }, 30_000);

  it('a body that never completes: 408 and closed after requestTimeoutMs', async () => {
    const path = new URL(chatUrl(gw.url)).pathname + new URL(chatUrl(gw.url)).search;
    const { socket, closed } = rawClient(port);
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\napi-key: ${gw.keyFor('subscription1')}\r\ncontent-type: application/json\r\nContent-Length: 100000\r\n\r\n{"messages": [`);
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
    const { text, afterMs } = await closed;
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(afterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT - 50);
    expect(afterMs).toBeLessThan(REQUEST_TIMEOUT + HEADERS_TIMEOUT / 2 + 1500);
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
  }, 30_000);

  it('the limits are validated: a non-positive value is a ConfigError naming the field', async () => {
    const config = presetConfig('token-rate-limiting');
    config.gateway = { ...config.gateway, headersTimeoutMs: 0 };
    await expect(startEmulator({ config })).rejects.toThrow(/gateway\.headersTimeoutMs/);
  });
});

describe('the HTTPS listener (start --https) cuts slow clients off at the same limits', () => {
  let dir: string;
  let running: Awaited<ReturnType<typeof startEmulatorFromCli>>;
  let httpsPort: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slow-https-'));
    const config = presetConfig('token-rate-limiting');
    config.gateway = { ...config.gateway, headersTimeoutMs: HEADERS_TIMEOUT, requestTimeoutMs: REQUEST_TIMEOUT };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const opts = { port: 0, host: '127.0.0.1', config: join(dir, 'config.json'), clock: 'virtual', timeScale: 1, loose: false, controlPlaneRemote: false, quiet: true, data: dir, inMemory: true, https: true, httpsPort: 0 };
    running = await startEmulatorFromCli(opts as unknown as StartOptions, () => {});
    httpsPort = Number(new URL(running.httpsUrl!).port);
  });
  afterAll(async () => {
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A raw TLS connection (the emulator's self-signed certificate is not checked). */
  function tlsClient(): { socket: TLSSocket; closed: Promise<{ text: string; afterMs: number }>; ready: Promise<void> } {
    const socket = tlsConnect({ port: httpsPort, host: '127.0.0.1', rejectUnauthorized: false });
    let text = '';
    let started = performance.now();
    const ready = new Promise<void>((resolve) => socket.once('secureConnect', () => ((started = performance.now()), resolve())));
    socket.on('data', (c) => (text += c));
    const closed = new Promise<{ text: string; afterMs: number }>((resolve) => socket.on('close', () => resolve({ text, afterMs: performance.now() - started })));
    socket.on('error', () => {});
    return { socket, closed, ready };
  }

  it('headers dribbled over TLS: 408 and closed after headersTimeoutMs; the HTTP listener keeps serving', async () => {
    const path = new URL(chatUrl(running.url)).pathname + new URL(chatUrl(running.url)).search;
    const key = running.emulator.config.subscriptions.find((s) => s.name === 'subscription1')!.primaryKey;
    const head = `POST ${path} HTTP/1.1\r\nHost: x\r\napi-key: ${key}\r\ncontent-type: application/json\r\nx-padding: ${'a'.repeat(400)}\r\n`;
    const { socket, closed, ready } = tlsClient();
    await ready;
    let sent = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && sent < head.length) socket.write(head[sent++]!);
    }, 50);
    try {
      expect((await labPost(running.url, key)).status).toBe(200);
      const { text, afterMs } = await closed;
      expect(text.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      expect(afterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT - 50);
      expect(afterMs).toBeLessThan(HEADERS_TIMEOUT + HEADERS_TIMEOUT / 2 + 1500);
      expect(sent).toBeLessThan(head.length);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  }, 30_000);

  it('a body that never completes over TLS: 408 and closed after requestTimeoutMs', async () => {
    const path = new URL(chatUrl(running.url)).pathname + new URL(chatUrl(running.url)).search;
    const key = running.emulator.config.subscriptions.find((s) => s.name === 'subscription1')!.primaryKey;
    const { socket, closed, ready } = tlsClient();
    await ready;
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\napi-key: ${key}\r\ncontent-type: application/json\r\nContent-Length: 100000\r\n\r\n{"messages": [`);
    const { text, afterMs } = await closed;
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(afterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT - 50);
    expect(afterMs).toBeLessThan(REQUEST_TIMEOUT + HEADERS_TIMEOUT / 2 + 1500);
  }, 30_000);
});
