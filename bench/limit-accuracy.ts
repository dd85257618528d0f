/**
 * Limit accuracy under load, wall clock with a time-scaled clock (`createClock({ mode: 'system', timeScale })`,
 * what `--time-scale` sets): emulated minutes pass `scale`× faster, so a run covers several windows in seconds.
 * Matrix: TPM × concurrency × estimate-prompt-tokens on/off × streaming on/off × sliding window / token bucket.
 * Per emulated minute (fixed windows from the run's start, by the response's completion time): tokens of admitted
 * requests vs the limit, the overshoot against the theoretical bound for that concurrency, 429 count.
 * APIM admits on completed usage, so up to `connections` requests can be in flight when the counter reaches the
 * limit: bound = limit + connections × (largest request seen); a token bucket also passes its
 * burst (a full bucket) in the first window: bound = 2 × limit + connections × largest. Windows are bucketed by
 * completion time, so a request admitted just before a boundary counts after it. Reported, not hidden.
 * Run: npm run bench:limits -- [--tpm 1000,10000] [--connections 1,16,128] [--windows 4] [--max-seconds 8] [--out dir]
 */
import autocannon from 'autocannon';
import { SingleBar, Presets } from 'cli-progress';
import { createClock } from '../policy-engine/index.js';
import { createEmulator } from '../emulator/app.js';
import { presetConfig } from '../emulator/config/presets.js';
import { LAB_MESSAGES } from '../test/support/lab.js';
import { machineInfo } from './lib/measure.js';
import { machineHeader, markdownTable, resultsDir, writeChart, writeJson, writeText } from './lib/report.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const list = (name: string, fallback: string) => (args.get(name) ?? fallback).split(',');
const tpms = list('tpm', '1000,10000').map(Number);
const connectionLevels = list('connections', '1,16,128').map(Number);
const estimates = list('estimate', 'on,off').map((v) => v === 'on');
const streams = list('stream', 'off,on').map((v) => v === 'on');
const algorithms = list('algorithm', 'sliding-window,token-bucket') as Array<'sliding-window' | 'token-bucket'>;
const windows = Number(args.get('windows') ?? 4);
const maxSeconds = Number(args.get('max-seconds') ?? 8);
/** Wall req/s the in-process emulator sustains here (order of magnitude): sets the scale so load ≈ 3× the limit. */
const assumedRps = Number(args.get('assumed-rps') ?? 250);
const TOKENS_PER_REQUEST = 70;

const policy = (tpm: number, estimate: boolean) => `<policies><inbound><base /><set-backend-service backend-id="foundry1" />
  <llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="${tpm}" estimate-prompt-tokens="${estimate}" />
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

interface Scenario { tpm: number; connections: number; estimate: boolean; stream: boolean; algorithm: 'sliding-window' | 'token-bucket' }

function usageTokens(body: string, stream: boolean): number {
  if (!stream) return (JSON.parse(body) as { usage: { total_tokens: number } }).usage.total_tokens;
  for (const line of body.split('\n').reverse()) {
    if (!line.startsWith('data: {')) continue;
    const usage = (JSON.parse(line.slice(6)) as { usage?: { total_tokens: number } }).usage;
    if (usage) return usage.total_tokens;
  }
  throw new Error('streamed response without usage');
}

async function measure(s: Scenario) {
  const config = presetConfig('token-rate-limiting');
  config.apis[0]!.policy = policy(s.tpm, s.estimate);
  config.backends![0]!.deployments![0]!.capacity = undefined; // no backend throttling
  // Emulated minutes per wall second chosen so the offered load is about 3× the limit.
  const scale = Math.max(1, (assumedRps * TOKENS_PER_REQUEST * 60) / (3 * s.tpm));
  const seconds = Math.min(maxSeconds, Math.max(2, (windows * 60) / scale));
  const clock = createClock({ mode: 'system', timeScale: scale });
  const emulator = createEmulator({ config, clock, engineOptions: { tokenLimitAlgorithm: s.algorithm } });
  const { url } = await emulator.listen(0);
  const key = emulator.config.subscriptions[0]!.primaryKey;
  const start = clock.now();
  const perWindow = new Map<number, { admittedTokens: number; admitted: number; refused: number }>();
  let largest = 0;
  const body = JSON.stringify(s.stream ? { messages: LAB_MESSAGES, stream: true, stream_options: { include_usage: true } } : { messages: LAB_MESSAGES });
  await autocannon({
    url: `${url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`,
    connections: s.connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'api-key': key, 'content-type': 'application/json' },
        body,
        onResponse: (status: number, text: string) => {
          const w = Math.floor((clock.now() - start) / 60_000);
          const row = perWindow.get(w) ?? { admittedTokens: 0, admitted: 0, refused: 0 };
          perWindow.set(w, row);
          if (status === 200) {
            const tokens = usageTokens(text, s.stream);
            largest = Math.max(largest, tokens);
            row.admitted++;
            row.admittedTokens += tokens;
          } else if (status === 429) row.refused++;
          else throw new Error(`unexpected status ${status}`);
        },
      },
    ],
  });
  const elapsedWindows = (clock.now() - start) / 60_000;
  await emulator.close();
  // Complete windows only (the last one is cut by the end of the run).
  const complete = [...perWindow.entries()].filter(([w]) => w + 1 <= Math.floor(elapsedWindows)).sort(([a], [b]) => a - b).map(([w, r]) => ({ window: w, ...r }));
  // Token bucket: a full bucket (TPM) plus a minute of refill (TPM) can pass in one window.
  const bound = (s.algorithm === 'token-bucket' ? 2 : 1) * s.tpm + s.connections * largest;
  const steady = complete.slice(1); // the first window starts from an empty counter
  const worst = Math.max(0, ...complete.map((w) => w.admittedTokens));
  return {
    ...s,
    scale: Number(scale.toFixed(1)),
    wallSeconds: Number(seconds.toFixed(1)),
    completeWindows: complete.length,
    largestRequestTokens: largest,
    theoreticalBound: bound,
    worstWindowTokens: worst,
    worstOvershootPct: Number(((100 * (worst - s.tpm)) / s.tpm).toFixed(1)),
    worstSteadyWindowTokens: Math.max(0, ...steady.map((w) => w.admittedTokens)),
    steadyMeanRatio: steady.length ? Number((steady.reduce((a, w) => a + w.admittedTokens, 0) / steady.length / s.tpm).toFixed(3)) : null,
    withinBound: complete.every((w) => w.admittedTokens <= bound),
    refused: complete.reduce((a, w) => a + w.refused, 0),
    windows: complete,
  };
}

const info = machineInfo();
const dir = resultsDir(args.get('out'));
const scenarios: Scenario[] = [];
for (const algorithm of algorithms) for (const tpm of tpms) for (const connections of connectionLevels) for (const estimate of estimates) for (const stream of streams) scenarios.push({ tpm, connections, estimate, stream, algorithm });
const bar = new SingleBar({ format: 'limit-accuracy {bar} {value}/{total} | {step}', stream: process.stderr }, Presets.shades_classic);
bar.start(scenarios.length, 0, { step: '' });
const rows = [];
for (const s of scenarios) {
  bar.increment({ step: `${s.algorithm} tpm=${s.tpm} c=${s.connections} estimate=${s.estimate} stream=${s.stream}` });
  rows.push(await measure(s));
}
bar.stop();

writeJson(dir, 'limit-accuracy', { scenario: 'limit-accuracy', machine: info, settings: { tpms, connectionLevels, estimates, streams, algorithms, windows, maxSeconds, assumedRps }, rows });
const md = [
  '# limit-accuracy',
  '',
  machineHeader(info),
  '',
  'Wall clock with a time-scaled clock (emulated minutes `scale`× faster than wall time; windows are fixed emulated minutes from the run start, by response completion time; complete windows only). Bound = limit + connections × largest request (APIM admits on completed usage; in-flight requests overshoot); token bucket: 2 × limit + connections × largest (a full bucket plus a minute of refill). Windows are bucketed by response completion time: a request admitted just before a boundary counts after it.',
  '',
  markdownTable(
    ['algorithm', 'TPM', 'c', 'estimate', 'stream', 'scale', 'windows', 'steady admitted / limit', 'worst steady window', 'worst window tokens', 'worst overshoot %', 'bound', 'within bound', '429s'],
    rows.map((r) => [r.algorithm, r.tpm, r.connections, r.estimate ? 'on' : 'off', r.stream ? 'on' : 'off', r.scale, r.completeWindows, r.steadyMeanRatio ?? '–', r.worstSteadyWindowTokens, r.worstWindowTokens, r.worstOvershootPct, r.theoreticalBound, r.withinBound ? 'yes' : '**no**', r.refused]),
  ),
  '',
].join('\n');
writeText(dir, 'limit-accuracy.md', md);
await writeChart(dir, 'limit-accuracy', {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: 'Admitted tokens per window / limit (1.0 = the limit)',
  width: 160,
  height: 120,
  data: { values: rows.flatMap((r) => r.windows.map((w) => ({ scenario: `${r.algorithm} est=${r.estimate ? 'on' : 'off'} stream=${r.stream ? 'on' : 'off'}`, tpm: `TPM ${r.tpm}`, c: `c=${r.connections}`, window: w.window, ratio: w.admittedTokens / r.tpm }))) },
  facet: { row: { field: 'tpm' }, column: { field: 'c' } },
  spec: {
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x: { field: 'window', type: 'ordinal', title: 'emulated minute' }, y: { field: 'ratio', type: 'quantitative', title: 'admitted / limit' }, color: { field: 'scenario' } } },
      { mark: { type: 'rule', color: 'black', strokeDash: [4, 2] }, encoding: { y: { datum: 1 } } },
    ],
  },
});
process.stdout.write(`${md}\nReport: ${dir}\n`);
