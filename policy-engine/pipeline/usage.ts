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

export function isEventStream(response: GatewayResponse): boolean {
  return (response.headers.get('content-type')?.[0] ?? '').toLowerCase().includes('text/event-stream');
}

/**
 * Observes the usage of a backend response. A buffered JSON body is parsed at once; a server-sent-event
 * stream is wrapped so usage settles when the stream ends: the final usage chunk when present (and
 * allowed by `useStreamedUsage`), otherwise prompt estimate + tokens of the streamed text, marked estimated.
 */
export function observeUsage(ctx: RequestContext, response: GatewayResponse): UsageObservation {
  const body = response.body;
  if (body.kind === 'bytes') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body.bytes));
    } catch {
      parsed = undefined;
    }
    const usage = usageFromJson(parsed);
    if (usage) {
      const model = (parsed as { model?: unknown }).model;
      if (typeof model === 'string') usage.model = model;
      const text = completionTextOf(parsed);
      if (text !== undefined) usage.completionText = text;
    }
    return { streaming: false, usage: Promise.resolve(usage) };
  }
  if (body.kind !== 'stream' || !isEventStream(response)) return { streaming: false, usage: Promise.resolve(undefined) };

  let settle!: (u: LlmUsage | undefined) => void;
  const usage = new Promise<LlmUsage | undefined>((resolve) => (settle = resolve));
  const accumulator = createSseUsageAccumulator();
  // One decoder per stream: a multi-byte character split across chunks must not leak into another response.
  const decoder = new TextDecoder();
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
  const transform = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      accumulator.push(decoder.decode(chunk, { stream: true }));
      controller.enqueue(chunk);
    },
    flush() {
      finish();
    },
  });
  const reader = body.stream.pipeThrough(transform);
  // A client that disconnects cancels the stream: settle with what was seen.
  const wrapped = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await readerOf(reader).read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    cancel(reason) {
      finish();
      return readerOf(reader).cancel(reason);
    },
  });
  response.body = { kind: 'stream', stream: wrapped };
  return { streaming: true, usage };
}

const readers = new WeakMap<ReadableStream<Uint8Array>, ReadableStreamDefaultReader<Uint8Array>>();
function readerOf(stream: ReadableStream<Uint8Array>): ReadableStreamDefaultReader<Uint8Array> {
  let reader = readers.get(stream);
  if (!reader) {
    reader = stream.getReader();
    readers.set(stream, reader);
  }
  return reader;
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
