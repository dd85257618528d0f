import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedBackend {
  url: string;
  /** Requests received, in order. */
  received: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  /** Usage values for the next responses (total = prompt + completion). */
  queue(...usages: Array<{ prompt: number; completion: number }>): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server that answers OpenAI-shaped chat completions with queued usage (for exact token arithmetic),
 * streamed as server-sent events when the request asks for `"stream": true`.
 */
export async function startScriptedBackend(): Promise<ScriptedBackend> {
  const queue: Array<{ prompt: number; completion: number }> = [];
  const received: ScriptedBackend['received'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const usage = queue.shift() ?? { prompt: 10, completion: 10 };
      const usageJson = { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion };
      if (/"stream"\s*:\s*true/.test(body)) {
        // Streamed: the text is 'ok', the final chunk reports the queued usage (stream_options.include_usage).
        res.writeHead(200, { 'content-type': 'text/event-stream', 'x-ms-region': 'Test Region' });
        const chunk = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
        const base = { id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 0, model: 'gpt-4.1-mini-2025-04-14' };
        chunk({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'ok' }, finish_reason: null }] });
        chunk({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
        chunk({ ...base, choices: [], usage: usageJson });
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-ms-region': 'Test Region' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-test',
          object: 'chat.completion',
          created: 0,
          model: 'gpt-4.1-mini-2025-04-14',
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
          usage: usageJson,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    queue: (...u) => void queue.push(...u),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
