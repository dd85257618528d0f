import type { GatewayResponse, LlmUsage, RequestContext, UsageObservation } from './types.js';

/** Reads `usage` from an OpenAI-shaped JSON body (chat, completions, embeddings, responses). */
export function usageFromJson(body: unknown): LlmUsage | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const usage = (body as { usage?: Record<string, unknown> | null }).usage;
  if (!usage || typeof usage !== 'object') return undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const prompt = num(usage.prompt_tokens) ?? num(usage.input_tokens) ?? 0;
  const completion = num(usage.completion_tokens) ?? num(usage.output_tokens) ?? 0;
  const total = num(usage.total_tokens) ?? prompt + completion;
  const details = (usage.prompt_tokens_details ?? usage.input_tokens_details) as { cached_tokens?: unknown } | undefined;
  const cached = num(details?.cached_tokens);
  const result: LlmUsage = { promptTokens: prompt, completionTokens: completion, totalTokens: total, estimated: false };
  if (cached !== undefined) result.cachedPromptTokens = cached;
  return result;
}

/** The assistant text of a chat, completions or Responses API body. */
function completionTextOf(body: unknown): string | undefined {
  const b = body as { choices?: Array<{ message?: { content?: unknown }; text?: unknown }>; output?: Array<{ content?: Array<{ text?: unknown }> }> };
  if (Array.isArray(b?.choices)) {
    return b.choices.map((c) => (typeof c.message?.content === 'string' ? c.message.content : typeof c.text === 'string' ? c.text : '')).join('');
  }
  if (Array.isArray(b?.output)) {
    return b.output.flatMap((o) => (Array.isArray(o.content) ? o.content.map((c) => (typeof c.text === 'string' ? c.text : '')) : [])).join('');
  }
  return undefined;
}

/** The response's Content-Type, lower case ('' when absent). */
function contentTypeOf(response: GatewayResponse): string {
  return (response.headers.get('content-type')?.[0] ?? '').toLowerCase();
}

export function isEventStream(response: GatewayResponse): boolean {
  return contentTypeOf(response).includes('text/event-stream');
}

/** An unbuffered JSON body larger than this is passed on without reading its usage (charged as estimated). */
const UNBUFFERED_JSON_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Observes the usage of a backend response. A buffered JSON body is parsed at once; a server-sent-event
 * stream is wrapped so usage settles when the stream ends: the final usage chunk when present (and
 * allowed by `useStreamedUsage`), otherwise prompt estimate + tokens of the streamed text, marked estimated.
 * A JSON body forwarded unbuffered (`buffer-response="false"`) settles with its usage once it has passed,
 * or with none when the client left before its end.
 */
export function observeUsage(ctx: RequestContext, response: GatewayResponse): UsageObservation {
  const body = response.body;
  if (body.kind === 'bytes') return { streaming: false, deferred: false, usage: Promise.resolve(usageOfJsonBytes(body.bytes)) };
  const contentType = contentTypeOf(response);
  const sse = contentType.includes('text/event-stream');
  if (body.kind !== 'stream' || (!sse && !contentType.includes('json'))) return { streaming: false, deferred: false, usage: Promise.resolve(undefined) };

  let settle!: (u: LlmUsage | undefined) => void;
  const usage = new Promise<LlmUsage | undefined>((resolve) => (settle = resolve));
  if (!sse) {
    const chunks: Uint8Array[] = [];
    let size = 0;
    response.body = {
      kind: 'stream',
      stream: passThrough(
        body.stream,
        (chunk) => {
          size += chunk.byteLength;
          if (size <= UNBUFFERED_JSON_MAX_BYTES) chunks.push(chunk);
          else chunks.length = 0;
        },
        (completed) => settle(completed && size <= UNBUFFERED_JSON_MAX_BYTES ? usageOfJsonBytes(concatBytes(chunks, size)) : undefined),
      ),
    };
    return { streaming: false, deferred: true, usage };
  }

  const accumulator = createSseUsageAccumulator();
  // One decoder per stream: a multi-byte character split across chunks must not leak into another response.
  const decoder = new TextDecoder();
  // However the stream ends (its end, a backend error, or a client that disconnects): settle with what was seen.
  const finish = () => {
    const reported = ctx.services.options.useStreamedUsage ? accumulator.usage() : undefined;
    const prompt = ctx.promptEstimate();
    const model = accumulator.model();
    const usage: LlmUsage = reported ?? {
      promptTokens: prompt,
      // In the streamed model's encoding (cl100k for gpt-4 / gpt-35-turbo), as the prompt estimate is.
      completionTokens: ctx.services.estimator.estimateTextTokens(accumulator.text(), model),
      totalTokens: 0,
      estimated: true,
    };
    if (!reported) usage.totalTokens = usage.promptTokens + usage.completionTokens;
    usage.completionText = accumulator.text();
    if (model) usage.model = model;
    settle(usage);
  };
  response.body = { kind: 'stream', stream: passThrough(body.stream, (chunk) => accumulator.push(decoder.decode(chunk, { stream: true })), finish) };
  return { streaming: true, deferred: true, usage };
}

/** Usage, model and completion text of a JSON body (undefined when it is not JSON or has no usage). */
function usageOfJsonBytes(bytes: Uint8Array): LlmUsage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  const usage = usageFromJson(parsed);
  if (usage) {
    const model = (parsed as { model?: unknown }).model;
    if (typeof model === 'string') usage.model = model;
    const text = completionTextOf(parsed);
    if (text !== undefined) usage.completionText = text;
  }
  return usage;
}

function concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** `source` read on demand, each chunk shown to `onChunk`; `onEnd` runs once: at its end (true), or an error or a cancel (false). */
function passThrough(source: ReadableStream<Uint8Array>, onChunk: (chunk: Uint8Array) => void, onEnd: (completed: boolean) => void): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let ended = false;
  const end = (completed: boolean) => {
    if (ended) return;
    ended = true;
    onEnd(completed);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      reader ??= source.getReader();
      try {
        const { value, done } = await reader.read();
        if (done) {
          end(true);
          controller.close();
        } else {
          onChunk(value);
          controller.enqueue(value);
        }
      } catch (error) {
        end(false);
        controller.error(error);
      }
    },
    cancel(reason) {
      end(false);
      return (reader ?? source).cancel(reason);
    },
  });
}

/** Parses SSE `data:` lines of chat-completion chunks and Responses API events. */
export function createSseUsageAccumulator() {
  let buffer = '';
  let text = '';
  let model: string | undefined;
  let reported: LlmUsage | undefined;
  const handleData = (data: string) => {
    if (data === '[DONE]') return;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    const eventModel = event.model ?? (event.response as { model?: unknown } | undefined)?.model;
    if (typeof eventModel === 'string' && eventModel) model ??= eventModel;
    const choices = event.choices as Array<{ delta?: { content?: unknown }; text?: unknown }> | undefined;
    if (Array.isArray(choices)) {
      for (const choice of choices) {
        if (typeof choice.delta?.content === 'string') text += choice.delta.content;
        else if (typeof choice.text === 'string') text += choice.text;
      }
    }
    if (event.type === 'response.output_text.delta' && typeof event.delta === 'string') text += event.delta;
    const usage = usageFromJson(event) ?? (event.type === 'response.completed' ? usageFromJson(event.response) : undefined);
    if (usage) reported = usage;
  };
  return {
    push(chunk: string) {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line.startsWith('data:')) handleData(line.slice(5).trim());
        newline = buffer.indexOf('\n');
      }
    },
    text: () => text,
    model: () => model,
    usage: () => reported,
  };
}
