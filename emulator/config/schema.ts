import type { CountersConfig } from '../counters-redis/cli.js';
import type { OtlpConfig } from '../metrics/otlp-cli.js';
/** The emulator's configuration (JSON or YAML file, a preset, or an object passed to createEmulator). */
export interface EmulatorConfig {
  gateway?: GatewayConfig;
  namedValues?: Record<string, string>;
  /** Policy fragments for include-fragment: id → XML with a `<fragment>` root (also PUT /_emulator/fragments/{id}). */
  fragments?: Record<string, string>;
  backends?: BackendConfig[];
  apis: ApiConfig[];
  products?: ProductConfig[];
  subscriptions?: SubscriptionConfig[];
  /** Global policy XML (default: APIM's `<forward-request/>` in backend). */
  globalPolicy?: string;
  /** Choices where APIM's behaviour is undocumented or tier-dependent (README "Token limits"). */
  policyEngine?: PolicyEngineConfig;
  /** The App Insights resource the emulator impersonates (well-known defaults; see README). */
  appInsights?: Partial<AppInsightsConfig>;
  /** Signing key, tenant and fake credentials for validate-jwt, validate-azure-ad-token and get-authorization-context. */
  identity?: IdentityConfig;
  /** Where token and rate counters live: in memory (default) or Redis shared by several gateways (README "Several gateways"). */
  counters?: CountersConfig;
  /**
   * Certificates uploaded to the service (APIM's Certificates and CA certificates): authentication-certificate
   * presents one with its key to backends; `ca` ones are trusted by validate-client-certificate (README "Certificates").
   */
  certificates?: CertificateConfig[];
  /** OTLP/HTTP push of the /metrics metrics (README "Prometheus and OpenTelemetry"); --otlp-endpoint wins. */
  otlp?: OtlpConfig;
}

export interface PolicyEngineConfig {
  /** Refuse unknown policies at load (default true; the CLI's --loose sets false). */
  strict?: boolean;
  /** TPM window: classic tiers use a sliding window (default), v2 tiers a token bucket. */
  tokenLimitAlgorithm?: 'sliding-window' | 'token-bucket';
  /** First day of a Weekly token quota (default monday; APIM does not document it). */
  weekStartsOn?: 'monday' | 'sunday';
  /** Charge streamed responses by their final usage chunk when present (default true) instead of estimating. */
  useStreamedUsage?: boolean;
  /** What azure-openai-token-limit charges a streamed call: 'estimate' (default, as documented) or 'usage'. */
  azureOpenAIStreamedCharge?: 'estimate' | 'usage';
  /** Custom dimensions allowed on metric policies (default 5; older tiers allowed 10). */
  maxCustomDimensions?: number;
  /** The 403 message of a request llm-content-safety blocks (default "Request failed content safety check."). */
  contentSafetyBlockedMessage?: string;
  /** Its LastError.Reason (APIM does not document one; default ContentSafetyCheckFailed). */
  contentSafetyBlockedReason?: string;
  /** Wall milliseconds one policy expression evaluation may run (default 50; emulator guard). */
  expressionTimeBudgetMs?: number;
  /** Wall milliseconds all policy expression evaluations of one request may run together; time awaiting a backend,
   * send-request or a timer does not count (default 1,000; emulator guard; on-error gets a fresh allowance). */
  pipelineTimeBudgetMs?: number;
  /** Nested lambda/delegate calls in one expression evaluation (default 200). */
  expressionMaxCallDepth?: number;
  /** Characters in one string an expression builds (default 4,194,304). */
  expressionMaxStringLength?: number;
  /** Items in one collection an expression builds (default 1,000,000). */
  expressionMaxCollectionSize?: number;
}

export interface CertificateConfig {
  /** The certificate's resource name (`certificate-id` in policies). */
  id: string;
  /** PEM certificate text, or `certFile` a path to one. */
  cert?: string;
  certFile?: string;
  /** PEM private key text, or `keyFile` a path to one: needed to present the certificate to a backend. */
  key?: string;
  keyFile?: string;
  /** Passphrase of an encrypted private key. */
  password?: string;
  /** A CA certificate: trusted for client certificates (validate-trust) and for backend server certificates. */
  ca?: boolean;
}

export interface GatewayConfig {
  /** APIM service name (context.Deployment.ServiceName); also used in URLs printed at start. */
  serviceName?: string;
  /** context.Deployment.Region, e.g. "UK South". */
  region?: string;
  /** context.Deployment.GatewayId ("managed" for managed gateways). */
  gatewayId?: string;
  /** Largest request body the gateway reads, in bytes (default 104,857,600); larger → 413 before any policy runs. */
  maxRequestBodyBytes?: number;
  /** Slow clients: how long a client may take to send the request headers, in ms (default 60,000, Node's). */
  headersTimeoutMs?: number;
  /** Slow clients: how long a client may take to send the whole request (headers and body), in ms (default 300,000). */
  requestTimeoutMs?: number;
  /**
   * Remove the subscription key (its header and query parameter) before the pipeline runs. Default false: APIM keeps
   * it, so policies can read it (the content-filtering lab forwards the caller's api-key) and it reaches the backend
   * unless a policy removes or overrides it.
   */
  stripSubscriptionKey?: boolean;
}

export interface BackendConfig {
  id: string;
  /** Backend base URL, e.g. https://foundry1-x.cognitiveservices.azure.com/openai (none for a pool). */
  url?: string;
  /**
   * Where the emulator connects instead when a send-request / send-one-way-request names this backend's host, e.g.
   * url https://graph.microsoft.com with connectTo http://127.0.0.1:9100 (a local stand-in): scheme, host and port
   * are replaced, the path and query kept. Policy requests only go to hosts a backend names, or to loopback.
   */
  connectTo?: string;
  /**
   * 'mock' = served in-process by the mock models (default when `deployments` is given); 'http' = real HTTP;
   * 'pool' (or ARM's 'Pool') = a load-balanced pool of other backends (`pool.services`);
   * 'content-safety' = an in-process Azure AI Content Safety (text:analyze, text:shieldPrompt) for llm-content-safety.
   */
  type?: 'mock' | 'http' | 'pool' | 'Pool' | 'content-safety';
  /** The classifier of a 'content-safety' backend (README "Content safety"); every field is optional. */
  contentSafety?: ContentSafetyBackendConfig;
  /** Members of a pool, as ARM's `properties.pool`: ids or '/backends/{id}'; lower priority first, weight within one. */
  pool?: { services: BackendPoolServiceConfig[] };
  /** As ARM's `properties.circuitBreaker` (durations ISO 8601, e.g. PT1M). */
  circuitBreaker?: { rules: CircuitBreakerRuleConfig[] };
  /** Model deployments served by a mock backend. */
  deployments?: ModelDeploymentConfig[];
  /** Region the mock reports in x-ms-region. */
  region?: string;
  /** Mock latency: 'none' (default), 'realistic', or { ttftMs, perTokenMs } (ms or { mean, std }). */
  latency?: 'none' | 'realistic' | { ttftMs?: number | { mean: number; std?: number }; perTokenMs?: number | { mean: number; std?: number } };
  /** Backend credentials: a managed-identity resource adds `Authorization: Bearer <token>`. */
  credentials?: {
    managedIdentityResource?: string;
    headers?: Record<string, string>;
    /** Headers whose values come from environment variables, e.g. { "api-key": "AZURE_OPENAI_API_KEY" } (pass-through to a real model; never logged). */
    headersFromEnv?: Record<string, string>;
  };
}

export interface ContentSafetyBackendConfig {
  /** Terms per harm category (Hate, SelfHarm, Sexual, Violence) with the severity 0–7 each scores; replaces that category's built-in terms. */
  categories?: Partial<Record<'Hate' | 'SelfHarm' | 'Sexual' | 'Violence', Array<{ term: string; severity: number }>>>;
  /** Custom blocklists by name (the policy's `<blocklists><id>`): their terms, or `/pattern/` for a regular expression. */
  blocklists?: Record<string, string[]>;
  /** Phrases Prompt Shields reports as a user prompt attack (shield-prompt="true"); replaces the built-in list. */
  promptAttacks?: string[];
  /** Longest text analysed (default 10,000 characters, as Azure). */
  maxTextLength?: number;
}

export interface BackendPoolServiceConfig {
  /** 'foundry1' or ARM's '/backends/foundry1'. */
  id: string;
  /** 0–100, lower is tried first (default 0). */
  priority?: number;
  /** 0–100, share within a priority (default 1). */
  weight?: number;
}

export interface CircuitBreakerRuleConfig {
  name: string;
  failureCondition: {
    /** Failures within `interval` that trip the breaker. */
    count?: number;
    /** Or: failures as a percentage (1–100) of the calls within `interval`. */
    percentage?: number;
    /** ISO 8601 duration, e.g. PT1M. */
    interval: string;
    statusCodeRanges?: Array<{ min: number; max: number }>;
    /** Gateway-side failures that count: 'timeout', 'BackendConnectionFailure'; any other text counts both. */
    errorReasons?: string[];
  };
  /** ISO 8601 duration the breaker stays open. */
  tripDuration: string;
  /** Stay open for the backend's Retry-After instead, when it sends one. */
  acceptRetryAfter?: boolean;
}

export interface ModelDeploymentConfig {
  name: string;
  model: string;
  version?: string;
  /** Capacity units (1 = 1,000 TPM and 6 RPM), Azure semantics. */
  capacity?: number;
  /** Window over which RPM is enforced (Azure: 10 s, i.e. RPM/6 per 10 s). */
  requestWindowMs?: number;
  encoding?: 'o200k_base' | 'cl100k_base';
  /** Completion length in tokens: uniform in [min, max] (default 20–56), or normal(mean, sd) clipped to it. */
  completionTokens?: { min: number; max: number; mean?: number; sd?: number };
  /** Identical requests without a seed get different answers, like a sampling model (the lab presets set it). */
  variedRepeats?: boolean;
  /** Context window in tokens (default: the model's, e.g. 1,047,576 for gpt-4.1-mini); longer prompts → 400 context_length_exceeded. */
  contextWindow?: number;
  /** Responses served first, in order (restored by reset): { content?, usage?, status?, headers?, body? }. */
  script?: Array<{ content?: string; usage?: { prompt_tokens?: number; completion_tokens?: number }; status?: number; headers?: Record<string, string>; body?: unknown }>;
}

export type ApiType = 'azure-openai' | 'http';

export interface ApiConfig {
  id: string;
  name?: string;
  displayName?: string;
  /** Path below the gateway URL, e.g. "inference/openai". */
  path: string;
  type?: ApiType;
  /** Backend URL used when no set-backend-service applies. */
  serviceUrl?: string;
  subscriptionRequired?: boolean;
  subscriptionKeyParameterNames?: { header?: string; query?: string };
  operations?: OperationConfig[];
  /** Policy XML at API scope. */
  policy?: string;
  /** Plain-text placeholders replaced in this API's policies before parsing (the labs' `{backend-id}`). */
  policyPlaceholders?: Record<string, string>;
  /** The API's OpenAPI 3 document (JSON object), the schema the validate-* policies check messages against. */
  openApi?: Record<string, unknown>;
  version?: string;
  revision?: string;
}

export interface OperationConfig {
  id: string;
  name?: string;
  method: string;
  /** URL template below the API path, e.g. "/deployments/{deployment-id}/chat/completions". */
  urlTemplate: string;
  policy?: string;
}

export interface ProductConfig {
  id: string;
  name?: string;
  apis: string[];
  subscriptionRequired?: boolean;
  state?: 'published' | 'notPublished';
  policy?: string;
}

export type SubscriptionState = 'active' | 'suspended' | 'submitted' | 'rejected' | 'cancelled' | 'expired';

export interface SubscriptionConfig {
  name: string;
  displayName?: string;
  /** '/apis' (all APIs, default), '/apis/{apiId}' or '/products/{productId}'. */
  scope?: string;
  primaryKey?: string;
  secondaryKey?: string;
  state?: SubscriptionState;
  userId?: string;
}

export interface AppInsightsConfig {
  name: string;
  appId: string;
  workspaceId: string;
  instrumentationKey: string;
  subscriptionId: string;
  resourceGroup: string;
}

/** The emulator's stand-in for Entra ID (README "Tokens"). Every field is optional. */
export interface IdentityConfig {
  /** The emulator's tenant id: `tid` of minted tokens and the tenant that domain names map to (default e3e1a7e0-0000-4000-8000-000000000001). */
  tenantId?: string;
  /** `aud` of minted tokens when none is given (default api://ai-gateway-emulator). */
  defaultAudience?: string;
  /** Client application id (`azp` / `appid`) of minted tokens when none is given. */
  clientApplicationId?: string;
  /** A private RSA JWK to sign with (default: generated once per data directory, identity-signing-key.json). */
  signingKey?: import('jose').JWK;
  /** More openid-config URLs answered with the emulator's key: URL → the issuer tokens must carry. */
  openIdConfigurations?: Record<string, { issuer: string }>;
  /** Fake credential-manager connections for get-authorization-context (`*` matches any id). */
  authorizations?: Array<{ providerId: string; authorizationId: string; accessToken: string; claims?: Record<string, string> }>;
  /** Add `WWW-Authenticate: Bearer error="invalid_token"` to token-validation 401s (default false; APIM's header is not documented). */
  wwwAuthenticateOnFailure?: boolean;
}
