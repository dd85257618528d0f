/**
 * @module policy-engine — APIM policy XML → policy document model → composed pipeline → executor.
 * Knows nothing about HTTP servers: the gateway supplies a Forwarder, a TokenEstimator and a MetricSink.
 */
export * from './clock.js';
export * from './diagnostics.js';
export * from './engine.js';
export * from './counters/store.js';
export { MemoryCounterStore, createMemoryCounterStore } from './counters/memory.js';
export * from './pipeline/types.js';
export * from './pipeline/last-error.js';
export { createRequestContext, parseJsonBody, type RequestContextInit } from './pipeline/context.js';
export { errorResponse, internalError } from './pipeline/execute.js';
export { reasonPhrase } from './pipeline/http-status.js';
export { observeUsage, usageFromJson, isEventStream } from './pipeline/usage.js';
export { BackendConnectionError, BackendTimeoutError } from './policies/forward-request.js';
export { OutboundConnectionError, OutboundHostNotAllowedError, SentResponse } from './policies/send-request.js';
export { createMemoryConcurrencySlots } from './policies/limit-concurrency.js';
export { createMemoryEventHubLog, EVENT_HUB_MAX_MESSAGE_BYTES } from './policies/log-to-eventhub.js';
export { POLICY_DEFINITIONS, getPolicyDefinition } from './policies/registry.js';
export { policySupportMatrix } from './policies/support-matrix.js';
export {
  tpmAdmits,
  quotaAdmits,
  quotaPeriodBounds,
  humanizeDuration,
  QUOTA_PERIODS,
  IMAGE_TOKEN_ESTIMATE,
  type QuotaPeriod,
} from './policies/shared/token-limit.js';
export { fakeManagedIdentityToken } from './policies/shared/managed-identity-token.js';
export { markCorsPreflight, isCorsPreflightRequest } from './policies/cors.js';
export { CROSS_DOMAIN_PATH, crossDomainFile } from './policies/cross-domain.js';
export { JwtToken, AuthorizationObject, type IdentityService, type OpenIdKeySource, type AuthorizationCredential } from './identity/types.js';
export { tracesOf, type TraceRecord as PolicyTraceRecord, type TraceSeverity } from './policies/shared/traces.js';
export { MemoryValueCache, type ValueCache } from './policies/shared/value-cache.js';
export { readPolicyXml } from './xml/index.js';
export { HeaderBag } from './expressions/index.js';
