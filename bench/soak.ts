/**
 * Soak: the real CLI (token-metrics-emitting lab policy, SQLite file store) at saturation for a long run, in 10 s
 * autocannon windows. Reports 5xx count, RSS after warm-up vs at the end, and whether every successful response
 * left its 3 customMetrics rows (Total/Prompt/Completion Tokens) after a SIGTERM flush.
 * Run: node --import tsx bench/soak.ts [--seconds 600] [--warmup 60] [--connections 32]
 */
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wellKnownSubscriptionKey } from '../emulator/config/load.js';
import { presetConfig } from '../emulator/config/presets.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const seconds = Number(args.get('seconds') ?? 600);
const warmup = Number(args.get('warmup') ?? Math.min(60, seconds / 10));
const connections = Number(args.get('connections') ?? 32);
const WINDOW = 10;

const BIN = new URL('../bin/ai-gateway-emulator.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'aigw-soak-'));
const config = presetConfig('token-metrics-emitting');
config.backends![0]!.deployments![0]!.capacity = undefined; // saturate the gateway, not the mock's TPM
writeFileSync(join(dir, 'config.json'), JSON.stringify(config));

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function main() {
  const child = spawn(process.execPath, [BIN, '--port', '0', '--config', join(dir, 'config.json'), '--data', join(dir, 'data'), '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  let rssAfterWarmup = 0;
  const samples: Array<{ t: number; rss: number; rps: number }> = [];
  for (let t = 0; t < seconds; t += WINDOW) {
    const r = (await autocannon({ url: target, method: 'POST', headers, body, connections, duration: Math.min(WINDOW, seconds - t) })) as Awaited<ReturnType<typeof autocannon>> & Record<string, number>;
    ok += r['2xx'];
    fivexx += r['5xx'] ?? 0;
    other += r.non2xx - (r['5xx'] ?? 0);
    errors += r.errors + r.timeouts;
    requests += r.requests.total;
    const rss = rssMb(child.pid!);
    samples.push({ t: t + WINDOW, rss, rps: r.requests.average });
    if (rssAfterWarmup === 0 && t + WINDOW >= warmup) rssAfterWarmup = rss;
    process.stderr.write(`t=${t + WINDOW}s rss=${rss.toFixed(1)} MB rps=${r.requests.average.toFixed(0)} 2xx=${ok} 5xx=${fivexx}\n`);
  }
  const rssEnd = samples.at(-1)!.rss;
  const rssMax = Math.max(...samples.filter((s) => s.t > warmup).map((s) => s.rss));
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  const db = new Database(join(dir, 'data', 'telemetry.db'), { readonly: true });
  const metricRows = (db.prepare('SELECT count(*) AS n FROM customMetrics').get() as { n: number }).n;
  // Server-side successes: autocannon stops counting at each window's end while the last requests still complete.
  const served200 = (db.prepare("SELECT count(*) AS n FROM requests WHERE resultCode = '200'").get() as { n: number }).n;
  const served5xx = (db.prepare("SELECT count(*) AS n FROM requests WHERE resultCode LIKE '5%'").get() as { n: number }).n;
  const totals = db.prepare("SELECT name, sum(value) AS v FROM customMetrics GROUP BY name").all() as Array<{ name: string; v: number }>;
  const integrity = db.pragma('integrity_check', { simple: true });
  db.close();
  const sum = (n: string) => totals.find((x) => x.name === n)?.v ?? 0;
  const report = {
    seconds,
    warmupSeconds: warmup,
    connections,
    requests,
    ok,
    fivexx,
    otherNon2xx: other,
    socketErrors: errors,
    meanRps: requests / seconds,
    rssAfterWarmupMb: Number(rssAfterWarmup.toFixed(1)),
    rssEndMb: Number(rssEnd.toFixed(1)),
    rssMaxAfterWarmupMb: Number(rssMax.toFixed(1)),
    rssGrowthPct: Number((((rssEnd - rssAfterWarmup) / rssAfterWarmup) * 100).toFixed(1)),
    served200,
    served5xx,
    metricRows,
    expectedMetricRows: 3 * served200,
    totalTokensEqualsPromptPlusCompletion: sum('Total Tokens') === sum('Prompt Tokens') + sum('Completion Tokens'),
    integrity,
  };
  console.log(JSON.stringify(report, null, 2));
  rmSync(dir, { recursive: true, force: true });
  const pass = fivexx === 0 && served5xx === 0 && report.rssGrowthPct < 10 && metricRows === 3 * served200 && served200 >= ok && report.totalTokensEqualsPromptPlusCompletion && integrity === 'ok';
  process.exitCode = pass ? 0 : 1;
}

await main();
