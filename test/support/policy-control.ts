import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** PUTs policy XML at a scope through the control plane, as a client would: `{ status, body }`. */
export async function putPolicy(gatewayUrl: string, scopePath: string, xml: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gatewayUrl}/_emulator/policies/${scopePath}`, { method: 'PUT', headers: { 'content-type': 'application/xml' }, body: xml });
  return { status: res.status, body: await res.json() };
}

/** Resolves once `predicate` holds (polls on wall time; the emulator's virtual clock is not involved). */
export async function until(predicate: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Gives in-flight work a few event-loop turns (to show that something has NOT happened yet). */
export function settle(ms = 50): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface StatusBackend {
  url: string;
  received: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  /** Statuses for the next responses, in order; 200 with a chat completion once the queue is empty. */
  statuses: number[];
  close(): Promise<void>;
}

/** A real HTTP backend that answers queued statuses (429/503 with Retry-After), then OpenAI-shaped 200s. */
export async function startStatusBackend(): Promise<StatusBackend> {
  const received: StatusBackend['received'] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const status = statuses.shift() ?? 200;
      if (status !== 200) {
        res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: { code: String(status), message: `status ${status}` } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-status',
          object: 'chat.completion',
          created: 0,
          model: 'gpt-4.1-mini-2025-04-14',
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
          usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    statuses,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
