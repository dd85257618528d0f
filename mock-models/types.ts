/** Public types of the mock Azure OpenAI model backends. */
import type { FaultRule, Faults } from './faults.js';
import type { LatencyOptions } from './latency.js';
import type { StreamReport } from './stream.js';
import type { EncodingName } from './tokenizer.js';

/** Any clock with `now()` (epoch ms) and `sleep()`; `policy-engine/clock.ts` clocks fit. */
export interface ClockLike {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** One scripted answer: fixes content, usage, status, headers or the whole body of the next response. */
export interface ScriptedResponse {
  /** Assistant text (chat/completions/responses). */
  content?: string;
  /** Reported usage; missing fields are computed as usual (completion from `content` or generated to this length). */
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  /** A status ≥ 400 answers with `body` or an Azure error body for that status, before capacity checks. */
  status?: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Raw JSON body sent as is (with `status`, default 200). */
  body?: unknown;
  finishReason?: 'stop' | 'length' | 'content_filter' | 'tool_calls';
}

export interface DeploymentConfig {
  /** Deployment name, the `{deployment}` path segment (and the v1 / Responses `model`). */
  name: string;
  /** Underlying model name, e.g. `gpt-4.1-mini`; picks the tokenizer and the reported `model`. */
  model: string;
  /** Model version, e.g. `2025-04-14`; defaults from the catalogue. */
  version?: string;
  /** Thousands of tokens per minute (Azure capacity units): TPM = ×1000, RPM = ×6. Undefined: unlimited. */
  capacity?: number;
  /** Override the RPM derived from capacity. */
  requestsPerMinute?: number;
  /** Request-window length in ms (default 10 000: RPM/6 requests per 10 s, as Azure evaluates RPM). */
  requestWindowMs?: number;
  /** Charged for max_tokens when a request has none (default 16). */
  defaultMaxTokensCost?: number;
  /** Context window in tokens (default: the catalogue's for the model); prompts past it get context_length_exceeded. */
  contextWindow?: number;
  /** Tokenizer override; defaults from the model name. */
  encoding?: EncodingName;
  /** `x-ms-region` display name for this deployment; defaults to the mock's region. */
  region?: string;
  /** Operation family; defaults from the catalogue (embeddings models) or 'chat'. */
  kind?: 'chat' | 'embeddings';
  /**
   * Natural completion length in tokens before any max_tokens cut: uniform in [min, max] (default 20–56), or a
   * normal distribution of `mean` and `sd` truncated to [min, max] when `mean` is given.
   */
  completionTokens?: CompletionTokensDistribution;
  /**
   * Identical requests without a `seed` get different answers, as a sampling model's would (the sequence
   * restarts at reset()). Default false: the same request always gets the same answer.
   */
  variedRepeats?: boolean;
  /** Latency for this deployment (overrides the mock-wide setting). */
  latency?: LatencyOptions;
  /** Responses served first, in order (restored by `reset()`). */
  script?: ScriptedResponse[];
}

export interface MockModelsOptions {
  clock?: ClockLike;
  deployments?: DeploymentConfig[];
  /** `x-ms-region` display name, default 'UK South'. */
  region?: string;
  /** Mixed into every generated text, vector and id; different seeds give different outputs. */
  seed?: number;
  /** Mock-wide latency model (default: none). */
  latency?: LatencyOptions;
  /** Fault rules installed at start (restored by `reset()`). */
  faults?: FaultRule[];
  /** How many calls `calls` keeps, the most recent (default 5,000); past it the oldest tenth is dropped. */
  maxCalls?: number;
}

/** One request the mock received (for assertions such as "the backend was not called"). */
export interface MockCall {
  at: number;
  method: string;
  path: string;
  operation: string;
  deployment?: string;
  status: number;
  /** 'fault:<kind>', 'script', 'capacity' or 'generated'. */
  outcome: string;
  promptTokens?: number;
  completionTokens?: number;
  /** A streamed answer: events sent so far and, once over, how it ended (completed, cancelled, aborted, cut). */
  stream?: StreamReport;
}

export interface DeploymentState {
  name: string;
  limits?: { tokensPerMinute: number; requestsPerMinute: number; requestWindowMs: number; requestsPerWindow: number };
  remainingTokens?: number;
  remainingRequests?: number;
  scripted: number;
}

export interface MockModels {
  /** The single core: answers an Azure OpenAI request with no socket. Rejects with `MockConnectionError` for a 'reset' fault. */
  handle(request: Request): Promise<Response>;
  /** Scripted responses, faults, capacity windows, stored responses, calls and id counters back to their start. */
  reset(): void;
  readonly deployments: ReadonlyArray<DeploymentConfig>;
  /** Queues scripted responses for a deployment (appended after any already queued). */
  script(deployment: string, steps: ScriptedResponse[]): void;
  readonly faults: Faults;
  /** Requests received since the last reset. */
  readonly calls: ReadonlyArray<MockCall>;
  /** Capacity window and script state of a deployment. */
  state(deployment: string): DeploymentState | undefined;
}

/** How long completions are (tokens): uniform between min and max, or normal(mean, sd) clipped to them. */
export interface CompletionTokensDistribution {
  min: number;
  max: number;
  mean?: number;
  sd?: number;
}
