/**
 * Every policy of Microsoft's API Management policy reference (learn.microsoft.com/azure/api-management/
 * api-management-policies), by its category there. The support matrix lists each one: emulated (it is in the
 * registry) or not, with the reason below. A test fails when a name here is neither emulated nor explained.
 */
export const POLICY_REFERENCE: Readonly<Record<string, readonly string[]>> = {
  'Rate limiting and quotas': ['azure-openai-token-limit', 'llm-token-limit', 'limit-concurrency', 'quota', 'quota-by-key', 'rate-limit', 'rate-limit-by-key'],
  'Authentication and authorization': [
    'authentication-basic',
    'authentication-certificate',
    'authentication-managed-identity',
    'check-header',
    'get-authorization-context',
    'ip-filter',
    'validate-azure-ad-token',
    'validate-client-certificate',
    'validate-jwt',
  ],
  'Content validation': ['validate-content', 'validate-graphql-request', 'validate-headers', 'validate-odata-request', 'validate-parameters', 'validate-status-code'],
  Routing: ['forward-request', 'proxy', 'rewrite-uri', 'set-backend-service'],
  'Content safety': ['llm-content-safety'],
  Caching: [
    'azure-openai-semantic-cache-lookup',
    'azure-openai-semantic-cache-store',
    'cache-lookup',
    'cache-lookup-value',
    'cache-remove-value',
    'cache-store',
    'cache-store-value',
    'llm-semantic-cache-lookup',
    'llm-semantic-cache-store',
  ],
  Transformation: [
    'find-and-replace',
    'json-to-xml',
    'jsonp',
    'mock-response',
    'redirect-content-urls',
    'return-response',
    'set-body',
    'set-header',
    'set-method',
    'set-query-parameter',
    'set-status',
    'set-variable',
    'xml-to-json',
    'xsl-transform',
  ],
  'Cross-domain': ['cors', 'cross-domain'],
  'Integration and external communication': ['invoke-dapr-binding', 'log-to-eventhub', 'publish-to-dapr', 'send-one-way-request', 'send-request', 'send-service-bus-message'],
  Logging: ['azure-openai-emit-token-metric', 'emit-metric', 'llm-emit-token-metric', 'trace'],
  'GraphQL resolvers': ['cosmosdb-data-source', 'http-data-source', 'publish-event', 'set-graphql-resolver', 'sql-data-source'],
  'Policy control and flow': ['choose', 'include-fragment', 'retry', 'wait'],
};

/** Why a reference policy is not emulated: shown in the matrix (a policy without an entry shows 'not emulated yet'). */
export const NOT_EMULATED: Readonly<Record<string, string>> = {
  'validate-graphql-request': 'GraphQL APIs are not emulated',
  'validate-odata-request': 'OData APIs are not emulated',
  'cosmosdb-data-source': 'a GraphQL resolver policy (resolvers run against an Azure Cosmos DB container, and GraphQL APIs are not emulated)',
  'http-data-source': 'a GraphQL resolver policy (it belongs to a resolver of a GraphQL API schema, and GraphQL APIs are not emulated)',
  'publish-event': 'it publishes to GraphQL subscriptions from inside an http-data-source resolver, and GraphQL APIs are not emulated',
  'set-graphql-resolver': 'GraphQL resolvers are not emulated (the policy is retired in APIM)',
  'sql-data-source': 'a GraphQL resolver policy (resolvers run against an Azure SQL database, and GraphQL APIs are not emulated)',
};

export const REFERENCE_POLICY_NAMES: readonly string[] = Object.values(POLICY_REFERENCE).flat();
