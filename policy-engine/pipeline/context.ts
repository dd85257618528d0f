import { CsDateTime, CsTimeSpan, HeaderBag, MessageBody, StringDictionary, UrlInfo, VariableBag } from '../expressions/index.js';
import { PipelineBudget } from './budget.js';
import { runSteps } from './execute.js';
import { x509Certificate2 } from '../policies/shared/x509.js';
import type { GatewayRequestState, RequestContext } from './types.js';

/** What the gateway knows when a request arrives; the rest of the RequestContext starts empty. */
export type RequestContextInit = Pick<RequestContext, 'requestId' | 'services' | 'subscription' | 'api' | 'operation' | 'product' | 'user' | 'deployment'> & {
  request: Omit<GatewayRequestState, 'bodyConsumed' | 'url'> & { url?: URL };
  /** When the request arrived (default: now on the services' clock); the gateway passes the instant its logs use. */
  timestamp?: number;
};

export function createRequestContext(init: RequestContextInit): RequestContext {
  const timestamp = init.timestamp ?? init.services.clock.now();
  let expressionContext: unknown;
  let promptEstimate: number | undefined;
  let requestBody: MessageBody | undefined;
  let parsedFor: Uint8Array | null | undefined;
  let parsed: unknown;
  const ctx: RequestContext = {
    requestId: init.requestId,
    timestamp,
    services: init.services,
    request: { ...init.request, url: init.request.url ?? new URL(init.request.originalUrl.href), bodyConsumed: false },
    response: undefined,
    variables: new VariableBag(),
    subscription: init.subscription,
    api: init.api,
    operation: init.operation,
    product: init.product,
    user: init.user,
    deployment: init.deployment,
    lastError: null,
    backend: {},
    forwarded: false,
    llmUsage: undefined,
    backendBody: undefined,
    buildingResponse: false,
    afterBackend: [],
    releaseIfNotForwarded: [],
    atEnd: [],
    chargedKeys: new Set(),
    currentStep: undefined,
    stepTrace: [],
    budget: new PipelineBudget(init.services.options.pipelineTimeBudgetMs, init.services.options.expressionDeadlineClock),
    runChildren: (steps) => runSteps(steps, ctx),
    warnings: [],
    requestJson() {
      if (parsedFor !== ctx.request.body) {
        parsedFor = ctx.request.body;
        parsed = parseJsonBody(ctx.request.body);
      }
      return parsed;
    },
    promptEstimate() {
      if (promptEstimate === undefined) {
        const body = ctx.requestJson();
        promptEstimate = body === undefined ? 0 : init.services.estimator.estimatePromptTokens(body, {
          operationPath: ctx.request.operationPath,
          deployment: ctx.request.matchedParameters['deployment-id'],
        });
      }
      return promptEstimate;
    },
    expressionContext() {
      if (expressionContext === undefined) expressionContext = buildExpressionContext(ctx, () => {
        requestBody ??= new MessageBody(ctx.request.body, ctx.request.headers.get('content-type')?.[0], () => {
          ctx.request.bodyConsumed = true;
        });
        return requestBody;
      });
      return expressionContext;
    },
  };
  return ctx;
}

/** The JSON request body, or undefined when it is absent or not JSON. */
export function parseJsonBody(body: Uint8Array | null): unknown {
  if (!body || body.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}

/** The read-only C# `context` object model (policies.md §3.3), reading live request state. */
function buildExpressionContext(ctx: RequestContext, requestBody: () => MessageBody): unknown {
  const clock = ctx.services.clock;
  const request = {
    get Body() {
      return ctx.request.body ? requestBody() : null;
    },
    get Headers() {
      return ctx.request.headers;
    },
    get IpAddress() {
      return ctx.request.ipAddress;
    },
    get MatchedParameters() {
      return new StringDictionary(ctx.request.matchedParameters);
    },
    get Method() {
      return ctx.request.method;
    },
    get OriginalUrl() {
      return new UrlInfo(ctx.request.originalUrl);
    },
    get Url() {
      return new UrlInfo(ctx.request.url);
    },
    get Certificate() {
      return ctx.request.certificate ? x509Certificate2(ctx.request.certificate.x509) : null;
    },
    PrivateEndpointConnection: null,
  };
  let responseBody: MessageBody | undefined;
  const response = {
    get StatusCode() {
      return ctx.response?.statusCode ?? 200;
    },
    get StatusReason() {
      return ctx.response?.statusReason ?? 'OK';
    },
    get Headers() {
      return ctx.response?.headers ?? new HeaderBag();
    },
    get Body() {
      const body = ctx.response?.body;
      if (!body || body.kind !== 'bytes') return null;
      responseBody ??= new MessageBody(body.bytes, ctx.response?.headers.get('content-type')?.[0]);
      return responseBody;
    },
  };
  return {
    get Api() {
      return ctx.api;
    },
    get Deployment() {
      return ctx.deployment;
    },
    get Elapsed() {
      return new CsTimeSpan(clock.now() - ctx.timestamp);
    },
    get LastError() {
      return ctx.lastError;
    },
    get Operation() {
      return ctx.operation;
    },
    get Product() {
      return ctx.product;
    },
    Request: request,
    get RequestId() {
      return ctx.requestId;
    },
    Response: response,
    get Subscription() {
      return ctx.subscription;
    },
    get Timestamp() {
      return new CsDateTime(ctx.timestamp);
    },
    Tracing: false,
    Trace(_message: string) {},
    get User() {
      return ctx.user;
    },
    get Variables() {
      return ctx.variables;
    },
  };
}
