import type { Clock } from './clock.js';
import type { CounterStore } from './counters/store.js';
import { createMemoryCounterStore } from './counters/memory.js';
import type { Diagnostic } from './diagnostics.js';
import type { IdentityService } from './identity/types.js';
import { compilePolicyDocument, type CompiledDocument } from './pipeline/compile.js';
import { createRequestContext, type RequestContextInit } from './pipeline/context.js';
import { executePipeline } from './pipeline/execute.js';
import { composeScopes, type ComposedPipeline } from './pipeline/scopes.js';
import type { ConcurrencySlots, EventHubLog, OutboundHttp } from './pipeline/types.js';
import { createDiagnostic, PolicyLoadError } from './diagnostics.js';
import { createMemoryConcurrencySlots } from './policies/limit-concurrency.js';
import { createMemoryEventHubLog } from './policies/log-to-eventhub.js';
import { readPolicyXml } from './xml/index.js';
import { createMemoryServiceMessageLog } from './policies/shared/service-message-log.js';
import {
  DEFAULT_ENGINE_OPTIONS,
  type BackendCaller,
  type BackendDefinition,
  type CertificateStore,
  type EngineOptions,
  type EngineServices,
  type Forwarder,
  type GatewayResponse,
  type ServiceMessageLog,
  type MetricSink,
  type PolicyScope,
  type RequestContext,
  type TokenEstimator,
} from './pipeline/types.js';

/** APIM's default global policy: forward every request. */
export const DEFAULT_GLOBAL_POLICY = `<policies>
  <inbound />
  <backend>
    <forward-request />
  </backend>
  <outbound />
  <on-error />
</policies>`;

export interface PolicyEngineOptions {
  clock: Clock;
  forwarder: Forwarder;
  estimator: TokenEstimator;
  metrics?: MetricSink;
  counters?: CounterStore;
  backends?: Iterable<BackendDefinition>;
  namedValues?: Record<string, string>;
  gatewayId?: string;
  options?: Partial<EngineOptions>;
  /** Keys and credentials for validate-jwt, validate-azure-ad-token and get-authorization-context. */
  identity?: IdentityService;
  /** Where send-request and send-one-way-request go (absent: those policies fail with BackendConnectionFailure). */
  outbound?: OutboundHttp;
  /** limit-concurrency slots (default: in memory, per engine). */
  concurrency?: ConcurrencySlots;
  /** log-to-eventhub messages (default: in memory, per engine). */
  eventHub?: EventHubLog;
  /** Policy fragments by id (XML with a `<fragment>` root) for include-fragment. */
  fragments?: Record<string, string>;
  /** Calls to configured backends made by policies (semantic-cache embeddings, llm-content-safety). */
  backendCaller?: BackendCaller;
  /** Messages of send-service-bus-message, publish-to-dapr and invoke-dapr-binding (default: in memory, per engine). */
  messages?: ServiceMessageLog;
  /** Uploaded certificates (authentication-certificate, validate-client-certificate). */
  certificates?: CertificateStore;
}

export interface SetPolicyOptions {
  /** Name used in diagnostics (e.g. the file path). */
  name?: string;
  /** Plain-text placeholders replaced before parsing, e.g. { '{backend-id}': 'foundry1' }. */
  placeholders?: Record<string, string>;
}

export interface LoadedPolicy {
  xml: string;
  name: string;
  warnings: Diagnostic[];
}

export interface PipelineTarget {
  apiId: string;
  operationId: string;
  /** Product whose policies apply (null for API-scoped and all-access subscriptions). */
  productId: string | null;
}

export interface PolicyEngine {
  readonly services: EngineServices;
  /** Compiles and installs a scope's policy; throws PolicyLoadError (and keeps the previous one) on errors. */
  setPolicy(scope: PolicyScope, xml: string, options?: SetPolicyOptions): LoadedPolicy;
  /** Compiles without installing (throws PolicyLoadError on errors), e.g. to validate a batch before applying it. */
  validatePolicy(scope: PolicyScope, xml: string, options?: SetPolicyOptions): LoadedPolicy;
  removePolicy(scope: PolicyScope): boolean;
  getPolicy(scope: PolicyScope): LoadedPolicy | undefined;
  listPolicies(): Array<{ scope: PolicyScope; policy: LoadedPolicy }>;
  /** The composed pipeline (cached until a policy changes). */
  pipelineFor(target: PipelineTarget): ComposedPipeline;
  createContext(init: Omit<RequestContextInit, 'services'>): RequestContext;
  execute(pipeline: ComposedPipeline, ctx: RequestContext): Promise<GatewayResponse>;
  /** Clears counters (policies stay). */
  resetCounters(): Promise<void>;
  /**
   * Adds or replaces a policy fragment and compiles every installed policy again with it, all or nothing: throws
   * PolicyLoadError (the fragment itself, or the first policy that would no longer load) and changes nothing.
   * Returns the scopes whose policies were compiled again.
   */
  setFragment(id: string, xml: string): string[];
  /** Removes a fragment; throws PolicyLoadError (and keeps it) while an installed policy includes it. */
  removeFragment(id: string): boolean;
  getFragment(id: string): string | undefined;
  listFragments(): Array<{ id: string; xml: string }>;
}

export function scopeKey(scope: PolicyScope): string {
  switch (scope.kind) {
    case 'global':
      return 'global';
    case 'product':
      return `products/${scope.productId}`;
    case 'api':
      return `apis/${scope.apiId}`;
    case 'operation':
      return `apis/${scope.apiId}/operations/${scope.operationId}`;
  }
}

/** 'global', 'products/{id}', 'apis/{id}', 'apis/{id}/operations/{op}' → PolicyScope. */
export function parseScopePath(path: string): PolicyScope {
  const parts = path.replace(/^\/+|\/+$/g, '').split('/');
  if (parts.length === 1 && parts[0] === 'global') return { kind: 'global' };
  if (parts.length === 2 && parts[0] === 'products') return { kind: 'product', productId: parts[1]! };
  if (parts.length === 2 && parts[0] === 'apis') return { kind: 'api', apiId: parts[1]! };
  if (parts.length === 4 && parts[0] === 'apis' && parts[2] === 'operations') return { kind: 'operation', apiId: parts[1]!, operationId: parts[3]! };
  throw new Error(`'${path}' is not a policy scope; use global, products/{id}, apis/{id} or apis/{id}/operations/{id}`);
}

export function createPolicyEngine(init: PolicyEngineOptions): PolicyEngine {
  const options: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...init.options };
  const backends = new Map<string, BackendDefinition>();
  for (const b of init.backends ?? []) backends.set(b.id, b);
  const services: EngineServices = {
    clock: init.clock,
    counters: init.counters ?? createMemoryCounterStore(),
    forwarder: init.forwarder,
    estimator: init.estimator,
    metrics: init.metrics ?? { emit() {} },
    backends,
    gatewayId: init.gatewayId ?? 'managed',
    options,
    ...(init.identity ? { identity: init.identity } : {}),
    ...(init.outbound ? { outbound: init.outbound } : {}),
    concurrency: init.concurrency ?? createMemoryConcurrencySlots(),
    eventHub: init.eventHub ?? createMemoryEventHubLog(),
    ...(init.backendCaller ? { backendCaller: init.backendCaller } : {}),
    messages: init.messages ?? createMemoryServiceMessageLog(),
    ...(init.certificates ? { certificates: init.certificates } : {}),
  };
  const documents = new Map<string, { scope: PolicyScope; compiled: CompiledDocument; loaded: LoadedPolicy; opts: SetPolicyOptions }>();
  const fragments = new Map<string, string>(Object.entries(init.fragments ?? {}));
  const pipelines = new Map<string, ComposedPipeline>();
  const backendIds = new Set(backends.keys());

  const compile = (scope: PolicyScope, xml: string, opts: SetPolicyOptions = {}, withFragments: ReadonlyMap<string, string> = fragments) => {
    const name = opts.name ?? `${scopeKey(scope)}.xml`;
    const compiled = compilePolicyDocument(xml, {
      scope: scope.kind,
      name,
      namedValues: init.namedValues ?? {},
      placeholders: opts.placeholders ?? {},
      options,
      backendIds,
      fragments: withFragments,
    });
    return { scope, compiled, opts, loaded: { xml, name, warnings: compiled.diagnostics.filter((d) => d.severity === 'warning') } };
  };
  /** Every installed document compiled again with the `next` fragments; installed only when all of them load. */
  const recompileWith = (next: Map<string, string>): string[] => {
    const rebuilt = [...documents].map(([key, entry]) => [key, compile(entry.scope, entry.loaded.xml, entry.opts, next)] as const);
    fragments.clear();
    for (const [id, xml] of next) fragments.set(id, xml);
    for (const [key, entry] of rebuilt) documents.set(key, entry);
    pipelines.clear();
    return rebuilt.map(([key]) => key);
  };

  documents.set('global', compile({ kind: 'global' }, DEFAULT_GLOBAL_POLICY, { name: 'default-global.xml' }));

  const engine: PolicyEngine = {
    services,
    setPolicy(scope, xml, opts) {
      const entry = compile(scope, xml, opts);
      documents.set(scopeKey(scope), entry);
      pipelines.clear();
      return entry.loaded;
    },
    validatePolicy(scope, xml, opts) {
      return compile(scope, xml, opts).loaded;
    },
    removePolicy(scope) {
      const key = scopeKey(scope);
      const removed = documents.delete(key);
      if (key === 'global') documents.set('global', compile({ kind: 'global' }, DEFAULT_GLOBAL_POLICY, { name: 'default-global.xml' }));
      pipelines.clear();
      return removed;
    },
    getPolicy(scope) {
      return documents.get(scopeKey(scope))?.loaded;
    },
    listPolicies() {
      return [...documents.values()].map(({ scope, loaded }) => ({ scope, policy: loaded }));
    },
    pipelineFor(target) {
      const key = `${target.productId ?? ''}\u0000${target.apiId}\u0000${target.operationId}`;
      let pipeline = pipelines.get(key);
      if (!pipeline) {
        pipeline = composeScopes([
          documents.get('global')?.compiled,
          target.productId === null ? undefined : documents.get(`products/${target.productId}`)?.compiled,
          documents.get(`apis/${target.apiId}`)?.compiled,
          documents.get(`apis/${target.apiId}/operations/${target.operationId}`)?.compiled,
        ]);
        pipelines.set(key, pipeline);
      }
      return pipeline;
    },
    createContext(ctxInit) {
      // Object.assign, not `{ ...ctxInit, services }` (a spread followed by properties is slow on Node 20).
      return createRequestContext(Object.assign({}, ctxInit, { services }));
    },
    execute(pipeline, ctx) {
      return executePipeline(pipeline, ctx);
    },
    resetCounters() {
      return services.counters.clear();
    },
    setFragment(id, xml) {
      const name = `fragments/${id}`;
      const doc = readPolicyXml(xml, { name, namedValues: init.namedValues ?? {} });
      const problems = doc.diagnostics.filter((d) => d.severity === 'error' && (options.strict || d.code !== 'XML1003'));
      if (doc.root && doc.root.name !== 'fragment') problems.push(createDiagnostic('PolFragmentNotFragment', doc.root.nameSpan, [id, doc.root.name], name));
      if (problems.length > 0) throw new PolicyLoadError(problems, doc.source);
      const next = new Map(fragments);
      next.set(id, xml);
      return recompileWith(next);
    },
    removeFragment(id) {
      if (!fragments.has(id)) return false;
      const next = new Map(fragments);
      next.delete(id);
      recompileWith(next);
      return true;
    },
    getFragment(id) {
      return fragments.get(id);
    },
    listFragments() {
      return [...fragments].map(([id, xml]) => ({ id, xml }));
    },
  };
  return engine;
}
