import type { Database } from 'better-sqlite3';
import type { KqlColumn, KqlTable, KqlType } from './kql/index.js';

/**
 * Telemetry tables in Application Insights' classic shape (kql-and-clients.md §3.1), the APIM gateway
 * tables (§3.3), and SQL views with the workspace-based names (§3.2). Storage conventions: datetime and
 * timespan = INTEGER epoch/duration ms, dynamic = JSON TEXT, bool = INTEGER 0/1, strings never NULL.
 */
export interface PhysicalTable {
  name: string;
  columns: KqlColumn[];
  timeColumn: string;
  indexes: string[][];
}

export type TableSet = 'classic' | 'workspace' | 'all';

function cols(spec: string): KqlColumn[] {
  return spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const [name, type] = p.split(':') as [string, KqlType];
      return { name, type };
    });
}

/** Context columns on every classic App Insights table. */
const COMMON = cols(`operation_Name:string, operation_Id:string, operation_ParentId:string, operation_SyntheticSource:string,
  session_Id:string, user_Id:string, user_AuthenticatedId:string, user_AccountId:string, application_Version:string,
  client_Type:string, client_Model:string, client_OS:string, client_IP:string, client_City:string,
  client_StateOrProvince:string, client_CountryOrRegion:string, client_Browser:string, cloud_RoleName:string,
  cloud_RoleInstance:string, appId:string, appName:string, iKey:string, sdkVersion:string, itemId:string,
  itemType:string, itemCount:int, _ResourceId:string`);

export const CUSTOM_METRICS: PhysicalTable = {
  name: 'customMetrics',
  columns: [
    ...cols(`timestamp:datetime, name:string, value:real, valueCount:int, valueSum:real, valueMin:real, valueMax:real,
      valueStdDev:real, customDimensions:dynamic, customMeasurements:dynamic`),
    ...COMMON,
    // Not in App Insights' schema: the metric namespace and whether token counts were estimated.
    ...cols('_MetricNamespace:string, _IsEstimated:bool'),
  ],
  timeColumn: 'timestamp',
  indexes: [['name', 'timestamp'], ['timestamp']],
};

export const REQUESTS: PhysicalTable = {
  name: 'requests',
  columns: [
    ...cols(`timestamp:datetime, id:string, source:string, name:string, url:string, success:bool, resultCode:string,
      duration:real, performanceBucket:string, customDimensions:dynamic, customMeasurements:dynamic`),
    ...COMMON,
  ],
  timeColumn: 'timestamp',
  indexes: [['name', 'timestamp'], ['timestamp']],
};

export const DEPENDENCIES: PhysicalTable = {
  name: 'dependencies',
  columns: [
    ...cols(`timestamp:datetime, id:string, target:string, type:string, name:string, data:string, success:bool,
      resultCode:string, duration:real, performanceBucket:string, customDimensions:dynamic, customMeasurements:dynamic`),
    ...COMMON,
  ],
  timeColumn: 'timestamp',
  indexes: [['name', 'timestamp'], ['timestamp']],
};

export const TRACES: PhysicalTable = {
  name: 'traces',
  columns: [...cols('timestamp:datetime, message:string, severityLevel:int, customDimensions:dynamic, customMeasurements:dynamic'), ...COMMON],
  timeColumn: 'timestamp',
  indexes: [['timestamp']],
};

export const CUSTOM_EVENTS: PhysicalTable = {
  name: 'customEvents',
  columns: [...cols('timestamp:datetime, name:string, customDimensions:dynamic, customMeasurements:dynamic'), ...COMMON],
  timeColumn: 'timestamp',
  indexes: [['name', 'timestamp'], ['timestamp']],
};

export const GATEWAY_LOGS: PhysicalTable = {
  name: 'ApiManagementGatewayLogs',
  columns: cols(`TimeGenerated:datetime, CorrelationId:string, Method:string, Url:string, ResponseCode:int, TotalTime:long,
    BackendTime:long, CacheTime:long, ClientTime:long, RequestBody:string, RequestHeaders:dynamic, RequestSize:int,
    ResponseBody:string, ResponseHeaders:dynamic, ResponseSize:int, BackendId:string, BackendMethod:string,
    BackendProtocol:string, BackendUrl:string, BackendRequestBody:string, BackendRequestHeaders:dynamic,
    BackendResponseBody:string, BackendResponseCode:int, BackendResponseHeaders:dynamic, ApiId:string, ApiRevision:string,
    ApimSubscriptionId:string, OperationId:string, OperationName:string, ProductId:string, UserId:string, CallerIpAddress:string,
    ClientProtocol:string, ClientTlsVersion:string, Errors:dynamic, LastErrorMessage:string, LastErrorReason:string,
    LastErrorScope:string, LastErrorSection:string, LastErrorSource:string, LastErrorElapsed:long, IsRequestSuccess:bool,
    TraceRecords:dynamic, IsTraceAllowed:bool, IsTraceRequested:bool, IsTraceExpired:bool, IsMasterTrace:bool, Cache:string,
    Region:string, WorkspaceId:string, _ResourceId:string, _SubscriptionId:string, TenantId:string, Type:string`),
  timeColumn: 'TimeGenerated',
  indexes: [['TimeGenerated'], ['CorrelationId']],
};

export const LLM_LOG: PhysicalTable = {
  name: 'ApiManagementGatewayLlmLog',
  columns: cols(`TimeGenerated:datetime, CorrelationId:string, DeploymentName:string, ModelName:string, ApiVersion:string,
    PromptTokens:int, CompletionTokens:int, TotalTokens:int, RequestId:string, RequestMessages:dynamic,
    ResponseMessages:dynamic, IsStreamCompletion:bool, SequenceNumber:int, OperationName:string, Region:string,
    SourceSystem:string, _ResourceId:string, _SubscriptionId:string, TenantId:string, Type:string`),
  timeColumn: 'TimeGenerated',
  indexes: [['TimeGenerated'], ['CorrelationId']],
};

export const PHYSICAL_TABLES: readonly PhysicalTable[] = [CUSTOM_METRICS, REQUESTS, DEPENDENCIES, TRACES, CUSTOM_EVENTS, GATEWAY_LOGS, LLM_LOG];

/** The classic App Insights tables (answered by the App Insights routes). */
export const CLASSIC_TABLES: readonly PhysicalTable[] = [CUSTOM_METRICS, REQUESTS, DEPENDENCIES, TRACES, CUSTOM_EVENTS];

/** The APIM resource-log tables (Log Analytics; visible on every route). */
export const APIM_TABLES: readonly PhysicalTable[] = [GATEWAY_LOGS, LLM_LOG];

/** Workspace-based column names (classic → workspace), kql-and-clients.md §3.2. */
const WORKSPACE_COMMON: Array<[string, string]> = [
  ['OperationName', 'operation_Name'], ['OperationId', 'operation_Id'], ['ParentId', 'operation_ParentId'],
  ['SyntheticSource', 'operation_SyntheticSource'], ['SessionId', 'session_Id'], ['UserId', 'user_Id'],
  ['UserAuthenticatedId', 'user_AuthenticatedId'], ['UserAccountId', 'user_AccountId'], ['AppVersion', 'application_Version'],
  ['AppRoleName', 'cloud_RoleName'], ['AppRoleInstance', 'cloud_RoleInstance'], ['ClientType', 'client_Type'],
  ['ClientModel', 'client_Model'], ['ClientOS', 'client_OS'], ['ClientIP', 'client_IP'], ['ClientCity', 'client_City'],
  ['ClientStateOrProvince', 'client_StateOrProvince'], ['ClientCountryOrRegion', 'client_CountryOrRegion'],
  ['ClientBrowser', 'client_Browser'], ['ResourceGUID', 'appId'], ['IKey', 'iKey'], ['SDKVersion', 'sdkVersion'],
  ['_ResourceId', '_ResourceId'],
];

export interface WorkspaceView {
  name: string;
  source: PhysicalTable;
  /** [workspace column, classic column or SQL literal, type]. */
  columns: Array<[string, string, KqlType]>;
}

function typeOf(table: PhysicalTable, column: string): KqlType {
  const found = table.columns.find((c) => c.name === column);
  if (!found) throw new Error(`tables.ts: ${table.name} has no column ${column}`);
  return found.type;
}

/** Table-specific mappings first (they win over the common ones), then context columns and constants. */
function workspaceView(name: string, source: PhysicalTable, specific: Array<[string, string]>): WorkspaceView {
  const mapped = [...specific, ...WORKSPACE_COMMON].map(([ws, classic]): [string, string, KqlType] => [ws, classic, typeOf(source, classic)]);
  const constants: Array<[string, string, KqlType]> = [
    ['ItemCount', 'itemCount', 'int'],
    ['TenantId', "''", 'string'],
    ['SourceSystem', "'Azure'", 'string'],
    ['Type', `'${name}'`, 'string'],
  ];
  const all = [...mapped, ...constants];
  return { name, source, columns: all.filter((c, i) => all.findIndex((x) => x[0] === c[0]) === i) };
}

export const WORKSPACE_VIEWS: readonly WorkspaceView[] = [
  workspaceView('AppMetrics', CUSTOM_METRICS, [
    ['TimeGenerated', 'timestamp'], ['Name', 'name'], ['Sum', 'valueSum'], ['Min', 'valueMin'], ['Max', 'valueMax'],
    ['ItemCount', 'valueCount'], ['Properties', 'customDimensions'], ['_MetricNamespace', '_MetricNamespace'],
    ['_IsEstimated', '_IsEstimated'],
  ]),
  workspaceView('AppRequests', REQUESTS, [
    ['TimeGenerated', 'timestamp'], ['Id', 'id'], ['Name', 'name'], ['Url', 'url'], ['Success', 'success'],
    ['ResultCode', 'resultCode'], ['DurationMs', 'duration'], ['PerformanceBucket', 'performanceBucket'], ['Source', 'source'],
    ['Properties', 'customDimensions'], ['Measurements', 'customMeasurements'],
  ]),
  workspaceView('AppDependencies', DEPENDENCIES, [
    ['TimeGenerated', 'timestamp'], ['Id', 'id'], ['Target', 'target'], ['DependencyType', 'type'], ['Name', 'name'],
    ['Data', 'data'], ['Success', 'success'], ['ResultCode', 'resultCode'], ['DurationMs', 'duration'],
    ['PerformanceBucket', 'performanceBucket'], ['Properties', 'customDimensions'], ['Measurements', 'customMeasurements'],
  ]),
  workspaceView('AppTraces', TRACES, [
    ['TimeGenerated', 'timestamp'], ['Message', 'message'], ['SeverityLevel', 'severityLevel'],
    ['Properties', 'customDimensions'], ['Measurements', 'customMeasurements'],
  ]),
  workspaceView('AppEvents', CUSTOM_EVENTS, [
    ['TimeGenerated', 'timestamp'], ['Name', 'name'], ['Properties', 'customDimensions'], ['Measurements', 'customMeasurements'],
  ]),
];

function sqlType(type: KqlType): string {
  switch (type) {
    case 'datetime':
    case 'timespan':
    case 'int':
    case 'long':
    case 'bool':
      return 'INTEGER';
    case 'real':
    case 'decimal':
      return 'REAL';
    default:
      return 'TEXT';
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

function columnSql(c: KqlColumn): string {
  return `${quote(c.name)} ${sqlType(c.type)}${c.type === 'string' ? " NOT NULL DEFAULT ''" : ''}`;
}

function indexSql(t: PhysicalTable): string[] {
  return t.indexes.map((index) => `CREATE INDEX IF NOT EXISTS ${quote(`ix_${t.name}_${index.join('_')}`)} ON ${quote(t.name)} (${index.map(quote).join(', ')})`);
}

function viewSql(v: WorkspaceView): string[] {
  const select = v.columns.map(([ws, expr]) => `${expr.startsWith("'") ? expr : quote(expr)} AS ${quote(ws)}`).join(', ');
  return [`DROP VIEW IF EXISTS ${quote(v.name)}`, `CREATE VIEW ${quote(v.name)} AS SELECT ${select} FROM ${quote(v.source.name)}`];
}

/** CREATE TABLE / INDEX / VIEW statements (idempotent; views are recreated). */
export function schemaSql(): string {
  const statements: string[] = [];
  for (const t of PHYSICAL_TABLES) {
    statements.push(`CREATE TABLE IF NOT EXISTS ${quote(t.name)} (${t.columns.map(columnSql).join(', ')})`, ...indexSql(t));
  }
  for (const v of WORKSPACE_VIEWS) statements.push(...viewSql(v));
  return statements.join(';\n') + ';';
}

/**
 * Creates the schema, or upgrades a telemetry.db written by an older version: missing columns are added
 * (strings default to ''), indexes created and views recreated. One transaction.
 */
export function applySchema(db: Database): void {
  db.transaction(() => {
    for (const t of PHYSICAL_TABLES) {
      const existing = db.prepare(`PRAGMA table_info(${quote(t.name)})`).all() as Array<{ name: string }>;
      if (existing.length === 0) {
        db.exec(`CREATE TABLE ${quote(t.name)} (${t.columns.map(columnSql).join(', ')})`);
      } else {
        const have = new Set(existing.map((c) => c.name));
        for (const c of t.columns) if (!have.has(c.name)) db.exec(`ALTER TABLE ${quote(t.name)} ADD COLUMN ${columnSql(c)}`);
      }
      for (const statement of indexSql(t)) db.exec(statement);
    }
    for (const v of WORKSPACE_VIEWS) for (const statement of viewSql(v)) db.exec(statement);
  })();
}

/** Column descriptors of a physical table or workspace view, as the KQL engine reads them. */
function describe(t: PhysicalTable): KqlTable {
  return { name: t.name, sqlName: t.name, columns: t.columns.map((c) => ({ ...c })), timeColumn: t.timeColumn };
}

/**
 * Tables a query may reference: App Insights routes see the classic names, workspace routes the App* views,
 * and the APIM tables are visible on both ('all' = everything, for the CLI and tests).
 */
export function kqlTables(set: TableSet): KqlTable[] {
  const classic = CLASSIC_TABLES.map(describe);
  const apim = APIM_TABLES.map(describe);
  const workspace: KqlTable[] = WORKSPACE_VIEWS.map((v) => ({
    name: v.name,
    sqlName: v.name,
    columns: v.columns.map(([name, , type]) => ({ name, type })),
    timeColumn: 'TimeGenerated',
  }));
  if (set === 'classic') return [...classic, ...apim];
  if (set === 'workspace') return [...workspace, ...apim];
  return [...classic, ...workspace, ...apim];
}
