/**
 * The single model core: `createMockModels(options).handle(request)` answers Azure OpenAI requests
 * (fetch API Request → Response, no socket). `server.ts` and `msw.ts` are thin adapters over it.
 */
import { defaultDeployments, lookupModel, reportedModelName, type ModelInfo } from './catalogue.js';
import { embeddingsBody, parseEmbeddingsRequest } from './embeddings.js';
import { chatCompletionBody, generateChat, parseChatRequest } from './chat.js';
import { AzureOpenAIError, azureErrors } from './errors.js';
import { locateJsonError } from './json-position.js';
import { chatStreamEvents, sseStream, type SseEvent, type StreamPacing } from './stream.js';
import { createRandom, randomHex, randomToken, randomUuid } from './random.js';
import { createClock } from '../policy-engine/clock.js';
import { encodingForModel, type EncodingName } from './tokenizer.js';
import type { ClockLike, DeploymentConfig, MockModels, MockModelsOptions } from './types.js';

export const DEFAULT_REGION = 'UK South';
export const DEFAULT_API_VERSION = '2024-10-21';
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

type Operation = 'chat' | 'completions' | 'embeddings';

interface RouteMatch {
  operation: Operation;
  /** From the path (`/deployments/{d}/…`) or, for the v1 surface, from the body's `model`. */
  deployment?: string;
}

const DEPLOYMENT_ROUTE = /\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)\/?$/;
const V1_ROUTE = /\/openai\/v1\/(chat\/completions|completions|embeddings)\/?$/;

const OPERATIONS: Record<string, Operation> = { 'chat/completions': 'chat', completions: 'completions', embeddings: 'embeddings' };

/** Matches the Azure OpenAI path wherever it sits under a prefix (`/inference/openai/deployments/…`). */
export function matchRoute(pathname: string): RouteMatch | undefined {
  const d = DEPLOYMENT_ROUTE.exec(pathname);
  if (d) return { operation: OPERATIONS[d[2]!]!, deployment: safeDecode(d[1]!) };
  const v1 = V1_ROUTE.exec(pathname);
  if (v1) return { operation: OPERATIONS[v1[1]!]! };
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function createMockModels(options: MockModelsOptions = {}): MockModels {
  const clock: ClockLike = options.clock ?? createClock();
  const region = options.region ?? DEFAULT_REGION;
  const seed = options.seed ?? 0;
  const configs: DeploymentConfig[] = (options.deployments ?? defaultDeployments()).map((d) => ({ ...d }));
  const deployments = new Map<string, ResolvedDeployment>();
  for (const config of configs) deployments.set(config.name, resolveDeployment(config, region));

  let requestCounter = 0;

  function findDeployment(name: string): ResolvedDeployment | undefined {
    const exact = deployments.get(name);
    if (exact) return exact;
    const lower = name.toLowerCase();
    for (const d of deployments.values()) if (d.name.toLowerCase() === lower) return d;
    return undefined;
  }

  function commonHeaders(request: Request, deployment: ResolvedDeployment | undefined): Headers {
    const random = createRandom(`${seed}:request:${requestCounter++}`);
    const requestId = randomUuid(random);
    const headers = new Headers({
      'apim-request-id': requestId,
      'x-request-id': randomUuid(random),
      'x-ms-client-request-id': request.headers.get('x-ms-client-request-id') ?? requestId,
      'x-ms-region': deployment?.region ?? region,
      'x-content-type-options': 'nosniff',
      'strict-transport-security': 'max-age=31536000; includeSubDomains; preload',
    });
    if (deployment) {
      const capacity = deployment.config.capacity ?? UNLIMITED_CAPACITY;
      headers.set('x-ms-deployment-name', deployment.name);
      headers.set('x-ratelimit-remaining-tokens', String(capacity * 1000));
      headers.set('x-ratelimit-remaining-requests', String(capacity * 6));
    }
    return headers;
  }

  function errorResponse(error: AzureOpenAIError, headers: Headers): Response {
    for (const [k, v] of Object.entries(error.headers)) headers.set(k, v);
    headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(error.body), { status: error.status, headers });
  }

  async function readJson(request: Request): Promise<unknown> {
    const text = await request.text();
    try {
      return JSON.parse(text);
    } catch {
      throw azureErrors.invalidJson(locateJsonError(text));
    }
  }

  async function handleChat(request: Request, body: unknown, deployment: ResolvedDeployment, headers: Headers): Promise<Response> {
    if (deployment.kind !== 'chat') throw azureErrors.operationNotSupported('chatCompletion', deployment.model);
    const chat = parseChatRequest(body);
    const generation = generateChat(chat, { model: deployment.model, version: deployment.info?.version, encoding: deployment.encoding, seed });
    const random = createRandom(`${seed}:chatcmpl:${requestCounter}`);
    const envelope = {
      id: `chatcmpl-${randomToken(random, 29)}`,
      created: Math.floor(clock.now() / 1000),
      model: generation.reportedModel,
      systemFingerprint: deployment.systemFingerprint,
    };
    headers.set('x-ms-rai-invoked', 'true');
    if (chat.stream) {
      const events = chatStreamEvents({
        envelope,
        choices: generation.choices,
        usage: generation.usage,
        includeUsage: chat.includeUsage,
        encoding: deployment.encoding,
        ttftMs: () => 0,
        perTokenMs: () => 0,
      });
      return sseResponse(events, headers, { sleep: (ms, signal) => clock.sleep(ms, signal), signal: request.signal });
    }
    headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(chatCompletionBody(envelope, generation.choices, generation.usage)), { status: 200, headers });
  }

  function handleEmbeddings(body: unknown, deployment: ResolvedDeployment, headers: Headers): Response {
    if (deployment.kind !== 'embeddings') throw azureErrors.operationNotSupported('embeddings', deployment.model);
    const parsed = parseEmbeddingsRequest(body);
    const shape = {
      model: deployment.model,
      nativeDimensions: deployment.info?.dimensions ?? 1536,
      flexibleDimensions: deployment.info?.flexibleDimensions ?? false,
      encoding: deployment.encoding,
      seed,
    };
    const json = embeddingsBody(parsed, shape, reportedModelName(deployment.model, deployment.info?.version));
    headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(json), { status: 200, headers });
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const route = matchRoute(url.pathname);
    let deployment: ResolvedDeployment | undefined;
    try {
      if (!route) throw azureErrors.resourceNotFound();
      if (request.method !== 'POST') throw azureErrors.methodNotAllowed(request.method);
      const body = await readJson(request);
      const name = route.deployment ?? modelFromBody(body);
      deployment = findDeployment(name);
      if (!deployment) throw azureErrors.deploymentNotFound();
      const headers = commonHeaders(request, deployment);
      if (route.operation === 'chat') return await handleChat(request, body, deployment, headers);
      if (route.operation === 'embeddings') return handleEmbeddings(body, deployment, headers);
      throw azureErrors.resourceNotFound();
    } catch (error) {
      if (error instanceof AzureOpenAIError) return errorResponse(error, commonHeaders(request, deployment));
      throw error;
    }
  }

  return {
    handle,
    reset() {
      requestCounter = 0;
    },
    get deployments() {
      return configs;
    },
  };
}

function modelFromBody(body: unknown): string {
  const model = body && typeof body === 'object' ? (body as Record<string, unknown>).model : undefined;
  if (typeof model !== 'string' || model.length === 0) throw azureErrors.missingParameter('model');
  return model;
}

function resolveDeployment(config: DeploymentConfig, defaultRegion: string): ResolvedDeployment {
  const info = lookupModel(config.model);
  const random = createRandom(`fingerprint:${config.model}:${config.version ?? info?.version ?? ''}`);
  return {
    config,
    name: config.name,
    model: config.model,
    info: info && config.version ? { ...info, version: config.version } : info,
    kind: config.kind ?? info?.kind ?? 'chat',
    encoding: config.encoding ?? info?.encoding ?? encodingForModel(config.model),
    region: config.region ?? defaultRegion,
    systemFingerprint: `fp_${randomHex(random, 10)}`,
  };
}

function sseResponse(events: readonly SseEvent[], headers: Headers, pacing: StreamPacing): Response {
  headers.set('content-type', 'text/event-stream; charset=utf-8');
  headers.set('cache-control', 'no-cache');
  headers.set('x-ms-stream', 'true');
  return new Response(sseStream(events, pacing), { status: 200, headers });
}
