import { ReturnResponseSignal } from '../../pipeline/last-error.js';
import type { EngineServices, RequestContext } from '../../pipeline/types.js';
import { definePolicy, type PolicyDefinition, type ValueSource } from '../define.js';
import { fakeManagedIdentityToken } from './managed-identity-token.js';
import { checkOncePerDefinition } from './request-limit.js';
import { toGatewayResponse, type CachedResponse } from './response-cache.js';

/**
 * The semantic cache behind `azure-openai-semantic-cache-lookup` / `-store` and `llm-semantic-cache-lookup` /
 * `-store` (one implementation, four element names, as APIM documents them with the same attributes).
 *
 * Lookup (inbound): the prompt's text (chat `messages`, legacy `prompt`, Responses `input`; system messages
 * dropped when ignore-system-messages is true) is embedded by the embeddings backend (`embeddings-backend-id`,
 * a backend whose URL is the full embeddings endpoint, called with APIM's managed identity as
 * `embeddings-backend-auth="system-assigned"` says). Among the unexpired entries of the same partition (the API
 * and the `vary-by` values concatenated), the nearest by cosine distance (1 − cosine similarity) is served when
 * its distance is at most `score-threshold` ("smaller values represent greater semantic similarity"): the
 * cached response is returned with no backend call and no outbound section. Otherwise the vector waits on the
 * request for the store.
 *
 * Store (outbound): after a miss, a 200 response (any response when `cache-response` is true, none when it is
 * false) with a buffered body is kept for `duration` seconds on the emulator clock. Nothing is stored after a
 * hit, for a request the lookup skipped, or for a streamed response.
 *
 * Skipped (no lookup, no store, no error), as "if the cache lookup fails, the API call … doesn't raise an
 * error": requests without prompt text, embeddings calls, streamed requests (`"stream": true`) [INF: the reference does not
 * describe streaming; a cached JSON body cannot answer an event stream], requests with more than
 * `max-message-count` messages, and any embeddings failure (written to the request's warnings).
 */

interface SemanticEntry {
  vector: Float32Array;
  response: CachedResponse;
  expiresAtMs: number;
}

interface PendingStore {
  partition: string;
  vector: Float32Array;
}

/** At most this many entries per engine; the oldest go first (Redis would evict under memory pressure). */
const MAX_ENTRIES = 10_000;
const EMBEDDINGS_TIMEOUT_MS = 30_000;
/** Sent when the client's request has no api-version (the embeddings backend is a dated Azure OpenAI endpoint). */
const DEFAULT_EMBEDDINGS_API_VERSION = '2024-02-01';
/** APIM's system-assigned identity calls Azure OpenAI for this resource. */
const COGNITIVE_SERVICES = 'https://cognitiveservices.azure.com';

export class SemanticCacheStore {
  private readonly partitions = new Map<string, SemanticEntry[]>();
  private size = 0;

  /** The nearest unexpired entry and its cosine distance (expired entries are dropped on the way). */
  nearest(partition: string, vector: Float32Array, now: number): { entry: SemanticEntry; distance: number } | undefined {
    const entries = this.partitions.get(partition);
    if (!entries) return undefined;
    let best: { entry: SemanticEntry; distance: number } | undefined;
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i]!;
      if (entry.expiresAtMs <= now) {
        entries.splice(i, 1);
        this.size--;
        continue;
      }
      const distance = 1 - cosine(vector, entry.vector);
      if (!best || distance < best.distance) best = { entry, distance };
    }
    if (entries.length === 0) this.partitions.delete(partition);
    return best;
  }

  add(partition: string, entry: SemanticEntry): void {
    let entries = this.partitions.get(partition);
    if (!entries) this.partitions.set(partition, (entries = []));
    entries.push(entry);
    this.size++;
    while (this.size > MAX_ENTRIES) {
      const [oldestKey, oldest] = this.partitions.entries().next().value as [string, SemanticEntry[]];
      oldest.shift();
      this.size--;
      if (oldest.length === 0) this.partitions.delete(oldestKey);
    }
  }

  get entryCount(): number {
    return this.size;
  }

  clear(): void {
    this.partitions.clear();
    this.size = 0;
  }
}

export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

const stores = new WeakMap<EngineServices, SemanticCacheStore>();
const pending = new WeakMap<RequestContext, PendingStore>();

/** The engine's semantic cache (one per engine, shared by every API; partitions keep APIs apart). */
export function semanticCacheFor(services: EngineServices): SemanticCacheStore {
  let store = stores.get(services);
  if (!store) stores.set(services, (store = new SemanticCacheStore()));
  return store;
}

interface PromptMessage {
  role: string;
  text: string;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (typeof part === 'string') return part;
        const p = part as { type?: unknown; text?: unknown } | null;
        return p && typeof p.text === 'string' ? p.text : '';
      })
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

/** An embeddings call carries `input` too, but it is not a prompt (the policies address completions). */
export function isEmbeddingsCall(ctx: RequestContext): boolean {
  return /\/embeddings\/?$/i.test(ctx.request.operationPath || ctx.request.url.pathname);
}

/** The prompt's messages: chat (or Anthropic) `messages`, Responses `input`, legacy `prompt`; undefined when none. */
export function promptMessages(body: unknown): PromptMessage[] | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  const fromList = (list: unknown[]): PromptMessage[] =>
    list.map((m) => {
      if (typeof m === 'string') return { role: 'user', text: m };
      const message = m as { role?: unknown; content?: unknown } | null;
      return { role: typeof message?.role === 'string' ? message.role : 'user', text: textOf(message?.content) };
    });
  // Anthropic Messages: the system prompt is a top-level `system` (a string or text blocks).
  const system = b.system === undefined ? [] : [{ role: 'system', text: textOf(b.system) }].filter((m) => m.text);
  if (Array.isArray(b.messages)) return [...system, ...fromList(b.messages)];
  if (typeof b.input === 'string') return [{ role: 'user', text: b.input }];
  if (Array.isArray(b.input)) return fromList(b.input);
  if (typeof b.prompt === 'string') return [{ role: 'user', text: b.prompt }];
  if (Array.isArray(b.prompt) && b.prompt.every((p) => typeof p === 'string')) return b.prompt.map((p) => ({ role: 'user', text: p as string }));
  return undefined;
}

async function embed(ctx: RequestContext, backendId: string, text: string): Promise<Float32Array | string> {
  const caller = ctx.services.backendCaller;
  if (!caller) return 'no backend caller is wired into this engine';
  const apiVersion = ctx.request.url.searchParams.get('api-version') ?? DEFAULT_EMBEDDINGS_API_VERSION;
  let response: Response;
  try {
    response = await caller.call({
      backendId,
      method: 'POST',
      path: '',
      query: { 'api-version': apiVersion },
      headers: { 'content-type': 'application/json', authorization: `Bearer ${fakeManagedIdentityToken(COGNITIVE_SERVICES, ctx.services.clock.now())}` },
      body: JSON.stringify({ input: text }),
      timeoutMs: EMBEDDINGS_TIMEOUT_MS,
    });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const raw = await response.text();
  if (response.status !== 200) return `the embeddings backend answered ${response.status}: ${raw.slice(0, 200)}`;
  try {
    const json = JSON.parse(raw) as { data?: Array<{ embedding?: unknown }> };
    const vector = json.data?.[0]?.embedding;
    if (!Array.isArray(vector) || vector.length === 0 || vector.some((x) => typeof x !== 'number')) return 'the embeddings response has no float vector in data[0].embedding';
    return Float32Array.from(vector as number[]);
  } catch {
    return 'the embeddings response is not JSON';
  }
}

/** `<…-semantic-cache-lookup score-threshold embeddings-backend-id embeddings-backend-auth ignore-system-messages max-message-count><vary-by>…` */
export function semanticCacheLookup(name: string): PolicyDefinition {
  return definePolicy({
    name,
    sections: ['inbound'],
    children: ['vary-by'],
    partial: 'the cache is in memory (no Redis); streamed requests bypass it; vectors come from the mock embeddings (shared words, not synonyms) or a real embeddings backend',
    attributes: {
      'score-threshold': { kind: 'number', required: true, min: 0, max: 1, expressions: false },
      'embeddings-backend-id': { kind: 'string', required: true, expressions: false },
      'embeddings-backend-auth': { kind: 'enum', values: ['system-assigned'], required: true, expressions: false },
      'ignore-system-messages': { kind: 'bool', default: false, expressions: false },
      'max-message-count': { kind: 'int', min: 1, expressions: false },
    },
    compile(node, env) {
      const threshold = env.attr(node, 'score-threshold', { kind: 'number', required: true, min: 0, max: 1, expressions: false });
      const backend = env.attr(node, 'embeddings-backend-id', { kind: 'string', required: true, expressions: false });
      const auth = env.attr(node, 'embeddings-backend-auth', { kind: 'enum', values: ['system-assigned'], required: true, expressions: false });
      const ignoreSystem = env.attr(node, 'ignore-system-messages', { kind: 'bool', default: false, expressions: false });
      const maxMessages = env.attr(node, 'max-message-count', { kind: 'int', min: 1, expressions: false });
      const varyBy: ValueSource<string>[] = [];
      for (const child of node.children) {
        if (child.name !== 'vary-by') continue;
        const value = env.text(child, { trim: true });
        if (value) varyBy.push(value);
      }
      // "This policy can only be used once in a policy section."
      if (!checkOncePerDefinition(node, env) || !threshold || !backend || !auth || !ignoreSystem) return undefined;
      const backendId = backend.constant!;
      if (!env.backendIds.has(backendId)) {
        const attr = node.attributes.find((a) => a.name === 'embeddings-backend-id')!;
        env.report(env.options.strict ? 'PolUnknownBackend' : 'PolUnknownBackendLoose', attr.valueSpan, [backendId]);
        if (env.options.strict) return undefined;
      }
      const scoreThreshold = threshold.constant!;
      const dropSystem = ignoreSystem.constant!;
      const maxCount = maxMessages?.constant;
      return {
        async run(ctx) {
          const body = ctx.requestJson() as Record<string, unknown> | undefined;
          if ((body && body.stream === true) || isEmbeddingsCall(ctx)) return;
          let messages = promptMessages(body);
          if (!messages) return;
          if (dropSystem) messages = messages.filter((m) => m.role !== 'system');
          if (maxCount !== undefined && messages.length > maxCount) return;
          const text = messages.map((m) => m.text).filter(Boolean).join('\n');
          if (!text) return;
          const partition = JSON.stringify([ctx.api.Id, ...varyBy.map((v) => v.get(ctx))]);
          const vector = await embed(ctx, backendId, text);
          if (typeof vector === 'string') {
            ctx.warnings.push(`${name}: the cache was skipped: ${vector}`);
            return;
          }
          const now = ctx.services.clock.now();
          const best = semanticCacheFor(ctx.services).nearest(partition, vector, now);
          if (best && best.distance <= scoreThreshold) {
            ctx.response = toGatewayResponse(best.entry.response);
            throw new ReturnResponseSignal();
          }
          pending.set(ctx, { partition, vector });
        },
      };
    },
  });
}

/** `<…-semantic-cache-store duration="seconds"/>` */
export function semanticCacheStore(name: string): PolicyDefinition {
  return definePolicy({
    name,
    sections: ['outbound'],
    partial: 'streamed responses are not stored',
    attributes: {
      duration: { kind: 'int', required: true, min: 1 },
      'cache-response': { kind: 'bool' },
    },
    compile(node, env) {
      const duration = env.attr(node, 'duration', { kind: 'int', required: true, min: 1 });
      const cacheResponse = env.attr(node, 'cache-response', { kind: 'bool' });
      if (!checkOncePerDefinition(node, env) || !duration) return undefined;
      // "If this attribute is omitted, only HTTP responses with the status code 200 OK are cached."
      const explicit = node.attributes.some((a) => a.name === 'cache-response');
      return {
        run(ctx) {
          const waiting = pending.get(ctx);
          const response = ctx.response;
          if (!waiting || !response || response.body.kind !== 'bytes') return;
          if (explicit ? !cacheResponse!.get(ctx) : response.statusCode !== 200) return;
          pending.delete(ctx);
          const now = ctx.services.clock.now();
          const headers = [...response.headers.entries()].map(([h, values]) => [h, [...values]] as [string, string[]]);
          semanticCacheFor(ctx.services).add(waiting.partition, {
            vector: waiting.vector,
            response: { statusCode: response.statusCode, statusReason: response.statusReason, headers, body: response.body.bytes },
            expiresAtMs: now + duration.get(ctx) * 1000,
          });
        },
      };
    },
  });
}
