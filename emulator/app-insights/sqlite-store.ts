import Database, { type Database as SqliteDatabase, type Statement } from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileKql, encodeRows, KqlError, registerKqlFunctions } from './kql/index.js';
import type { AppInsightsIdentity, GatewayLogRecord, LlmLogRecord, MetricRecord, QueryOptions, QueryResult, RequestRecord, TelemetryStore } from './store.js';
import { CUSTOM_METRICS, GATEWAY_LOGS, kqlTables, LLM_LOG, PHYSICAL_TABLES, REQUESTS, schemaSql, type PhysicalTable } from './tables.js';

export const TELEMETRY_FILE = 'telemetry.db';
const SDK_VERSION = 'apim-emulator:1.0';
const BATCH_SIZE = 500;
const FLUSH_DELAY_MS = 20;

export interface SqliteTelemetryStoreOptions {
  /** Directory for telemetry.db (created when missing). Ignored with inMemory. */
  dataDir?: string;
  inMemory?: boolean;
  identity: AppInsightsIdentity;
}

type Row = Record<string, unknown>;

/** The embedded default store: one SQLite file (WAL), writes batched in transactions off the request path. */
export class SqliteTelemetryStore implements TelemetryStore {
  readonly kind = 'sqlite';
  readonly path: string;
  private readonly db: SqliteDatabase;
  private readonly inserts = new Map<PhysicalTable, Statement>();
  private queue: Array<[PhysicalTable, Row]> = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(private readonly options: SqliteTelemetryStoreOptions) {
    if (options.inMemory || !options.dataDir) {
      this.path = ':memory:';
    } else {
      mkdirSync(options.dataDir, { recursive: true });
      this.path = join(options.dataDir, TELEMETRY_FILE);
    }
    this.db = new Database(this.path);
    if (this.path !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(schemaSql());
    registerKqlFunctions(this.db);
    for (const table of PHYSICAL_TABLES) {
      const names = table.columns.map((c) => `"${c.name}"`).join(', ');
      const params = table.columns.map((c) => `@${c.name.replace(/[^A-Za-z0-9_]/g, '_')}`).join(', ');
      this.inserts.set(table, this.db.prepare(`INSERT INTO "${table.name}" (${names}) VALUES (${params})`));
    }
  }

  writeMetric(r: MetricRecord): void {
    const id = this.options.identity;
    const count = r.count ?? 1;
    this.enqueue(CUSTOM_METRICS, {
      timestamp: r.timestamp,
      name: r.name,
      value: r.value,
      valueCount: count,
      valueSum: r.sum ?? r.value,
      valueMin: r.min ?? r.value,
      valueMax: r.max ?? r.value,
      valueStdDev: r.stdDev ?? 0,
      customDimensions: r.dimensions,
      customMeasurements: null,
      operation_Name: r.operationName,
      operation_Id: r.operationId,
      client_IP: r.clientIp,
      cloud_RoleName: r.cloudRoleName,
      cloud_RoleInstance: r.cloudRoleInstance,
      appId: id.appId,
      appName: id.name,
      iKey: id.instrumentationKey,
      sdkVersion: SDK_VERSION,
      itemId: randomUUID(),
      itemType: 'customMetric',
      itemCount: 1,
      _MetricNamespace: r.namespace,
      _IsEstimated: r.estimated ?? false,
    });
  }

  writeRequest(r: RequestRecord): void {
    const id = this.options.identity;
    this.enqueue(REQUESTS, {
      timestamp: r.timestamp,
      id: r.id,
      source: '',
      name: r.name,
      url: r.url,
      success: r.success,
      resultCode: String(r.resultCode),
      duration: r.durationMs,
      performanceBucket: performanceBucket(r.durationMs),
      customDimensions: r.dimensions,
      customMeasurements: null,
      operation_Name: r.name,
      operation_Id: r.operationId,
      client_IP: r.clientIp,
      cloud_RoleName: r.cloudRoleName,
      cloud_RoleInstance: r.cloudRoleInstance,
      appId: id.appId,
      appName: id.name,
      iKey: id.instrumentationKey,
      sdkVersion: SDK_VERSION,
      itemId: randomUUID(),
      itemType: 'request',
      itemCount: 1,
    });
  }

  writeGatewayLog(r: GatewayLogRecord): void {
    this.enqueue(GATEWAY_LOGS, { Type: 'ApiManagementGatewayLogs', ...r });
  }

  writeLlmLog(r: LlmLogRecord): void {
    this.enqueue(LLM_LOG, { Type: 'ApiManagementGatewayLlmLog', SourceSystem: 'Azure', ...r });
  }

  query(kql: string, options: QueryOptions): QueryResult {
    this.flushNow();
    const compiled = compileKql(kql, { tables: kqlTables(options.tableSet ?? 'all'), nowMs: options.nowMs, ...(options.timespan ? { timespan: options.timespan } : {}) });
    let raw: unknown[][];
    try {
      raw = this.db.prepare(compiled.sql).raw(true).all(...compiled.params) as unknown[][];
    } catch (error) {
      throw new KqlError({ kind: 'semantic', code: 'SEM0150', message: `Query execution failed: ${(error as Error).message}`, line: 1, pos: 0, offset: 0 });
    }
    const rows = encodeRows(compiled.columns, raw);
    return { tables: [{ name: 'PrimaryResult', columns: compiled.columns, rows }], ...(compiled.render ? { render: compiled.render } : {}) };
  }

  counts(): Record<string, number> {
    this.flushNow();
    const out: Record<string, number> = {};
    for (const t of PHYSICAL_TABLES) out[t.name] = (this.db.prepare(`SELECT count(*) AS n FROM "${t.name}"`).get() as { n: number }).n;
    return out;
  }

  async flush(): Promise<void> {
    this.flushNow();
  }

  async clear(): Promise<void> {
    this.queue = [];
    for (const t of PHYSICAL_TABLES) this.db.exec(`DELETE FROM "${t.name}"`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushNow();
    this.closed = true;
    if (this.path !== ':memory:') this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }

  private enqueue(table: PhysicalTable, row: Row): void {
    if (this.closed) throw new Error('The telemetry store is closed.');
    this.queue.push([table, row]);
    if (this.queue.length >= BATCH_SIZE) this.flushNow();
    else this.timer ??= setTimeout(() => this.flushNow(), FLUSH_DELAY_MS);
  }

  private flushNow(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0 || this.closed) return;
    const batch = this.queue;
    this.queue = [];
    this.writeBatch(batch);
  }

  private readonly writeBatch = (batch: Array<[PhysicalTable, Row]>) =>
    this.db.transaction(() => {
      for (const [table, row] of batch) this.inserts.get(table)!.run(toSqlRow(table, row));
    })();
}

/** Maps a record to bind parameters following the storage conventions. */
function toSqlRow(table: PhysicalTable, row: Row): Row {
  const out: Row = {};
  for (const c of table.columns) {
    const key = c.name.replace(/[^A-Za-z0-9_]/g, '_');
    const v = row[c.name];
    switch (c.type) {
      case 'string':
      case 'guid':
        out[key] = v === undefined || v === null ? '' : String(v);
        break;
      case 'dynamic':
        out[key] = v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v);
        break;
      case 'bool':
        out[key] = v === undefined || v === null ? null : v ? 1 : 0;
        break;
      case 'int':
      case 'long':
      case 'datetime':
      case 'timespan':
        out[key] = typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : null;
        break;
      default:
        out[key] = typeof v === 'number' && Number.isFinite(v) ? v : null;
    }
  }
  return out;
}

/** App Insights' duration buckets. */
function performanceBucket(ms: number): string {
  const buckets: Array<[number, string]> = [
    [250, '<250ms'], [500, '250ms-500ms'], [1000, '500ms-1sec'], [3000, '1sec-3sec'], [7000, '3sec-7sec'],
    [15000, '7sec-15sec'], [30000, '15sec-30sec'], [60000, '30sec-1min'], [120000, '1min-2min'], [300000, '2min-5min'],
  ];
  for (const [limit, label] of buckets) if (ms < limit) return label;
  return '>=5min';
}

export function createSqliteTelemetryStore(options: SqliteTelemetryStoreOptions): SqliteTelemetryStore {
  return new SqliteTelemetryStore(options);
}
