import { tracesOf, type LlmUsage, type MetricSink } from '../../policy-engine/index.js';
import type { CompletedRequest } from '../gateway/handler.js';
import type { TelemetryStore } from './store.js';

/** Emitted metric samples go straight into the store's customMetrics. */
export function storeMetricSink(store: TelemetryStore, roleName: string): MetricSink {
  return {
    emit(sample) {
      // Object.assign, not `{ ...sample, more }`: on Node 20 a spread followed by properties costs ~2-4 µs per object.
      store.writeMetric(Object.assign({}, sample, { cloudRoleName: roleName, cloudRoleInstance: roleName }));
    },
  };
}

/**
 * Writes one `requests` row and one ApiManagementGatewayLogs row per gateway request, plus an
 * ApiManagementGatewayLlmLog row when the backend reported (or the gateway estimated) token usage.
 */
export function createRequestRecorder(store: TelemetryStore, gateway: { serviceName: string; region: string }) {
  const resourceId = `/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/EMULATOR/PROVIDERS/MICROSOFT.APIMANAGEMENT/SERVICE/${gateway.serviceName.toUpperCase()}`;
  return async function recordRequest(r: CompletedRequest): Promise<void> {
    const ctx = r.ctx;
    // The URL is parsed once, and only when a row needs a part of it.
    let url: URL | undefined;
    const operationName = r.api && ctx ? `${ctx.operation.Method} /${r.api.path}${ctx.operation.UrlTemplate}` : `${r.method} ${(url ??= new URL(r.url)).pathname}`;
    const backendId = ctx?.backend.backendId ?? '';
    const success = r.statusCode < 400;
    store.writeRequest({
      timestamp: r.startedAt,
      id: r.requestId,
      name: operationName,
      url: r.url,
      resultCode: r.statusCode,
      durationMs: r.durationMs,
      success,
      clientIp: r.clientIp,
      operationId: r.requestId,
      cloudRoleName: gateway.serviceName,
      dimensions: {
        'API Name': r.api?.name ?? '',
        'API Type': r.api?.type ?? '',
        'Operation Name': ctx?.operation.Name ?? '',
        'Subscription Name': r.subscription?.name ?? '',
        'Backend ID': backendId,
        Region: gateway.region,
        'Service Name': gateway.serviceName,
        'Service Type': 'API Management',
        'HTTP Method': r.method,
        'Cache': 'None',
      },
    });
    const lastError = ctx?.lastError;
    store.writeGatewayLog({
      TimeGenerated: r.startedAt,
      CorrelationId: r.requestId,
      Method: r.method,
      Url: r.url,
      ResponseCode: r.statusCode,
      TotalTime: r.durationMs,
      BackendTime: ctx?.forwarded ? r.durationMs : 0,
      CacheTime: 0,
      ClientTime: 0,
      BackendId: backendId,
      BackendMethod: ctx?.forwarded ? r.method : '',
      BackendProtocol: ctx?.forwarded ? 'HTTP/1.1' : '',
      BackendUrl: '',
      BackendResponseCode: ctx?.forwarded ? (ctx.response?.statusCode ?? null) : null,
      ApiId: r.api?.id ?? '',
      ApiRevision: r.api?.revision ?? '',
      ApimSubscriptionId: r.subscription?.name ?? '',
      OperationId: r.operationId ?? '',
      OperationName: ctx?.operation.Name ?? '',
      ProductId: ctx?.product?.Id ?? '',
      UserId: ctx?.user?.Id ?? '',
      CallerIpAddress: r.clientIp,
      ClientProtocol: 'HTTP/1.1',
      LastErrorMessage: lastError?.Message ?? '',
      LastErrorReason: lastError?.Reason ?? '',
      LastErrorScope: lastError?.Scope ?? '',
      LastErrorSection: lastError?.Section ?? '',
      LastErrorSource: lastError?.Source ?? '',
      IsRequestSuccess: success,
      TraceRecords: ctx ? tracesOf(ctx).map((t) => ({ source: t.source, severity: t.severity, message: t.message, metadata: t.metadata })) : [],
      Errors: lastError ? [{ Source: lastError.Source, Reason: lastError.Reason, Message: lastError.Message, Section: lastError.Section }] : [],
      Cache: 'none',
      Region: gateway.region,
      _ResourceId: resourceId,
    });

    // <trace> policies: App Insights traces, correlated by operation id (severity verbose 0, information 1, error 3).
    for (const t of ctx ? tracesOf(ctx) : []) {
      store.writeTrace({
        timestamp: t.timestamp,
        message: t.message,
        severityLevel: t.severity === 'verbose' ? 0 : t.severity === 'error' ? 3 : 1,
        operationId: r.requestId,
        operationName,
        clientIp: r.clientIp,
        cloudRoleName: gateway.serviceName,
        dimensions: { source: t.source, section: t.section, ...t.metadata },
      });
    }

    if (!ctx?.llmUsage) return;
    const usage: LlmUsage | undefined = await ctx.llmUsage.usage;
    if (!usage) return;
    const body = ctx.requestJson() as { messages?: unknown; model?: string; input?: unknown } | undefined;
    const deployment = ctx.request.matchedParameters['deployment-id'] ?? body?.model ?? '';
    store.writeLlmLog({
      TimeGenerated: r.startedAt,
      CorrelationId: r.requestId,
      DeploymentName: deployment,
      ModelName: usage.model ?? '',
      ApiVersion: (url ??= new URL(r.url)).searchParams.get('api-version') ?? '',
      PromptTokens: usage.promptTokens,
      CompletionTokens: usage.completionTokens,
      TotalTokens: usage.totalTokens,
      RequestId: r.requestId,
      RequestMessages: Array.isArray(body?.messages) ? body!.messages : typeof body?.input === 'string' ? [{ role: 'user', content: body.input }] : [],
      ResponseMessages: usage.completionText === undefined ? [] : [{ role: 'assistant', content: usage.completionText }],
      IsStreamCompletion: ctx.llmUsage.streaming,
      SequenceNumber: 0,
      OperationName: ctx.operation.Name,
      Region: gateway.region,
      _ResourceId: resourceId,
    });
  };
}
