/**
 * The corpus against the telemetry store's real schema (emulator/app-insights/tables.ts): same seeded
 * data inserted into the store's DDL must give the same rows as our own fixture DDL.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { executeKql, registerKqlFunctions } from '../../../../emulator/app-insights/kql/index.js';
import type { KqlTable } from '../../../../emulator/app-insights/kql/index.js';
import { kqlTables, schemaSql } from '../../../../emulator/app-insights/tables.js';
import { DASHBOARD_QUERIES, SPEC_QUERIES } from './corpus.js';
import { createSeededDb, GATEWAY_LOGS, LLM_LOG, METRICS, NOW_MS, OPTIONS, PRICING, TABLES } from './fixtures.js';

/** PRICING_CL is a custom log table (not part of the store); the dashboards join it. */
const PRICING_TABLE: KqlTable = TABLES.find((t) => t.name === 'PRICING_CL')!;

function createStoreDb(): Database.Database {
  const db = new Database(':memory:');
  registerKqlFunctions(db);
  db.exec(schemaSql());
  db.exec('CREATE TABLE pricing (TimeGenerated INTEGER, Model TEXT NOT NULL, InputPrice REAL, OutputPrice REAL)');
  const m = db.prepare('INSERT INTO customMetrics (timestamp, name, value, valueCount, valueSum, valueMin, valueMax, customDimensions, itemType) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)');
  for (const [t, name, v, cd] of METRICS) m.run(t, name, v, v, v, v, cd, 'customMetric');
  const l = db.prepare('INSERT INTO ApiManagementGatewayLlmLog (TimeGenerated, CorrelationId, DeploymentName, ModelName, PromptTokens, CompletionTokens, TotalTokens, RequestMessages, ResponseMessages, IsStreamCompletion, SequenceNumber) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)');
  for (const row of LLM_LOG) l.run(...row);
  const g = db.prepare(
    "INSERT INTO ApiManagementGatewayLogs (TimeGenerated, CorrelationId, ApimSubscriptionId, OperationId, ApiId, IsRequestSuccess, ResponseCode, BackendMethod, BackendUrl, TotalTime, BackendTime, TraceRecords, Method, Url) VALUES (?, ?, ?, 'chat-completions', 'inference-api', ?, ?, 'POST', 'https://backend/openai', ?, ?, ?, 'POST', 'https://apim/inference')",
  );
  for (const [t, c, sub, code, total, backend, tr] of GATEWAY_LOGS) g.run(t, c, sub, code < 400 ? 1 : 0, code, total, backend, tr);
  const p = db.prepare('INSERT INTO pricing VALUES (?, ?, ?, ?)');
  for (const row of PRICING) p.run(...row);
  return db;
}

describe('corpus on the telemetry store schema (tables.ts)', () => {
  const storeDb = createStoreDb();
  const ownDb = createSeededDb();
  const storeOptions = { tables: [...kqlTables('all'), PRICING_TABLE], nowMs: NOW_MS };
  // azure-ml-models projects OperationName, which tables.ts's ApiManagementGatewayLogs lacks (reported to the store owner).
  const queries = [...SPEC_QUERIES, ...DASHBOARD_QUERIES].filter((q) => !q.includes('OperationName'));

  it.each(queries)('%s', (q) => {
    const store = executeKql(storeDb, q, storeOptions);
    const own = executeKql(ownDb, q, OPTIONS);
    expect(store.columns).toEqual(own.columns);
    const sort = (rows: unknown[][]) => [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    expect(sort(store.rows)).toEqual(sort(own.rows));
  });

  it('reads the workspace views (AppMetrics) by their workspace names', () => {
    const r = executeKql(storeDb, "AppMetrics | where Name == 'Total Tokens' | summarize Tokens = sum(Sum) by Sub = tostring(Properties['Subscription ID'])", storeOptions);
    expect([...r.rows].sort()).toEqual([['subscription1', 161], ['subscription2', 50], ['subscription3', 40]]);
  });
});
