/**
 * KQL cost growth: the seed lab's query and a per-minute, per-subscription summarize at growing customMetrics
 * sizes, each against hand-written SQL for the same answer on the same file (a second, read-only connection).
 * Also ingestion rows/s (writeMetric + flush) and the process RSS after the rows are in.
 * Run: node --import tsx bench/kql-cost.ts [--sizes 10000,100000,1000000] [--reps 3] [--out dir]
 */
import Database from 'better-sqlite3';
import { SingleBar, Presets } from 'cli-progress';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClock } from '../policy-engine/index.js';
import { createSqliteTelemetryStore } from '../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../emulator/app-insights/store.js';
import { LAB_KQL } from '../test/support/lab.js';
import { machineInfo, median } from './lib/measure.js';
import { machineHeader, markdownTable, resultsDir, writeChart, writeJson, writeText } from './lib/report.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const sizes = (args.get('sizes') ?? '10000,100000,1000000').split(',').map(Number);
const reps = Number(args.get('reps') ?? 3);

export const SUMMARIZE_KQL = "customMetrics | summarize sum(value) by bin(timestamp, 1m), tostring(customDimensions['Subscription ID'])";
const LAB_SQL = `SELECT timestamp, value, json_extract(customDimensions, '$."Client IP"') AS clientIP, json_extract(customDimensions, '$."API ID"') AS apiId,
  json_extract(customDimensions, '$."Subscription ID"') AS apimSubscription, json_extract(customDimensions, '$."User ID"') AS UserId
  FROM customMetrics WHERE name = 'Total Tokens' ORDER BY timestamp ASC`;
const SUMMARIZE_SQL = `SELECT (timestamp / 60000) * 60000 AS timestamp, json_extract(customDimensions, '$."Subscription ID"') AS sub, sum(value) AS sum_value
  FROM customMetrics GROUP BY 1, 2`;

const clock = createClock({ mode: 'system' });
const info = machineInfo();
const dir = resultsDir(args.get('out'));
const dataDir = mkdtempSync(join(tmpdir(), 'bench-kql-'));
const store = createSqliteTelemetryStore({ dataDir, identity: defaultAppInsightsIdentity() });
const sql = new Database(join(dataDir, 'telemetry.db'), { readonly: true });
const start = clock.now() - 86_400_000;
const NAMES = ['Prompt Tokens', 'Completion Tokens', 'Total Tokens'];

function time(run: () => unknown): { ms: number; rows: number } {
  const runs: number[] = [];
  let rows = 0;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    const out = run();
    runs.push(performance.now() - t);
    rows = Array.isArray(out) ? out.length : ((out as { tables: Array<{ rows: unknown[] }> }).tables[0]!.rows.length);
  }
  return { ms: median(runs), rows };
}

const bar = new SingleBar({ format: 'kql-cost {bar} {value}/{total} | {step}', stream: process.stderr }, Presets.shades_classic);
bar.start(sizes.length * 2, 0, { step: 'ingest' });
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
  bar.increment({ step: `queries at ${size}` });
  const nowMs = clock.now();
  const labKql = time(() => store.query(LAB_KQL, { nowMs }));
  const labSql = time(() => sql.prepare(LAB_SQL).all());
  const sumKql = time(() => store.query(SUMMARIZE_KQL, { nowMs }));
  const sumSql = time(() => sql.prepare(SUMMARIZE_SQL).all());
  if (labKql.rows !== labSql.rows || sumKql.rows !== sumSql.rows) throw new Error(`row counts differ at ${size}: lab ${labKql.rows}/${labSql.rows}, summarize ${sumKql.rows}/${sumSql.rows}`);
  results.push({
    rows: size,
    ingestRowsPerSecond: Math.round(ingested / (ingestMs / 1000)),
    rssMb: Math.round(process.memoryUsage().rss / 1048576),
    lab: { kqlMs: labKql.ms, sqlMs: labSql.ms, ratio: labKql.ms / labSql.ms, resultRows: labKql.rows },
    summarize: { kqlMs: sumKql.ms, sqlMs: sumSql.ms, ratio: sumKql.ms / sumSql.ms, resultRows: sumKql.rows },
  });
  bar.increment({ step: `done ${size}` });
}
bar.stop();
sql.close();
await store.close();
rmSync(dataDir, { recursive: true, force: true });

const f = (n: number, d = 1) => n.toFixed(d);
writeJson(dir, 'kql-cost', { scenario: 'kql-cost', machine: info, settings: { sizes, reps }, queries: { labKql: LAB_KQL, labSql: LAB_SQL, summarizeKql: SUMMARIZE_KQL, summarizeSql: SUMMARIZE_SQL }, results });
const md = [
  '# kql-cost',
  '',
  machineHeader(info),
  '',
  `customMetrics rows written through the store (3 metrics per request, 3 subscriptions, one request per 200 ms); medians of ${reps} runs per query. SQL: hand-written, same file, read-only connection.`,
  '',
  markdownTable(
    ['rows', 'ingest rows/s', 'RSS MB', 'lab KQL ms', 'lab SQL ms', 'lab KQL/SQL', 'summarize KQL ms', 'summarize SQL ms', 'summarize KQL/SQL'],
    results.map((r) => [r.rows, r.ingestRowsPerSecond, r.rssMb, f(r.lab.kqlMs), f(r.lab.sqlMs), `${f(r.lab.ratio, 2)}×`, f(r.summarize.kqlMs), f(r.summarize.sqlMs), `${f(r.summarize.ratio, 2)}×`]),
  ),
  '',
].join('\n');
writeText(dir, 'kql-cost.md', md);
await writeChart(dir, 'kql-cost', {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: 'Query time vs customMetrics rows (medians, log-log)',
  width: 520,
  height: 280,
  data: { values: results.flatMap((r) => [
    { rows: r.rows, series: 'lab KQL', ms: r.lab.kqlMs }, { rows: r.rows, series: 'lab SQL', ms: r.lab.sqlMs },
    { rows: r.rows, series: 'summarize KQL', ms: r.summarize.kqlMs }, { rows: r.rows, series: 'summarize SQL', ms: r.summarize.sqlMs },
  ]) },
  mark: { type: 'line', point: true },
  encoding: { x: { field: 'rows', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'ms', type: 'quantitative', scale: { type: 'log' } }, color: { field: 'series' } },
});
process.stdout.write(`${md}\nReport: ${dir}\n`);
