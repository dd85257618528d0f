/**
 * Azure OpenAI error responses, one factory method per error (in the style of Azurite's
 * StorageErrorFactory). Handlers throw an `AzureOpenAIError`; the core renders it.
 */

export interface AzureErrorBody {
  error: {
    code: string | null;
    message: string;
    param?: string | null;
    type?: string | null;
    innererror?: Record<string, unknown>;
  };
}

/** An Azure-shaped HTTP error: status, JSON body and extra headers. */
export class AzureOpenAIError extends Error {
  readonly status: number;
  readonly body: AzureErrorBody;
  readonly headers: Record<string, string>;

  constructor(status: number, body: AzureErrorBody, headers: Record<string, string> = {}) {
    super(body.error.message);
    this.name = 'AzureOpenAIError';
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/**
 * Thrown (rejected) by `handle` for an injected connection reset: there is no HTTP response.
 * The HTTP server destroys the socket; an in-process caller should map it to a connection failure.
 */
export class MockConnectionError extends Error {
  readonly code = 'ECONNRESET';
  constructor(message = MOCK_CONNECTION_RESET) {
    super(message);
    this.name = 'MockConnectionError';
  }
}

export const MOCK_CONNECTION_RESET = 'Mock model backend reset the connection (injected fault).';
export const DEPLOYMENT_NOT_FOUND =
  'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.';
export const RESOURCE_NOT_FOUND = 'Resource not found';
export const INTERNAL_SERVER_ERROR = 'The server had an error while processing your request. Sorry about that!';
export const SERVICE_UNAVAILABLE = 'The service is temporarily unable to process your request. Please try again later.';
export const QUOTA_INCREASE_URL = 'https://aka.ms/oai/quotaincrease';

/** Azure operation ids as they appear in 429 messages. */
export type OperationId =
  | 'ChatCompletions_Create'
  | 'Completions_Create'
  | 'Embeddings_Create'
  | 'Responses_Create';

export const azureErrors = {
  deploymentNotFound(): AzureOpenAIError {
    return new AzureOpenAIError(404, { error: { code: 'DeploymentNotFound', message: DEPLOYMENT_NOT_FOUND } });
  },
  resourceNotFound(): AzureOpenAIError {
    return new AzureOpenAIError(404, { error: { code: '404', message: RESOURCE_NOT_FOUND } });
  },
  methodNotAllowed(method: string): AzureOpenAIError {
    return new AzureOpenAIError(405, { error: { code: 'MethodNotAllowed', message: `The HTTP method '${method}' is not supported for this operation.` } });
  },
  /** 400 for a body that is not JSON, with where it stops being valid. */
  invalidJson(position?: { offset: number; line: number; column: number; expected: string }): AzureOpenAIError {
    const where = position ? `: expected ${position.expected} at line ${position.line}, column ${position.column} (offset ${position.offset})` : '';
    return new AzureOpenAIError(400, {
      error: {
        code: 'BadRequest',
        message: `We could not parse the JSON body of your request${where}. The API expects a JSON payload.`,
        param: null,
        type: 'invalid_request_error',
        ...(position ? { innererror: { code: 'InvalidJson', position } } : {}),
      },
    });
  },
  /** 400 for a missing or ill-typed parameter; `param` is the JSON path of the offending value. */
  badRequest(message: string, param: string | null): AzureOpenAIError {
    return new AzureOpenAIError(400, { error: { code: 'BadRequest', message, param, type: 'invalid_request_error' } });
  },
  /** Azure OpenAI's 400 for a prompt (plus max_tokens) longer than the model's context window. */
  contextLengthExceeded(window: number, promptTokens: number, maxTokens: number | undefined): AzureOpenAIError {
    const message =
      maxTokens === undefined
        ? `This model's maximum context length is ${window} tokens. However, your messages resulted in ${promptTokens} tokens. Please reduce the length of the messages.`
        : `This model's maximum context length is ${window} tokens. However, you requested ${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`;
    return new AzureOpenAIError(400, { error: { message, type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
  },
  missingParameter(param: string): AzureOpenAIError {
    return azureErrors.badRequest(`Missing required parameter: '${param}'.`, param);
  },
  invalidType(param: string, expected: string, got: unknown): AzureOpenAIError {
    return azureErrors.badRequest(`Invalid type for '${param}': expected ${expected}, but got ${describeType(got)} instead.`, param);
  },
  operationNotSupported(operation: string, model: string): AzureOpenAIError {
    return new AzureOpenAIError(400, {
      error: {
        code: 'OperationNotSupported',
        message: `The ${operation} operation does not work with the specified model, ${model}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.`,
      },
    });
  },
  /** Azure OpenAI's token/request rate-limit 429 (classic wording, which the SDKs and labs expect). */
  rateLimited(operation: OperationId, apiVersion: string, retryAfterMs: number, reason: 'tokens' | 'requests'): AzureOpenAIError {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    const what = reason === 'tokens' ? 'token rate limit' : 'call rate limit';
    return new AzureOpenAIError(
      429,
      {
        error: {
          code: '429',
          message: `Requests to the ${operation} Operation under Azure OpenAI API version ${apiVersion} have exceeded ${what} of your current OpenAI S0 pricing tier. Please retry after ${seconds} seconds. Please go here: ${QUOTA_INCREASE_URL} if you would like to further increase the default rate limit.`,
        },
      },
      { 'retry-after': String(seconds), 'retry-after-ms': String(Math.max(1, Math.ceil(retryAfterMs))) },
    );
  },
  timeout(): AzureOpenAIError {
    return new AzureOpenAIError(408, { error: { code: 'Timeout', message: 'The operation was timeout.' } });
  },
  /** 400 for a Responses `previous_response_id` that is not stored. */
  previousResponseNotFound(id: string): AzureOpenAIError {
    return azureErrors.badRequest(`Previous response with id '${id}' not found.`, 'previous_response_id');
  },
  responseNotFound(id: string): AzureOpenAIError {
    return new AzureOpenAIError(404, { error: { code: 'NotFound', message: `Response with id '${id}' not found.`, param: null, type: 'invalid_request_error' } });
  },
  modelNotFound(id: string): AzureOpenAIError {
    return new AzureOpenAIError(404, { error: { code: 'ModelNotFound', message: `The model '${id}' does not exist.` } });
  },
  /** A scripted error status without a body: Azure's wording for that status. */
  forStatus(status: number, retryAfterMs?: number): AzureOpenAIError {
    if (status === 404) return azureErrors.deploymentNotFound();
    if (status === 400) return azureErrors.badRequest('The request was invalid.', null);
    if (status === 401) return new AzureOpenAIError(401, { error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.' } });
    if (status === 408) return azureErrors.timeout();
    return azureErrors.status(status, retryAfterMs ?? (status === 429 || status === 503 ? 1000 : undefined));
  },
  /** An injected status fault (429/500/503…), with Retry-After when given. */
  status(status: number, retryAfterMs?: number): AzureOpenAIError {
    const headers: Record<string, string> = {};
    if (retryAfterMs !== undefined) {
      headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
      headers['retry-after-ms'] = String(Math.max(1, Math.ceil(retryAfterMs)));
    }
    if (status === 429) {
      const seconds = headers['retry-after'] ?? '1';
      return new AzureOpenAIError(429, { error: { code: '429', message: `Rate limit is exceeded. Try again in ${seconds} seconds.` } }, headers);
    }
    const message = status === 503 ? SERVICE_UNAVAILABLE : status >= 500 ? INTERNAL_SERVER_ERROR : `Request failed with status ${status}.`;
    const code = status === 503 ? 'ServiceUnavailable' : status >= 500 ? 'InternalServerError' : String(status);
    return new AzureOpenAIError(status, { error: { code, message } }, headers);
  },
};

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (value === undefined) return 'nothing';
  return 'an object';
}
