/**
 * A plain node:http server around `MockModels.handle`, for real clients (the `openai` SDK, Python labs).
 * `createMockModelsServer(models).listen(0)` → `{ url, port, close }`; `url` has no trailing slash.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockConnectionError } from './errors.js';
import type { MockModels } from './types.js';

export interface ListeningMockModelsServer {
  /** `http://host:port`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export interface MockModelsServer {
  /** Port 0 (default) picks a free port; host defaults to 127.0.0.1. */
  listen(port?: number, host?: string): Promise<ListeningMockModelsServer>;
}

export function createMockModelsServer(models: Pick<MockModels, 'handle'>): MockModelsServer {
  return {
    listen(port = 0, host = '127.0.0.1') {
      const server = createServer((req, res) => {
        void serve(models, req, res);
      });
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({
            url: `http://${shownHost}:${address.port}`,
            port: address.port,
            server,
            close: () =>
              new Promise<void>((done, fail) => {
                server.close((err) => (err ? fail(err) : done()));
                server.closeAllConnections();
              }),
          });
        });
      });
    },
  };
}

async function serve(models: Pick<MockModels, 'handle'>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  try {
    const request = await toRequest(req, abort.signal);
    const response = await models.handle(request);
    await writeResponse(response, res);
  } catch (error) {
    if (error instanceof MockConnectionError || abort.signal.aborted) {
      req.socket.destroy();
      return;
    }
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'InternalServerError', message: error instanceof Error ? error.message : String(error) } }));
    } else {
      res.destroy(error instanceof Error ? error : undefined);
    }
  }
}

async function toRequest(req: IncomingMessage, signal: AbortSignal): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(key, v);
    else headers.set(key, value);
  }
  const host = req.headers.host ?? 'localhost';
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(`http://${host}${req.url ?? '/'}`, {
    method,
    headers,
    body: hasBody ? Buffer.concat(chunks) : undefined,
    signal,
  });
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!res.write(value)) await new Promise<void>((resolve) => res.once('drain', resolve));
  }
  res.end();
}
