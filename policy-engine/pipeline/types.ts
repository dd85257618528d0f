import type { X509Certificate } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { CounterStore } from '../counters/store.js';
import type { HeaderBag, VariableBag } from '../expressions/index.js';
import type { IdentityService } from '../identity/types.js';
import type { PipelineBudget } from './budget.js';
import type { LastError } from './last-error.js';

export type SectionName = 'inbound' | 'backend' | 'outbound' | 'on-error';
export const SECTION_NAMES: readonly SectionName[] = ['inbound', 'backend', 'outbound', 'on-error'];

export type ScopeKind = 'global' | 'product' | 'api' | 'operation';

export type PolicyScope =
  | { kind: 'global' }
  | { kind: 'product'; productId: string }
  | { kind: 'api'; apiId: string }
  | { kind: 'operation'; apiId: string; operationId: string };

/** One executable policy at a position in a section. */
export interface PolicyStep {
  readonly policy: string;
  readonly id: string;
  readonly path: string;
  readonly scope: ScopeKind;
  readonly section: SectionName;
  run(ctx: RequestContext): void | Promise<void>;
}

export type ResponseBody =
  | { kind: 'empty' }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'stream'; stream: ReadableStream<Uint8Array> };

export interface GatewayResponse {
  statusCode: number;
  statusReason: string;
  headers: HeaderBag;
  body: ResponseBody;
}

export interface SubscriptionInfo {
  Id: string;
  Name: string;
  Key: string;
  PrimaryKey: string;
  SecondaryKey: string;
  CreatedDate?: Date;
  StartDate?: Date | null;
  EndDate?: Date | null;
}

export interface ApiInfo {
  Id: string;
  Name: string;
  Path: string;
  Revision: string;
  IsCurrentRevision: boolean;
  Version: string;
  ServiceUrl: string | null;
  SubscriptionKeyParameterNames: { Header: string; Query: string };
  /** The API's OpenAPI document for the validate-* policies (not part of the expression model). */
  readonly openApi?: Record<string, unknown>;
}

export interface OperationInfo {
  Id: string;
  Method: string;
  Name: string;
  UrlTemplate: string;
}

export interface ProductInfo {
  Id: string;
  Name: string;
  State: string;
  SubscriptionRequired: boolean;
  ApprovalRequired: boolean;
  SubscriptionLimit: number | null;
}

export interface UserInfo {
  Id: string;
  Email: string;
  FirstName: string;
  LastName: string;
}

export interface DeploymentInfo {
  GatewayId: string;
  Region: string;
  ServiceName: string;
  ServiceId: string;
}

/** Token usage of one model call, as charged by token limits and emitted as token metrics. */
export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cachedPromptTokens?: number;
  /** True when the counts were estimated (streaming without a usage chunk, or no usage in the response). */
  estimated: boolean;
  /** The model the backend reports (`model` in the response). */
  model?: string;
  /** The completion text (for the LLM log). */
  completionText?: string;
}

export interface UsageObservation {
  /** A server-sent-event stream. */
  streaming: boolean;
  /** Usage settles once the body has passed (a stream, or JSON forwarded with buffer-response="false"). */
  deferred: boolean;
  usage: Promise<LlmUsage | undefined>;
}

/** The request as the policy pipeline sees and changes it. */
export interface GatewayRequestState {
  method: string;
  /** The URL the client called (immutable: `context.Request.OriginalUrl`). */
  originalUrl: URL;
  /** The URL as rewritten so far (`context.Request.Url`). */
  url: URL;
  headers: HeaderBag;
  /** Buffered request body (null when none). */
  body: Uint8Array | null;
  /** Set when an expression consumed the body without preserveContent: the backend then receives no body. */
  bodyConsumed: boolean;
  ipAddress: string;
  matchedParameters: Record<string, string>;
  /** Path below the API path, e.g. `/deployments/gpt-4.1-mini/chat/completions` (sent to the backend). */
  operationPath: string;
  /** The client certificate presented on the gateway's HTTPS listener (`context.Request.Certificate`); absent over HTTP. */
  certificate?: PresentedCertificate;
}

/** A client certificate the caller presented in the TLS handshake, with the chain it sent. */
export interface PresentedCertificate {
  x509: X509Certificate;
  /** Issuer certificates the client sent after the leaf (may be empty). */
  chain: readonly X509Certificate[];
}

export interface BackendTarget {
  backendId?: string;
  baseUrl?: string;
}

/** Per-request state shared by the executor and the policies. */
export interface RequestContext {
  readonly requestId: string;
  readonly timestamp: number;
  readonly services: EngineServices;
  request: GatewayRequestState;
  response: GatewayResponse | undefined;
  readonly variables: VariableBag;
  subscription: SubscriptionInfo | null;
  api: ApiInfo;
  operation: OperationInfo;
  product: ProductInfo | null;
  user: UserInfo | null;
  deployment: DeploymentInfo;
  lastError: LastError | null;
  backend: BackendTarget;
  /** Set by forward-request: the backend's response arrived. */
  forwarded: boolean;
  /** The body forward-request received (after usage observation), to cancel it if the client gets another one. */
  backendBody: ResponseBody | undefined;
  /** Token usage of the backend response (set by forward-request). For streams it settles when the stream ends. */
  llmUsage: UsageObservation | undefined;
  /** Set by authentication-certificate: the client certificate forward-request presents to the backend. */
  backendClientCertificate?: TlsClientCertificate;
  /** Set by proxy: the HTTP proxy forward-request goes through. */
  proxy?: ProxySettings;
  /** True while return-response children run: set-header/set-body/set-status then target the new response. */
  buildingResponse: boolean;
  /** The request body parsed as JSON (undefined when absent or not JSON), parsed once per body. */
  requestJson(): unknown;
  /** Prompt-token estimate for this request, computed at most once. */
  promptEstimate(): number;
  /** Callbacks run right after the backend responded (before outbound policies). */
  readonly afterBackend: Array<(ctx: RequestContext) => void | Promise<void>>;
  /** Callbacks run when the pipeline has finished, whatever path it took, before the response is sent
   * (APIM defers rate-limit increment conditions "to the end of the outbound pipeline"). */
  readonly atEnd: Array<() => void | Promise<void>>;
  /** Callbacks run when the pipeline ends without a backend response (reservations to give back). */
  readonly releaseIfNotForwarded: Array<() => Promise<void>>;
  /** Keys already charged by a token-limit policy in this request (one charge per key). */
  readonly chargedKeys: Set<string>;
  /** The C# `context` object given to policy expressions (built lazily). */
  expressionContext(): unknown;
  /** The step currently running (for LastError). */
  currentStep: PolicyStep | undefined;
  /** Every policy step run so far, in order and nested by depth: the request's policy trace (absent: not recorded). */
  readonly stepTrace?: StepTraceEntry[];
  /** The request's pipeline time budget (expression evaluation charges it; the executor checks it and yields). */
  readonly budget: PipelineBudget;
  /** Runs child steps (choose branches, retry bodies, return-response children) the way the executor runs a section. */
  runChildren(steps: readonly PolicyStep[]): Promise<void>;
  readonly warnings: string[];
}

/** One policy step as it ran. Times come from the engine clock (0 ms under a frozen virtual clock). */
export interface StepTraceEntry {
  policy: string;
  id: string;
  path: string;
  scope: ScopeKind;
  section: SectionName;
  /** 0 for a section's own steps, 1 for their children (choose branches, retry bodies), … */
  depth: number;
  startedAt: number;
  durationMs: number;
  /** How the step ended: normally, by an error (LastError), or by ending the pipeline (return-response). */
  outcome: 'ok' | 'error' | 'return-response';
}

/** Sends the request to a backend; wired by the gateway (in-process mock models or real HTTP). */
export interface Forwarder {
  forward(ctx: RequestContext, options: ForwardOptions): Promise<GatewayResponse>;
}

export interface ForwardOptions {
  timeoutMs: number;
  followRedirects: boolean;
  bufferResponse: boolean;
  signal?: AbortSignal;
}

/** Prompt/completion token estimation (the gateway wires the real tokenizer in). */
export interface TokenEstimator {
  estimatePromptTokens(body: unknown, request: { operationPath: string; deployment?: string }): number;
  estimateTextTokens(text: string, model?: string): number;
}

export interface MetricSample {
  timestamp: number;
  name: string;
  value: number;
  namespace: string;
  dimensions: Record<string, string>;
  estimated?: boolean;
  operationId?: string;
  operationName?: string;
  clientIp?: string;
}

/** Where emit-metric policies send samples (the App Insights store). */
export interface MetricSink {
  emit(sample: MetricSample): void;
}

export interface BackendDefinition {
  id: string;
  url: string;
  /** Extra information for the forwarder (e.g. managed identity resource, mock wiring). */
  [key: string]: unknown;
}

/** TLS client authentication material: PEM certificate and key, or a PKCS#12 (PFX) archive. */
export type TlsClientCertificate = { cert: string; key: string; passphrase?: string } | { pfx: Uint8Array; passphrase?: string };

/** `<proxy url username password>`: an HTTP proxy between the gateway and the backend (Basic authentication). */
export interface ProxySettings {
  url: string;
  username?: string;
  password?: string;
}

/** A certificate uploaded to the service (APIM's Certificates and CA certificates). */
export interface StoredCertificate {
  /** The certificate resource name (`certificate-id`). */
  id: string;
  /** SHA-1 thumbprint, upper-case hex without separators (as APIM shows it). */
  thumbprint: string;
  x509: X509Certificate;
  /** Present when the private key was uploaded too (a certificate authentication-certificate can present). */
  tls?: TlsClientCertificate;
  /** A CA certificate: trusted when validate-client-certificate checks a client certificate's chain. */
  ca: boolean;
}

/** The service's certificate store (config `certificates`). */
export interface CertificateStore {
  byId(id: string): StoredCertificate | undefined;
  byThumbprint(thumbprint: string): StoredCertificate | undefined;
  /** CA certificates trusted for client certificate validation. */
  trustedCas(): readonly StoredCertificate[];
}

export type ServiceMessageKind = 'service-bus' | 'dapr-pubsub' | 'dapr-binding';

/**
 * A message a policy handed to an Azure service the emulator stands in for: send-service-bus-message (queue or
 * topic), publish-to-dapr (Pub/Sub topic) and invoke-dapr-binding (output binding). Kept in memory by the emulator.
 */
export interface ServiceMessage {
  kind: ServiceMessageKind;
  timestamp: number;
  requestId: string;
  /** service-bus: the queue or topic; dapr-pubsub: `{pubsub}/{topic}`; dapr-binding: the binding name. */
  target: string;
  /** The message content as sent. */
  payload: string;
  /** Service Bus application properties, Dapr binding metadata or Pub/Sub query metadata. */
  properties: Record<string, string>;
  /** Everything else the policy named: namespace, client-id, operation, content-type… */
  details: Record<string, string>;
}

/** The messages of send-service-bus-message, publish-to-dapr and invoke-dapr-binding, newest last, bounded per kind. */
export interface ServiceMessageLog {
  append(message: ServiceMessage): void;
  /** Messages of one kind, oldest first, and how many older ones were dropped to keep the bound. */
  list(kind: ServiceMessageKind): { messages: ServiceMessage[]; dropped: number };
  clear(): void;
}

export interface EngineServices {
  clock: Clock;
  counters: CounterStore;
  forwarder: Forwarder;
  estimator: TokenEstimator;
  metrics: MetricSink;
  backends: ReadonlyMap<string, BackendDefinition>;
  /** Gateway identity used in counter keys and default dimensions. */
  gatewayId: string;
  options: EngineOptions;
  /** Signing keys, tenants and fake credentials for the token policies (validate-jwt…); wired by the emulator. */
  identity?: IdentityService;
  /** Where send-request and send-one-way-request go (wired by the emulator: configured backends and loopback only). */
  outbound?: OutboundHttp;
  /** limit-concurrency slots, shared by every policy of the engine (created by the engine when absent). */
  concurrency?: ConcurrencySlots;
  /** log-to-eventhub messages, kept in memory (created by the engine when absent). */
  eventHub?: EventHubLog;
  /** Calls to configured backends by id, on a policy's behalf (semantic-cache embeddings, llm-content-safety). */
  backendCaller?: BackendCaller;
  /** Messages of send-service-bus-message, publish-to-dapr and invoke-dapr-binding (created by the engine when absent). */
  messages?: ServiceMessageLog;
  /** Uploaded certificates for authentication-certificate and validate-client-certificate (default: none). */
  certificates?: CertificateStore;
}

/** One call to a configured backend made by a policy (not the request's own forward-request). */
export interface BackendCall {
  backendId: string;
  method: string;
  /** Appended to the backend's URL ('' = the URL itself, as for an embeddings backend holding the full endpoint). */
  path: string;
  /** Query parameters added to the URL's own. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  /** Milliseconds on the engine clock before the call fails with BackendTimeoutError. */
  timeoutMs: number;
}

/** Sends BackendCalls with the backend's credentials: mock backends in-process, others over HTTP (wired by the gateway). */
export interface BackendCaller {
  call(request: BackendCall): Promise<Response>;
}

/** A request built by send-request / send-one-way-request. */
export interface OutboundRequest {
  url: URL;
  method: string;
  headers: HeaderBag;
  body: Uint8Array | null;
}

/** Sends policy-made requests. Refuses (throws OutboundHostNotAllowedError) hosts it may not contact. */
export interface OutboundHttp {
  send(request: OutboundRequest, options: { signal: AbortSignal }): Promise<GatewayResponse>;
}

/** Counts of requests inside limit-concurrency, by key. */
export interface ConcurrencySlots {
  /** Takes a slot when fewer than `max` are taken; false when the key is full. */
  tryAcquire(key: string, max: number): boolean;
  release(key: string): void;
  /** Slots taken now for a key (0 when none). */
  count(key: string): number;
  clear(): void;
}

/** One log-to-eventhub message. */
export interface EventHubMessage {
  loggerId: string;
  /** Milliseconds on the engine clock. */
  timestamp: number;
  partitionId?: string;
  partitionKey?: string;
  message: string;
  /** True when the message was cut to the 200 KB event limit. */
  truncated: boolean;
  requestId: string;
}

export interface EventHubLog {
  append(message: EventHubMessage): void;
  /** Messages of one logger, oldest first, and how many older ones were dropped to keep the bound. */
  messages(loggerId: string): { messages: EventHubMessage[]; dropped: number };
  loggers(): string[];
  clear(): void;
}

export interface EngineOptions {
  /** Reject unknown policies at load (default true); false = skip them with a warning. */
  strict: boolean;
  /** Token-limit TPM algorithm: classic tiers use a sliding window, v2 tiers a token bucket. */
  tokenLimitAlgorithm: 'sliding-window' | 'token-bucket';
  /** Maximum custom dimensions on metric policies (APIM: 5). */
  maxCustomDimensions: number;
  /** First day of a Weekly token quota period (APIM does not document it). */
  weekStartsOn: 'monday' | 'sunday';
  /** Use the streamed usage chunk when present instead of estimating streamed completions. */
  useStreamedUsage: boolean;
  /**
   * What `azure-openai-token-limit` charges for a streamed call: `estimate` (the prompt estimate + the streamed
   * text's tokens, as its documentation says) or `usage` (the usage chunk, like llm-token-limit).
   */
  azureOpenAIStreamedCharge?: 'estimate' | 'usage';
  /** Wall milliseconds one expression evaluation may run (default 50; emulator guard, APIM documents none). */
  expressionTimeBudgetMs?: number;
  /**
   * Wall milliseconds all expression evaluations of one request may run together (default 1,000; emulator guard):
   * time awaiting a backend, send-request or a timer is not counted. On-error gets a fresh allowance of the same size.
   */
  pipelineTimeBudgetMs?: number;
  /** Nested lambda/delegate calls in one evaluation (default 200). */
  expressionMaxCallDepth?: number;
  /** Characters in one string an expression builds (default 4,194,304). */
  expressionMaxStringLength?: number;
  /** Items in one collection an expression builds (default 1,000,000). */
  expressionMaxCollectionSize?: number;
  /** The 403 message of a request llm-content-safety blocks (default "Request failed content safety check."). */
  contentSafetyBlockedMessage?: string;
  /** LastError.Reason of that 403 (APIM's is not documented; default ContentSafetyCheckFailed). */
  contentSafetyBlockedReason?: string;
  /** Monotonic milliseconds for the expression and pipeline time budgets (default performance.now; tests inject
   * one). Not the emulator clock: the virtual clock may be frozen, and the budgets bound CPU work, not emulated time. */
  expressionDeadlineClock?: () => number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  strict: true,
  tokenLimitAlgorithm: 'sliding-window',
  maxCustomDimensions: 5,
  weekStartsOn: 'monday',
  useStreamedUsage: true,
  azureOpenAIStreamedCharge: 'estimate',
};
