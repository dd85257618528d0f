import { authenticationBasic } from './authentication-basic.js';
import { authenticationCertificate } from './authentication-certificate.js';
import { authenticationManagedIdentity } from './authentication-managed-identity.js';
import { azureOpenAIEmitTokenMetric } from './azure-openai-emit-token-metric.js';
import { azureOpenAITokenLimit } from './azure-openai-token-limit.js';
import { azureOpenAISemanticCacheLookup } from './azure-openai-semantic-cache-lookup.js';
import { azureOpenAISemanticCacheStore } from './azure-openai-semantic-cache-store.js';
import { cacheLookup } from './cache-lookup.js';
import { cacheLookupValue } from './cache-lookup-value.js';
import { cacheRemoveValue } from './cache-remove-value.js';
import { cacheStore } from './cache-store.js';
import { cacheStoreValue } from './cache-store-value.js';
import { checkHeader } from './check-header.js';
import { choose } from './choose.js';
import { cors } from './cors.js';
import { crossDomain } from './cross-domain.js';
import type { PolicyDefinition } from './define.js';
import { emitMetric } from './emit-metric.js';
import { findAndReplace } from './find-and-replace.js';
import { forwardRequest } from './forward-request.js';
import { jsonp } from './jsonp.js';
import { jsonToXml } from './json-to-xml.js';
import { getAuthorizationContext } from './get-authorization-context.js';
import { includeFragment } from './include-fragment.js';
import { limitConcurrency } from './limit-concurrency.js';
import { logToEventhub } from './log-to-eventhub.js';
import { sendOneWayRequest } from './send-one-way-request.js';
import { sendRequest } from './send-request.js';
import { invokeDaprBinding } from './invoke-dapr-binding.js';
import { ipFilter } from './ip-filter.js';
import { llmEmitTokenMetric } from './llm-emit-token-metric.js';
import { llmTokenLimit } from './llm-token-limit.js';
import { llmContentSafety } from './llm-content-safety.js';
import { llmSemanticCacheLookup } from './llm-semantic-cache-lookup.js';
import { llmSemanticCacheStore } from './llm-semantic-cache-store.js';
import { mockResponse } from './mock-response.js';
import { publishToDapr } from './publish-to-dapr.js';
import { proxy } from './proxy.js';
import { quota } from './quota.js';
import { quotaByKey } from './quota-by-key.js';
import { redirectContentUrls } from './redirect-content-urls.js';
import { rateLimit } from './rate-limit.js';
import { rateLimitByKey } from './rate-limit-by-key.js';
import { retry } from './retry.js';
import { returnResponse } from './return-response.js';
import { rewriteUri } from './rewrite-uri.js';
import { sendServiceBusMessage } from './send-service-bus-message.js';
import { setBackendService } from './set-backend-service.js';
import { setBody } from './set-body.js';
import { setHeader } from './set-header.js';
import { setMethod } from './set-method.js';
import { setQueryParameter } from './set-query-parameter.js';
import { setStatus } from './set-status.js';
import { setVariable } from './set-variable.js';
import { trace } from './trace.js';
import { wait } from './wait.js';
import { validateAzureAdToken } from './validate-azure-ad-token.js';
import { validateJwt } from './validate-jwt.js';
import { validateClientCertificate } from './validate-client-certificate.js';
import { validateContent } from './validate-content.js';
import { validateHeaders } from './validate-headers.js';
import { validateParameters } from './validate-parameters.js';
import { validateStatusCode } from './validate-status-code.js';
import { xmlToJson } from './xml-to-json.js';
import { xslTransform } from './xsl-transform.js';

/** Every emulated policy, by XML element name. The support matrix in the README is generated from this table. */
export const POLICY_DEFINITIONS: readonly PolicyDefinition[] = [
  authenticationBasic,
  authenticationCertificate,
  authenticationManagedIdentity,
  azureOpenAIEmitTokenMetric,
  azureOpenAITokenLimit,
  azureOpenAISemanticCacheLookup,
  azureOpenAISemanticCacheStore,
  cacheLookup,
  cacheLookupValue,
  cacheRemoveValue,
  cacheStore,
  cacheStoreValue,
  checkHeader,
  choose,
  cors,
  crossDomain,
  emitMetric,
  findAndReplace,
  forwardRequest,
  jsonp,
  jsonToXml,
  getAuthorizationContext,
  includeFragment,
  limitConcurrency,
  logToEventhub,
  sendOneWayRequest,
  sendRequest,
  invokeDaprBinding,
  ipFilter,
  llmEmitTokenMetric,
  llmTokenLimit,
  llmContentSafety,
  llmSemanticCacheLookup,
  llmSemanticCacheStore,
  mockResponse,
  publishToDapr,
  proxy,
  quota,
  quotaByKey,
  redirectContentUrls,
  rateLimit,
  rateLimitByKey,
  retry,
  returnResponse,
  rewriteUri,
  sendServiceBusMessage,
  setBackendService,
  setBody,
  setHeader,
  setMethod,
  setQueryParameter,
  setStatus,
  setVariable,
  trace,
  wait,
  validateAzureAdToken,
  validateJwt,
  validateClientCertificate,
  validateContent,
  validateHeaders,
  validateParameters,
  validateStatusCode,
  xmlToJson,
  xslTransform,
];

const BY_NAME = new Map(POLICY_DEFINITIONS.map((d) => [d.name, d]));

export function getPolicyDefinition(name: string): PolicyDefinition | undefined {
  return BY_NAME.get(name);
}
