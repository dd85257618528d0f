import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  APIM_TABLES,
  applySchema,
  CLASSIC_TABLES,
  CUSTOM_METRICS,
  kqlTables,
  PHYSICAL_TABLES,
  schemaSql,
  WORKSPACE_VIEWS,
} from '../../../emulator/app-insights/tables.js';

const columnsOf = (db: Database.Database, name: string) => (db.prepare(`PRAGMA table_info("${name}")`).all() as Array<{ name: string; type: string; notnull: number }>);

describe('tables.ts descriptors and DDL', () => {
  it('has one physical table per telemetry type and the App* views', () => {
    expect(PHYSICAL_TABLES.map((t) => t.name)).toEqual([
      'customMetrics', 'requests', 'dependencies', 'traces', 'customEvents', 'ApiManagementGatewayLogs', 'ApiManagementGatewayLlmLog',
    ]);
    expect(WORKSPACE_VIEWS.map((v) => v.name)).toEqual(['AppMetrics', 'AppRequests', 'AppDependencies', 'AppTraces', 'AppEvents']);
  });

  it('customMetrics has the §3.1 columns, the context columns and the hidden namespace / estimated columns', () => {
    const names = CUSTOM_METRICS.columns.map((c) => c.name);
    for (const n of ['timestamp', 'name', 'value', 'valueCount', 'valueSum', 'valueMin', 'valueMax', 'valueStdDev', 'customDimensions', 'customMeasurements',
      'operation_Name', 'operation_Id', 'operation_ParentId', 'client_IP', 'cloud_RoleName', 'cloud_RoleInstance', 'appId', 'appName', 'iKey', 'sdkVersion',
      'itemId', 'itemType', 'itemCount', '_MetricNamespace', '_IsEstimated']) {
      expect(names).toContain(n);
    }
    const type = (n: string) => CUSTOM_METRICS.columns.find((c) => c.name === n)!.type;
    expect([type('timestamp'), type('value'), type('valueCount'), type('customDimensions'), type('_IsEstimated')]).toEqual(['datetime', 'real', 'int', 'dynamic', 'bool']);
    expect(new Set(names).size).toBe(names.length);
  });

  it('every descriptor column exists in SQLite, for tables and views, with strings NOT NULL', () => {
    const db = new Database(':memory:');
    db.exec(schemaSql());
    for (const t of kqlTables('all')) {
      const sqlColumns = columnsOf(db, t.sqlName).map((c) => c.name);
      expect(sqlColumns, t.name).toEqual(t.columns.map((c) => c.name));
    }
    for (const t of PHYSICAL_TABLES) {
      for (const c of columnsOf(db, t.name)) {
        const kql = t.columns.find((x) => x.name === c.name)!;
        expect(c.notnull === 1, `${t.name}.${c.name}`).toBe(kql.type === 'string');
      }
    }
  });

  it('indexes (name, timestamp) and (timestamp) on customMetrics', () => {
    const db = new Database(':memory:');
    db.exec(schemaSql());
    const indexes = (db.prepare("PRAGMA index_list('customMetrics')").all() as Array<{ name: string }>).map((i) =>
      (db.prepare(`PRAGMA index_info("${i.name}")`).all() as Array<{ name: string }>).map((c) => c.name).join(','),
    );
    expect(indexes.sort()).toEqual(['name,timestamp', 'timestamp']);
  });

  it('classic names and workspace names answer the same rows (column mapping of §3.2)', () => {
    const db = new Database(':memory:');
    db.exec(schemaSql());
    db.prepare(
      `INSERT INTO customMetrics (timestamp, name, value, valueCount, valueSum, valueMin, valueMax, valueStdDev, customDimensions, operation_Id, cloud_RoleName, appId, iKey, sdkVersion, itemCount, _MetricNamespace, _IsEstimated)
       VALUES (1000, 'Total Tokens', 71, 1, 71, 71, 71, 0, '{"Subscription ID":"subscription1"}', 'op1', 'apim', 'app', 'ikey', 'sdk', 1, 'openai', 1)`,
    ).run();
    db.prepare("INSERT INTO requests (timestamp, id, name, success, resultCode, duration, customDimensions) VALUES (2000, 'r1', 'POST /chat', 1, '200', 12.5, '{}')").run();
    db.prepare("INSERT INTO dependencies (timestamp, id, name, target, type, success, resultCode, duration) VALUES (3000, 'd1', 'POST /x', 'backend', 'HTTP', 0, '500', 3)").run();
    db.prepare("INSERT INTO traces (timestamp, message, severityLevel) VALUES (4000, 'hello', 2)").run();
    db.prepare("INSERT INTO customEvents (timestamp, name) VALUES (5000, 'started')").run();
    expect(db.prepare('SELECT TimeGenerated, Name, Sum, Min, Max, ItemCount, Properties, OperationId, AppRoleName, ResourceGUID, IKey, SDKVersion, _MetricNamespace, _IsEstimated, Type, SourceSystem, TenantId FROM AppMetrics').get()).toEqual({
      TimeGenerated: 1000, Name: 'Total Tokens', Sum: 71, Min: 71, Max: 71, ItemCount: 1, Properties: '{"Subscription ID":"subscription1"}', OperationId: 'op1',
      AppRoleName: 'apim', ResourceGUID: 'app', IKey: 'ikey', SDKVersion: 'sdk', _MetricNamespace: 'openai', _IsEstimated: 1, Type: 'AppMetrics', SourceSystem: 'Azure', TenantId: '',
    });
    expect(db.prepare('SELECT TimeGenerated, Id, Name, Success, ResultCode, DurationMs, Type FROM AppRequests').get()).toEqual({
      TimeGenerated: 2000, Id: 'r1', Name: 'POST /chat', Success: 1, ResultCode: '200', DurationMs: 12.5, Type: 'AppRequests',
    });
    expect(db.prepare('SELECT Target, DependencyType, Success, ResultCode FROM AppDependencies').get()).toEqual({ Target: 'backend', DependencyType: 'HTTP', Success: 0, ResultCode: '500' });
    expect(db.prepare('SELECT Message, SeverityLevel FROM AppTraces').get()).toEqual({ Message: 'hello', SeverityLevel: 2 });
    expect(db.prepare('SELECT Name, TimeGenerated FROM AppEvents').get()).toEqual({ Name: 'started', TimeGenerated: 5000 });
  });

  it('kqlTables: classic routes see classic + APIM names, workspace routes App* + APIM, with time columns', () => {
    const names = (set: 'classic' | 'workspace' | 'all') => kqlTables(set).map((t) => t.name);
    const apim = APIM_TABLES.map((t) => t.name);
    expect(names('classic')).toEqual([...CLASSIC_TABLES.map((t) => t.name), ...apim]);
    expect(names('workspace')).toEqual([...WORKSPACE_VIEWS.map((v) => v.name), ...apim]);
    expect(names('all')).toHaveLength(CLASSIC_TABLES.length + WORKSPACE_VIEWS.length + apim.length);
    for (const t of kqlTables('all')) expect(t.columns.map((c) => c.name)).toContain(t.timeColumn);
    expect(kqlTables('workspace').find((t) => t.name === 'AppMetrics')!.timeColumn).toBe('TimeGenerated');
    expect(kqlTables('classic').find((t) => t.name === 'customMetrics')!.timeColumn).toBe('timestamp');
  });

  it('applySchema upgrades an older telemetry.db: missing columns are added and old rows read as empty', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE customMetrics (timestamp INTEGER, name TEXT NOT NULL DEFAULT '', value REAL)`);
    db.exec(`INSERT INTO customMetrics VALUES (1, 'Total Tokens', 5)`);
    db.exec(`CREATE VIEW AppMetrics AS SELECT timestamp AS TimeGenerated FROM customMetrics`);
    applySchema(db);
    applySchema(db); // idempotent
    expect(columnsOf(db, 'customMetrics').map((c) => c.name)).toEqual([
      'timestamp', 'name', 'value', ...CUSTOM_METRICS.columns.map((c) => c.name).filter((n) => !['timestamp', 'name', 'value'].includes(n)),
    ]);
    expect(db.prepare('SELECT Name, Sum, _MetricNamespace FROM AppMetrics').get()).toEqual({ Name: 'Total Tokens', Sum: null, _MetricNamespace: '' });
  });
});
