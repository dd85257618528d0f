import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ContentBackend {
  url: string;
  /** Requests received, in order. */
  received: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  /** The next responses' status, Content-Type and body (a function sees the request URL, e.g. to echo it). */
  reply: { status: number; contentType: string; body: string | ((url: string) => string); headers?: Record<string, string> };
  close(): Promise<void>;
}

/** A real HTTP backend answering with whatever body and Content-Type the test sets (XML, JSON, HTML…). */
export async function startContentBackend(): Promise<ContentBackend> {
  const state: ContentBackend = { url: '', received: [], reply: { status: 200, contentType: 'application/json', body: '{}' }, close: async () => {} };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      state.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const { status, contentType, body: reply, headers } = state.reply;
      res.writeHead(status, { 'content-type': contentType, ...headers });
      res.end(typeof reply === 'function' ? reply(req.url ?? '') : reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}
