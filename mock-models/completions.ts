/** Legacy completions (`/completions`, `text_completion`): prompt tokens are the prompt's own tokens. */
import { completionFilterResults, promptFilterResults, type GeneratedChoice } from './chat.js';
import { azureErrors } from './errors.js';

export interface CompletionsRequest {
  prompts: string[];
  maxTokens: number;
  n: number;
  stream: boolean;
  seed?: number;
  temperature?: number;
  stop: string[];
  echo: boolean;
}

/** The legacy API's default when max_tokens is absent. */
export const LEGACY_DEFAULT_MAX_TOKENS = 16;

export function parseCompletionsRequest(body: unknown): CompletionsRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw azureErrors.invalidType('body', 'an object', body);
  const b = body as Record<string, unknown>;
  let prompts: string[];
  if (b.prompt === undefined || b.prompt === null) prompts = ['<|endoftext|>'];
  else if (typeof b.prompt === 'string') prompts = [b.prompt];
  else if (Array.isArray(b.prompt) && b.prompt.every((p) => typeof p === 'string')) prompts = b.prompt as string[];
  else throw azureErrors.invalidType('prompt', 'a string or an array of strings', b.prompt);
  const int = (key: string, min: number, fallback: number): number => {
    const v = b[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw azureErrors.invalidType(key, 'an integer', v);
    if (v < min) throw azureErrors.badRequest(`Invalid '${key}': integer below minimum value. Expected a value >= ${min}, but got ${v} instead.`, key);
    return v;
  };
  const stop = typeof b.stop === 'string' ? [b.stop] : Array.isArray(b.stop) ? (b.stop.filter((s) => typeof s === 'string') as string[]) : [];
  return {
    prompts,
    maxTokens: int('max_tokens', 1, LEGACY_DEFAULT_MAX_TOKENS),
    n: int('n', 1, 1),
    stream: b.stream === true,
    seed: typeof b.seed === 'number' ? b.seed : undefined,
    temperature: typeof b.temperature === 'number' ? b.temperature : undefined,
    stop: stop.filter((s) => s.length > 0),
    echo: b.echo === true,
  };
}

export interface LegacyEnvelope {
  id: string;
  created: number;
  model: string;
}

export function completionsBody(env: LegacyEnvelope, choices: ReadonlyArray<GeneratedChoice & { prompt: string }>, echo: boolean, promptTokens: number): Record<string, unknown> {
  const completion = choices.reduce((s, c) => s + c.completionTokens, 0);
  return {
    choices: choices.map((c) => ({
      content_filter_results: completionFilterResults(),
      finish_reason: c.finishReason,
      index: c.index,
      logprobs: null,
      text: echo ? c.prompt + c.content : c.content,
    })),
    created: env.created,
    id: env.id,
    model: env.model,
    object: 'text_completion',
    prompt_filter_results: promptFilterResults(),
    usage: { completion_tokens: completion, prompt_tokens: promptTokens, total_tokens: promptTokens + completion },
  };
}
