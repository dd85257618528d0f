/** Public types of the mock Azure OpenAI model backends. */
import type { EncodingName } from './tokenizer.js';

/** Any clock with `now()` (epoch ms) and `sleep()`; `policy-engine/clock.ts` clocks fit. */
export interface ClockLike {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface DeploymentConfig {
  /** Deployment name, the `{deployment}` path segment (and the v1 `model`). */
  name: string;
  /** Underlying model name, e.g. `gpt-4.1-mini`; picks the tokenizer and the reported `model`. */
  model: string;
  /** Model version, e.g. `2025-04-14`; defaults from the catalogue. */
  version?: string;
  /** Thousands of tokens per minute (Azure capacity units). Undefined: unlimited. */
  capacity?: number;
  /** Tokenizer override; defaults from the model name. */
  encoding?: EncodingName;
  /** `x-ms-region` display name for this deployment; defaults to the mock's region. */
  region?: string;
  /** Operation family; defaults from the catalogue (embeddings models) or 'chat'. */
  kind?: 'chat' | 'embeddings';
}

export interface MockModelsOptions {
  clock?: ClockLike;
  deployments?: DeploymentConfig[];
  /** `x-ms-region` display name, default 'UK South'. */
  region?: string;
  /** Mixed into every generated text and id; different seeds give different outputs. */
  seed?: number;
}

export interface MockModels {
  /** The single core: answers an Azure OpenAI request with no socket. */
  handle(request: Request): Promise<Response>;
  /** Scripted responses, faults, capacity windows and id counters back to their start. */
  reset(): void;
  readonly deployments: ReadonlyArray<DeploymentConfig>;
}
