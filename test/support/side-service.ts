import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SideRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface SideAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string | object;
  /** The answer waits for this promise (to hold a request in flight). */
  hold?: Promise<void>;
}

export interface SideService {
  url: string;
  port: number;
  received: SideRequest[];
  /** How the next requests are answered (default: 200 `{}`). */
  answer: (request: SideRequest) => SideAnswer;
  /** Resolves when `n` requests have arrived. */
  arrived(n: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback standing in for a service a policy calls with send-request (Graph, Cosmos DB,
 * Content Safety…): records what it receives and answers as `answer` says.
 */
export async function startSideService(): Promise<SideService> {
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const service: SideService = {
    url: '',
    port: 0,
    received: [],
    answer: () => ({}),
    arrived(n) {
      if (service.received.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      service.received.push(request);
      for (const w of waiters.splice(0)) {
        if (service.received.length >= w.n) w.resolve();
        else waiters.push(w);
      }
      const answer = service.answer(request);
      void (answer.hold ?? Promise.resolve()).then(() => {
        const text = answer.body === undefined ? '{}' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
        res.end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  service.port = port;
  service.url = `http://127.0.0.1:${port}`;
  return service;
}
