/**
 * Gateway overhead, side by side in one run: every target is its own process, rounds are interleaved
 * (each repetition visits every target at every concurrency, target order rotated), and the report gives
 * medians over the repetitions. Ratios are computed per repetition, then the median is taken.
 *   targets: bare-http, express (express.json()), models (mock models alone), emulator-limit (rate-limiting lab
 *   policy, TPM too high to refuse), emulator-metrics (metrics lab policy, SQLite file store); extra:
 *   emulator-noemit (metrics lab without emit-metric), emulator-steps-<n> (metrics lab policy + n set-header steps).
 * Run: npm run bench -- [--duration 3] [--reps 3] [--connections 1,16,50,128] [--latency-seconds 3]
 *        [--targets bare-http,express,...] [--out dir]
 */
import { SingleBar, Presets } from 'cli-progress';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_BODY, load, machineInfo, median, sequentialLatency, type LatencyResult, type LoadResult } from './lib/measure.js';
import { machineHeader, markdownTable, resultsDir, writeChart, writeJson, writeText } from './lib/report.js';
import { startTarget, type RunningTarget, type TargetName } from './lib/targets.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const duration = Number(args.get('duration') ?? 3);
const reps = Number(args.get('reps') ?? 3);
const connectionLevels = (args.get('connections') ?? '1,16,50,128').split(',').map(Number);
const latencySeconds = Number(args.get('latency-seconds') ?? 3);
const targetNames = (args.get('targets') ?? 'bare-http,express,models,emulator-limit,emulator-metrics').split(',');
const scenario = args.get('scenario') ?? 'overhead';

function spec(name: string): [TargetName, string[]] {
  if (name === 'emulator-noemit') return ['emulator-metrics', ['--no-emit']];
  const steps = /^emulator-steps-(\d+)$/.exec(name);
  if (steps) return ['emulator-metrics', ['--policies', steps[1]!]];
  return [name as TargetName, []];
}

async function main() {
  const info = machineInfo();
  const dir = resultsDir(args.get('out'));
  // The baselines answer the emulator's own response bytes.
  const probe = await startTarget('probe', 'emulator-metrics');
  const sample = await (await fetch(probe.url, { method: 'POST', headers: { 'content-type': 'application/json', ...probe.headers }, body: LAB_BODY })).text();
  await probe.stop();
  const samplePath = join(mkdtempSync(join(tmpdir(), 'bench-sample-')), 'sample.json');
  writeFileSync(samplePath, sample);

  const targets: RunningTarget[] = [];
  for (const name of targetNames) {
    const [target, extra] = spec(name);
    targets.push(await startTarget(name, target, [...extra, '--sample', samplePath]));
  }
  const loadRuns: Record<string, LoadResult[][]> = Object.fromEntries(targetNames.map((n) => [n, connectionLevels.map(() => [])]));
  const latencyRuns: Record<string, LatencyResult[]> = Object.fromEntries(targetNames.map((n) => [n, []]));
  const steps = reps * targets.length * (connectionLevels.length + (latencySeconds > 0 ? 1 : 0));
  const bar = new SingleBar({ format: `${scenario} {bar} {value}/{total} | {step}`, stream: process.stderr }, Presets.shades_classic);
  bar.start(steps, 0, { step: 'warm-up' });
  try {
    for (const t of targets) await load(t.url, t.headers, 16, 1); // warm-up: JIT, caches, SQLite file
    for (let rep = 0; rep < reps; rep++) {
      for (let ci = 0; ci < connectionLevels.length; ci++) {
        const order = targets.map((_, i) => targets[(i + rep + ci) % targets.length]!);
        for (const t of order) {
          bar.increment({ step: `rep ${rep + 1} c=${connectionLevels[ci]} ${t.name}` });
          loadRuns[t.name]![ci]!.push(await load(t.url, t.headers, connectionLevels[ci]!, duration, undefined, t.pid));
        }
      }
      if (latencySeconds > 0) {
        for (const t of targets.map((_, i) => targets[(i + rep) % targets.length]!)) {
          bar.increment({ step: `rep ${rep + 1} sequential latency ${t.name}` });
          latencyRuns[t.name]!.push(await sequentialLatency(t.url, t.headers, latencySeconds));
        }
      }
    }
  } finally {
    bar.stop();
    for (const t of targets) await t.stop();
  }

  const failures = Object.entries(loadRuns).flatMap(([name, runs]) => runs.flat().filter((r) => r.non2xx > 0 || r.errors > 0).map((r) => `${name} c=${r.connections}: ${r.non2xx} non-2xx, ${r.errors} errors`));
  const summary = targetNames.map((name) => ({
    target: name,
    byConnections: connectionLevels.map((c, ci) => {
      const runs = loadRuns[name]![ci]!;
      return { connections: c, cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest ?? NaN)), rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), p999: median(runs.map((r) => r.p999)) };
    }),
    sequential: latencyRuns[name]!.length ? { p50: median(latencyRuns[name]!.map((r) => r.p50)), p99: median(latencyRuns[name]!.map((r) => r.p99)), p999: median(latencyRuns[name]!.map((r) => r.p999)) } : undefined,
  }));
  // Ratios per repetition (same round, side by side), then the median.
  const ratio = (a: string, b: string, ci: number, key: 'rps' | 'p99') => median(loadRuns[a]![ci]!.map((r, rep) => r[key] / loadRuns[b]![ci]![rep]![key]));
  const added = (a: string, b: string, key: 'p50' | 'p99') => median(latencyRuns[a]!.map((r, rep) => r[key] - latencyRuns[b]![rep]![key]));
  const baseline = targetNames.includes('express') ? 'express' : targetNames[0]!;
  const ratios = targetNames
    .filter((n) => n !== baseline)
    .map((name) => ({
      target: name,
      versus: baseline,
      rps: connectionLevels.map((c, ci) => ({ connections: c, ratio: ratio(name, baseline, ci, 'rps') })),
      p99: connectionLevels.map((c, ci) => ({ connections: c, ratio: ratio(name, baseline, ci, 'p99') })),
      addedLatencyMs: latencyRuns[name]!.length ? { p50: added(name, baseline, 'p50'), p99: added(name, baseline, 'p99') } : undefined,
    }));
  const report = { scenario, machine: info, settings: { duration, reps, connections: connectionLevels, latencySeconds, targets: targetNames }, failures, summary, ratios, runs: { load: loadRuns, sequential: latencyRuns } };
  writeJson(dir, scenario, report);

  const f = (n: number, d = 1) => n.toFixed(d);
  const md = [
    `# ${scenario}`,
    '',
    machineHeader(info),
    '',
    `${reps} interleaved repetitions × ${duration} s per target and concurrency (autocannon, POST of the lab's chat body); medians. Sequential latency: one keep-alive connection, ${latencySeconds} s per target and repetition, µs resolution.`,
    failures.length ? `\n**Failures:** ${failures.join('; ')}\n` : '',
    '## Throughput and latency (medians)',
    '',
    markdownTable(
      ['target', ...connectionLevels.map((c) => `c=${c} req/s`), ...connectionLevels.map((c) => `c=${c} p50/p99/p99.9 ms`)],
      summary.map((s) => [s.target, ...s.byConnections.map((b) => f(b.rps, 0)), ...s.byConnections.map((b) => `${b.p50}/${b.p99}/${b.p999}`)]),
    ),
    '',
    '## CPU time of the target process per request (medians, ms; less sensitive to other load on the machine)',
    '',
    markdownTable(['target', ...connectionLevels.map((c) => `c=${c}`)], summary.map((s) => [s.target, ...s.byConnections.map((b) => f(b.cpuMsPerRequest, 3))])),
    '',
    '## Sequential latency at c = 1 (medians, ms)',
    '',
    markdownTable(['target', 'p50', 'p99', 'p99.9'], summary.filter((s) => s.sequential).map((s) => [s.target, f(s.sequential!.p50, 3), f(s.sequential!.p99, 3), f(s.sequential!.p999, 3)])),
    '',
    `## Ratios against ${baseline} (median of per-repetition ratios)`,
    '',
    markdownTable(
      ['target', ...connectionLevels.map((c) => `req/s c=${c}`), ...connectionLevels.map((c) => `p99 c=${c}`), 'added p50 ms (c=1)', 'added p99 ms (c=1)'],
      ratios.map((r) => [r.target, ...r.rps.map((x) => `${f(x.ratio, 2)}×`), ...r.p99.map((x) => (Number.isFinite(x.ratio) ? `${f(x.ratio, 2)}×` : '– (baseline p99 < 1 ms)')), r.addedLatencyMs ? f(r.addedLatencyMs.p50, 3) : '–', r.addedLatencyMs ? f(r.addedLatencyMs.p99, 3) : '–']),
    ),
    '',
  ].join('\n');
  writeText(dir, `${scenario}.md`, md);
  await writeChart(dir, `${scenario}-throughput`, {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${scenario}: req/s by concurrency (medians)`,
    width: 520,
    height: 280,
    data: { values: summary.flatMap((s) => s.byConnections.map((b) => ({ target: s.target, connections: String(b.connections), rps: b.rps }))) },
    mark: 'bar',
    encoding: { x: { field: 'connections', type: 'ordinal', sort: connectionLevels.map(String) }, xOffset: { field: 'target' }, y: { field: 'rps', type: 'quantitative', title: 'req/s' }, color: { field: 'target' } },
  });
  await writeChart(dir, `${scenario}-latency`, {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${scenario}: latency percentiles by concurrency (medians, ms, log scale)`,
    width: 520,
    height: 280,
    data: { values: summary.flatMap((s) => s.byConnections.flatMap((b) => (['p50', 'p99', 'p999'] as const).map((p) => ({ target: s.target, series: `${s.target} ${p}`, percentile: p, connections: b.connections, ms: Math.max(0.1, b[p]) })))) },
    mark: { type: 'line', point: true },
    encoding: { x: { field: 'connections', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'ms', type: 'quantitative', scale: { type: 'log' } }, color: { field: 'target' }, strokeDash: { field: 'percentile' }, detail: { field: 'series' } },
  });
  process.stdout.write(`${md}\nReport: ${dir}\n`);
}

await main();
