import type { KqlColumn } from './kql/index.js';
import type { TableSet } from './tables.js';

/** The Application Insights resource the emulator impersonates (documented, well-known defaults). */
export interface AppInsightsIdentity {
  name: string;
  appId: string;
  workspaceId: string;
  instrumentationKey: string;
}

/** One metric sample; timestamps are epoch ms from the caller's clock. */
export interface MetricRecord {
  timestamp: number;
  name: string;
  value: number;
  namespace: string;
  dimensions: Record<string, string>;
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  stdDev?: number;
  estimated?: boolean;
  operationId?: string;
  operationName?: string;
  clientIp?: string;
  cloudRoleName?: string;
  cloudRoleInstance?: string;
}

/** One gateway request (App Insights `requests`). */
export interface RequestRecord {
  timestamp: number;
  id: string;
  name: string;
  url: string;
  resultCode: number;
  durationMs: number;
  success: boolean;
  clientIp: string;
  dimensions: Record<string, string>;
  operationId: string;
  cloudRoleName?: string;
  cloudRoleInstance?: string;
}

/** A row of ApiManagementGatewayLogs; unspecified columns are stored empty. */
export type GatewayLogRecord = { TimeGenerated: number; CorrelationId: string } & Record<string, unknown>;

/** A row of ApiManagementGatewayLlmLog; unspecified columns are stored empty. */
export type LlmLogRecord = { TimeGenerated: number; CorrelationId: string } & Record<string, unknown>;

export interface QueryOptions {
  /** ISO 8601 duration or interval (already validated by the caller), applied on each table's time column. */
  timespan?: { startMs: number; endMs: number };
  nowMs: number;
  tableSet?: TableSet;
}

export interface QueryResult {
  tables: Array<{ name: 'PrimaryResult'; columns: KqlColumn[]; rows: unknown[][] }>;
  render?: Record<string, unknown>;
}

/**
 * Where telemetry goes. Writes are enqueued synchronously and committed off the request path;
 * `query` sees every acknowledged write; `close` flushes.
 */
export interface TelemetryStore {
  readonly kind: string;
  writeMetric(record: MetricRecord): void;
  writeRequest(record: RequestRecord): void;
  writeGatewayLog(record: GatewayLogRecord): void;
  writeLlmLog(record: LlmLogRecord): void;
  query(kql: string, options: QueryOptions): QueryResult;
  /** Rows per physical table (flushes first). */
  counts(): Record<string, number>;
  flush(): Promise<void>;
  /** Deletes all telemetry. */
  clear(): Promise<void>;
  close(): Promise<void>;
}
