import type { KqlColumn } from './kql/index.js';
import type { TableSet } from './tables.js';

/** The Application Insights resource (and its Log Analytics workspace) the emulator impersonates. */
export interface AppInsightsIdentity {
  /** Component name (`applicationInsightsName`); also accepted in place of the app id. */
  name: string;
  appId: string;
  workspaceId: string;
  instrumentationKey: string;
  connectionString?: string;
  /** ARM id of the component, e.g. /subscriptions/…/providers/microsoft.insights/components/<name>. */
  resourceId?: string;
  subscriptionId?: string;
  resourceGroup?: string;
}

/**
 * Well-known identity, like Azurite's well-known account key: fixed, documented, never secret.
 * Configuration may override any field.
 */
export const WELL_KNOWN_APP_ID = 'a1a1a1a1-0000-4000-8000-000000000001';
export const WELL_KNOWN_WORKSPACE_ID = 'b2b2b2b2-0000-4000-8000-000000000002';
export const WELL_KNOWN_INSTRUMENTATION_KEY = 'c3c3c3c3-0000-4000-8000-000000000003';
export const WELL_KNOWN_SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000000';
export const WELL_KNOWN_APP_NAME = 'insights-emulator';
export const WELL_KNOWN_RESOURCE_GROUP = 'emulator';

export function defaultAppInsightsIdentity(overrides: Partial<AppInsightsIdentity> = {}): AppInsightsIdentity {
  const name = overrides.name ?? WELL_KNOWN_APP_NAME;
  const subscriptionId = overrides.subscriptionId ?? WELL_KNOWN_SUBSCRIPTION_ID;
  const resourceGroup = overrides.resourceGroup ?? WELL_KNOWN_RESOURCE_GROUP;
  return {
    name,
    appId: WELL_KNOWN_APP_ID,
    workspaceId: WELL_KNOWN_WORKSPACE_ID,
    instrumentationKey: WELL_KNOWN_INSTRUMENTATION_KEY,
    subscriptionId,
    resourceGroup,
    resourceId: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/microsoft.insights/components/${name}`,
    ...overrides,
  };
}

/** Context columns shared by the classic tables (all optional; missing strings are stored as ''). */
export interface TelemetryContext {
  operationId?: string;
  operationName?: string;
  operationParentId?: string;
  clientIp?: string;
  cloudRoleName?: string;
  cloudRoleInstance?: string;
  userId?: string;
  sessionId?: string;
  /** Defaults to the emulator's sdkVersion stamp. */
  sdkVersion?: string;
  /** Defaults to 1 (sampling weight). */
  itemCount?: number;
}

/** One metric sample or pre-aggregated series point; timestamps are epoch ms from the caller's clock. */
export interface MetricRecord extends TelemetryContext {
  timestamp: number;
  name: string;
  /** For an aggregate, the sum (App Insights stores value == valueSum). */
  value: number;
  /** Metric namespace (`openai`, `API Management`); stored in the hidden `_MetricNamespace` column. */
  namespace: string;
  dimensions: Record<string, string>;
  /** Aggregate fields; default one sample: count 1, sum = min = max = value, stdDev 0. */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  stdDev?: number;
  /** True when the token count was estimated (streaming without usage); hidden column `_IsEstimated`. */
  estimated?: boolean;
  measurements?: Record<string, number>;
}

/** One gateway request (App Insights `requests`). */
export interface RequestRecord extends TelemetryContext {
  timestamp: number;
  id: string;
  name: string;
  url: string;
  resultCode: number | string;
  durationMs: number;
  success: boolean;
  source?: string;
  /** Computed from durationMs when absent ('<250ms', '250ms-500ms', …). */
  performanceBucket?: string;
  /** customDimensions: API Name, Operation Name, Subscription Name, Backend ID, Region, … */
  dimensions: Record<string, string>;
  measurements?: Record<string, number>;
}

/** An outgoing call (App Insights `dependencies`). */
export interface DependencyRecord extends TelemetryContext {
  timestamp: number;
  id: string;
  name: string;
  target: string;
  type: string;
  data?: string;
  resultCode: number | string;
  durationMs: number;
  success: boolean;
  dimensions?: Record<string, string>;
  measurements?: Record<string, number>;
}

/** A log line (App Insights `traces`); severity 0 Verbose … 4 Critical. */
export interface TraceRecord extends TelemetryContext {
  timestamp: number;
  message: string;
  severityLevel: number;
  dimensions?: Record<string, string>;
  measurements?: Record<string, number>;
}

/** A custom event (App Insights `customEvents`). */
export interface EventRecord extends TelemetryContext {
  timestamp: number;
  name: string;
  dimensions?: Record<string, string>;
  measurements?: Record<string, number>;
}

/**
 * A row of ApiManagementGatewayLogs by column name (kql-and-clients.md §3.3); TimeGenerated is epoch ms,
 * dynamic columns take objects/arrays, unspecified columns are stored empty.
 */
export type GatewayLogRecord = { TimeGenerated: number; CorrelationId: string } & Record<string, unknown>;

/** A row of ApiManagementGatewayLlmLog by column name; same conventions as GatewayLogRecord. */
export type LlmLogRecord = { TimeGenerated: number; CorrelationId: string } & Record<string, unknown>;

export interface QueryOptions {
  /**
   * The request's timespan: ISO 8601 text (`PT1H`, `start/end`, …; invalid text throws TimespanError)
   * or an already parsed interval. Applied to every table's time column in addition to the query's filters.
   */
  timespan?: string | { startMs: number; endMs: number };
  /** `now()` / `ago()` and a bare duration timespan are evaluated from this. */
  nowMs: number;
  /** Which table names resolve (default 'all'). */
  tableSet?: TableSet;
}

export interface QueryTable {
  name: 'PrimaryResult';
  columns: KqlColumn[];
  /** Already encoded for the wire (kql-and-clients.md §1.4). */
  rows: unknown[][];
}

export interface QueryResult {
  tables: QueryTable[];
  /** From a `| render` operator (answered with `Prefer: include-render=true`). */
  render?: Record<string, unknown>;
  /** The result was cut at a limit (rows, bytes or time): answered with Log Analytics' PartialError. */
  truncated?: { limit: 'rows' | 'bytes' | 'time'; value: number };
}

/**
 * Where telemetry goes. Writes are enqueued synchronously and committed off the request path;
 * `query` and `counts` see every acknowledged write; `close` flushes.
 */
export interface TelemetryStore {
  readonly kind: string;
  writeMetric(record: MetricRecord): void;
  writeRequest(record: RequestRecord): void;
  writeDependency(record: DependencyRecord): void;
  writeTrace(record: TraceRecord): void;
  writeEvent(record: EventRecord): void;
  writeGatewayLog(record: GatewayLogRecord): void;
  writeLlmLog(record: LlmLogRecord): void;
  /** Runs KQL; throws KqlError (bad query) or TimespanError (bad timespan text). */
  query(kql: string, options: QueryOptions): QueryResult;
  /** Rows per physical table (pending writes included). */
  counts(): Record<string, number>;
  /** Commits pending writes. */
  flush(): Promise<void>;
  /** Deletes all telemetry (pending writes too). */
  clear(): Promise<void>;
  /** Flushes and releases the backend; later writes throw TelemetryStoreClosedError. */
  close(): Promise<void>;
  /** Write health (failed flushes, dropped rows, last error) for GET /_emulator/health. */
  health?(): { status: 'ok' | 'degraded'; pendingRows: number; failedFlushes: number; droppedRows: number; lastError: string | null };
}

export const STORE_CLOSED_MESSAGE = 'The telemetry store is closed.';

export class TelemetryStoreClosedError extends Error {
  override name = 'TelemetryStoreClosedError';
  constructor() {
    super(STORE_CLOSED_MESSAGE);
  }
}
