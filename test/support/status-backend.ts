import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StatusBackend {
  url: string;
  /** Requests received, in order (method, url, body). */
  received: Array<{ method: string; url: string; body: string }>;
  /** Status of every response from now on (default 200). */
  status: number;
  /** Response body text (default an OpenAI-shaped chat completion). */
  body: string;
  close(): Promise<void>;
}

/** A real HTTP backend whose status and body a test sets (for increment conditions on backend errors, bandwidth). */
export async function startStatusBackend(): Promise<StatusBackend> {
  const state: StatusBackend = {
    url: '',
    received: [],
    status: 200,
    body: JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }),
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      state.received.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.writeHead(state.status, { 'content-type': 'application/json' });
      res.end(state.body);
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
