import Database, { type Database as SqliteDatabase, type Statement } from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { accessSync, constants as fsConstants, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { executeKql, registerKqlFunctions, type KqlResultLimits } from './kql/index.js';
import {
  TelemetryStoreClosedError,
  type AppInsightsIdentity,
  type DependencyRecord,
  type EventRecord,
  type GatewayLogRecord,
  type LlmLogRecord,
  type MetricRecord,
  type QueryOptions,
  type QueryResult,
  type RequestRecord,
  type TelemetryContext,
  type TelemetryStore,
  type TraceRecord,
} from './store.js';
import { applySchema, CUSTOM_EVENTS, CUSTOM_METRICS, DEPENDENCIES, GATEWAY_LOGS, kqlTables, LLM_LOG, PHYSICAL_TABLES, REQUESTS, TRACES, type PhysicalTable } from './tables.js';
import { parseTimespan } from './timespan.js';

export const TELEMETRY_FILE = 'telemetry.db';
export const SDK_VERSION = 'apim-emulator:1.0';
const DEFAULT_BATCH_SIZE = 1000;
const DEFAULT_FLUSH_INTERVAL_MS = 25;
const DEFAULT_MAX_QUEUE = 100_000;

export interface SqliteTelemetryStoreOptions {
  /** Directory holding telemetry.db (created when missing). */
  dataDir?: string;
  /** Keep everything in memory (default when no dataDir is given). */
  inMemory?: boolean;
  identity: AppInsightsIdentity;
  /** Open an existing telemetry.db read-only (e.g. the query CLI next to a running emulator). */
  readonly?: boolean;
  /** Pending rows that trigger a flush on the next tick (default 1000). */
  batchSize?: number;
  /** Longest time a row waits before its transaction, in wall ms (default 25). */
  flushIntervalMs?: number;
  /** Backpressure: at this many pending rows a write flushes inline (default 100 000). */
  maxQueue?: number;
  /** How long a write transaction waits for a lock held by another connection (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Background flush failures (the rows stay queued and are retried). Default: one stderr line. */
  onError?: (error: Error) => void;
  /**
   * Cap on the database size in pages (SQLite `max_page_count`; a page is 4 KiB): past it a write fails with
   * SQLITE_FULL like a full disk. Unset: only the disk limits the size.
   */
  maxPageCount?: number;
  /** Result caps per query (default 500,000 rows, 64 MiB, 30 s); a cut result carries `truncated`. */
  queryLimits?: Partial<KqlResultLimits>;
}

export const DEFAULT_QUERY_LIMITS: Readonly<KqlResultLimits> = { maxRows: 500_000, maxBytes: 64 * 1024 * 1024, timeBudgetMs: 30_000 };

/** Write health of the store, for `GET /_emulator/health`. */
export interface TelemetryStoreHealth {
  status: 'ok' | 'degraded';
  path: string;
  pendingRows: number;
  /** Flushes (transactions) that failed since start; their rows stay queued and are retried. */
  failedFlushes: number;
  /** Rows given up when the queue passed maxQueue while flushes kept failing (never silently: counted here). */
  droppedRows: number;
  lastError: string | null;
}

/** Why the telemetry database could not be opened at start-up; the message says how to recover. */
export class TelemetryStoreOpenError extends Error {
  override name = 'TelemetryStoreOpenError';
  constructor(
    readonly reason: 'read-only' | 'corrupt' | 'full' | 'other',
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

function sqliteCode(error: unknown): string {
  return typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
}

/** Start-up failures of opening `path` in `dataDir` → one clear error with the recovery steps. */
function openError(error: unknown, dataDir: string, path: string): TelemetryStoreOpenError {
  const code = sqliteCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'SQLITE_READONLY' || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY')) {
    return new TelemetryStoreOpenError('read-only', `The data directory ${dataDir} is not writable (${code || detail}): telemetry cannot be stored in ${path}. Start with --data <a writable directory>, or --in-memory.`, path);
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new TelemetryStoreOpenError(
      'corrupt',
      `The telemetry database ${path} is corrupt (${code}: ${detail}). Nothing was deleted. Start with --data <another directory>, or move the file aside and start fresh: --recover-telemetry (renames it to ${TELEMETRY_FILE}.corrupt-<timestamp>).`,
      path,
    );
  }
  if (code === 'ENOSPC' || code === 'SQLITE_FULL') {
    return new TelemetryStoreOpenError('full', `The disk holding ${path} is full (${code}). Free space, or start with --data <a directory on another disk>, or --in-memory.`, path);
  }
  return new TelemetryStoreOpenError('other', `The telemetry database ${path} could not be opened: ${detail}`, path);
}

type Pending = [PhysicalTable, unknown[]];

const GATEWAY_LOG_DEFAULTS = { Type: 'ApiManagementGatewayLogs' };
const LLM_LOG_DEFAULTS = { Type: 'ApiManagementGatewayLlmLog', SourceSystem: 'Azure' };

/**
 * The embedded default store: one SQLite file (WAL) or memory. Writes are queued and committed in one
 * transaction per batch, on a short timer or when the batch is full, never inside the write call
 * (unless the queue passes maxQueue). Queries flush first, so every acknowledged write is visible.
 */
export class SqliteTelemetryStore implements TelemetryStore {
  readonly kind = 'sqlite';
  /** The database file, or ':memory:'. */
  readonly path: string;
  private readonly db: SqliteDatabase;
  private readonly inserts = new Map<PhysicalTable, Statement>();
  private readonly identity: AppInsightsIdentity;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueue: number;
  private readonly onError: (error: Error) => void;
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private closed = false;
  private readonly writeBatch: (batch: Pending[]) => void;
  private failedFlushes = 0;
  private droppedRows = 0;
  private lastError: string | null = null;
  private lastFlushFailed = false;
  private readonly queryLimits: KqlResultLimits;

  constructor(options: SqliteTelemetryStoreOptions) {
    this.identity = options.identity;
    this.queryLimits = { ...DEFAULT_QUERY_LIMITS, ...options.queryLimits };
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxQueue = Math.max(options.maxQueue ?? DEFAULT_MAX_QUEUE, this.batchSize);
    this.onError = options.onError ?? ((error) => process.stderr.write(`telemetry store: ${error.message}\n`));
    if (options.inMemory || options.dataDir === undefined) {
      this.path = ':memory:';
      this.db = new Database(':memory:');
    } else {
      this.path = join(options.dataDir, TELEMETRY_FILE);
      let db: SqliteDatabase | undefined;
      try {
        if (!options.readonly) {
          mkdirSync(options.dataDir, { recursive: true });
          // SQLite opens a file in a read-only directory but fails at the first write (WAL, journal): check first.
          accessSync(options.dataDir, fsConstants.W_OK);
        }
        db = new Database(this.path, { timeout: options.busyTimeoutMs ?? 5000, ...(options.readonly ? { readonly: true, fileMustExist: true } : {}) });
        if (!options.readonly) {
          db.pragma('journal_mode = WAL');
          // WAL + NORMAL: a committed batch survives a process crash (not necessarily a power cut).
          db.pragma('synchronous = NORMAL');
          applySchema(db);
        } else {
          db.prepare('SELECT count(*) FROM sqlite_schema').get();
        }
      } catch (error) {
        db?.close();
        throw openError(error, options.dataDir, this.path);
      }
      this.db = db;
    }
    if (this.path === ':memory:') applySchema(this.db);
    if (options.maxPageCount !== undefined) this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxPageCount))}`);
    registerKqlFunctions(this.db);
    if (!options.readonly) {
      for (const table of PHYSICAL_TABLES) {
        const names = table.columns.map((c) => `"${c.name}"`).join(', ');
        this.inserts.set(table, this.db.prepare(`INSERT INTO "${table.name}" (${names}) VALUES (${table.columns.map(() => '?').join(', ')})`));
      }
    }
    this.writeBatch = this.db.transaction((batch: Pending[]) => {
      for (const [table, values] of batch) this.inserts.get(table)!.run(values);
    });
  }

  /** Rows waiting for their transaction. */
  get pending(): number {
    return this.queue.length;
  }

  health(): TelemetryStoreHealth {
    return { status: this.lastFlushFailed ? 'degraded' : 'ok', path: this.path, pendingRows: this.queue.length, failedFlushes: this.failedFlushes, droppedRows: this.droppedRows, lastError: this.lastError };
  }

  // Rows are written into their column slots (RowValues): no intermediate record object per row, and no look-up of
  // every column the row leaves unset.
  writeMetric(r: MetricRecord): void {
    const row = this.classicRow(CUSTOM_METRICS, r, 'customMetric');
    row.set('name', r.name);
    row.set('value', r.value);
    row.set('valueCount', r.count ?? 1);
    row.set('valueSum', r.sum ?? r.value);
    row.set('valueMin', r.min ?? r.value);
    row.set('valueMax', r.max ?? r.value);
    row.set('valueStdDev', r.stdDev ?? 0);
    row.set('_MetricNamespace', r.namespace);
    row.set('_IsEstimated', r.estimated ?? false);
    this.enqueue(CUSTOM_METRICS, row.values);
  }

  writeRequest(r: RequestRecord): void {
    const row = this.classicRow(REQUESTS, r, 'request');
    row.set('operation_Name', r.operationName ?? r.name);
    row.set('id', r.id);
    row.set('source', r.source);
    row.set('name', r.name);
    row.set('url', r.url);
    setOutcome(row, r, r.performanceBucket);
    this.enqueue(REQUESTS, row.values);
  }

  writeDependency(r: DependencyRecord): void {
    const row = this.classicRow(DEPENDENCIES, r, 'dependency');
    row.set('id', r.id);
    row.set('target', r.target);
    row.set('type', r.type);
    row.set('name', r.name);
    row.set('data', r.data);
    setOutcome(row, r, undefined);
    this.enqueue(DEPENDENCIES, row.values);
  }

  writeTrace(r: TraceRecord): void {
    const row = this.classicRow(TRACES, r, 'trace');
    row.set('message', r.message);
    row.set('severityLevel', r.severityLevel);
    this.enqueue(TRACES, row.values);
  }

  writeEvent(r: EventRecord): void {
    const row = this.classicRow(CUSTOM_EVENTS, r, 'customEvent');
    row.set('name', r.name);
    this.enqueue(CUSTOM_EVENTS, row.values);
  }

  writeGatewayLog(r: GatewayLogRecord): void {
    this.enqueue(GATEWAY_LOGS, toSqlValues(GATEWAY_LOGS, r as unknown as Record<string, unknown>, GATEWAY_LOG_DEFAULTS));
  }

  writeLlmLog(r: LlmLogRecord): void {
    this.enqueue(LLM_LOG, toSqlValues(LLM_LOG, r as unknown as Record<string, unknown>, LLM_LOG_DEFAULTS));
  }

  query(kql: string, options: QueryOptions): QueryResult {
    this.assertOpen();
    // A failing flush (disk full) is counted in health(); the query still answers from what is stored.
    this.flushNow(false);
    const timespan = typeof options.timespan === 'string' ? parseTimespan(options.timespan, options.nowMs) : options.timespan;
    const compileOptions = { tables: kqlTables(options.tableSet ?? 'all'), nowMs: options.nowMs, ...(timespan ? { timespan } : {}) };
    const { columns, rows, render, truncated } = executeKql(this.db, kql, compileOptions, this.queryLimits);
    return { tables: [{ name: 'PrimaryResult', columns, rows }], ...(render ? { render } : {}), ...(truncated ? { truncated } : {}) };
  }

  counts(): Record<string, number> {
    this.assertOpen();
    this.flushNow(false);
    const out: Record<string, number> = {};
    for (const t of PHYSICAL_TABLES) out[t.name] = (this.db.prepare(`SELECT count(*) AS n FROM "${t.name}"`).get() as { n: number }).n;
    return out;
  }

  async flush(): Promise<void> {
    this.assertOpen();
    this.flushNow(true);
  }

  async clear(): Promise<void> {
    this.assertOpen();
    this.cancelTimers();
    this.queue = [];
    if (this.inserts.size === 0) return;
    this.db.transaction(() => {
      for (const t of PHYSICAL_TABLES) this.db.exec(`DELETE FROM "${t.name}"`);
    })();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      this.flushNow(true);
    } finally {
      this.closed = true;
      this.cancelTimers();
      if (this.path !== ':memory:' && this.inserts.size > 0) {
        try {
          this.db.pragma('wal_checkpoint(TRUNCATE)');
        } catch {
          // Another connection (e.g. the query CLI) may hold a read lock; the WAL is replayed on next open.
        }
      }
      this.db.close();
    }
  }

  /**
   * A classic table's row with what every classic record carries set: the context columns (the record's, then this
   * store's identity), timestamp, customDimensions and customMeasurements.
   */
  private classicRow(table: PhysicalTable, r: ClassicRecord, itemType: string): RowValues {
    const row = new RowValues(layoutOf(table, undefined));
    row.set('operation_Name', r.operationName);
    row.set('operation_Id', r.operationId);
    row.set('operation_ParentId', r.operationParentId);
    row.set('client_IP', r.clientIp);
    row.set('cloud_RoleName', r.cloudRoleName);
    row.set('cloud_RoleInstance', r.cloudRoleInstance);
    row.set('user_Id', r.userId);
    row.set('session_Id', r.sessionId);
    row.set('appId', this.identity.appId);
    row.set('appName', this.identity.name);
    row.set('iKey', this.identity.instrumentationKey);
    row.set('sdkVersion', r.sdkVersion ?? SDK_VERSION);
    row.set('itemId', randomUUID());
    row.set('itemType', itemType);
    row.set('itemCount', r.itemCount ?? 1);
    row.set('_ResourceId', this.identity.resourceId);
    row.set('timestamp', r.timestamp);
    row.set('customDimensions', r.dimensions ?? {});
    row.set('customMeasurements', r.measurements);
    return row;
  }

  private assertOpen(): void {
    if (this.closed) throw new TelemetryStoreClosedError();
  }

  /** Queues one row (its values in column order, tables.ts conventions applied). */
  private enqueue(table: PhysicalTable, values: unknown[]): void {
    this.assertOpen();
    if (this.inserts.size === 0) throw new Error(`The telemetry store at ${this.path} is read-only.`);
    this.queue.push([table, values]);
    if (this.queue.length >= this.maxQueue) {
      // Backpressure: flush inline. If that fails too (disk full), the request is still answered: the oldest
      // rows past the cap are dropped and counted (health), never thrown into the gateway's request path.
      // After a failed flush only the retry timer tries again (no failing transaction per request).
      if (!this.lastFlushFailed) this.flushNow(false);
      if (this.queue.length >= this.maxQueue) {
        const drop = this.queue.length - this.maxQueue + 1;
        this.queue.splice(0, drop);
        this.droppedRows += drop;
      }
    } else if (this.queue.length >= this.batchSize) {
      this.immediate ??= setImmediate(() => this.flushNow(false));
    } else {
      this.timer ??= setTimeout(() => this.flushNow(false), this.flushIntervalMs);
    }
  }

  private cancelTimers(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** Commits the queue in one transaction. A failed batch stays queued; `rethrow` = the caller waits for it. */
  private flushNow(rethrow: boolean): void {
    this.cancelTimers();
    if (this.queue.length === 0 || this.closed) return;
    const batch = this.queue;
    this.queue = [];
    try {
      this.writeBatch(batch);
      this.lastFlushFailed = false;
    } catch (error) {
      this.queue = batch.concat(this.queue);
      const e = error instanceof Error ? error : new Error(String(error));
      this.failedFlushes++;
      this.lastFlushFailed = true;
      this.lastError = `${sqliteCode(e) || e.name}: ${e.message}`;
      if (rethrow) throw e;
      this.onError(e);
      this.timer ??= setTimeout(() => this.flushNow(false), Math.max(this.flushIntervalMs, 1000));
    }
  }
}

type Convert = (v: unknown) => unknown;

const toText: Convert = (v) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
const toJson: Convert = (v) => (v === undefined || v === null ? null : typeof v === 'string' ? jsonText(v) : JSON.stringify(v));
const toBool: Convert = (v) => (v === undefined || v === null ? null : v === 'false' || v === 'False' ? 0 : v ? 1 : 0);
const toNumber = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);
const toInteger: Convert = (v) => {
  const n = toNumber(v);
  return Number.isFinite(n) ? Math.round(n) : null;
};
const toReal: Convert = (v) => {
  const n = toNumber(v);
  return Number.isFinite(n) ? n : null;
};
const CONVERT_BY_TYPE: Record<string, Convert> = { string: toText, guid: toText, dynamic: toJson, bool: toBool, int: toInteger, long: toInteger, datetime: toInteger, timespan: toInteger };

/** A table's insert layout: each column's slot and converter, and the values of a row that sets no column. */
interface RowLayout {
  slots: Map<string, number>;
  convert: Convert[];
  empty: unknown[];
}
const layouts = new Map<PhysicalTable, Map<Record<string, unknown> | undefined, RowLayout>>();

function layoutOf(table: PhysicalTable, defaults: Record<string, unknown> | undefined): RowLayout {
  let byDefaults = layouts.get(table);
  if (!byDefaults) layouts.set(table, (byDefaults = new Map()));
  let layout = byDefaults.get(defaults);
  if (!layout) {
    const convert = table.columns.map((x) => CONVERT_BY_TYPE[x.type] ?? toReal);
    layout = {
      slots: new Map(table.columns.map((x, i) => [x.name, i])),
      convert,
      empty: table.columns.map((x, i) => convert[i]!(defaults?.[x.name])),
    };
    byDefaults.set(defaults, layout);
  }
  return layout;
}

/**
 * A record's values in column order, following the storage conventions (tables.ts): a column the record leaves
 * unset (or null) takes its default. Walks the record's keys, not every column (rows set a fraction of them).
 */
function toSqlValues(table: PhysicalTable, row: Record<string, unknown>, defaults?: Record<string, unknown>): unknown[] {
  const layout = layoutOf(table, defaults);
  const out = layout.empty.slice();
  for (const name in row) {
    const value = row[name];
    if (value === undefined || value === null) continue;
    const slot = layout.slots.get(name);
    if (slot !== undefined) out[slot] = layout.convert[slot]!(value);
  }
  return out;
}

/** One row's values in column order, set by column name; a column left unset (or set to null) keeps its default. */
class RowValues {
  readonly values: unknown[];
  constructor(private readonly layout: RowLayout) {
    this.values = layout.empty.slice();
  }

  set(name: string, value: unknown): void {
    if (value === undefined || value === null) return;
    const slot = this.layout.slots.get(name);
    if (slot !== undefined) this.values[slot] = this.layout.convert[slot]!(value);
  }
}

/** What every classic App Insights record carries besides its context. */
type ClassicRecord = TelemetryContext & { timestamp: number; dimensions?: Record<string, string>; measurements?: Record<string, number> };

/** The outcome columns requests and dependencies share; the bucket follows the duration unless the record gives one. */
function setOutcome(row: RowValues, r: { success: boolean; resultCode: number | string; durationMs: number }, bucket: string | undefined): void {
  row.set('success', r.success);
  row.set('resultCode', String(r.resultCode));
  row.set('duration', r.durationMs);
  row.set('performanceBucket', bucket ?? performanceBucket(r.durationMs));
}

/** Dynamic columns hold valid JSON: a string that already is JSON is kept, other text becomes a JSON string. */
function jsonText(text: string): string {
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}

const PERFORMANCE_BUCKETS: ReadonlyArray<[number, string]> = [
  [250, '<250ms'], [500, '250ms-500ms'], [1000, '500ms-1sec'], [3000, '1sec-3sec'], [7000, '3sec-7sec'],
  [15000, '7sec-15sec'], [30000, '15sec-30sec'], [60000, '30sec-1min'], [120000, '1min-2min'], [300000, '2min-5min'],
];

/** App Insights' request duration buckets. */
export function performanceBucket(ms: number): string {
  for (const [limit, label] of PERFORMANCE_BUCKETS) if (ms < limit) return label;
  return '>=5min';
}

export function createSqliteTelemetryStore(options: SqliteTelemetryStoreOptions): SqliteTelemetryStore {
  return new SqliteTelemetryStore(options);
}

/**
 * Opens the store; when the database file is corrupt, moves it (and its -wal/-shm files) aside as
 * `telemetry.db.corrupt-<timestamp>` and starts a fresh one. Never deletes anything. `nowMs` names the copy.
 */
export function createSqliteTelemetryStoreRecovering(options: SqliteTelemetryStoreOptions, nowMs: number): { store: SqliteTelemetryStore; movedAside?: string } {
  try {
    return { store: createSqliteTelemetryStore(options) };
  } catch (error) {
    if (!(error instanceof TelemetryStoreOpenError) || error.reason !== 'corrupt') throw error;
    const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const movedAside = `${error.path}.corrupt-${stamp}`;
    renameSync(error.path, movedAside);
    for (const suffix of ['-wal', '-shm']) if (existsSync(error.path + suffix)) renameSync(error.path + suffix, movedAside + suffix);
    return { store: createSqliteTelemetryStore(options), movedAside };
  }
}

export interface ShutdownFlushOptions {
  /** Default SIGTERM and SIGINT. */
  signals?: NodeJS.Signals[];
  /** Called after the store closed (default process.exit). */
  exit?: (code: number) => void;
  onError?: (error: Error) => void;
}

/**
 * On SIGTERM/SIGINT: close (flush) the store, then exit 0 (1 if the flush failed), so acknowledged writes
 * are never lost. Returns a function that removes the handlers.
 */
export function installShutdownFlush(store: Pick<TelemetryStore, 'close'>, options: ShutdownFlushOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running = false;
  const handler = () => {
    if (running) return;
    running = true;
    store.close().then(
      () => exit(0),
      (error: unknown) => {
        (options.onError ?? ((e: Error) => process.stderr.write(`telemetry store: ${e.message}\n`)))(error instanceof Error ? error : new Error(String(error)));
        exit(1);
      },
    );
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
