/**
 * What the mock knows about each model: version, operation kind, tokenizer and embedding size.
 * Deployments name a model; anything not listed here is served as a chat model with o200k_base.
 */
import type { EncodingName } from './tokenizer.js';

export type ModelKind = 'chat' | 'embeddings';

export interface ModelInfo {
  version: string;
  kind: ModelKind;
  encoding: EncodingName;
  /** Native embedding size (embeddings models only). */
  dimensions?: number;
  /** Whether the `dimensions` request parameter may shorten the vector. */
  flexibleDimensions?: boolean;
  /** Reasoning models report `reasoning_tokens` inside completion_tokens. */
  reasoning?: boolean;
  /** Context window in tokens (prompt + max_tokens), from the public model pages; over it → context_length_exceeded. */
  contextWindow?: number;
}

export const MODEL_CATALOGUE: Readonly<Record<string, ModelInfo>> = {
  'gpt-4.1': { version: '2025-04-14', kind: 'chat', encoding: 'o200k_base', contextWindow: 1_047_576 },
  'gpt-4.1-mini': { version: '2025-04-14', kind: 'chat', encoding: 'o200k_base', contextWindow: 1_047_576 },
  'gpt-4.1-nano': { version: '2025-04-14', kind: 'chat', encoding: 'o200k_base', contextWindow: 1_047_576 },
  'gpt-4o': { version: '2024-11-20', kind: 'chat', encoding: 'o200k_base', contextWindow: 128_000 },
  'gpt-4o-mini': { version: '2024-07-18', kind: 'chat', encoding: 'o200k_base', contextWindow: 128_000 },
  'gpt-5': { version: '2025-08-07', kind: 'chat', encoding: 'o200k_base', reasoning: true, contextWindow: 400_000 },
  'gpt-5-mini': { version: '2025-08-07', kind: 'chat', encoding: 'o200k_base', reasoning: true, contextWindow: 400_000 },
  'gpt-5-nano': { version: '2025-08-07', kind: 'chat', encoding: 'o200k_base', reasoning: true, contextWindow: 400_000 },
  'gpt-5.1': { version: '2025-11-13', kind: 'chat', encoding: 'o200k_base', reasoning: true, contextWindow: 400_000 },
  'gpt-5.2': { version: '2025-12-11', kind: 'chat', encoding: 'o200k_base', reasoning: true, contextWindow: 400_000 },
  'o1': { version: '2024-12-17', kind: 'chat', encoding: 'o200k_base', reasoning: true, contextWindow: 200_000 },
  'o3': { version: '2025-04-16', kind: 'chat', encoding: 'o200k_base', reasoning: true, contextWindow: 200_000 },
  'o3-mini': { version: '2025-01-31', kind: 'chat', encoding: 'o200k_base', reasoning: true, contextWindow: 200_000 },
  'o4-mini': { version: '2025-04-16', kind: 'chat', encoding: 'o200k_base', reasoning: true, contextWindow: 200_000 },
  'model-router': { version: '2025-11-18', kind: 'chat', encoding: 'o200k_base' },
  'gpt-4': { version: '0613', kind: 'chat', encoding: 'cl100k_base', contextWindow: 8_192 },
  'gpt-4-turbo': { version: '2024-04-09', kind: 'chat', encoding: 'cl100k_base', contextWindow: 128_000 },
  'gpt-35-turbo': { version: '0125', kind: 'chat', encoding: 'cl100k_base', contextWindow: 16_385 },
  'DeepSeek-R1': { version: '1', kind: 'chat', encoding: 'o200k_base', reasoning: true, contextWindow: 128_000 },
  'DeepSeek-V3.2': { version: '1', kind: 'chat', encoding: 'o200k_base', contextWindow: 128_000 },
  'text-embedding-3-small': { version: '1', kind: 'embeddings', encoding: 'cl100k_base', dimensions: 1536, flexibleDimensions: true },
  'text-embedding-3-large': { version: '1', kind: 'embeddings', encoding: 'cl100k_base', dimensions: 3072, flexibleDimensions: true },
  'text-embedding-ada-002': { version: '2', kind: 'embeddings', encoding: 'cl100k_base', dimensions: 1536 },
};

/** The models `model-router` may pick from, like Azure's router reporting the underlying model. */
export const ROUTER_TARGETS: readonly string[] = ['gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4.1', 'gpt-5-nano'];

/** Looks a model up by exact name, then case-insensitively, then by family prefix. */
export function lookupModel(model: string): ModelInfo | undefined {
  const exact = MODEL_CATALOGUE[model];
  if (exact) return exact;
  const lower = model.toLowerCase();
  for (const [name, info] of Object.entries(MODEL_CATALOGUE)) if (name.toLowerCase() === lower) return info;
  if (lower.startsWith('text-embedding')) return { version: '1', kind: 'embeddings', encoding: 'cl100k_base', dimensions: 1536, flexibleDimensions: true };
  return undefined;
}

/**
 * The `model` string Azure reports: name-version for dated versions (`gpt-4.1-mini-2025-04-14`),
 * the bare name otherwise (`text-embedding-3-small`, `gpt-35-turbo`).
 */
export function reportedModelName(model: string, version: string | undefined): string {
  return version && /^\d{4}-\d{2}-\d{2}$/.test(version) ? `${model}-${version}` : model;
}

/** Every deployment the mock serves when none are configured: one per catalogue model, named after it. */
export function defaultDeployments(): Array<{ name: string; model: string }> {
  return Object.keys(MODEL_CATALOGUE).map((model) => ({ name: model, model }));
}
