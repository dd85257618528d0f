import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durationMs } from '../../../emulator/app-insights/ingestion.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/index.js';

const IKEY = 'c3c3c3c3-0000-4000-8000-000000000003';
const tags = { 'ai.cloud.role': 'my-app', 'ai.operation.id': 'op-1', 'ai.location.ip': '10.0.0.1' };

describe('App Insights ingestion (/v2/track, /v2.1/track)', () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-metrics-emitting' });
  });
  afterAll(() => gw.close());

  it('stores what the OpenTelemetry-based SDK (3.x) sends: a JSON array to /v2.1/track', async () => {
    const body = [
      { ver: 1, name: 'Microsoft.ApplicationInsights.Metric', time: '2026-01-01T00:00:01.000Z', iKey: IKEY, tags, data: { baseType: 'MetricData', baseData: { ver: 2, metrics: [{ name: 'queue length', kind: 'Aggregation', value: 42, count: 1, min: 42, max: 42 }], properties: { queue: 'orders' } } } },
      { ver: 1, name: 'Microsoft.ApplicationInsights.Request', time: '2026-01-01T00:00:02.000Z', iKey: IKEY, tags, sampleRate: 50, data: { baseType: 'RequestData', baseData: { id: 'r1', name: 'GET /home', url: 'http://app/home', duration: '00:00:00.123', responseCode: '200', success: true, properties: { route: 'home' } } } },
      { ver: 1, name: 'Microsoft.ApplicationInsights.Message', time: '2026-01-01T00:00:03.000Z', iKey: IKEY, tags, data: { baseType: 'MessageData', baseData: { message: 'hello', severityLevel: 'Warning' } } },
      { ver: 1, name: 'Microsoft.ApplicationInsights.Event', time: '2026-01-01T00:00:04.000Z', iKey: IKEY, tags, data: { baseType: 'EventData', baseData: { name: 'signup', properties: { plan: 'gold' }, measurements: { seats: 3 } } } },
      { ver: 1, name: 'Microsoft.ApplicationInsights.RemoteDependency', time: '2026-01-01T00:00:05.000Z', iKey: IKEY, tags, data: { baseType: 'RemoteDependencyData', baseData: { id: 'd1', name: 'POST /chat', target: 'apim', type: 'HTTP', duration: '00:00:01.500', resultCode: '429', success: false } } },
    ];
    const res = await fetch(`${gw.url}/v2.1/track`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ itemsReceived: 5, itemsAccepted: 5, errors: [] });
    expect(await gw.query("customMetrics | where name == 'queue length' | project value, valueCount, queue = tostring(customDimensions.queue), cloud_RoleName, operation_Id, client_IP")).toEqual([
      { value: 42, valueCount: 1, queue: 'orders', cloud_RoleName: 'my-app', operation_Id: 'op-1', client_IP: '10.0.0.1' },
    ]);
    expect(await gw.query('requests | where id == "r1" | project name, duration, resultCode, success, itemCount')).toEqual([
      { name: 'GET /home', duration: 123, resultCode: '200', success: true, itemCount: 2 },
    ]);
    expect(await gw.query('traces | project message, severityLevel')).toEqual([{ message: 'hello', severityLevel: 2 }]);
    expect(await gw.query('customEvents | project name, plan = tostring(customDimensions.plan), seats = toint(customMeasurements.seats)')).toEqual([{ name: 'signup', plan: 'gold', seats: 3 }]);
    expect(await gw.query('dependencies | project name, target, duration, success')).toEqual([{ name: 'POST /chat', target: 'apim', duration: 1500, success: false }]);
  });

  it('accepts the classic SDK’s (2.x) gzip NDJSON on /v2/track with an aggregated metric and its namespace', async () => {
    const line = JSON.stringify({ name: `Microsoft.ApplicationInsights.${IKEY.replace(/-/g, '')}.Metric`, time: '2026-01-01T00:01:00.000Z', iKey: IKEY, tags, data: { baseType: 'MetricData', baseData: { metrics: [{ kind: 1, count: 2, min: 10, max: 20, stdDev: 5, value: 30, name: 'Total Tokens', ns: 'openai' }], properties: { 'Subscription ID': 'sdk' } } } });
    const res = await fetch(`${gw.url}/v2/track`, { method: 'POST', headers: { 'content-type': 'application/x-json-stream', 'content-encoding': 'gzip' }, body: gzipSync(`${line}\n${line}\n`) });
    expect((await res.json()).itemsAccepted).toBe(2);
    expect(await gw.query("customMetrics | where tostring(customDimensions['Subscription ID']) == 'sdk' | summarize sum(valueSum), sum(valueCount), max(valueMax), min(valueMin) by _MetricNamespace")).toEqual([
      { _MetricNamespace: 'openai', sum_valueSum: 60, sum_valueCount: 4, max_valueMax: 20, min_valueMin: 10 },
    ]);
  });

  it('reports per-item errors (206) for a wrong key or an unsupported type, and 400 for a broken body', async () => {
    const good = { time: '2026-01-01T00:02:00Z', iKey: IKEY, data: { baseType: 'EventData', baseData: { name: 'ok' } } };
    const res = await fetch(`${gw.url}/v2.1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([good, { ...good, iKey: 'nope' }, { ...good, data: { baseType: 'PageViewData', baseData: {} } }]),
    });
    expect(res.status).toBe(206);
    const body = await res.json();
    expect(body).toMatchObject({ itemsReceived: 3, itemsAccepted: 1 });
    expect(body.errors.map((e: { index: number }) => e.index)).toEqual([1, 2]);
    expect(body.errors[1].message).toContain("'PageViewData' is not stored");
    const broken = await fetch(`${gw.url}/v2.1/track`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"time":' });
    expect(broken.status).toBe(400);
  });

  it('parses TimeSpan durations', () => {
    expect(durationMs('00:00:00.123')).toBe(123);
    expect(durationMs('1.02:03:04.5')).toBe(((24 + 2) * 60 + 3) * 60_000 + 4500);
    expect(durationMs(250)).toBe(250);
  });
});
