/**
 * Server-sent events: the chat `chat.completion.chunk` sequence exactly as Azure orders it, and a
 * paced ReadableStream that waits on the injected clock between events.
 */
import { completionFilterResults, promptFilterResults, type ChatEnvelope, type GeneratedChoice, type Usage } from './chat.js';
import { decodeTokens, encodeText, type EncodingName } from './tokenizer.js';

/** One SSE event and the emulated delay before it is sent. */
export interface SseEvent {
  /** `event:` line (Responses API); omitted for chat. */
  event?: string;
  /** JSON-serialisable payload, or the literal '[DONE]'. */
  data: unknown;
  delayMs: number;
  /** Sent instead of `data`'s JSON (malformed-JSON faults). */
  raw?: string;
}

export interface StreamPacing {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  signal?: AbortSignal;
  /** Cut the stream (truncation faults) after this many events, erroring it with `cutError()`. */
  cutAfter?: number;
  cutError?: () => Error;
  /** Updated as the stream goes: events sent, and how it ended. */
  report?: StreamReport;
}

/**
 * How far a streamed answer got: `completed` (every event sent), `cancelled` (the reader cancelled the body, e.g.
 * the gateway's client left), `aborted` (the request's signal fired mid-stream) or `cut` (a truncated-stream fault).
 */
export interface StreamReport {
  events: number;
  end?: 'completed' | 'cancelled' | 'aborted' | 'cut';
}

const encoder = new TextEncoder();

export function formatSse(e: Pick<SseEvent, 'event' | 'data' | 'raw'>): string {
  const data = e.raw ?? (e.data === '[DONE]' ? '[DONE]' : JSON.stringify(e.data));
  return `${e.event ? `event: ${e.event}\n` : ''}data: ${data}\n\n`;
}

/**
 * A byte stream of SSE events, each sent after its delay on the injected clock. Cancelling the stream (or aborting
 * the request's signal) ends a pending delay at once: no sleep stays queued on the clock.
 */
export function sseStream(events: readonly SseEvent[], pacing: StreamPacing): ReadableStream<Uint8Array> {
  let index = 0;
  const report = pacing.report ?? { events: 0 };
  // The delays listen on this signal only; the request's signal is forwarded to it until the stream ends.
  const stop = new AbortController();
  const upstream = pacing.signal;
  const onAbort = () => stop.abort(upstream!.reason);
  if (upstream?.aborted) onAbort();
  else upstream?.addEventListener('abort', onAbort, { once: true });
  const end = (how: NonNullable<StreamReport['end']>) => {
    if (report.end) return;
    report.end = how;
    upstream?.removeEventListener('abort', onAbort);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (report.end) return;
      if (pacing.cutAfter !== undefined && index >= pacing.cutAfter) {
        end('cut');
        controller.error(pacing.cutError?.() ?? new Error('stream truncated'));
        return;
      }
      const e = events[index];
      if (!e) {
        end('completed');
        controller.close();
        return;
      }
      index++;
      try {
        if (e.delayMs > 0) await pacing.sleep(e.delayMs, stop.signal);
      } catch (error) {
        if (report.end) return;
        end('aborted');
        controller.error(error);
        return;
      }
      if (report.end) return;
      report.events++;
      controller.enqueue(encoder.encode(formatSse(e)));
    },
    cancel(reason) {
      end('cancelled');
      stop.abort(reason);
    },
  });
}

/** Splits text into per-token deltas whose concatenation is the text (multi-byte characters kept whole). */
export function tokenDeltas(text: string, encoding: EncodingName): string[] {
  const tokens = encodeText(text, encoding);
  const out: string[] = [];
  let emitted = '';
  let pending: number[] = [];
  for (const t of tokens) {
    pending.push(t);
    const piece = decodeTokens(pending, encoding);
    if (piece.includes('\uFFFD') && !text.includes('\uFFFD')) continue;
    out.push(piece);
    emitted += piece;
    pending = [];
  }
  if (emitted !== text) {
    // Fallback for a decode that does not round-trip: send the rest in one delta.
    out.push(text.slice(emitted.length));
  }
  return out.filter((d) => d.length > 0);
}

export interface ChatStreamOptions {
  envelope: ChatEnvelope;
  choices: readonly GeneratedChoice[];
  usage: Usage;
  includeUsage: boolean;
  encoding: EncodingName;
  /** Delay before the first content token (time to first token). */
  ttftMs: () => number;
  /** Delay before each further token. */
  perTokenMs: () => number;
}

/**
 * Azure's chunk order: prompt_filter_results with empty choices; role delta; content deltas with
 * content_filter_results; finish chunk with an empty delta; usage chunk (include_usage); [DONE].
 */
export function chatStreamEvents(o: ChatStreamOptions): SseEvent[] {
  const usageField = o.includeUsage ? { usage: null } : {};
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    choices,
    created: o.envelope.created,
    id: o.envelope.id,
    model: o.envelope.model,
    object: 'chat.completion.chunk',
    system_fingerprint: o.envelope.systemFingerprint,
    ...usageField,
    ...extra,
  });
  const events: SseEvent[] = [{ data: chunk([], { prompt_filter_results: promptFilterResults() }), delayMs: 0 }];
  let first = true;
  for (const c of o.choices) {
    events.push({
      data: chunk([{ content_filter_results: {}, delta: { content: '', refusal: null, role: 'assistant' }, finish_reason: null, index: c.index, logprobs: null }]),
      delayMs: 0,
    });
    for (const delta of tokenDeltas(c.content, o.encoding)) {
      events.push({
        data: chunk([{ content_filter_results: completionFilterResults(), delta: { content: delta }, finish_reason: null, index: c.index, logprobs: null }]),
        delayMs: first ? o.ttftMs() : o.perTokenMs(),
      });
      first = false;
    }
    events.push({ data: chunk([{ content_filter_results: {}, delta: {}, finish_reason: c.finishReason, index: c.index, logprobs: null }]), delayMs: 0 });
  }
  if (o.includeUsage) events.push({ data: chunk([], { usage: o.usage }), delayMs: 0 });
  events.push({ data: '[DONE]', delayMs: 0 });
  return events;
}
