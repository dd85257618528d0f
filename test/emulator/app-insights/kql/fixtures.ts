/**
 * Seeded telemetry for the KQL tests: our own DDL following the store conventions (datetime = epoch ms,
 * dynamic = JSON text, bool = 0/1, strings never NULL). Expected rows in the tests are hand-checked
 * against the data below.
 */
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { registerKqlFunctions } from '../../../../emulator/app-insights/kql/index.js';
import type { KqlColumn, KqlTable, KqlType } from '../../../../emulator/app-insights/kql/index.js';

export const NOW_MS = Date.UTC(2026, 6, 24, 11, 0, 0);
export const at = (hh: number, mm: number, ss = 0, ms = 0): number => Date.UTC(2026, 6, 24, hh, mm, ss, ms);
export const iso = (hh: number, mm: number, ss = 0, ms = 0): string => new Date(at(hh, mm, ss, ms)).toISOString();

function cols(spec: string): KqlColumn[] {
  return spec.split(',').map((p) => {
    const [name, type] = p.trim().split(':') as [string, KqlType];
    return { name, type };
  });
}

export const TABLES: KqlTable[] = [
  {
    name: 'customMetrics',
    sqlName: 'customMetrics',
    timeColumn: 'timestamp',
    columns: cols('timestamp:datetime, name:string, value:real, valueCount:int, valueSum:real, valueMin:real, valueMax:real, customDimensions:dynamic, itemType:string'),
  },
  {
    name: 'ApiManagementGatewayLlmLog',
    sqlName: 'llm_log',
    timeColumn: 'TimeGenerated',
    columns: cols('TimeGenerated:datetime, CorrelationId:string, DeploymentName:string, ModelName:string, PromptTokens:int, CompletionTokens:int, TotalTokens:int, RequestMessages:dynamic, ResponseMessages:dynamic, IsStreamCompletion:bool, SequenceNumber:int'),
  },
  {
    name: 'ApiManagementGatewayLogs',
    sqlName: 'gateway_logs',
    timeColumn: 'TimeGenerated',
    columns: cols('TimeGenerated:datetime, CorrelationId:string, ApimSubscriptionId:string, OperationId:string, ApiId:string, OperationName:string, IsRequestSuccess:bool, ResponseCode:int, BackendMethod:string, BackendUrl:string, TotalTime:long, BackendTime:long, TraceRecords:dynamic, Method:string, Url:string'),
  },
  {
    name: 'PRICING_CL',
    sqlName: 'pricing',
    timeColumn: 'TimeGenerated',
    columns: cols('TimeGenerated:datetime, Model:string, InputPrice:real, OutputPrice:real'),
  },
];

const dims = (sub: string, ip: string, extra: Record<string, string> = {}) =>
  JSON.stringify({ 'Subscription ID': sub, 'Client IP': ip, 'API ID': 'inference-api', 'User ID': 'alex', ...extra });

/** customMetrics rows: [time, name, value, customDimensions]. */
export const METRICS: Array<[number, string, number, string]> = [
  [at(10, 30, 5), 'Total Tokens', 71, dims('subscription1', '1.2.3.4', { 'Agent ID': 'agent-a', developerName: 'dev1', oid: 'oid-1', model: 'gpt-4o' })],
  [at(10, 30, 40), 'Total Tokens', 50, dims('subscription2', '1.2.3.5', { 'Agent ID': 'agent-b', developerName: '', oid: 'oid-2', model: 'gpt-4o' })],
  [at(10, 30, 40), 'Prompt Tokens', 20, dims('subscription2', '1.2.3.5', { developerName: '', oid: 'oid-2', model: 'gpt-4o' })],
  [at(10, 30, 40), 'Completion Tokens', 30, dims('subscription2', '1.2.3.5', { developerName: '', oid: 'oid-2', model: 'gpt-4o' })],
  [at(10, 31, 10), 'Total Tokens', 90, dims('subscription1', '1.2.3.4', { 'Agent ID': 'agent-a', developerName: 'dev1', oid: 'oid-1', model: 'gpt-4o-mini' })],
  [at(10, 31, 20), 'Prompt Tokens', 30, dims('subscription1', '1.2.3.4', { developerName: 'dev1', oid: 'oid-1', model: 'gpt-4o-mini' })],
  [at(10, 31, 20), 'Completion Tokens', 60, dims('subscription1', '1.2.3.4', { developerName: 'dev1', oid: 'oid-1', model: 'gpt-4o-mini' })],
  [at(10, 31, 20), 'Prompt Cached Tokens', 10, dims('subscription1', '1.2.3.4', { developerName: 'dev1', oid: 'oid-1', model: 'gpt-4o-mini' })],
  [at(9, 0, 0), 'Total Tokens', 40, dims('subscription3', '1.2.3.6', { 'Agent ID': 'agent-c', developerName: 'dev3', oid: 'oid-3', model: 'gpt-4o' })],
];

const msgs = (...contents: string[]) => JSON.stringify(contents.map((content, i) => ({ role: i === 0 ? 'user' : 'assistant', content })));

/** LLM log rows: [time, correlationId, deployment, model, prompt, completion, total, request, response, stream]. */
export const LLM_LOG: Array<[number, string, string, string, number, number, number, string, string, number]> = [
  [at(10, 40), 'c1', 'gpt-4o', 'gpt-4o-2024-11-20', 20, 10, 30, msgs('Hello', 'there'), msgs('Hi!'), 0],
  [at(10, 41), 'c2', 'gpt-4o', 'gpt-4o-2024-11-20', 40, 20, 60, msgs('What time is it?'), msgs('Noon.'), 1],
  [at(10, 42), 'c3', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18', 5, 5, 10, msgs('Ping'), msgs('Pong'), 0],
  [at(10, 42, 30), 'c4', '', '', 0, 0, 0, '[]', '[]', 0],
  [at(9, 0), 'c0', 'gpt-4o', 'gpt-4o-2024-11-20', 1, 1, 2, msgs('old'), msgs('old'), 0],
];

/** Gateway log rows: [time, correlationId, subscription, responseCode, totalTime, backendTime, traceRecords]. */
export const GATEWAY_LOGS: Array<[number, string, string, number, number, number, string]> = [
  [at(10, 40), 'c1', 'subscription1', 200, 120, 100, JSON.stringify([{ source: 'copilot-finops', metadata: { developerName: 'dev1', oid: 'oid-1' } }])],
  [at(10, 41), 'c2', 'subscription2', 200, 300, 250, JSON.stringify([{ source: 'other', metadata: {} }, { source: 'copilot-finops', metadata: { developerName: '', oid: 'oid-2' } }])],
  [at(10, 42, 30), 'c4', 'subscription1', 429, 10, 0, '[]'],
  [at(10, 43), 'c5', 'subscription3', 500, 40, 30, '[]'],
];

export const PRICING: Array<[number, string, number, number]> = [
  [at(8, 0), 'gpt-4o', 2.5, 10],
  [at(9, 0), 'gpt-4o', 2.0, 8],
  [at(8, 0), 'gpt-4o-mini', 0.15, 0.6],
];

export function createSeededDb(): SqliteDatabase {
  const db = new Database(':memory:');
  registerKqlFunctions(db);
  db.exec(`
    CREATE TABLE customMetrics (timestamp INTEGER NOT NULL, name TEXT NOT NULL, value REAL, valueCount INTEGER, valueSum REAL,
      valueMin REAL, valueMax REAL, customDimensions TEXT, itemType TEXT NOT NULL DEFAULT 'customMetric');
    CREATE TABLE llm_log (TimeGenerated INTEGER, CorrelationId TEXT NOT NULL, DeploymentName TEXT NOT NULL, ModelName TEXT NOT NULL,
      PromptTokens INTEGER, CompletionTokens INTEGER, TotalTokens INTEGER, RequestMessages TEXT, ResponseMessages TEXT,
      IsStreamCompletion INTEGER, SequenceNumber INTEGER);
    CREATE TABLE gateway_logs (TimeGenerated INTEGER, CorrelationId TEXT NOT NULL, ApimSubscriptionId TEXT NOT NULL, OperationId TEXT NOT NULL,
      ApiId TEXT NOT NULL, OperationName TEXT NOT NULL, IsRequestSuccess INTEGER, ResponseCode INTEGER, BackendMethod TEXT NOT NULL,
      BackendUrl TEXT NOT NULL, TotalTime INTEGER, BackendTime INTEGER, TraceRecords TEXT, Method TEXT NOT NULL, Url TEXT NOT NULL);
    CREATE TABLE pricing (TimeGenerated INTEGER, Model TEXT NOT NULL, InputPrice REAL, OutputPrice REAL);
  `);
  const m = db.prepare('INSERT INTO customMetrics VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)');
  for (const [t, name, v, cd] of METRICS) m.run(t, name, v, v, v, v, cd, 'customMetric');
  const l = db.prepare('INSERT INTO llm_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)');
  for (const row of LLM_LOG) l.run(...row);
  const g = db.prepare("INSERT INTO gateway_logs VALUES (?, ?, ?, 'chat-completions', 'inference-api', 'ChatCompletions_Create', ?, ?, 'POST', 'https://backend/openai', ?, ?, ?, 'POST', 'https://apim/inference')");
  for (const [t, c, sub, code, total, backend, tr] of GATEWAY_LOGS) g.run(t, c, sub, code < 400 ? 1 : 0, code, total, backend, tr);
  const p = db.prepare('INSERT INTO pricing VALUES (?, ?, ?, ?)');
  for (const row of PRICING) p.run(...row);
  return db;
}

export const OPTIONS = { tables: TABLES, nowMs: NOW_MS };
