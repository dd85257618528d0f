import {
  CsDateTime, HeaderBag, JArray, JObject, MessageBody, StringDictionary, UrlInfo, VariableBag,
} from '../../../policy-engine/expressions/index.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** An APIM IResponse-shaped host object (send-request results stored in variables). */
export function fakeResponse(statusCode: number, body: string): Record<string, unknown> {
  return { StatusCode: statusCode, StatusReason: 'OK', Headers: new HeaderBag(), Body: new MessageBody(bytes(body), 'application/json') };
}

export const NOW = Date.UTC(2024, 4, 17, 13, 45, 30, 250);

export interface FakeContextOptions {
  product?: Record<string, unknown> | null;
  requestBody?: string | null;
  response?: Record<string, unknown> | null;
  variables?: Record<string, unknown>;
  headers?: Record<string, string | string[]>;
}

/** A `context` built from the host classes, shaped like the one the gateway builds (policies.md §3.3). */
export function fakeContext(options: FakeContextOptions = {}): Record<string, unknown> {
  const jwt = { Claims: new StringDictionary({ email: ['alice@contoso.com'], oid: ['oid-42'], name: ['Alice'] }) };
  const variables = new VariableBag(
    new Map<string, unknown>(
      Object.entries({
        'managed-id-access-token': 'mi-token',
        'foundry-token': 'foundry-token',
        'aml-access-token': 'aml-token',
        graphToken: 'graph-token',
        'auth-context': { AccessToken: 'auth-token' },
        'jwt-token': jwt,
        jwt,
        now: new CsDateTime(NOW, 'Utc'),
        listBackends: JArray.Parse('[{"name":"east"},{"name":"west"}]'),
        backendIndex: 1,
        remainingBackends: '2',
        safetyResponse: fakeResponse(200, '{"userPromptAnalysis":{"attackDetected":false}}'),
        thresholdExceededCategory: '',
        SubscriptionKey: 'sub-key',
        developerName: 'alice',
        model: 'gpt-4o',
        oid: 'oid-42',
        inGroup: true,
        grp: fakeResponse(200, '{"value":[{"id":"group-1"}]}'),
        decryptedSessionKey: 'session-1',
        client_id: 'client-1',
        mcpConfirmConsentCode: 'code-1',
        cosmosAccessToken: 'cosmos-token',
        generate_403_response: 'false',
        is_client_registered: false,
        csrf_token_from_form: 'csrf-1',
        cosmosClientResponse: fakeResponse(200, '{}'),
        has_approval_cookie: true,
        clientInfoJson: '{"client_id":"client-1"}',
        deployment: '',
        requestedModel: 'gpt-4.1-mini',
        reqBody: JObject.Parse('{"model":"gpt-4.1","messages":[]}'),
        outputResponseId: 'resp_out',
        responseId: 'resp_1',
        userId: 'user-1',
        responseBody: '{"id":"resp_1"}',
        isStream: 'TRUE',
        ...options.variables,
      }),
    ),
  );
  const url = new URL('https://apim-xyz.azure-api.net/inference/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21&state=s1&scope=a&scope=b');
  const requestBody = options.requestBody === undefined ? '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}' : options.requestBody;
  return {
    Api: { Id: 'inference-api', Name: 'Inference API', Path: 'inference', Version: null, Revision: '1', IsCurrentRevision: true },
    Deployment: { GatewayId: 'managed', Region: 'West US', ServiceName: 'apim-xyz' },
    Operation: { Id: 'chat-completions', Method: 'POST', Name: 'Chat completions', UrlTemplate: '/deployments/{deployment-id}/chat/completions' },
    Product: options.product === undefined ? { Id: 'gold', Name: 'Gold' } : options.product,
    Subscription: { Id: 'sub-1', Name: 'Alice subscription', Key: 'key-1', PrimaryKey: 'key-1', SecondaryKey: 'key-2' },
    User: null,
    LastError: null,
    RequestId: '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
    Timestamp: new Date(NOW),
    Tracing: false,
    Trace(): void {},
    Variables: variables,
    Request: {
      Headers: HeaderBag.fromHeaders(options.headers ?? { 'X-User-Id': 'alice', 'agent-id': 'agent-7', Host: 'apim-xyz.azure-api.net', authorizationId: 'authz-1', providerId: 'entra', 'api-key': 'k-1', Accept: ['application/json', 'text/plain'] }),
      IpAddress: '203.0.113.7',
      Method: 'POST',
      Url: new UrlInfo(url),
      OriginalUrl: new UrlInfo(url),
      MatchedParameters: new StringDictionary({ 'deployment-id': 'gpt-4o' }),
      Body: requestBody === null ? null : new MessageBody(bytes(requestBody), 'application/json'),
      Certificate: null,
    },
    Response: options.response === undefined
      ? { StatusCode: 429, StatusReason: 'Too Many Requests', Headers: HeaderBag.fromHeaders({ 'x-ms-region': 'swedencentral' }), Body: new MessageBody(bytes('{"id":"resp_1"}')) }
      : options.response,
  };
}
