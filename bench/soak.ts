/**
 * Soak: the real CLI (SQLite file store) at saturation for a long run, in 10 s autocannon windows, with both seed
 * labs' policies in one API policy: token-rate-limiting's llm-token-limit (counter-key the subscription,
 * estimate-prompt-tokens false; tokens-per-minute raised from the lab's 100 to --tpm so that traffic is a mix of
 * 200s and 429s) and token-metrics-emitting's azure-openai-emit-token-metric with its four dimensions.
 * Reports 5xx count, RSS after warm-up vs at the end (RSS read every second; the verdict compares the median of the
 * minute after warm-up with the median of the last minute: one sample lands anywhere on V8's heap sawtooth, which
 * spans ±15 % under this load), whether every successful response left its 3 customMetrics
 * rows (Total/Prompt/Completion Tokens) after a SIGTERM flush, and whether the counters agree with the admitted
 * tokens: /metrics totals = customMetrics sums and request/refusal counts = the requests table; admitted tokens in
 * every 60 s window <= the limit + the in-flight bound (connections × the largest call); the token-limit window
 * read at the end = the Total Tokens of the last 60 s.
 * Run: node --import tsx bench/soak.ts [--seconds 600] [--warmup 60] [--connections 32] [--tpm 300000] [--rss-series <file.json>]
 *   [--node-args "<flags>"] (node flags for the CLI, e.g. "--heap-growing-percent=0" for V8's own heap growth)
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wellKnownSubscriptionKey } from '../emulator/config/load.js';
import { presetConfig, TOKEN_METRICS_EMITTING_POLICY, TOKEN_RATE_LIMITING_POLICY } from '../emulator/config/presets.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const seconds = Number(args.get('seconds') ?? 600);
const warmup = Number(args.get('warmup') ?? Math.min(60, seconds / 10));
const connections = Number(args.get('connections') ?? 32);
const tpm = Number(args.get('tpm') ?? 300_000);
const WINDOW = 10;
/** Length of the two RSS windows the verdict compares (the minute after warm-up, the last minute). */
const RSS_WINDOW = Math.min(60, (seconds - warmup) / 2);

const BIN = new URL('../bin/ai-gateway-emulator.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'aigw-soak-'));
const config = presetConfig('token-metrics-emitting');
config.backends![0]!.deployments![0]!.capacity = undefined; // saturate the gateway, not the mock's TPM
/** The `<inbound>` children of a lab policy after `<set-backend-service …/>`. */
const labInbound = (xml: string) => /<set-backend-service [^>]*\/>([\s\S]*?)<\/inbound>/.exec(xml)![1]!;
config.apis[0]!.policy = TOKEN_METRICS_EMITTING_POLICY.replace(
  labInbound(TOKEN_METRICS_EMITTING_POLICY),
  labInbound(TOKEN_RATE_LIMITING_POLICY).replace('tokens-per-minute="100"', `tokens-per-minute="${tpm}"`) + labInbound(TOKEN_METRICS_EMITTING_POLICY),
);
writeFileSync(join(dir, 'config.json'), JSON.stringify(config));

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main() {
  const nodeArgs = (args.get('node-args') ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, BIN, '--port', '0', '--config', join(dir, 'config.json'), '--data', join(dir, 'data'), '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m && out.includes('Control plane')) resolve(m[1]!);
    });
  });
  const target = `${url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`;
  const headers = { 'api-key': wellKnownSubscriptionKey('subscription1', 'primary'), 'content-type': 'application/json' };
  const body = JSON.stringify({ messages: [{ role: 'system', content: 'You are a sarcastic, unhelpful assistant.' }, { role: 'user', content: 'Can you tell me the time, please?' }] });
  let ok = 0;
  let fivexx = 0;
  let other = 0;
  let errors = 0;
  let requests = 0;
  const samples: Array<{ t: number; rss: number; rps: number }> = [];
  // RSS every second of the load (t in seconds since it started), for the verdict's medians.
  const loadStart = performance.now();
  const rssSeries: Array<{ t: number; rss: number }> = [];
  const sampler = setInterval(() => rssSeries.push({ t: (performance.now() - loadStart) / 1000, rss: rssMb(child.pid!) }), 1000);
  for (let t = 0; t < seconds; t += WINDOW) {
    const r = (await autocannon({ url: target, method: 'POST', headers, body, connections, duration: Math.min(WINDOW, seconds - t) })) as Awaited<ReturnType<typeof autocannon>> & Record<string, number>;
    ok += r['2xx'];
    fivexx += r['5xx'] ?? 0;
    other += r.non2xx - (r['5xx'] ?? 0);
    errors += r.errors + r.timeouts;
    requests += r.requests.total;
    const rss = rssMb(child.pid!);
    samples.push({ t: t + WINDOW, rss, rps: r.requests.average });
    process.stderr.write(`t=${t + WINDOW}s rss=${rss.toFixed(1)} MB rps=${r.requests.average.toFixed(0)} 2xx=${ok} 5xx=${fivexx}\n`);
  }
  // Counters read with no traffic (the last window's in-flight calls finish first): the token-limit window now, and
  // the /metrics counters.
  await new Promise((r) => setTimeout(r, 1000));
  const limits = (await (await fetch(`${url}/_emulator/token-limits`)).json()) as { now: number; counters: Array<{ key: string; used: number; limit?: number }> };
  const families = parsePrometheusTextFormat(await (await fetch(`${url}/metrics`)).text());
  const promSum = (family: string, labels: Record<string, string>) =>
    (families.find((f) => f.name === family)?.metrics ?? [])
      .filter((m) => Object.entries(labels).every(([k, v]) => (m as { labels?: Record<string, string> }).labels?.[k] === v))
      .reduce((n, m) => n + Number((m as { value?: string }).value), 0);
  clearInterval(sampler);
  const end = rssSeries.at(-1)!.t;
  const afterWarmup = rssSeries.filter((s) => s.t > warmup && s.t <= warmup + RSS_WINDOW).map((s) => s.rss);
  const last = rssSeries.filter((s) => s.t > end - RSS_WINDOW).map((s) => s.rss);
  const rssAfterWarmup = median(afterWarmup);
  const rssEnd = median(last);
  const steady = rssSeries.filter((s) => s.t > warmup);
  const rssMax = Math.max(...steady.map((s) => s.rss));
  const rssMin = Math.min(...steady.map((s) => s.rss));
  // Least-squares slope after warm-up, MB per minute (information: the verdict is the medians).
  const mt = steady.reduce((n, s) => n + s.t, 0) / steady.length;
  const mr = steady.reduce((n, s) => n + s.rss, 0) / steady.length;
  const slope = (steady.reduce((n, s) => n + (s.t - mt) * (s.rss - mr), 0) / steady.reduce((n, s) => n + (s.t - mt) ** 2, 0)) * 60;
  if (args.get('rss-series')) writeFileSync(args.get('rss-series')!, JSON.stringify({ warmup, window: RSS_WINDOW, series: rssSeries, windows: samples }));
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  const db = new Database(join(dir, 'data', 'telemetry.db'), { readonly: true });
  const metricRows = (db.prepare('SELECT count(*) AS n FROM customMetrics').get() as { n: number }).n;
  // Server-side successes: autocannon stops counting at each window's end while the last requests still complete.
  const served200 = (db.prepare("SELECT count(*) AS n FROM requests WHERE resultCode = '200'").get() as { n: number }).n;
  const served5xx = (db.prepare("SELECT count(*) AS n FROM requests WHERE resultCode LIKE '5%'").get() as { n: number }).n;
  const served429 = (db.prepare("SELECT count(*) AS n FROM requests WHERE resultCode = '429'").get() as { n: number }).n;
  const totals = db.prepare("SELECT name, sum(value) AS v FROM customMetrics GROUP BY name").all() as Array<{ name: string; v: number }>;
  const admitted = (db.prepare("SELECT timestamp AS t, value AS v FROM customMetrics WHERE name = 'Total Tokens'").all() as Array<{ t: string | number; v: number }>)
    .map((r) => ({ t: typeof r.t === 'number' ? r.t : Date.parse(r.t), v: r.v }))
    .sort((a, b) => a.t - b.t);
  const integrity = db.pragma('integrity_check', { simple: true });
  db.close();
  const sum = (n: string) => totals.find((x) => x.name === n)?.v ?? 0;
  // Admitted tokens in any 60 s window (two pointers over the Total Tokens rows).
  let windowMax = 0;
  let windowSum = 0;
  for (let i = 0, j = 0; i < admitted.length; i++) {
    windowSum += admitted[i]!.v;
    while (admitted[i]!.t - admitted[j]!.t >= 60_000) windowSum -= admitted[j++]!.v;
    windowMax = Math.max(windowMax, windowSum);
  }
  const largestCall = admitted.reduce((m, r) => Math.max(m, r.v), 0);
  const inFlightBound = connections * largestCall;
  const windowStart = limits.now - 60_000;
  const lastWindowTokens = admitted.filter((r) => r.t > windowStart && r.t <= limits.now).reduce((n, r) => n + r.v, 0);
  // Rows within 100 ms of the window's start may fall on either side (metric and charge are stamped apart).
  const boundarySlack = admitted.filter((r) => Math.abs(r.t - windowStart) <= 100).reduce((n, r) => n + r.v, 0);
  const counterUsed = limits.counters.find((c) => c.key === 'subscription1' || c.key.endsWith('subscription1'))?.used ?? limits.counters[0]?.used ?? 0;
  const report = {
    seconds,
    nodeArgs,
    warmupSeconds: warmup,
    connections,
    requests,
    ok,
    fivexx,
    otherNon2xx: other,
    socketErrors: errors,
    meanRps: requests / seconds,
    /** Median of the 1 s RSS samples in (warm-up, warm-up + 60 s] and in the last 60 s; growth = their ratio − 1. */
    rssWindowSeconds: RSS_WINDOW,
    rssSamples: rssSeries.length,
    rssAfterWarmupMb: Number(rssAfterWarmup.toFixed(1)),
    rssEndMb: Number(rssEnd.toFixed(1)),
    rssGrowthPct: Number((((rssEnd - rssAfterWarmup) / rssAfterWarmup) * 100).toFixed(1)),
    rssMinAfterWarmupMb: Number(rssMin.toFixed(1)),
    rssMaxAfterWarmupMb: Number(rssMax.toFixed(1)),
    rssSlopeMbPerMinute: Number(slope.toFixed(2)),
    /** The previous verdict's two single samples (the 10 s window ending at warm-up, the last one), for comparison. */
    rssSingleSamplesMb: [Number(samples.find((s) => s.t >= warmup)!.rss.toFixed(1)), Number(samples.at(-1)!.rss.toFixed(1))],
    served200,
    served5xx,
    metricRows,
    expectedMetricRows: 3 * served200,
    totalTokensEqualsPromptPlusCompletion: sum('Total Tokens') === sum('Prompt Tokens') + sum('Completion Tokens'),
    integrity,
    tokensPerMinuteLimit: tpm,
    served429,
    counters: {
      metricsTotalTokens: promSum('ai_gateway_emitted_metric_total', { metric: 'Total Tokens' }),
      customMetricsTotalTokens: sum('Total Tokens'),
      metricsRequests200: promSum('ai_gateway_requests_total', { status: '200' }),
      metricsRefusals429: promSum('ai_gateway_refusals_total', { policy: 'llm-token-limit', status: '429' }),
      maxAdmittedTokensIn60s: windowMax,
      limitPlusInFlightBound: tpm + inFlightBound,
      tokenLimitWindowUsedAtEnd: counterUsed,
      totalTokensLast60s: lastWindowTokens,
      boundarySlack,
    },
  };
  const c = report.counters;
  const countersConsistent =
    c.metricsTotalTokens === c.customMetricsTotalTokens &&
    c.metricsRequests200 === served200 &&
    c.metricsRefusals429 === served429 &&
    c.maxAdmittedTokensIn60s <= c.limitPlusInFlightBound &&
    Math.abs(c.tokenLimitWindowUsedAtEnd - c.totalTokensLast60s) <= c.boundarySlack;
  console.log(JSON.stringify(report, null, 2));
  rmSync(dir, { recursive: true, force: true });
  const pass = fivexx === 0 && served5xx === 0 && report.rssGrowthPct < 10 && metricRows === 3 * served200 && served200 >= ok && report.totalTokensEqualsPromptPlusCompletion && integrity === 'ok' && countersConsistent;
  console.log(`countersConsistent: ${countersConsistent}; pass: ${pass}`);
  process.exitCode = pass ? 0 : 1;
}

await main();
