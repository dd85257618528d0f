/**
 * Chat completions: request validation, deterministic generation and the Azure response body.
 */
import { lookupModel, reportedModelName, ROUTER_TARGETS } from './catalogue.js';
import { azureErrors } from './errors.js';
import { canonicalJson, createRandom, type Random } from './random.js';
import { generateCountedText } from './text-generator.js';
import type { CompletionTokensDistribution } from './types.js';
import {
  countChatPromptTokens,
  decodeTokens,
  encodeText,
  type ChatMessageLike,
  type EncodingName,
  type FunctionLike,
  type ToolLike,
} from './tokenizer.js';

export const CHAT_ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'] as const;

/** The chat request fields the mock reads, after validation. */
export interface ChatRequest {
  messages: ChatMessageLike[];
  model?: string;
  maxTokens?: number;
  n: number;
  stream: boolean;
  includeUsage: boolean;
  seed?: number;
  temperature?: number;
  topP?: number;
  stop: string[];
  tools?: ToolLike[];
  functions?: FunctionLike[];
  responseFormat?: unknown;
}

/** Validates a parsed JSON body; throws `AzureOpenAIError` (400) naming the offending parameter. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw azureErrors.invalidType('body', 'an object', body);
  }
  const b = body as Record<string, unknown>;
  if (b.messages === undefined) throw azureErrors.missingParameter('messages');
  if (!Array.isArray(b.messages)) throw azureErrors.invalidType('messages', 'an array', b.messages);
  if (b.messages.length === 0) {
    throw azureErrors.badRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages');
  }
  b.messages.forEach((m: unknown, i: number) => {
    const at = `messages[${i}]`;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw azureErrors.invalidType(at, 'an object', m);
    const msg = m as Record<string, unknown>;
    if (msg.role === undefined) throw azureErrors.missingParameter(`${at}.role`);
    if (typeof msg.role !== 'string' || !(CHAT_ROLES as readonly string[]).includes(msg.role)) {
      throw azureErrors.badRequest(
        `Invalid value: '${String(msg.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `${at}.role`,
      );
    }
    const c = msg.content;
    if (c !== undefined && c !== null && typeof c !== 'string' && !Array.isArray(c)) {
      throw azureErrors.invalidType(`${at}.content`, 'a string or an array of content parts', c);
    }
    if ((c === undefined || c === null) && msg.role !== 'assistant') throw azureErrors.missingParameter(`${at}.content`);
  });
  const maxTokens = optionalInt(b, 'max_completion_tokens', 1) ?? optionalInt(b, 'max_tokens', 1);
  const n = optionalInt(b, 'n', 1, 128) ?? 1;
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw azureErrors.invalidType('stream', 'a boolean', b.stream);
  const streamOptions = b.stream_options as { include_usage?: unknown } | undefined | null;
  const temperature = optionalNumber(b, 'temperature', 0, 2);
  const topP = optionalNumber(b, 'top_p', 0, 1);
  const seed = optionalInt(b, 'seed', Number.MIN_SAFE_INTEGER);
  let stop: string[] = [];
  if (typeof b.stop === 'string') stop = [b.stop];
  else if (Array.isArray(b.stop)) {
    if (b.stop.length > 4 || b.stop.some((s) => typeof s !== 'string')) throw azureErrors.badRequest("Invalid 'stop': expected a string or up to 4 strings.", 'stop');
    stop = b.stop as string[];
  } else if (b.stop !== undefined && b.stop !== null) throw azureErrors.invalidType('stop', 'a string or an array of strings', b.stop);
  if (b.tools !== undefined && b.tools !== null && !Array.isArray(b.tools)) throw azureErrors.invalidType('tools', 'an array', b.tools);
  return {
    messages: b.messages as ChatMessageLike[],
    model: typeof b.model === 'string' ? b.model : undefined,
    maxTokens,
    n,
    stream: b.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    seed,
    temperature,
    topP,
    stop: stop.filter((s) => s.length > 0),
    tools: (b.tools as ToolLike[] | undefined) ?? undefined,
    functions: Array.isArray(b.functions) ? (b.functions as FunctionLike[]) : undefined,
    responseFormat: b.response_format,
  };
}

function optionalInt(b: Record<string, unknown>, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw azureErrors.invalidType(key, 'an integer', v);
  if (v < min) throw azureErrors.badRequest(`Invalid '${key}': integer below minimum value. Expected a value >= ${min}, but got ${v} instead.`, key);
  if (v > max) throw azureErrors.badRequest(`Invalid '${key}': integer above maximum value. Expected a value <= ${max}, but got ${v} instead.`, key);
  return v;
}

function optionalNumber(b: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw azureErrors.invalidType(key, 'a number', v);
  if (v < min || v > max) throw azureErrors.badRequest(`Invalid '${key}': expected a value between ${min} and ${max}, but got ${v} instead.`, key);
  return v;
}

/** One generated choice: its text, the tokens that text encodes to, and why it ended. */
export interface GeneratedChoice {
  index: number;
  content: string;
  finishReason: 'stop' | 'length';
  completionTokens: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: { reasoning_tokens: number; audio_tokens: number; accepted_prediction_tokens: number; rejected_prediction_tokens: number };
}

export function makeUsage(promptTokens: number, completionTokens: number, reasoningTokens = 0): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** Natural completion length range in tokens before any max_tokens cut (the lab prompt lands at 50–90 total). */
export const DEFAULT_COMPLETION_TOKENS = { min: 20, max: 56 } as const;

export interface GenerateChatOptions {
  /** Underlying model of the deployment. */
  model: string;
  /** Deployment's model version (defaults from the catalogue). */
  version?: string;
  encoding: EncodingName;
  /** Global mock seed. */
  seed: number;
  completionTokens?: CompletionTokensDistribution;
  /**
   * How many identical requests (without `seed`) this deployment answered before this one: each gets its own
   * answer, as a sampling model's would, and the sequence restarts at reset(). 0 for a request with a `seed`.
   */
  occurrence?: number;
}

export interface ChatGeneration {
  /** `model` as reported (name-version; for model-router, the routed model). */
  reportedModel: string;
  promptTokens: number;
  choices: GeneratedChoice[];
  usage: Usage;
}

/** Deterministic completion: same request (messages, model, seed, sampling params) → same text and usage. */
export function generateChat(request: ChatRequest, options: GenerateChatOptions): ChatGeneration {
  const { encoding } = options;
  const promptTokens = countChatPromptTokens(request.messages, { encoding, model: options.model, tools: request.tools, functions: request.functions });
  const key = canonicalJson({
    messages: request.messages,
    model: options.model,
    seed: request.seed,
    temperature: request.temperature,
    top_p: request.topP,
    tools: request.tools,
    response_format: request.responseFormat,
    mock_seed: options.seed,
  });
  const range: CompletionTokensDistribution = options.completionTokens ?? DEFAULT_COMPLETION_TOKENS;
  const occurrence = request.seed === undefined ? (options.occurrence ?? 0) : 0;
  const memoKey = `${key}|${request.n}|${request.maxTokens ?? ''}|${request.stop.join('\u0000')}|${encoding}|${range.min}-${range.max}~${range.mean ?? ''}~${range.sd ?? ''}|${options.version ?? ''}|${occurrence}`;
  const cached = GENERATIONS.get(memoKey);
  if (cached) return cached;
  const choices: GeneratedChoice[] = [];
  for (let index = 0; index < request.n; index++) {
    const random = createRandom(occurrence ? `${key}#${index}@${occurrence}` : `${key}#${index}`);
    const target = completionLength(random, range);
    const prose = generateCountedText(random, target, encoding);
    const structured = structuredContent(request.responseFormat, prose.text);
    choices.push(structured === undefined ? finishChoice(index, prose.text, request.maxTokens, request.stop, encoding, prose.tokens) : finishChoice(index, structured, request.maxTokens, request.stop, encoding));
  }
  const completion = choices.reduce((sum, c) => sum + c.completionTokens, 0);
  const generation = { reportedModel: reportedModelFor(options.model, options.version, key), promptTokens, choices, usage: makeUsage(promptTokens, completion) };
  if (GENERATIONS.size >= GENERATION_CACHE_LIMIT) GENERATIONS.delete(GENERATIONS.keys().next().value!);
  GENERATIONS.set(memoKey, generation);
  return generation;
}

/** A length drawn from the distribution: uniform, or a normal clipped to [min, max]. */
export function completionLength(random: Random, range: CompletionTokensDistribution): number {
  if (range.mean === undefined) return random.int(range.min, range.max);
  const sd = range.sd ?? (range.max - range.min) / 6;
  return Math.min(range.max, Math.max(range.min, Math.round(range.mean + sd * random.normal())));
}

/** Generation is a pure function of the request: repeated requests reuse it (bounded, oldest evicted first). */
const GENERATION_CACHE_LIMIT = 1024;
const GENERATIONS = new Map<string, ChatGeneration>();

/**
 * `response_format` json_object → `{"answer": "<text>"}`; json_schema → an instance of the schema whose strings
 * come from the generated text (so SDK helpers such as `.parse()` succeed). Otherwise undefined (plain text).
 */
export function structuredContent(responseFormat: unknown, prose: string): string | undefined {
  const format = responseFormat as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type === 'json_object') return JSON.stringify({ answer: prose });
  if (format?.type !== 'json_schema') return undefined;
  const words = prose.split(/\s+/).filter(Boolean);
  let next = 0;
  const word = () => words[next++ % Math.max(1, words.length)] ?? 'value';
  const instance = (schema: unknown, depth: number): unknown => {
    const s = (schema ?? {}) as { type?: string | string[]; properties?: Record<string, unknown>; items?: unknown; enum?: unknown[]; anyOf?: unknown[]; const?: unknown };
    if (s.const !== undefined) return s.const;
    if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
    if (Array.isArray(s.anyOf) && s.anyOf.length > 0) return instance(s.anyOf[0], depth);
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
    switch (type) {
      case 'object':
        return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, depth > 6 ? null : instance(v, depth + 1)]));
      case 'array':
        return depth > 6 ? [] : [instance(s.items, depth + 1)];
      case 'integer':
        return word().length;
      case 'number':
        return word().length + 0.5;
      case 'boolean':
        return word().length % 2 === 0;
      case 'null':
        return null;
      default:
        return words.length ? `${word()} ${word()}`.replace(/[.,!?]+$/, '') : 'value';
    }
  };
  return JSON.stringify(instance(format.json_schema?.schema, 0));
}

/** Applies stop sequences and the max_tokens cut to a full text; counts its tokens. */
export function finishChoice(index: number, fullText: string, maxTokens: number | undefined, stop: readonly string[], encoding: EncodingName, knownTokens?: number): GeneratedChoice {
  // The generator already counted its text: encode only to cut it (stop sequences, max_tokens).
  if (knownTokens !== undefined && stop.length === 0 && (maxTokens === undefined || knownTokens <= maxTokens)) {
    return { index, content: fullText, finishReason: 'stop', completionTokens: knownTokens };
  }
  let text = fullText;
  for (const s of stop) {
    const at = text.indexOf(s);
    if (at >= 0) text = text.slice(0, at);
  }
  const tokens = encodeText(text, encoding);
  if (maxTokens !== undefined && tokens.length > maxTokens) {
    return { index, content: decodeTokens(tokens.slice(0, maxTokens), encoding), finishReason: 'length', completionTokens: maxTokens };
  }
  return { index, content: text, finishReason: 'stop', completionTokens: tokens.length };
}

function reportedModelFor(model: string, version: string | undefined, key: string): string {
  if (model === 'model-router') {
    const target = createRandom(`router:${key}`).pick(ROUTER_TARGETS);
    return reportedModelName(target, lookupModel(target)?.version);
  }
  return reportedModelName(model, version ?? lookupModel(model)?.version);
}

const SAFE = { filtered: false, severity: 'safe' } as const;
const NOT_DETECTED = { filtered: false, detected: false } as const;

export function promptFilterResults(): unknown[] {
  return [{ prompt_index: 0, content_filter_results: { hate: SAFE, jailbreak: NOT_DETECTED, self_harm: SAFE, sexual: SAFE, violence: SAFE } }];
}

export function completionFilterResults(): Record<string, unknown> {
  return { hate: SAFE, protected_material_code: NOT_DETECTED, protected_material_text: NOT_DETECTED, self_harm: SAFE, sexual: SAFE, violence: SAFE };
}

export interface ChatEnvelope {
  id: string;
  created: number;
  model: string;
  systemFingerprint: string;
}

/** The non-streamed `chat.completion` body, in Azure's field order. */
export function chatCompletionBody(envelope: ChatEnvelope, choices: readonly GeneratedChoice[], usage: Usage): Record<string, unknown> {
  return {
    choices: choices.map((c) => ({
      content_filter_results: completionFilterResults(),
      finish_reason: c.finishReason,
      index: c.index,
      logprobs: null,
      message: { annotations: [], content: c.content, refusal: null, role: 'assistant' },
    })),
    created: envelope.created,
    id: envelope.id,
    model: envelope.model,
    object: 'chat.completion',
    prompt_filter_results: promptFilterResults(),
    system_fingerprint: envelope.systemFingerprint,
    usage,
  };
}
