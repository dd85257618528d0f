/**
 * KQL cost growth: the seed lab's query and a per-minute, per-subscription summarize at growing customMetrics
 * sizes, each against hand-written SQL for the same rows on the same file (a second, read-only connection).
 *
 * What each side pays (all in this one thread; better-sqlite3 is synchronous, so process CPU time is the query's):
 * - KQL: `store.query()` (flush check, parse + bind + SQL generation, prepare, SQLite execution through the
 *   result-limit loop, wire encoding of every value) + `JSON.stringify` of the query API's `{ tables }` body.
 *   Not included: HTTP, Express, authentication (the query API route adds those around the same call).
 * - SQL: `prepare(sql).raw(true).all()`: the rows as SQLite gives them (the verdict's baseline).
 * - SQL + JSON: the same, then the rows shaped as the query API sends them (datetimes ISO) and `JSON.stringify`d
 *   in the same body: shows how much of the KQL path is the wire format rather than the engine.
 * Before timing, each size checks that KQL and SQL give the same rows (values, and order for the sorted lab query).
 * Runs are interleaved (the four targets in a rotating order within each repetition); ratios are taken per
 * repetition and their median reported, for CPU time (process.cpuUsage) and wall time.
 * Also ingestion rows/s (writeMetric + flush) and the process RSS after the rows are in.
 * Run: node --import tsx bench/kql-cost.ts [--sizes 10000,100000,1000000] [--reps 7] [--out dir]
 */
import Database from 'better-sqlite3';
import { SingleBar, Presets } from 'cli-progress';
import { isDeepStrictEqual } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClock } from '../policy-engine/index.js';
import { createSqliteTelemetryStore } from '../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../emulator/app-insights/store.js';
import type { QueryResult } from '../emulator/app-insights/store.js';
import { LAB_KQL } from '../test/support/lab.js';
import { machineInfo, median } from './lib/measure.js';
import { machineHeader, markdownTable, resultsDir, writeChart, writeJson, writeText } from './lib/report.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const sizes = (args.get('sizes') ?? '10000,100000,1000000').split(',').map(Number);
const reps = Number(args.get('reps') ?? 7);

export const SUMMARIZE_KQL = "customMetrics | summarize sum(value) by bin(timestamp, 1m), tostring(customDimensions['Subscription ID'])";
// Hand-written answers: the (name, timestamp) index gives the lab query its order; `->>` is SQLite's direct JSON text lookup.
const LAB_SQL = `SELECT timestamp, value, customDimensions ->> '$."Client IP"', customDimensions ->> '$."API ID"',
  customDimensions ->> '$."Subscription ID"', customDimensions ->> '$."User ID"'
  FROM customMetrics WHERE name = 'Total Tokens' ORDER BY timestamp ASC`;
const SUMMARIZE_SQL = `SELECT (timestamp / 60000) * 60000, customDimensions ->> '$."Subscription ID"', sum(value)
  FROM customMetrics GROUP BY 1, 2`;

const clock = createClock({ mode: 'system' });
const info = machineInfo();
const dir = resultsDir(args.get('out'));
const dataDir = mkdtempSync(join(tmpdir(), 'bench-kql-'));
const store = createSqliteTelemetryStore({ dataDir, identity: defaultAppInsightsIdentity() });
const sql = new Database(join(dataDir, 'telemetry.db'), { readonly: true });
const start = clock.now() - 86_400_000;
const NAMES = ['Prompt Tokens', 'Completion Tokens', 'Total Tokens'];

type Query = { name: 'lab' | 'summarize'; kql: string; sql: string; sorted: boolean };
const QUERIES: Query[] = [
  { name: 'lab', kql: LAB_KQL, sql: LAB_SQL, sorted: true },
  { name: 'summarize', kql: SUMMARIZE_KQL, sql: SUMMARIZE_SQL, sorted: false },
];
type Side = 'kql' | 'sql' | 'sqlJson';
const SIDES: Side[] = ['kql', 'sql', 'sqlJson'];

function kqlRun(q: Query, nowMs: number): { result: QueryResult; body: string } {
  const result = store.query(q.kql, { nowMs });
  return { result, body: JSON.stringify({ tables: result.tables }) };
}

function sqlRows(q: Query): unknown[][] {
  return sql.prepare(q.sql).raw(true).all() as unknown[][];
}

/** The SQL rows as the query API sends them: column 0 is the datetime in both queries. */
function shape(rows: unknown[][]): unknown[][] {
  for (const row of rows) row[0] = new Date(row[0] as number).toISOString();
  return rows;
}

function sqlJsonRun(q: Query, columns: QueryResult['tables'][0]['columns']): string {
  return JSON.stringify({ tables: [{ name: 'PrimaryResult', columns, rows: shape(sqlRows(q)) }] });
}

function byKey(rows: unknown[][]): unknown[][] {
  return [...rows].sort((a, b) => (String(a[0]) + a[1] < String(b[0]) + b[1] ? -1 : 1));
}

/** Throws unless KQL and SQL give the same rows (in order for the sorted query). */
function checkSameRows(q: Query, nowMs: number): QueryResult['tables'][0]['columns'] {
  const table = kqlRun(q, nowMs).result.tables[0]!;
  const mine = shape(sqlRows(q));
  const same = q.sorted ? isDeepStrictEqual(table.rows, mine) : isDeepStrictEqual(byKey(table.rows), byKey(mine));
  if (!same) throw new Error(`${q.name}: KQL and SQL rows differ (${table.rows.length} vs ${mine.length} rows; first ${JSON.stringify(table.rows[0])} vs ${JSON.stringify(mine[0])})`);
  return table.columns;
}

interface Sample { cpuMs: number; wallMs: number }
function measure(run: () => unknown): Sample {
  const cpu = process.cpuUsage();
  const t = performance.now();
  run();
  const wallMs = performance.now() - t;
  const d = process.cpuUsage(cpu);
  return { cpuMs: (d.user + d.system) / 1000, wallMs };
}

const bar = new SingleBar({ format: 'kql-cost {bar} {value}/{total} | {step}', stream: process.stderr }, Presets.shades_classic);
bar.start(sizes.length * (reps + 1), 0, { step: 'ingest' });
const results = [];
let written = 0;
let previousSize = 0;
for (const size of sizes) {
  bar.update({ step: `ingest to ${size}` });
  const t = performance.now();
  for (; written < size; written++) {
    const request = Math.floor(written / 3);
    store.writeMetric({
      timestamp: start + request * 200, name: NAMES[written % 3]!, value: 10 + (written % 70), namespace: 'openai', cloudRoleName: 'apim-emulator', cloudRoleInstance: 'apim-emulator',
      dimensions: { 'Subscription ID': `subscription${(request % 3) + 1}`, 'Client IP': '127.0.0.1', 'API ID': 'inference-api', 'User ID': 'N/A' },
    });
  }
  await store.flush();
  const ingestMs = performance.now() - t;
  const ingested = size - previousSize;
  previousSize = size;
  const nowMs = clock.now();
  const columns = new Map(QUERIES.map((q) => [q.name, checkSameRows(q, nowMs)] as const));
  const resultRows = new Map(QUERIES.map((q) => [q.name, sqlRows(q).length] as const));
  bar.increment({ step: `queries at ${size}` });
  const loadStart = loadavg()[0]!;
  const samples = new Map(QUERIES.map((q) => [q.name, { kql: [] as Sample[], sql: [] as Sample[], sqlJson: [] as Sample[] }] as const));
  const targets = QUERIES.flatMap((q) => SIDES.map((side) => ({ q, side })));
  for (let r = 0; r < reps; r++) {
    // Rotate the starting target each repetition so no side always runs first (or right after the same neighbour).
    for (let i = 0; i < targets.length; i++) {
      const { q, side } = targets[(i + r) % targets.length]!;
      const run = side === 'kql' ? () => kqlRun(q, nowMs) : side === 'sql' ? () => sqlRows(q) : () => sqlJsonRun(q, columns.get(q.name)!);
      samples.get(q.name)![side].push(measure(run));
    }
    bar.increment({ step: `queries at ${size}, repetition ${r + 1}/${reps}` });
  }
  const loadEnd = loadavg()[0]!;
  const summary = (name: Query['name']) => {
    const s = samples.get(name)!;
    const ratio = (base: Side, key: keyof Sample) => median(s.kql.map((k, i) => k[key] / s[base][i]![key]));
    return {
      resultRows: resultRows.get(name)!,
      cpuMs: { kql: median(s.kql.map((x) => x.cpuMs)), sql: median(s.sql.map((x) => x.cpuMs)), sqlJson: median(s.sqlJson.map((x) => x.cpuMs)) },
      wallMs: { kql: median(s.kql.map((x) => x.wallMs)), sql: median(s.sql.map((x) => x.wallMs)), sqlJson: median(s.sqlJson.map((x) => x.wallMs)) },
      cpuRatio: ratio('sql', 'cpuMs'),
      wallRatio: ratio('sql', 'wallMs'),
      cpuRatioVsSqlJson: ratio('sqlJson', 'cpuMs'),
      cpuRatioSpread: [Math.min(...s.kql.map((k, i) => k.cpuMs / s.sql[i]!.cpuMs)), Math.max(...s.kql.map((k, i) => k.cpuMs / s.sql[i]!.cpuMs))],
      samples: s,
    };
  };
  results.push({
    rows: size,
    ingestRowsPerSecond: Math.round(ingested / (ingestMs / 1000)),
    rssMb: Math.round(process.memoryUsage().rss / 1048576),
    loadAverage: [Number(loadStart.toFixed(2)), Number(loadEnd.toFixed(2))],
    lab: summary('lab'),
    summarize: summary('summarize'),
  });
}
bar.stop();
sql.close();
await store.close();
rmSync(dataDir, { recursive: true, force: true });

const f = (n: number, d = 1) => n.toFixed(d);
const x = (n: number) => `${f(n, 2)}×`;
writeJson(dir, 'kql-cost', { scenario: 'kql-cost', machine: info, settings: { sizes, reps }, queries: { labKql: LAB_KQL, labSql: LAB_SQL, summarizeKql: SUMMARIZE_KQL, summarizeSql: SUMMARIZE_SQL }, results });
const md = [
  '# kql-cost',
  '',
  machineHeader(info),
  '',
  `customMetrics rows written through the store (3 metrics per request, 3 subscriptions, one request per 200 ms). ${reps} interleaved repetitions per size;`,
  'ms are medians, ratios are the median of the per-repetition KQL / SQL ratios (CPU = process.cpuUsage user + system).',
  'KQL = store.query (translation, execution, wire encoding) + JSON body; SQL = prepare + raw rows; SQL+JSON = SQL + the same ISO datetimes and JSON body.',
  'KQL and SQL rows checked equal before timing.',
  '',
  markdownTable(
    ['rows', 'query', 'result rows', 'KQL CPU ms', 'SQL CPU ms', 'KQL/SQL CPU (min–max)', 'KQL/SQL wall', 'SQL+JSON CPU ms', 'KQL/(SQL+JSON) CPU', 'load 1m start→end'],
    results.flatMap((r) => (['lab', 'summarize'] as const).map((name) => {
      const s = r[name];
      return [r.rows, name, s.resultRows, f(s.cpuMs.kql), f(s.cpuMs.sql), `${x(s.cpuRatio)} (${f(s.cpuRatioSpread[0]!, 2)}–${f(s.cpuRatioSpread[1]!, 2)})`, x(s.wallRatio), f(s.cpuMs.sqlJson), x(s.cpuRatioVsSqlJson), `${r.loadAverage[0]} → ${r.loadAverage[1]}`];
    })),
  ),
  '',
  markdownTable(['rows', 'ingest rows/s', 'RSS MB'], results.map((r) => [r.rows, r.ingestRowsPerSecond, r.rssMb])),
  '',
].join('\n');
writeText(dir, 'kql-cost.md', md);
await writeChart(dir, 'kql-cost', {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: 'Query CPU time vs customMetrics rows (medians, log-log)',
  width: 520,
  height: 280,
  data: { values: results.flatMap((r) => (['lab', 'summarize'] as const).flatMap((name) => SIDES.map((side) => ({ rows: r.rows, series: `${name} ${side}`, ms: r[name].cpuMs[side] })))) },
  mark: { type: 'line', point: true },
  encoding: { x: { field: 'rows', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'ms', type: 'quantitative', scale: { type: 'log' } }, color: { field: 'series' } },
});
process.stdout.write(`${md}\nReport: ${dir}\n`);
