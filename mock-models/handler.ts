/**
 * The single model core: `createMockModels(options).handle(request)` answers Azure OpenAI requests
 * (fetch API Request → Response, no socket). `server.ts` and `msw.ts` are thin adapters over it; the emulator's
 * in-process forwarder calls the same core through `directCallOf(models)` (exchange.ts), without web objects.
 *
 * Pipeline for model calls: route → parse JSON → deployment → validate → fault rules →
 * scripted error step → capacity admission → scripted/generated answer → latency → render.
 */
import { createClock } from '../policy-engine/clock.js';
import { createCallLog } from './call-log.js';
import { defaultDeployments, lookupModel, MODEL_CATALOGUE, reportedModelName, type ModelInfo } from './catalogue.js';
import {
  chatCompletionBody,
  DEFAULT_COMPLETION_TOKENS,
  finishChoice,
  generateChat,
  makeUsage,
  parseChatRequest,
  type ChatRequest,
  type GeneratedChoice,
  type Usage,
} from './chat.js';
import { completionsBody, parseCompletionsRequest } from './completions.js';
import { embeddingsBody, inputTokens, parseEmbeddingsRequest } from './embeddings.js';
import { AzureOpenAIError, azureErrors, MockConnectionError, type OperationId } from './errors.js';
import { createFaultRegistry, type FaultRule } from './faults.js';
import { locateJsonError } from './json-position.js';
import { createLatency, type Latency } from './latency.js';
import { canonicalJson, createRandom, randomHex, randomToken, randomUuid } from './random.js';
import { inputItemsList, parseResponsesRequest, responseObject, responseStreamEvents, type ResponseParts } from './responses.js';
import { chatStreamEvents, sseStream, tokenDeltas, type SseEvent } from './stream.js';
import { createCapacityWindow, DEFAULT_MAX_TOKENS_COST, type CapacityWindow } from './capacity.js';
import { countChatPromptTokens, countTextTokens, encodingForModel, type EncodingName } from './tokenizer.js';
import { generateText } from './text-generator.js';
import type { ClockLike, DeploymentConfig, DeploymentState, MockCall, MockModels, MockModelsOptions, ScriptedResponse } from './types.js';
import { assertResponseStatus, ModelHeaders, registerDirectCall, type ModelRequest, type ModelResponse } from './exchange.js';

export const DEFAULT_REGION = 'UK South';
export const DEFAULT_API_VERSION = '2024-10-21';
export { MAX_CALL_LOG } from './call-log.js';

/** Remaining-token/request headers for a deployment without capacity: what capacity 1000 would show. */
const UNLIMITED_CAPACITY = 1000;

/** A configured deployment with everything resolved. */
export interface ResolvedDeployment {
  config: DeploymentConfig;
  name: string;
  model: string;
  info: ModelInfo | undefined;
  kind: 'chat' | 'embeddings';
  encoding: EncodingName;
  region: string;
  systemFingerprint: string;
}

export type Operation =
  | 'chat'
  | 'completions'
  | 'embeddings'
  | 'responses'
  | 'responses.get'
  | 'responses.delete'
  | 'responses.input_items'
  | 'models.list'
  | 'models.get';

export interface RouteMatch {
  operation: Operation;
  method: 'GET' | 'POST' | 'DELETE';
  /** From the path (`/deployments/{d}/…`); otherwise the body's `model` names it. */
  deployment?: string;
  /** Response or model id from the path. */
  id?: string;
}

const ROUTES: ReadonlyArray<{ re: RegExp; build: (m: RegExpExecArray) => RouteMatch | undefined }> = [
  {
    re: /\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)\/?$/,
    build: (m) => ({ operation: pathOperation(m[2]!), method: 'POST', deployment: safeDecode(m[1]!) }),
  },
  { re: /\/openai\/v1\/(chat\/completions|completions|embeddings)\/?$/, build: (m) => ({ operation: pathOperation(m[1]!), method: 'POST' }) },
  { re: /\/openai(?:\/v1)?\/responses\/?$/, build: () => ({ operation: 'responses', method: 'POST' }) },
  { re: /\/openai(?:\/v1)?\/responses\/([^/]+)\/input_items\/?$/, build: (m) => ({ operation: 'responses.input_items', method: 'GET', id: safeDecode(m[1]!) }) },
  { re: /\/openai(?:\/v1)?\/responses\/([^/]+)\/?$/, build: (m) => ({ operation: 'responses.get', method: 'GET', id: safeDecode(m[1]!) }) },
  { re: /\/openai(?:\/v1)?\/models\/?$/, build: () => ({ operation: 'models.list', method: 'GET' }) },
  { re: /\/openai(?:\/v1)?\/models\/([^/]+)\/?$/, build: (m) => ({ operation: 'models.get', method: 'GET', id: safeDecode(m[1]!) }) },
];

function pathOperation(segment: string): Operation {
  return segment === 'chat/completions' ? 'chat' : segment === 'completions' ? 'completions' : 'embeddings';
}

const V1_PATH = /\/openai\/v1(\/|$)/;

/** Matches the Azure OpenAI path wherever it sits under a prefix (`/inference/openai/deployments/…`). */
export function matchRoute(pathname: string, method = 'POST'): RouteMatch | undefined {
  for (const route of ROUTES) {
    const m = route.re.exec(pathname);
    if (!m) continue;
    const match = route.build(m);
    if (match?.operation === 'responses.get' && method === 'DELETE') return { ...match, operation: 'responses.delete', method: 'DELETE' };
    return match;
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const OPERATION_IDS: Record<string, OperationId> = {
  chat: 'ChatCompletions_Create',
  completions: 'Completions_Create',
  embeddings: 'Embeddings_Create',
  responses: 'Responses_Create',
};

/** What a model call produces before faults and pacing are applied. */
type Rendered = { kind: 'json'; body: unknown; completionTokens: number } | { kind: 'sse'; events: SseEvent[]; completionTokens: number };

/** A validated model call, ready for admission and rendering. */
interface Plan {
  promptTokens: number;
  /** Azure's admission cost: prompt estimate + max_tokens (or the default). */
  cost: number;
  stream: boolean;
  render(step: ScriptedResponse | undefined, latency: Latency): Rendered;
}

interface StoredResponse {
  parts: ResponseParts;
  messages: ResponseParts['request']['messages'];
}

export function createMockModels(options: MockModelsOptions = {}): MockModels {
  const clock: ClockLike = options.clock ?? createClock();
  const region = options.region ?? DEFAULT_REGION;
  const seed = options.seed ?? 0;
  const configs: DeploymentConfig[] = (options.deployments ?? defaultDeployments()).map((d) => ({ ...d }));
  const deployments = new Map<string, ResolvedDeployment>();
  const windows = new Map<string, CapacityWindow>();
  const scripts = new Map<string, ScriptedResponse[]>();
  const stored = new Map<string, StoredResponse>();
  const faults = createFaultRegistry();
  const { calls, record: recordCall } = createCallLog<MockCall>(options.maxCalls);
  let counter = 0;

  for (const config of configs) {
    deployments.set(config.name, resolveDeployment(config, region));
    if (config.capacity !== undefined) {
      windows.set(config.name, createCapacityWindow({ capacity: config.capacity, requestsPerMinute: config.requestsPerMinute, requestWindowMs: config.requestWindowMs }));
    }
  }

  /** Identical chat requests without a seed seen since reset, per deployment (bounded). */
  const occurrences = new Map<string, number>();
  function nextOccurrence(key: string): number {
    const n = occurrences.get(key) ?? 0;
    if (occurrences.size >= 10_000 && n === 0) occurrences.clear();
    occurrences.set(key, n + 1);
    return n;
  }

  function restoreInitialState(): void {
    counter = 0;
    occurrences.clear();
    calls.length = 0;
    stored.clear();
    scripts.clear();
    for (const w of windows.values()) w.reset();
    for (const c of configs) if (c.script?.length) scripts.set(c.name, c.script.map((s) => ({ ...s })));
    faults.clear();
    for (const rule of options.faults ?? []) faults.add(rule);
  }
  restoreInitialState();

  function findDeployment(name: string): ResolvedDeployment | undefined {
    const exact = deployments.get(name);
    if (exact) return exact;
    const lower = name.toLowerCase();
    for (const d of deployments.values()) if (d.name.toLowerCase() === lower) return d;
    return undefined;
  }

  function nextRandom(purpose: string): ReturnType<typeof createRandom> {
    return createRandom(`${seed}:${purpose}:${counter++}`);
  }

  function rateLimitHeaders(headers: ModelHeaders, deployment: ResolvedDeployment): void {
    const window = windows.get(deployment.name);
    const remaining = window?.remaining(clock.now()) ?? { tokens: UNLIMITED_CAPACITY * 1000, requests: UNLIMITED_CAPACITY * 6 };
    headers.set('x-ratelimit-remaining-tokens', String(remaining.tokens));
    headers.set('x-ratelimit-remaining-requests', String(remaining.requests));
  }

  function commonHeaders(request: ModelRequest, deployment: ResolvedDeployment | undefined): ModelHeaders {
    const random = nextRandom('request');
    const requestId = randomUuid(random);
    const headers = new ModelHeaders({
      'apim-request-id': requestId,
      'x-request-id': randomUuid(random),
      'x-ms-client-request-id': request.header('x-ms-client-request-id') ?? requestId,
      'x-ms-region': deployment?.region ?? region,
      'x-content-type-options': 'nosniff',
      'strict-transport-security': 'max-age=31536000; includeSubDomains; preload',
    });
    if (deployment) {
      headers.set('x-ms-deployment-name', deployment.name);
      rateLimitHeaders(headers, deployment);
    }
    return headers;
  }

  function jsonResponse(body: unknown, status: number, headers: ModelHeaders): ModelResponse {
    headers.set('content-type', 'application/json');
    return { status, headers, body: JSON.stringify(body) };
  }

  function errorResponse(error: AzureOpenAIError, headers: ModelHeaders): ModelResponse {
    for (const [k, v] of Object.entries(error.headers)) headers.set(k, String(v));
    return jsonResponse(error.body, error.status, headers);
  }

  async function readJson(request: ModelRequest): Promise<unknown> {
    const text = await request.text();
    try {
      return JSON.parse(text);
    } catch {
      throw azureErrors.invalidJson(locateJsonError(text));
    }
  }

  function latencyFor(deployment: ResolvedDeployment): Latency {
    return createLatency(deployment.config.latency ?? options.latency, nextRandom('latency'));
  }

  function envelopeFor(prefix: string, idLength: number): { id: string; created: number } {
    return { id: `${prefix}${randomToken(nextRandom('id'), idLength)}`, created: Math.floor(clock.now() / 1000) };
  }

  // ── model-call plans ────────────────────────────────────────────────────────────────────

  function scriptedChoices(step: ScriptedResponse, request: ChatRequest, d: ResolvedDeployment, fallback: () => GeneratedChoice[]): GeneratedChoice[] {
    const fixedCompletion = step.usage?.completion_tokens;
    if (step.content === undefined && fixedCompletion === undefined) return fallback();
    const choices: GeneratedChoice[] = [];
    for (let index = 0; index < request.n; index++) {
      let content = step.content;
      if (content === undefined) {
        // Overshoot, then cut to exactly the scripted length.
        const text = generateText(createRandom(`${seed}:scripted:${index}`), fixedCompletion! + 4, d.encoding);
        content = finishChoice(index, text, fixedCompletion, [], d.encoding).content;
      }
      const counted = countTextTokens(content, d.encoding);
      choices.push({ index, content, finishReason: step.finishReason === 'length' ? 'length' : 'stop', completionTokens: fixedCompletion ?? counted });
    }
    return choices;
  }

  function chatPlan(body: unknown, d: ResolvedDeployment): Plan {
    if (d.kind !== 'chat') throw azureErrors.operationNotSupported('chatCompletion', d.model);
    const chat = parseChatRequest(body);
    const occurrence = d.config.variedRepeats && chat.seed === undefined ? nextOccurrence(`${d.name}\u0000${canonicalJson(body)}`) : 0;
    const promptTokens = countChatPromptTokens(chat.messages, { encoding: d.encoding, model: d.model, tools: chat.tools, functions: chat.functions });
    const contextWindow = d.config.contextWindow ?? d.info?.contextWindow;
    if (contextWindow !== undefined && promptTokens + (chat.maxTokens ?? 0) > contextWindow) throw azureErrors.contextLengthExceeded(contextWindow, promptTokens, chat.maxTokens);
    return {
      promptTokens,
      cost: promptTokens + (chat.maxTokens ?? d.config.defaultMaxTokensCost ?? DEFAULT_MAX_TOKENS_COST),
      stream: chat.stream,
      render(step, latency) {
        const generation = generateChat(chat, {
          model: d.model,
          version: d.info?.version,
          encoding: d.encoding,
          seed,
          completionTokens: d.config.completionTokens ?? DEFAULT_COMPLETION_TOKENS,
          occurrence,
        });
        const choices = step ? scriptedChoices(step, chat, d, () => generation.choices) : generation.choices;
        const completion = choices.reduce((s, c) => s + c.completionTokens, 0);
        const usage: Usage = makeUsage(step?.usage?.prompt_tokens ?? promptTokens, completion);
        const envelope = { ...envelopeFor('chatcmpl-', 29), model: generation.reportedModel, systemFingerprint: d.systemFingerprint };
        if (chat.stream) {
          const events = chatStreamEvents({
            envelope,
            choices,
            usage,
            includeUsage: chat.includeUsage,
            encoding: d.encoding,
            ttftMs: latency.ttft,
            perTokenMs: latency.perToken,
          });
          return { kind: 'sse', events, completionTokens: completion };
        }
        return { kind: 'json', body: chatCompletionBody(envelope, choices, usage), completionTokens: completion };
      },
    };
  }

  function completionsPlan(body: unknown, d: ResolvedDeployment): Plan {
    if (d.kind !== 'chat') throw azureErrors.operationNotSupported('completion', d.model);
    const req = parseCompletionsRequest(body);
    const promptTokens = req.prompts.reduce((s, p) => s + countTextTokens(p, d.encoding), 0);
    return {
      promptTokens,
      cost: promptTokens + req.maxTokens,
      stream: req.stream,
      render(step) {
        const choices: Array<GeneratedChoice & { prompt: string }> = [];
        let model = reportedModelName(d.model, d.info?.version);
        req.prompts.forEach((prompt, p) => {
          const chat: ChatRequest = { messages: [{ role: 'user', content: prompt }], maxTokens: req.maxTokens, n: req.n, stream: false, includeUsage: false, seed: req.seed, temperature: req.temperature, stop: req.stop };
          const g = generateChat(chat, { model: d.model, version: d.info?.version, encoding: d.encoding, seed, completionTokens: d.config.completionTokens });
          model = g.reportedModel;
          const picked = step ? scriptedChoices(step, chat, d, () => g.choices) : g.choices;
          for (const c of picked) choices.push({ ...c, index: p * req.n + c.index, prompt });
        });
        const env = { ...envelopeFor('cmpl-', 29), model };
        const json = completionsBody(env, choices, req.echo, step?.usage?.prompt_tokens ?? promptTokens);
        const completion = choices.reduce((s, c) => s + c.completionTokens, 0);
        if (!req.stream) return { kind: 'json', body: json, completionTokens: completion };
        const events: SseEvent[] = [];
        for (const c of choices) {
          for (const delta of tokenDeltas(c.content, d.encoding)) {
            events.push({ data: { id: env.id, object: 'text_completion', created: env.created, model, choices: [{ text: delta, index: c.index, logprobs: null, finish_reason: null }] }, delayMs: 0 });
          }
          events.push({ data: { id: env.id, object: 'text_completion', created: env.created, model, choices: [{ text: '', index: c.index, logprobs: null, finish_reason: c.finishReason }] }, delayMs: 0 });
        }
        events.push({ data: '[DONE]', delayMs: 0 });
        return { kind: 'sse', events, completionTokens: completion };
      },
    };
  }

  function embeddingsPlan(body: unknown, d: ResolvedDeployment): Plan {
    if (d.kind !== 'embeddings') throw azureErrors.operationNotSupported('embeddings', d.model);
    const req = parseEmbeddingsRequest(body);
    const promptTokens = req.inputs.reduce((s, input) => s + inputTokens(input, d.encoding), 0);
    return {
      promptTokens,
      cost: promptTokens,
      stream: false,
      render(step) {
        const shape = {
          model: d.model,
          nativeDimensions: d.info?.dimensions ?? 1536,
          flexibleDimensions: d.info?.flexibleDimensions ?? false,
          encoding: d.encoding,
          seed,
        };
        const json = embeddingsBody(req, shape, reportedModelName(d.model, d.info?.version)) as { usage: { prompt_tokens: number; total_tokens: number } };
        if (step?.usage?.prompt_tokens !== undefined) json.usage = { prompt_tokens: step.usage.prompt_tokens, total_tokens: step.usage.prompt_tokens };
        return { kind: 'json', body: json, completionTokens: 0 };
      },
    };
  }

  function responsesPlan(body: unknown, d: ResolvedDeployment): Plan {
    if (d.kind !== 'chat') throw azureErrors.operationNotSupported('responses', d.model);
    const req = parseResponsesRequest(body);
    let messages = req.messages;
    if (req.previousResponseId) {
      const previous = stored.get(req.previousResponseId);
      if (!previous) throw azureErrors.previousResponseNotFound(req.previousResponseId);
      messages = [...previous.messages, { role: 'assistant', content: previous.parts.text }, ...messages];
    }
    const promptTokens = countChatPromptTokens(messages, { encoding: d.encoding, model: d.model });
    return {
      promptTokens,
      cost: promptTokens + (req.maxOutputTokens ?? d.config.defaultMaxTokensCost ?? DEFAULT_MAX_TOKENS_COST),
      stream: req.stream,
      render(step, latency) {
        const chat: ChatRequest = { messages, maxTokens: req.maxOutputTokens, n: 1, stream: false, includeUsage: false, seed: req.seed, temperature: req.temperature, topP: req.topP, stop: [] };
        const g = generateChat(chat, { model: d.model, version: d.info?.version, encoding: d.encoding, seed, completionTokens: d.config.completionTokens });
        const choice = (step ? scriptedChoices(step, chat, d, () => g.choices) : g.choices)[0]!;
        const random = nextRandom('resp');
        const parts: ResponseParts = {
          id: `resp_${randomHex(random, 48)}`,
          messageId: `msg_${randomHex(random, 48)}`,
          createdAt: Math.floor(clock.now() / 1000),
          model: g.reportedModel,
          text: choice.content,
          incomplete: choice.finishReason === 'length',
          inputTokens: step?.usage?.prompt_tokens ?? promptTokens,
          outputTokens: choice.completionTokens,
          request: req,
        };
        if (req.store) stored.set(parts.id, { parts, messages });
        if (req.stream) {
          const events = responseStreamEvents(parts, tokenDeltas(parts.text, d.encoding), latency.ttft, latency.perToken);
          return { kind: 'sse', events, completionTokens: parts.outputTokens };
        }
        return { kind: 'json', body: responseObject(parts), completionTokens: parts.outputTokens };
      },
    };
  }

  // ── pipeline ─────────────────────────────────────────────────────────────────────────────

  async function applyTimeout(rule: FaultRule, signal: AbortSignal): Promise<never> {
    if (rule.timeoutMs !== undefined) {
      await clock.sleep(rule.timeoutMs, signal);
      throw azureErrors.timeout();
    }
    return new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  function finishRendered(rendered: Rendered, headers: ModelHeaders, fault: FaultRule | undefined, signal: AbortSignal, call: MockCall): ModelResponse {
    const sleep = (ms: number, s?: AbortSignal): Promise<void> => clock.sleep(ms, s);
    if (rendered.kind === 'sse') {
      const events = rendered.events.slice();
      if (fault?.kind === 'malformed-json') {
        const at = Math.min(2, events.length - 1);
        events[at] = { ...events[at]!, raw: JSON.stringify(events[at]!.data).slice(0, 25) };
      }
      headers.set('content-type', 'text/event-stream; charset=utf-8');
      headers.set('cache-control', 'no-cache');
      headers.set('x-ms-stream', 'true');
      const cutAfter = fault?.kind === 'truncated-stream' ? (fault.afterEvents ?? Math.floor(events.length / 2)) : undefined;
      call.stream = { events: 0 };
      return { status: 200, headers, body: sseStream(events, { sleep, signal, report: call.stream, cutAfter, cutError: () => new MockConnectionError('Mock model backend cut the stream (injected fault).') }) };
    }
    headers.set('content-type', 'application/json');
    const text = JSON.stringify(rendered.body);
    if (fault?.kind === 'malformed-json') return { status: 200, headers, body: text.slice(0, Math.floor(text.length / 2)) };
    if (fault?.kind === 'truncated-stream') {
      const bytes = new TextEncoder().encode(text);
      const cut = fault.afterEvents ?? Math.floor(bytes.length / 2);
      let sent = false;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (!sent) {
            sent = true;
            controller.enqueue(bytes.slice(0, cut));
          } else controller.error(new MockConnectionError('Mock model backend cut the response body (injected fault).'));
        },
      });
      return { status: 200, headers, body };
    }
    return { status: 200, headers, body: text };
  }

  async function modelCall(request: ModelRequest, route: RouteMatch, body: unknown, d: ResolvedDeployment, call: MockCall): Promise<ModelResponse> {
    const plan =
      route.operation === 'chat'
        ? chatPlan(body, d)
        : route.operation === 'completions'
          ? completionsPlan(body, d)
          : route.operation === 'embeddings'
            ? embeddingsPlan(body, d)
            : responsesPlan(body, d);
    call.promptTokens = plan.promptTokens;

    const fault = faults.pick(d.name, route.operation, nextRandom('fault'));
    if (fault) {
      call.outcome = `fault:${fault.kind}`;
      if (fault.kind === 'reset') throw new MockConnectionError();
      if (fault.kind === 'status') throw azureErrors.status(fault.status ?? 503, fault.retryAfterMs ?? (fault.status === 500 ? undefined : 1000));
      if (fault.kind === 'timeout') await applyTimeout(fault, request.signal);
    }

    const queue = scripts.get(d.name);
    let step = queue?.[0];
    if (step && step.status !== undefined && step.status >= 400) {
      queue!.shift();
      call.outcome = 'script';
      const headers = commonHeaders(request, d);
      const error = azureErrors.forStatus(step.status);
      if (step.body === undefined) for (const [k, v] of Object.entries(error.headers)) headers.set(k, v);
      for (const [k, v] of Object.entries(step.headers ?? {})) headers.setChecked(k, v);
      return jsonResponse(step.body ?? error.body, step.status, headers);
    }

    const window = windows.get(d.name);
    if (window) {
      const decision = window.admit(clock.now(), plan.cost);
      if (!decision.admitted) {
        call.outcome = 'capacity';
        const apiVersion = request.url.searchParams.get('api-version') ?? DEFAULT_API_VERSION;
        throw azureErrors.rateLimited(OPERATION_IDS[route.operation]!, apiVersion, decision.retryAfterMs!, decision.reason!);
      }
    }

    if (step) queue!.shift();
    if (!fault) call.outcome = step ? 'script' : 'generated';
    const headers = commonHeaders(request, d);
    headers.set('x-ms-rai-invoked', 'true');
    for (const [k, v] of Object.entries(step?.headers ?? {})) headers.setChecked(k, v);
    if (step?.body !== undefined) return jsonResponse(step.body, step.status ?? 200, headers);

    const latency = latencyFor(d);
    const rendered = plan.render(step, latency);
    call.completionTokens = rendered.completionTokens;
    if (rendered.kind === 'json') {
      const delay = latency.total(rendered.completionTokens);
      if (delay > 0) await clock.sleep(delay, request.signal);
    }
    return finishRendered(rendered, headers, fault, request.signal, call);
  }

  function modelsList(): Record<string, unknown> {
    const seen = new Set<string>();
    const data: Array<Record<string, unknown>> = [];
    for (const d of deployments.values()) {
      if (seen.has(d.model)) continue;
      seen.add(d.model);
      data.push(modelEntry(d.model, d.info));
    }
    return { data, object: 'list' };
  }

  async function route(request: ModelRequest, call: MockCall): Promise<ModelResponse> {
    const url = request.url;
    const match = matchRoute(url.pathname, request.method);
    if (!match) throw azureErrors.resourceNotFound();
    // Azure OpenAI answers 404 when the dated API (everything but /openai/v1/…) is called without api-version.
    if (!url.searchParams.has('api-version') && !V1_PATH.test(url.pathname)) throw azureErrors.resourceNotFound();
    call.operation = match.operation;
    if (request.method !== match.method) throw azureErrors.methodNotAllowed(request.method);
    if (match.operation === 'models.list') return jsonResponse(modelsList(), 200, commonHeaders(request, undefined));
    if (match.operation === 'models.get') {
      const info = lookupModel(match.id!);
      const known = [...deployments.values()].some((d) => d.model === match.id) || (info && MODEL_CATALOGUE[match.id!]);
      if (!known) throw azureErrors.modelNotFound(match.id!);
      return jsonResponse(modelEntry(match.id!, info), 200, commonHeaders(request, undefined));
    }
    if (match.operation === 'responses.get' || match.operation === 'responses.delete' || match.operation === 'responses.input_items') {
      const entry = stored.get(match.id!);
      if (!entry) throw azureErrors.responseNotFound(match.id!);
      const headers = commonHeaders(request, undefined);
      if (match.operation === 'responses.delete') {
        stored.delete(match.id!);
        return jsonResponse({ id: match.id, object: 'response.deleted', deleted: true }, 200, headers);
      }
      if (match.operation === 'responses.input_items') return jsonResponse(inputItemsList(match.id!, entry.parts.request.inputItems), 200, headers);
      return jsonResponse(responseObject(entry.parts), 200, headers);
    }
    const body = await readJson(request);
    const name = match.deployment ?? modelFromBody(body);
    const d = findDeployment(name);
    if (!d) throw azureErrors.deploymentNotFound();
    call.deployment = d.name;
    try {
      return await modelCall(request, match, body, d, call);
    } catch (error) {
      if (error instanceof AzureOpenAIError) return errorResponse(error, commonHeaders(request, d));
      throw error;
    }
  }

  /** One call through the core; `build` turns the core's answer into what the caller gets (and may throw). */
  async function answer<T>(request: ModelRequest, build: (response: ModelResponse) => T): Promise<T> {
    const call: MockCall = { at: clock.now(), method: request.method, path: request.url.pathname, operation: 'unknown', status: 0, outcome: 'generated' };
    recordCall(call);
    try {
      const response = await route(request, call);
      const built = build(response);
      call.status = response.status;
      if (response.status >= 400 && call.outcome === 'generated') call.outcome = 'error';
      return built;
    } catch (error) {
      if (error instanceof AzureOpenAIError) {
        call.status = error.status;
        if (call.outcome === 'generated') call.outcome = 'error';
        return build(errorResponse(error, commonHeaders(request, undefined)));
      }
      call.status = 0;
      throw error;
    }
  }

  async function handle(request: Request): Promise<Response> {
    const modelRequest: ModelRequest = {
      method: request.method,
      url: new URL(request.url),
      header: (name) => request.headers.get(name),
      text: () => request.text(),
      signal: request.signal,
    };
    return answer(modelRequest, (r) => new Response(r.body, { status: r.status, headers: r.headers.entries() }));
  }

  function directCall(request: ModelRequest): Promise<ModelResponse> {
    return answer(request, (r) => {
      assertResponseStatus(r);
      return r;
    });
  }

  const models: MockModels = {
    handle,
    reset: restoreInitialState,
    get deployments() {
      return configs;
    },
    script(deployment, steps) {
      if (!findDeployment(deployment)) throw new Error(`Cannot script unknown deployment '${deployment}'; configured: ${configs.map((c) => c.name).join(', ')}.`);
      const name = findDeployment(deployment)!.name;
      const queue = scripts.get(name) ?? [];
      queue.push(...steps.map((s) => ({ ...s })));
      scripts.set(name, queue);
    },
    faults,
    get calls() {
      return calls;
    },
    state(deployment): DeploymentState | undefined {
      const d = findDeployment(deployment);
      if (!d) return undefined;
      const window = windows.get(d.name);
      const remaining = window?.remaining(clock.now());
      return {
        name: d.name,
        ...(window ? { limits: { ...window.limits }, remainingTokens: remaining!.tokens, remainingRequests: remaining!.requests } : {}),
        scripted: scripts.get(d.name)?.length ?? 0,
      };
    },
  };
  registerDirectCall(models, directCall);
  return models;
}

function modelEntry(model: string, info: ModelInfo | undefined): Record<string, unknown> {
  const kind = info?.kind ?? 'chat';
  return {
    status: 'succeeded',
    capabilities: {
      fine_tune: false,
      inference: true,
      completion: kind === 'chat',
      chat_completion: kind === 'chat',
      embeddings: kind === 'embeddings',
    },
    lifecycle_status: 'generally-available',
    id: model,
    created_at: 1_700_000_000,
    created: 1_700_000_000,
    object: 'model',
    owned_by: 'system',
  };
}

function modelFromBody(body: unknown): string {
  const model = body && typeof body === 'object' ? (body as Record<string, unknown>).model : undefined;
  if (typeof model !== 'string' || model.length === 0) throw azureErrors.missingParameter('model');
  return model;
}

/** The encoding a deployment's tokens are counted with: its own setting, its catalogue model's, or the model-name default. */
export function deploymentEncoding(config: Pick<DeploymentConfig, 'model' | 'encoding'>): EncodingName {
  return config.encoding ?? lookupModel(config.model)?.encoding ?? encodingForModel(config.model);
}

function resolveDeployment(config: DeploymentConfig, defaultRegion: string): ResolvedDeployment {
  const info = lookupModel(config.model);
  const random = createRandom(`fingerprint:${config.model}:${config.version ?? info?.version ?? ''}`);
  return {
    config,
    name: config.name,
    model: config.model,
    info: info ? { ...info, version: config.version ?? info.version } : config.version ? { version: config.version, kind: config.kind ?? 'chat', encoding: config.encoding ?? encodingForModel(config.model) } : undefined,
    kind: config.kind ?? info?.kind ?? 'chat',
    encoding: deploymentEncoding(config),
    region: config.region ?? defaultRegion,
    systemFingerprint: `fp_${randomHex(random, 10)}`,
  };
}
