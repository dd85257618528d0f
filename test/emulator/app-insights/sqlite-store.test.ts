import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KqlError } from '../../../emulator/app-insights/kql/index.js';
import { createSqliteTelemetryStore, installShutdownFlush, performanceBucket, TELEMETRY_FILE, type SqliteTelemetryStore } from '../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity, TelemetryStoreClosedError } from '../../../emulator/app-insights/store.js';
import { TimespanError } from '../../../emulator/app-insights/timespan.js';
import { LAB_NOW, LAB_QUERY, labCalls, seedLab } from './support.js';

const identity = defaultAppInsightsIdentity();
const NOW = LAB_NOW;
const dirs: string[] = [];
const stores: SqliteTelemetryStore[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-store-'));
  dirs.push(dir);
  return dir;
}

function open(options: Partial<Parameters<typeof createSqliteTelemetryStore>[0]> = {}): SqliteTelemetryStore {
  const store = createSqliteTelemetryStore({ inMemory: true, identity, ...options });
  stores.push(store);
  return store;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const metric = (over: Record<string, unknown> = {}) => ({ timestamp: NOW - 1000, name: 'Total Tokens', value: 71, namespace: 'openai', dimensions: { 'Subscription ID': 'subscription1' }, ...over });

describe('SqliteTelemetryStore: rows', () => {
  it('stamps a metric row with the identity and defaults one sample', () => {
    const store = open();
    store.writeMetric({ ...metric(), operationId: 'op-1', operationName: 'POST /chat', clientIp: '10.1.2.3', cloudRoleName: 'apim', cloudRoleInstance: 'apim-0' });
    const r = store.query('customMetrics | project timestamp, name, value, valueCount, valueSum, valueMin, valueMax, valueStdDev, customDimensions, customMeasurements, operation_Id, operation_Name, client_IP, cloud_RoleName, cloud_RoleInstance, appId, appName, iKey, sdkVersion, itemType, itemCount, _MetricNamespace, _IsEstimated, _ResourceId', { nowMs: NOW });
    expect(r.tables[0]!.rows).toEqual([[
      '2026-07-24T10:59:59.000Z', 'Total Tokens', 71, 1, 71, 71, 71, 0, '{"Subscription ID":"subscription1"}', null, 'op-1', 'POST /chat', '10.1.2.3', 'apim', 'apim-0',
      identity.appId, identity.name, identity.instrumentationKey, 'apim-emulator:1.0', 'customMetric', 1, 'openai', false, identity.resourceId,
    ]]);
    const itemId = store.query('customMetrics | project itemId', { nowMs: NOW }).tables[0]!.rows[0]![0];
    expect(itemId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps aggregate fields and the estimated marker', () => {
    const store = open();
    store.writeMetric(metric({ value: 30, count: 2, sum: 30, min: 10, max: 20, stdDev: 5, estimated: true }));
    store.writeMetric(metric({ value: 5 }));
    const r = store.query('customMetrics | order by value desc | project value, valueCount, valueSum, valueMin, valueMax, valueStdDev, _IsEstimated', { nowMs: NOW });
    expect(r.tables[0]!.rows).toEqual([[30, 2, 30, 10, 20, 5, true], [5, 1, 5, 5, 5, 0, false]]);
    expect(store.query('customMetrics | where _IsEstimated | count', { nowMs: NOW }).tables[0]!.rows).toEqual([[1]]);
    expect(store.query('AppMetrics | where _IsEstimated == false | project Sum, ItemCount', { nowMs: NOW, tableSet: 'workspace' }).tables[0]!.rows).toEqual([[5, 1]]);
  });

  it('writes requests with result code text, duration and performance bucket', () => {
    const store = open();
    store.writeRequest({
      timestamp: NOW - 5, id: 'req-1', name: 'POST /inference/openai/deployments/{deployment-id}/chat/completions', url: 'http://127.0.0.1/inference/x', resultCode: 429,
      durationMs: 612.5, success: false, clientIp: '10.0.0.7', operationId: 'req-1', dimensions: { 'API Name': 'inference-api', 'Subscription Name': 'subscription1', Region: 'uksouth' },
    });
    const r = store.query('requests | project id, name, url, resultCode, duration, success, performanceBucket, client_IP, tostring(customDimensions["API Name"]), itemType, operation_Name', { nowMs: NOW });
    expect(r.tables[0]!.rows).toEqual([[
      'req-1', 'POST /inference/openai/deployments/{deployment-id}/chat/completions', 'http://127.0.0.1/inference/x', '429', 612.5, false, '500ms-1sec', '10.0.0.7',
      'inference-api', 'request', 'POST /inference/openai/deployments/{deployment-id}/chat/completions',
    ]]);
    expect(r.tables[0]!.columns.find((c) => c.name === 'success')!.type).toBe('bool');
  });

  it.each([[0, '<250ms'], [249.9, '<250ms'], [250, '250ms-500ms'], [2999, '1sec-3sec'], [299_999, '2min-5min'], [300_000, '>=5min']])('performanceBucket(%d) = %s', (ms, bucket) => {
    expect(performanceBucket(ms)).toBe(bucket);
  });

  it('writes dependencies, traces and custom events', () => {
    const store = open();
    store.writeDependency({ timestamp: NOW - 3, id: 'd1', name: 'POST /chat', target: 'foundry1', type: 'HTTP', resultCode: 200, durationMs: 40, success: true });
    store.writeTrace({ timestamp: NOW - 2, message: 'policy warning', severityLevel: 2, dimensions: { policy: 'llm-token-limit' } });
    store.writeEvent({ timestamp: NOW - 1, name: 'reset' });
    expect(store.counts()).toMatchObject({ dependencies: 1, traces: 1, customEvents: 1 });
    expect(store.query('AppDependencies | project Target, DependencyType, ResultCode, Success', { nowMs: NOW, tableSet: 'workspace' }).tables[0]!.rows).toEqual([['foundry1', 'HTTP', '200', true]]);
    expect(store.query('traces | project message, severityLevel, itemType', { nowMs: NOW }).tables[0]!.rows).toEqual([['policy warning', 2, 'trace']]);
    expect(store.query('customEvents | project name, itemType', { nowMs: NOW }).tables[0]!.rows).toEqual([['reset', 'customEvent']]);
  });

  it('APIM log rows: unspecified strings are empty (never null), dynamic values are JSON, Type is set', () => {
    const store = open();
    store.writeGatewayLog({ TimeGenerated: NOW - 10, CorrelationId: 'c1', ApimSubscriptionId: 'subscription1', ResponseCode: 200, IsRequestSuccess: true, TraceRecords: [{ source: 'x' }] });
    store.writeLlmLog({ TimeGenerated: NOW - 9, CorrelationId: 'c1', DeploymentName: 'gpt-4.1-mini', PromptTokens: 31, CompletionTokens: 40, TotalTokens: 71, RequestMessages: [{ role: 'user', content: 'hi' }], ResponseMessages: 'not json' });
    const g = store.query("ApiManagementGatewayLogs | where Method == '' and BackendId == '' | project CorrelationId, ResponseCode, IsRequestSuccess, TraceRecords, Type", { nowMs: NOW });
    expect(g.tables[0]!.rows).toEqual([['c1', 200, true, '[{"source":"x"}]', 'ApiManagementGatewayLogs']]);
    const l = store.query('ApiManagementGatewayLlmLog | project TotalTokens, RequestMessages, ResponseMessages, SourceSystem, Type, ModelName', { nowMs: NOW });
    expect(l.tables[0]!.rows).toEqual([[71, '[{"role":"user","content":"hi"}]', '"not json"', 'Azure', 'ApiManagementGatewayLlmLog', '']]);
    const joined = store.query(
      "let llm = ApiManagementGatewayLlmLog | where DeploymentName != ''; llm | join kind=leftouter ApiManagementGatewayLogs on CorrelationId | project SubscriptionId = ApimSubscriptionId, DeploymentName, TotalTokens",
      { nowMs: NOW },
    );
    expect(joined.tables[0]!.rows).toEqual([['subscription1', 'gpt-4.1-mini', 71]]);
  });
});

describe('SqliteTelemetryStore: batching', () => {
  it('a write only enqueues; the row is committed by a later flush (seen from another connection)', async () => {
    const dir = tempDir();
    const store = open({ dataDir: dir, inMemory: false, flushIntervalMs: 60_000 });
    const peek = new Database(join(dir, TELEMETRY_FILE), { readonly: true });
    const committed = () => (peek.prepare('SELECT count(*) AS n FROM customMetrics').get() as { n: number }).n;
    store.writeMetric(metric());
    expect(store.pending).toBe(1);
    expect(committed()).toBe(0);
    await store.flush();
    expect(store.pending).toBe(0);
    expect(committed()).toBe(1);
    peek.close();
  });

  it('a full batch is committed on the next tick, not inside the write call', async () => {
    const store = open({ batchSize: 10, flushIntervalMs: 60_000 });
    for (let i = 0; i < 10; i++) store.writeMetric(metric({ value: i }));
    expect(store.pending).toBe(10);
    await tick();
    expect(store.pending).toBe(0);
  });

  it('the timer flushes a partial batch', async () => {
    const store = open({ batchSize: 1000, flushIntervalMs: 1 });
    store.writeMetric(metric());
    expect(store.pending).toBe(1);
    await new Promise<void>((resolve) => {
      const poll = () => (store.pending === 0 ? resolve() : setImmediate(poll));
      poll();
    });
    expect(store.pending).toBe(0);
  });

  it('past maxQueue a write flushes inline (backpressure)', () => {
    const store = open({ batchSize: 5, maxQueue: 5, flushIntervalMs: 60_000 });
    for (let i = 0; i < 4; i++) store.writeMetric(metric());
    expect(store.pending).toBe(4);
    store.writeMetric(metric());
    expect(store.pending).toBe(0);
  });

  it('query and counts see pending writes at once', () => {
    const store = open({ flushIntervalMs: 60_000 });
    store.writeMetric(metric());
    store.writeRequest({ timestamp: NOW, id: 'r', name: 'n', url: 'u', resultCode: 200, durationMs: 1, success: true, dimensions: {} });
    expect(store.query('customMetrics | count', { nowMs: NOW }).tables[0]!.rows).toEqual([[1]]);
    store.writeMetric(metric());
    expect(store.counts()).toEqual({ customMetrics: 2, requests: 1, dependencies: 0, traces: 0, customEvents: 0, ApiManagementGatewayLogs: 0, ApiManagementGatewayLlmLog: 0 });
  });

  it('clear drops committed and pending rows', async () => {
    const store = open({ flushIntervalMs: 60_000 });
    store.writeMetric(metric());
    await store.flush();
    store.writeMetric(metric());
    await store.clear();
    expect(store.pending).toBe(0);
    expect(store.counts().customMetrics).toBe(0);
    store.writeMetric(metric());
    expect(store.counts().customMetrics).toBe(1);
  });

  it('close flushes; afterwards writes and queries throw TelemetryStoreClosedError; close is idempotent', async () => {
    const dir = tempDir();
    const store = open({ dataDir: dir, inMemory: false, flushIntervalMs: 60_000 });
    store.writeMetric(metric());
    await store.close();
    await store.close();
    expect(() => store.writeMetric(metric())).toThrow(TelemetryStoreClosedError);
    expect(() => store.query('customMetrics', { nowMs: NOW })).toThrow(TelemetryStoreClosedError);
    const reopened = open({ dataDir: dir, inMemory: false });
    expect(reopened.counts().customMetrics).toBe(1);
  });

  it('data survives a restart; the file is WAL mode', async () => {
    const dir = tempDir();
    const first = open({ dataDir: dir, inMemory: false });
    seedLab(first, labCalls(4));
    await first.close();
    const second = open({ dataDir: dir, inMemory: false });
    expect(second.counts().customMetrics).toBe(12);
    second.writeMetric(metric());
    expect(second.counts().customMetrics).toBe(13);
    const raw = new Database(join(dir, TELEMETRY_FILE), { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('a failed commit (database locked by another connection) keeps the rows queued until a later flush', async () => {
    const dir = tempDir();
    const errors: string[] = [];
    const store = open({ dataDir: dir, inMemory: false, flushIntervalMs: 1, busyTimeoutMs: 10, onError: (e) => errors.push(e.message) });
    const other = new Database(join(dir, TELEMETRY_FILE));
    other.exec('BEGIN IMMEDIATE');
    store.writeMetric(metric({ value: 1 }));
    store.writeMetric(metric({ value: 2 }));
    await new Promise<void>((resolve) => {
      const poll = () => (errors.length > 0 ? resolve() : setImmediate(poll));
      poll();
    });
    expect(errors[0]).toMatch(/locked|busy/i);
    expect(store.pending).toBe(2);
    await expect(store.flush()).rejects.toThrow(/locked|busy/i);
    store.writeMetric(metric({ value: 3 }));
    expect(store.pending).toBe(3);
    other.exec('ROLLBACK');
    other.close();
    await store.flush();
    expect(store.pending).toBe(0);
    expect(store.query('customMetrics | order by value asc | project value', { nowMs: NOW }).tables[0]!.rows).toEqual([[1], [2], [3]]);
  });

  it('a read-only store reads next to a writer and refuses writes', async () => {
    const dir = tempDir();
    const writer = open({ dataDir: dir, inMemory: false });
    writer.writeMetric(metric());
    await writer.flush();
    const reader = open({ dataDir: dir, inMemory: false, readonly: true });
    expect(reader.query('customMetrics | count', { nowMs: NOW }).tables[0]!.rows).toEqual([[1]]);
    expect(() => reader.writeMetric(metric())).toThrow(/read-only/);
    writer.writeMetric(metric());
    await writer.flush();
    expect(reader.query('customMetrics | count', { nowMs: NOW }).tables[0]!.rows).toEqual([[2]]);
  });
});

describe('SqliteTelemetryStore: query', () => {
  it("runs the token-metrics-emitting lab's exact KQL: columns, types, ascending order and values", () => {
    const store = open();
    const calls = labCalls(40);
    seedLab(store, calls);
    expect(store.counts().customMetrics).toBe(120);
    const r = store.query(LAB_QUERY, { nowMs: NOW, timespan: 'PT1H', tableSet: 'classic' });
    const table = r.tables[0]!;
    expect(table.name).toBe('PrimaryResult');
    expect(table.columns).toEqual([
      { name: 'timestamp', type: 'datetime' },
      { name: 'value', type: 'real' },
      { name: 'clientIP', type: 'string' },
      { name: 'apiId', type: 'string' },
      { name: 'apimSubscription', type: 'string' },
      { name: 'UserId', type: 'string' },
    ]);
    const expected = [...calls]
      .sort((a, b) => a.timestamp - b.timestamp)
      .map((c) => [new Date(c.timestamp).toISOString(), c.prompt + c.completion, '10.0.0.7', 'inference-api', c.subscription, 'alex']);
    expect(table.rows).toEqual(expected);
    const bySub = (s: string) => table.rows.filter((row) => row[4] === s).length;
    expect([bySub('subscription1'), bySub('subscription2'), bySub('subscription3')]).toEqual([20, 10, 10]);
    expect(table.rows[0]![0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('the timespan restricts every table on its time column (string or parsed)', () => {
    const store = open();
    store.writeMetric(metric({ timestamp: NOW - 2 * 3_600_000 }));
    store.writeMetric(metric({ timestamp: NOW - 60_000 }));
    const count = (timespan?: string | { startMs: number; endMs: number }, q = 'customMetrics | count') =>
      store.query(q, { nowMs: NOW, ...(timespan ? { timespan } : {}) }).tables[0]!.rows[0]![0];
    expect(count()).toBe(2);
    expect(count('PT1H')).toBe(1);
    expect(count('P1D')).toBe(2);
    expect(count({ startMs: NOW - 3 * 3_600_000, endMs: NOW - 3_600_000 })).toBe(1);
    expect(count('PT1H', 'AppMetrics | count')).toBe(1);
    expect(() => count('soon')).toThrow(TimespanError);
  });

  it('table sets: classic names on classic, App* on workspace, APIM tables on both', () => {
    const store = open();
    store.writeMetric(metric());
    expect(store.query('AppMetrics | count', { nowMs: NOW, tableSet: 'workspace' }).tables[0]!.rows).toEqual([[1]]);
    expect(() => store.query('AppMetrics | count', { nowMs: NOW, tableSet: 'classic' })).toThrow(KqlError);
    expect(() => store.query('customMetrics | count', { nowMs: NOW, tableSet: 'workspace' })).toThrow(KqlError);
    for (const tableSet of ['classic', 'workspace'] as const) {
      expect(store.query('ApiManagementGatewayLlmLog | count', { nowMs: NOW, tableSet }).tables[0]!.rows).toEqual([[0]]);
    }
  });

  it('bad queries throw KqlError with a position; the store keeps working', () => {
    const store = open();
    store.writeMetric(metric());
    let caught: unknown;
    try {
      store.query('customMetrics | where nam == 1', { nowMs: NOW });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KqlError);
    expect(caught).toMatchObject({ kind: 'semantic', code: 'SEM0100', line: 1 });
    expect(() => store.query('customMetrics | where (', { nowMs: NOW })).toThrow(expect.objectContaining({ kind: 'syntax', code: 'SYN0002' }));
    expect(store.query('customMetrics | count', { nowMs: NOW }).tables[0]!.rows).toEqual([[1]]);
  });

  it('returns render metadata for | render', () => {
    const store = open();
    store.writeMetric(metric());
    const r = store.query('customMetrics | summarize sum(value) by bin(timestamp, 1m) | render timechart', { nowMs: NOW });
    expect(r.render).toMatchObject({ visualization: 'timechart' });
    expect(store.query('customMetrics | count', { nowMs: NOW }).render).toBeUndefined();
  });
});

describe('installShutdownFlush', () => {
  it('closes the store on the signal, then exits 0 (1 when the flush fails)', async () => {
    const events: string[] = [];
    const exited = new Promise<number>((resolve) => {
      const remove = installShutdownFlush(
        { close: async () => void events.push('close') },
        { signals: ['SIGUSR2'], exit: (code) => { events.push(`exit ${code}`); remove(); resolve(code); } },
      );
      process.emit('SIGUSR2', 'SIGUSR2');
      process.emit('SIGUSR2', 'SIGUSR2'); // a second signal while closing is ignored
    });
    expect(await exited).toBe(0);
    expect(events).toEqual(['close', 'exit 0']);

    const errors: string[] = [];
    const failed = new Promise<number>((resolve) => {
      const remove = installShutdownFlush(
        { close: async () => { throw new Error('disk full'); } },
        { signals: ['SIGUSR2'], onError: (e) => errors.push(e.message), exit: (code) => { remove(); resolve(code); } },
      );
      process.emit('SIGUSR2', 'SIGUSR2');
    });
    expect(await failed).toBe(1);
    expect(errors).toEqual(['disk full']);
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
