import { afterEach, describe, expect, it } from 'vitest';
import { createRequestRecorder, storeMetricSink } from '../../../emulator/app-insights/recorder.js';
import { createSqliteTelemetryStore } from '../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../../emulator/app-insights/store.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const store = createSqliteTelemetryStore({ inMemory: true, identity: defaultAppInsightsIdentity() });
afterEach(() => store.clear());

describe('recorder', () => {
  it('storeMetricSink writes emitted samples to customMetrics with the gateway as cloud role', () => {
    storeMetricSink(store, 'apim-emulator').emit({ timestamp: NOW, name: 'Total Tokens', value: 15, namespace: 'llm', dimensions: { 'API ID': 'inference-api' }, estimated: true, clientIp: '10.0.0.1' });
    const r = store.query("customMetrics | project name, value, _MetricNamespace, _IsEstimated, cloud_RoleName, cloud_RoleInstance, client_IP, api = tostring(customDimensions['API ID'])", { nowMs: NOW });
    expect(r.tables[0]!.rows).toEqual([['Total Tokens', 15, 'llm', true, 'apim-emulator', 'apim-emulator', '10.0.0.1', 'inference-api']]);
  });

  it('a request that matched no API: one requests row and one ApiManagementGatewayLogs row, no LLM log', async () => {
    const record = createRequestRecorder(store, { serviceName: 'apim-emulator', region: 'UK South' });
    await record({ requestId: 'req-1', startedAt: NOW, durationMs: 3, method: 'GET', url: 'http://127.0.0.1:8080/nope?x=1', clientIp: '127.0.0.1', statusCode: 404 });
    expect(store.counts()).toMatchObject({ requests: 1, ApiManagementGatewayLogs: 1, ApiManagementGatewayLlmLog: 0 });
    const req = store.query("requests | project id, name, resultCode, success, duration, client_IP, region = tostring(customDimensions.Region), cloud_RoleName", { nowMs: NOW });
    expect(req.tables[0]!.rows).toEqual([['req-1', 'GET /nope', '404', false, 3, '127.0.0.1', 'UK South', 'apim-emulator']]);
    const log = store.query('ApiManagementGatewayLogs | project CorrelationId, Method, ResponseCode, IsRequestSuccess, CallerIpAddress, Region, ApiId, BackendTime', { nowMs: NOW });
    expect(log.tables[0]!.rows).toEqual([['req-1', 'GET', 404, false, '127.0.0.1', 'UK South', '', 0]]);
  });
});
