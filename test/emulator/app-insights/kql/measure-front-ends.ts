/**
 * Measures the two KQL front-end candidates on this machine (run: `npx tsx test/emulator/app-insights/kql/measure-front-ends.ts`).
 * Each candidate runs in its own child process: load time, RSS, first-query latency, warm per-query
 * latency over the corpus. Numbers go into docs/design/kql-front-end.md.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const mode = process.argv[2];
const ROUNDS = 20;

async function measureOurs(): Promise<Record<string, number>> {
  const t0 = performance.now();
  const { compileKql, executeKql } = await import('../../../../emulator/app-insights/kql/index.js');
  const loadMs = performance.now() - t0;
  const { DASHBOARD_QUERIES, SPEC_QUERIES, TIER_QUERIES } = await import('./corpus.js');
  const { createSeededDb, OPTIONS } = await import('./fixtures.js');
  const corpus = [...SPEC_QUERIES, ...DASHBOARD_QUERIES, ...TIER_QUERIES];
  const t1 = performance.now();
  compileKql(corpus[0]!, OPTIONS);
  const firstMs = performance.now() - t1;
  const t2 = performance.now();
  for (let r = 0; r < ROUNDS; r++) for (const q of corpus) compileKql(q, OPTIONS);
  const compileMs = (performance.now() - t2) / (ROUNDS * corpus.length);
  const db = createSeededDb();
  const t3 = performance.now();
  for (let r = 0; r < ROUNDS; r++) for (const q of corpus) executeKql(db, q, OPTIONS);
  const executeMs = (performance.now() - t3) / (ROUNDS * corpus.length);
  const specStart = performance.now();
  for (let r = 0; r < ROUNDS; r++) for (const q of SPEC_QUERIES) executeKql(db, q, OPTIONS);
  const specExecuteMs = (performance.now() - specStart) / (ROUNDS * SPEC_QUERIES.length);
  return { corpus: corpus.length, loadMs, firstMs, compileMs, executeMs, specExecuteMs, rssMB: process.memoryUsage().rss / 1e6 };
}

async function measureKusto(): Promise<Record<string, number>> {
  const { DASHBOARD_QUERIES, SPEC_QUERIES, TIER_QUERIES } = await import('./corpus.js');
  const { TABLES } = await import('./fixtures.js');
  const corpus = [...SPEC_QUERIES, ...DASHBOARD_QUERIES, ...TIER_QUERIES];
  const rssBefore = process.memoryUsage().rss / 1e6;
  const t0 = performance.now();
  const { createOracle } = await import('./oracle.js');
  const oracle = await createOracle(TABLES);
  const loadMs = performance.now() - t0;
  const t1 = performance.now();
  oracle.analyze(corpus[0]!);
  const firstMs = performance.now() - t1;
  const t2 = performance.now();
  for (let r = 0; r < ROUNDS; r++) for (const q of corpus) oracle.analyze(q);
  const analyzeMs = (performance.now() - t2) / (ROUNDS * corpus.length);
  return { corpus: corpus.length, rssBeforeMB: rssBefore, loadMs, firstMs, analyzeMs, rssMB: process.memoryUsage().rss / 1e6 };
}

if (mode === 'ours') console.log(JSON.stringify(await measureOurs()));
else if (mode === 'kusto') console.log(JSON.stringify(await measureKusto()));
else {
  const self = fileURLToPath(import.meta.url);
  // Kusto.Language under plain node (no tsx transform): the cost a production server would pay.
  const plain = `
    const t0 = performance.now();
    require('@kusto/language-service-next/bridge.min.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
    const loadMs = performance.now() - t0;
    const K = Kusto.Language;
    const t1 = performance.now();
    K.KustoCode.ParseAndAnalyze('print 1', K.GlobalState.Default);
    const firstMs = performance.now() - t1;
    console.log(JSON.stringify({ loadMs, firstMs, rssMB: process.memoryUsage().rss / 1e6 }));`;
  for (let i = 0; i < 3; i++) console.log('kusto-plain-node', execFileSync(process.execPath, ['-e', plain], { encoding: 'utf8' }).trim());
  const bare = execFileSync(process.execPath, ['-e', 'console.log(process.memoryUsage().rss / 1e6)'], { encoding: 'utf8' }).trim();
  console.log('bare node rssMB', bare);
  for (const m of ['ours', 'kusto']) {
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      const out = execFileSync(process.execPath, ['--import', 'tsx', self, m], { encoding: 'utf8' });
      console.log(m, `process ${Math.round(performance.now() - start)} ms`, out.trim());
    }
  }
}
