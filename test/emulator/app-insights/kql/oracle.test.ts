/**
 * Oracle corpus test: for every corpus query our result columns (names and types) must equal what
 * Kusto.Language's ParseAndAnalyze reports for the same schemas, and every query must run on SQLite.
 * Also checks that the oracle agrees our error corpus is erroneous. One file, one ~2 s oracle load.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { compileKql, executeKql, KqlError } from '../../../../emulator/app-insights/kql/index.js';
import { DASHBOARD_QUERIES, ERROR_QUERIES, SPEC_QUERIES, TIER_QUERIES } from './corpus.js';
import { createSeededDb, OPTIONS, TABLES } from './fixtures.js';
import { createOracle } from './oracle.js';
import { kqlTables } from '../../../../emulator/app-insights/tables.js';
import type { Oracle } from './oracle.js';

let oracle: Oracle;
let storeOracle: Oracle;
const db = createSeededDb();
/** The telemetry store's descriptors (tables.ts) plus the dashboards' custom PRICING_CL table. */
const STORE_TABLES = [...kqlTables('all'), TABLES.find((t) => t.name === 'PRICING_CL')!];

beforeAll(async () => {
  oracle = await createOracle(TABLES);
  storeOracle = await createOracle(STORE_TABLES);
}, 30_000);

const CORPUS = [
  ...SPEC_QUERIES.map((q) => ['spec', q] as const),
  ...DASHBOARD_QUERIES.map((q) => ['dashboard', q] as const),
  ...TIER_QUERIES.map((q) => ['tier', q] as const),
];

describe('oracle corpus: result schema equals Kusto.Language ParseAndAnalyze', () => {
  it('has the §4.1 queries, the dashboard queries and our own', () => {
    expect(SPEC_QUERIES.length).toBe(13);
    expect(CORPUS.length).toBeGreaterThanOrEqual(100);
  });

  it.each(CORPUS)('%s: %s', (_kind, query) => {
    const expected = oracle.analyze(query);
    expect(expected.errors).toEqual([]);
    const ours = compileKql(query, OPTIONS);
    expect(ours.columns).toEqual(expected.columns);
    const result = executeKql(db, query, OPTIONS);
    expect(result.columns).toEqual(expected.columns);
  });
});

describe('oracle agreement on bad queries', () => {
  it.each(ERROR_QUERIES)('%j is a %s error for both', (query, kind) => {
    const expected = oracle.analyze(query);
    expect(expected.errors.length).toBeGreaterThan(0);
    if (kind === 'syntax') expect(expected.errors.some((e) => e.syntax)).toBe(true);
    let ours: unknown;
    try {
      compileKql(query, OPTIONS);
    } catch (e) {
      ours = e;
    }
    expect(ours).toBeInstanceOf(KqlError);
    expect((ours as KqlError).kind).toBe(kind);
  });
});

/**
 * Skipped on the store schema, with the reason: tables.ts's ApiManagementGatewayLogs has no
 * `OperationName` column, which the §4.1 azure-ml-models query projects (reported to the store owner).
 */
const STORE_SCHEMA_GAPS = CORPUS.filter(([, q]) => /ApiManagementGatewayLogs.*OperationName/.test(q) && !STORE_TABLES.find((t) => t.name === 'ApiManagementGatewayLogs')?.columns.some((c) => c.name === 'OperationName'));

describe("oracle corpus on the telemetry store's table descriptors", () => {
  it.each(CORPUS.filter((c) => !STORE_SCHEMA_GAPS.includes(c)))('%s: %s', (_kind, query) => {
    const expected = storeOracle.analyze(query);
    expect(expected.errors).toEqual([]);
    expect(compileKql(query, { tables: STORE_TABLES, nowMs: OPTIONS.nowMs }).columns).toEqual(expected.columns);
  });
});
