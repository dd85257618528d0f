/**
 * Limit accuracy under load, wall clock with a time-scaled clock (`createClock({ mode: 'system', timeScale })`,
 * what `--time-scale` sets): emulated minutes pass `scale`× faster, so a run covers several windows in seconds.
 * Matrix: TPM × concurrency × estimate-prompt-tokens on/off × streaming on/off × sliding window / token bucket.
 * Per emulated minute (fixed windows from the run's start, by the emulator's admission time): tokens of admitted
 * requests vs the limit, the overshoot against the theoretical bound for that concurrency, 429 count. Admission
 * time and tokens come from the emulator's own ApiManagementGatewayLlmLog rows (TimeGenerated = the request's arrival
 * on the emulated clock, the instant the limiter charges; TotalTokens = what it charges), read after the run; the
 * worst sliding 60 s window ending at an admission (the limiter's own window, (t − 60 s, t]) is reported too.
 * The same tokens bucketed by the client's completion time are kept as a column: at a high time scale a request
 * admitted before a boundary but completing after it moves into the next window (one wall ms = `scale` emulated ms).
 * APIM admits on completed usage, so up to `connections` requests can be in flight when the counter reaches the
 * limit: bound = limit + (connections + 1 probe) × (largest request seen); a token bucket also passes its
 * burst (a full bucket) in the first window: bound = 2 × limit + (connections + 1) × largest.
 * Retry-After (--probe on, with a low --scale such as 10): one more client probes alongside the load. On each 429 it alternates between (a) waiting the
 * Retry-After seconds and retrying once (admitted or not) and (b) retrying every 50 ms until admitted, giving the true
 * time to admission for that client (error = Retry-After − true time; Retry-After is whole wall seconds, ≥ 1). The
 * probe's admitted tokens count in the windows and its connection in the bound.
 * Run: npm run bench:limits -- [--tpm 1000,10000] [--connections 1,16,128] [--windows 4] [--max-seconds 8] [--name file] [--out dir]
 */
import autocannon from 'autocannon';
import { SingleBar, Presets } from 'cli-progress';
import { createClock } from '../policy-engine/index.js';
import { createEmulator } from '../emulator/app.js';
import { presetConfig } from '../emulator/config/presets.js';
import type { TelemetryStore } from '../emulator/app-insights/store.js';
import { LAB_MESSAGES } from '../test/support/lab.js';
import { machineInfo } from './lib/measure.js';
import { machineHeader, markdownTable, resultsDir, writeChart, writeJson, writeText } from './lib/report.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const list = (name: string, fallback: string) => (args.get(name) ?? fallback).split(',');
const tpms = list('tpm', '1000,10000').map(Number);
const name = args.get('name') ?? 'limit-accuracy';
const connectionLevels = list('connections', '1,16,128').map(Number);
const estimates = list('estimate', 'on,off').map((v) => v === 'on');
const streams = list('stream', 'off,on').map((v) => v === 'on');
const algorithms = list('algorithm', 'sliding-window,token-bucket') as Array<'sliding-window' | 'token-bucket'>;
const windows = Number(args.get('windows') ?? 4);
const maxSeconds = Number(args.get('max-seconds') ?? 8);
/** Wall req/s the in-process emulator sustains here (order of magnitude): sets the scale so load ≈ 3× the limit. */
const assumedRps = Number(args.get('assumed-rps') ?? 100);
/** A fixed time scale instead of the computed one (the Retry-After runs use 10: Retry-After is whole wall seconds). */
const fixedScale = args.get('scale') === undefined ? undefined : Number(args.get('scale'));
const probing = (args.get('probe') ?? 'off') === 'on';
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
  const scale = fixedScale ?? Math.max(1, (assumedRps * TOKENS_PER_REQUEST * 60) / (3 * s.tpm));
  const seconds = Math.min(maxSeconds, Math.max(2, (windows * 60) / scale));
  const clock = createClock({ mode: 'system', timeScale: scale });
  const emulator = createEmulator({ config, clock, engineOptions: { tokenLimitAlgorithm: s.algorithm } });
  const { url } = await emulator.listen(0);
  const key = emulator.config.subscriptions[0]!.primaryKey;
  const start = clock.now();
  const perWindow = new Map<number, { admittedTokens: number; admitted: number; refused: number }>();
  let largest = 0;
  // Every answer's wall time: for each 429, the limiter's true time to admission is when the next request of any
  // client is admitted (the load keeps requests in flight, so that is when capacity frees, to within one latency).
  const answers: Array<{ at: number; status: number; retryAfter: number }> = [];
  const record = (status: number, text: string, retryAfter = NaN) => {
    answers.push({ at: performance.now(), status, retryAfter });
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
  };
  const body = JSON.stringify(s.stream ? { messages: LAB_MESSAGES, stream: true, stream_options: { include_usage: true } } : { messages: LAB_MESSAGES });
  const target = `${url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`;
  let loading = true;
  const waits: boolean[] = [];
  const polls: Array<{ retryAfter: number; trueSeconds: number; error: number }> = [];
  const send = async () => {
    const r = await fetch(target, { method: 'POST', headers: { 'api-key': key, 'content-type': 'application/json' }, body });
    const text = await r.text();
    const retryAfter = Number(r.headers.get('retry-after'));
    if (loading) record(r.status, text, retryAfter);
    return { status: r.status, retryAfter };
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const probe = (async () => {
    let mode: 'wait' | 'poll' = 'wait';
    while (loading && probing) {
      const first = await send();
      if (first.status !== 429 || !loading) continue;
      const t0 = performance.now();
      if (mode === 'wait') {
        await pause(first.retryAfter * 1000);
        if (!loading) break;
        waits.push((await send()).status === 200);
      } else {
        for (;;) {
          await pause(50);
          if (!loading) break;
          if ((await send()).status === 200) {
            const trueSeconds = (performance.now() - t0) / 1000;
            polls.push({ retryAfter: first.retryAfter, trueSeconds, error: first.retryAfter - trueSeconds });
            break;
          }
        }
      }
      mode = mode === 'wait' ? 'poll' : 'wait';
    }
  })();
  await autocannon({
    url: target,
    connections: s.connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'api-key': key, 'content-type': 'application/json' },
        body,
        onResponse: (status: number, text: string, _context: unknown, headers: Record<string, string | string[]>) => {
          const ra = headers?.['retry-after'] ?? headers?.['Retry-After'] ?? Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
          record(status, text, Number(Array.isArray(ra) ? ra[0] : ra));
        },
      },
    ],
  });
  const elapsedWindows = (clock.now() - start) / 60_000;
  loading = false;
  await probe;
  await emulator.telemetry.flush();
  const admissions = admittedByEmulator(emulator.telemetry, clock.now(), start);
  await emulator.close();
  // Complete windows only (the last one is cut by the end of the run).
  const completeCount = Math.floor(elapsedWindows);
  const byAdmission = new Map<number, { admittedTokens: number; admitted: number }>();
  for (const a of admissions) {
    const w = Math.floor((a.at - start) / 60_000);
    const row = byAdmission.get(w) ?? { admittedTokens: 0, admitted: 0 };
    byAdmission.set(w, row);
    row.admitted++;
    row.admittedTokens += a.tokens;
  }
  const complete = Array.from({ length: completeCount }, (_, w) => {
    const client = perWindow.get(w);
    const emulated = byAdmission.get(w);
    return { window: w, admittedTokens: emulated?.admittedTokens ?? 0, admitted: emulated?.admitted ?? 0, refused: client?.refused ?? 0, tokensByCompletion: client?.admittedTokens ?? 0 };
  });
  // The limiter's own view: tokens charged in (t − 60 s, t] for every admission instant t inside the complete windows.
  const inRun = admissions.filter((a) => a.at < start + completeCount * 60_000);
  let worstSliding = 0;
  for (let i = 0, from = 0, sum = 0; i < inRun.length; i++) {
    sum += inRun[i]!.tokens;
    while (inRun[from]!.at <= inRun[i]!.at - 60_000) sum -= inRun[from++]!.tokens;
    if (i + 1 === inRun.length || inRun[i + 1]!.at !== inRun[i]!.at) worstSliding = Math.max(worstSliding, sum);
  }
  // Token bucket: a full bucket (TPM) plus a minute of refill (TPM) can pass in one window.
  // The probing client is one more connection.
  const bound = (s.algorithm === 'token-bucket' ? 2 : 1) * s.tpm + (s.connections + (probing ? 1 : 0)) * largest;
  const absErrors = polls.map((p) => Math.abs(p.error)).sort((a, b) => a - b);
  // Limiter view: each 429 against the next admission of any client after it (complete runs only: one exists).
  const limiterErrors: number[] = [];
  for (let i = 0, next = 0; i < answers.length; i++) {
    const a = answers[i]!;
    if (a.status !== 429 || !Number.isFinite(a.retryAfter)) continue;
    next = Math.max(next, i + 1);
    while (next < answers.length && answers[next]!.status !== 200) next++;
    if (next >= answers.length) break;
    limiterErrors.push(a.retryAfter - (answers[next]!.at - a.at) / 1000);
  }
  const limiterAbs = limiterErrors.map(Math.abs).sort((x, y) => x - y);
  const pct = (xs: number[], p: number) => (xs.length ? Number(xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!.toFixed(2)) : null);
  const steady = complete.slice(1); // the first window starts from an empty counter
  const worst = Math.max(0, ...complete.map((w) => w.admittedTokens));
  const worstByCompletion = Math.max(0, ...complete.map((w) => w.tokensByCompletion));
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
    worstSteadyOvershootPct: steady.length ? Number(((100 * (Math.max(...steady.map((w) => w.admittedTokens)) - s.tpm)) / s.tpm).toFixed(2)) : null,
    steadyMeanRatio: steady.length ? Number((steady.reduce((a, w) => a + w.admittedTokens, 0) / steady.length / s.tpm).toFixed(3)) : null,
    worstSlidingWindowTokens: worstSliding,
    withinBound: complete.every((w) => w.admittedTokens <= bound),
    // TimeGenerated is the limiter's charge instant (context.Timestamp), so this is the limiter's own sliding view.
    slidingWithinBound: worstSliding <= bound,
    byCompletion: {
      worstWindowTokens: worstByCompletion,
      worstSteadyWindowTokens: Math.max(0, ...steady.map((w) => w.tokensByCompletion)),
      withinBound: worstByCompletion <= bound,
    },
    refused: complete.reduce((a, w) => a + w.refused, 0),
    retryAfter: {
      waitedThenRetried: waits.length,
      admittedAfterWaiting: waits.filter(Boolean).length,
      polled: polls.length,
      medianAbsErrorSeconds: absErrors.length ? Number(absErrors[Math.floor(absErrors.length / 2)]!.toFixed(2)) : null,
      maxAbsErrorSeconds: absErrors.length ? Number(absErrors.at(-1)!.toFixed(2)) : null,
      meanErrorSeconds: polls.length ? Number((polls.reduce((a, p) => a + p.error, 0) / polls.length).toFixed(2)) : null,
      samples: polls,
      limiter: {
        refusals: limiterErrors.length,
        medianAbsErrorSeconds: pct(limiterAbs, 0.5),
        p95AbsErrorSeconds: pct(limiterAbs, 0.95),
        meanErrorSeconds: limiterErrors.length ? Number((limiterErrors.reduce((x, y) => x + y, 0) / limiterErrors.length).toFixed(2)) : null,
        underestimates: limiterErrors.filter((e) => e < 0).length,
      },
    },
    windows: complete,
  };
}

/** Admitted requests as the emulator recorded them: arrival on the emulated clock and the tokens charged. */
function admittedByEmulator(telemetry: TelemetryStore, nowMs: number, start: number): Array<{ at: number; tokens: number }> {
  const result = telemetry.query('ApiManagementGatewayLlmLog | project TimeGenerated, TotalTokens | order by TimeGenerated asc', { nowMs });
  if (result.truncated) throw new Error(`telemetry query truncated (${result.truncated.limit})`);
  return result.tables[0]!.rows.map(([at, tokens]) => ({ at: Date.parse(String(at)), tokens: Number(tokens) })).filter((a) => a.at >= start);
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

writeJson(dir, name, { scenario: name, machine: info, settings: { tpms, connectionLevels, estimates, streams, algorithms, windows, maxSeconds, assumedRps, fixedScale, probing }, rows });
const md = [
  `# ${name}`,
  '',
  machineHeader(info),
  '',
  'Wall clock with a time-scaled clock (emulated minutes `scale`× faster than wall time; windows are fixed emulated minutes from the run start, by the emulator\'s admission time (ApiManagementGatewayLlmLog TimeGenerated, TotalTokens); complete windows only). Worst sliding = most tokens charged in any (t − 60 s, t] ending at an admission. Bound = limit + (connections, + 1 when probing) × largest request (APIM admits on completed usage; in-flight requests overshoot); token bucket: 2 × limit + (connections, + 1) × largest (a full bucket plus a minute of refill). "by completion" buckets the same responses by the client\'s completion time instead: at a high scale a request admitted just before a boundary counts after it.',
  '',
  markdownTable(
    ['algorithm', 'TPM', 'c', 'estimate', 'stream', 'scale', 'windows', 'steady admitted / limit', 'worst steady window', 'worst window tokens', 'worst overshoot %', 'worst sliding 60 s', 'bound', 'within bound', 'by completion: worst window', '429s'],
    rows.map((r) => [r.algorithm, r.tpm, r.connections, r.estimate ? 'on' : 'off', r.stream ? 'on' : 'off', r.scale, r.completeWindows, r.steadyMeanRatio ?? '–', r.worstSteadyWindowTokens, r.worstWindowTokens, r.worstOvershootPct, `${r.worstSlidingWindowTokens}${r.slidingWithinBound ? '' : ' (over)'}`, r.theoreticalBound, r.withinBound ? 'yes' : '**no**', `${r.byCompletion.worstWindowTokens}${r.byCompletion.withinBound ? '' : ' (over)'}`, r.refused]),
  ),
  '',
  '## Retry-After (wall seconds). Limiter: each 429 against the next admission of any client. Probe: one extra client that, on a 429, alternately waits Retry-After and retries once, or retries every 50 ms until admitted (under load the other connections compete for the freed tokens)',
  '',
  probing ? '' : 'Not probed in this run (`--probe on`; use a low `--scale`, as Retry-After is whole wall seconds).',
  '',
  markdownTable(
    ['algorithm', 'TPM', 'c', 'estimate', 'stream', '429s with a later admission', 'limiter: median / p95 abs(Retry-After − true) s', 'limiter: mean (Retry-After − true) s', 'Retry-After shorter than true', 'probe: retried after Retry-After, admitted / tries', 'probe: polled, median / max abs error s'],
    rows.map((r) => [r.algorithm, r.tpm, r.connections, r.estimate ? 'on' : 'off', r.stream ? 'on' : 'off', r.retryAfter.limiter.refusals, `${r.retryAfter.limiter.medianAbsErrorSeconds ?? '–'} / ${r.retryAfter.limiter.p95AbsErrorSeconds ?? '–'}`, r.retryAfter.limiter.meanErrorSeconds ?? '–', r.retryAfter.limiter.underestimates, probing ? `${r.retryAfter.admittedAfterWaiting} / ${r.retryAfter.waitedThenRetried}` : '–', probing ? `${r.retryAfter.polled}: ${r.retryAfter.medianAbsErrorSeconds ?? '–'} / ${r.retryAfter.maxAbsErrorSeconds ?? '–'}` : '–']),
  ),
  '',
].join('\n');
writeText(dir, `${name}.md`, md);
await writeChart(dir, name, {
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
