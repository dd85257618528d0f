/**
 * Responses API (`/openai/responses`): request parsing, the response object, its input items and
 * the streamed event sequence the openai SDK's ResponseStream accumulates.
 */
import { azureErrors } from './errors.js';
import type { ChatMessageLike } from './tokenizer.js';
import type { SseEvent } from './stream.js';

export interface ResponsesRequest {
  model: string;
  /** The input as chat messages (instructions first, as a system message). */
  messages: ChatMessageLike[];
  /** Input items as the API lists them (`GET …/input_items`). */
  inputItems: Array<Record<string, unknown>>;
  instructions: string | null;
  maxOutputTokens?: number;
  stream: boolean;
  store: boolean;
  temperature?: number;
  topP?: number;
  seed?: number;
  previousResponseId: string | null;
  metadata: Record<string, unknown>;
}

export function parseResponsesRequest(body: unknown): ResponsesRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw azureErrors.invalidType('body', 'an object', body);
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model.length === 0) throw azureErrors.missingParameter('model');
  if (b.input === undefined || b.input === null) throw azureErrors.missingParameter('input');
  const items: Array<Record<string, unknown>> = [];
  if (typeof b.input === 'string') items.push({ type: 'message', role: 'user', content: b.input });
  else if (Array.isArray(b.input)) {
    b.input.forEach((item: unknown, i: number) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) throw azureErrors.invalidType(`input[${i}]`, 'an object', item);
      const it = item as Record<string, unknown>;
      if (it.type !== undefined && it.type !== 'message') return void items.push(it);
      if (typeof it.role !== 'string') throw azureErrors.missingParameter(`input[${i}].role`);
      if (typeof it.content !== 'string' && !Array.isArray(it.content)) throw azureErrors.invalidType(`input[${i}].content`, 'a string or an array', it.content);
      items.push({ type: 'message', role: it.role, content: it.content });
    });
  } else throw azureErrors.invalidType('input', 'a string or an array', b.input);
  if (b.instructions !== undefined && b.instructions !== null && typeof b.instructions !== 'string') throw azureErrors.invalidType('instructions', 'a string', b.instructions);
  const maxOutputTokens = b.max_output_tokens;
  if (maxOutputTokens !== undefined && maxOutputTokens !== null && (typeof maxOutputTokens !== 'number' || !Number.isInteger(maxOutputTokens) || maxOutputTokens < 16)) {
    throw azureErrors.badRequest(`Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got ${String(maxOutputTokens)} instead.`, 'max_output_tokens');
  }
  const instructions = typeof b.instructions === 'string' ? b.instructions : null;
  const messages: ChatMessageLike[] = [];
  if (instructions) messages.push({ role: 'system', content: instructions });
  for (const it of items) {
    if (it.type === 'message') messages.push({ role: it.role as string, content: toChatContent(it.content) });
    else if (it.type === 'function_call_output') messages.push({ role: 'tool', content: String(it.output ?? '') });
  }
  return {
    model: b.model,
    messages,
    inputItems: items,
    instructions,
    maxOutputTokens: typeof maxOutputTokens === 'number' ? maxOutputTokens : undefined,
    stream: b.stream === true,
    store: b.store !== false,
    temperature: typeof b.temperature === 'number' ? b.temperature : undefined,
    topP: typeof b.top_p === 'number' ? b.top_p : undefined,
    seed: typeof b.seed === 'number' ? b.seed : undefined,
    previousResponseId: typeof b.previous_response_id === 'string' ? b.previous_response_id : null,
    metadata: b.metadata && typeof b.metadata === 'object' ? (b.metadata as Record<string, unknown>) : {},
  };
}

function toChatContent(content: unknown): ChatMessageLike['content'] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: Record<string, unknown>) => (typeof p?.text === 'string' ? { type: 'text', text: p.text } : { type: String(p?.type ?? '') }));
}

export interface ResponseParts {
  id: string;
  messageId: string;
  createdAt: number;
  model: string;
  text: string;
  incomplete: boolean;
  inputTokens: number;
  outputTokens: number;
  request: ResponsesRequest;
}

export function responseUsage(p: Pick<ResponseParts, 'inputTokens' | 'outputTokens'>): Record<string, unknown> {
  return {
    input_tokens: p.inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: p.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: p.inputTokens + p.outputTokens,
  };
}

function outputMessage(p: ResponseParts, status: 'in_progress' | 'completed' | 'incomplete', text: string | undefined): Record<string, unknown> {
  return {
    id: p.messageId,
    type: 'message',
    status,
    role: 'assistant',
    content: text === undefined ? [] : [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

/** The `response` object; `phase` 'in_progress' is the shape sent in response.created. */
export function responseObject(p: ResponseParts, phase: 'in_progress' | 'final' = 'final'): Record<string, unknown> {
  const finalStatus = p.incomplete ? 'incomplete' : 'completed';
  return {
    id: p.id,
    object: 'response',
    created_at: p.createdAt,
    status: phase === 'in_progress' ? 'in_progress' : finalStatus,
    background: false,
    error: null,
    incomplete_details: phase === 'final' && p.incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: p.request.instructions,
    max_output_tokens: p.request.maxOutputTokens ?? null,
    metadata: p.request.metadata,
    model: p.model,
    output: phase === 'in_progress' ? [] : [outputMessage(p, finalStatus, p.text)],
    parallel_tool_calls: true,
    previous_response_id: p.request.previousResponseId,
    reasoning: { effort: null, summary: null },
    store: p.request.store,
    temperature: p.request.temperature ?? 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: p.request.topP ?? 1,
    truncation: 'disabled',
    usage: phase === 'in_progress' ? null : responseUsage(p),
    user: null,
  };
}

/** `GET /responses/{id}/input_items` list body. */
export function inputItemsList(responseId: string, items: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> {
  const data = items.map((it, i) => {
    if (it.type !== 'message') return { id: `${responseId.replace(/^resp_/, 'item_')}_${i}`, ...it };
    const content = typeof it.content === 'string' ? [{ type: 'input_text', text: it.content }] : it.content;
    return { id: `msg_${responseId.slice(5, 25)}${i}`, type: 'message', role: it.role, status: 'completed', content };
  });
  return { object: 'list', data, first_id: (data[0]?.id as string) ?? null, last_id: (data.at(-1)?.id as string) ?? null, has_more: false };
}

/** Streamed events in the order the SDK expects, with sequence numbers. */
export function responseStreamEvents(p: ResponseParts, deltas: readonly string[], ttftMs: () => number, perTokenMs: () => number): SseEvent[] {
  const events: SseEvent[] = [];
  let seq = 0;
  const push = (type: string, payload: Record<string, unknown>, delayMs = 0): void => {
    events.push({ event: type, data: { type, sequence_number: seq++, ...payload }, delayMs });
  };
  const started = responseObject(p, 'in_progress');
  push('response.created', { response: started });
  push('response.in_progress', { response: started });
  push('response.output_item.added', { output_index: 0, item: outputMessage(p, 'in_progress', undefined) });
  const ref = { item_id: p.messageId, output_index: 0, content_index: 0 };
  push('response.content_part.added', { ...ref, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
  deltas.forEach((delta, i) => push('response.output_text.delta', { ...ref, delta, logprobs: [] }, i === 0 ? ttftMs() : perTokenMs()));
  push('response.output_text.done', { ...ref, text: p.text, logprobs: [] });
  push('response.content_part.done', { ...ref, part: { type: 'output_text', text: p.text, annotations: [], logprobs: [] } });
  const finalStatus = p.incomplete ? 'incomplete' : 'completed';
  push('response.output_item.done', { output_index: 0, item: outputMessage(p, finalStatus, p.text) });
  push(p.incomplete ? 'response.incomplete' : 'response.completed', { response: responseObject(p, 'final') });
  return events;
}
