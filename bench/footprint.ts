/**
 * Footprint: cold start of the CLI to the first served request (TypeScript sources through tsx, and the compiled
 * dist/ the package ships), idle RSS after that request, and RSS drift of the CLI (metrics lab preset, SQLite file
 * store) under steady autocannon load, read every second.
 * Run: node --import tsx bench/footprint.ts [--runs 5] [--minutes 5] [--connections 16] [--out dir]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { presetConfig } from '../emulator/config/presets.js';
import { LAB_BODY, machineInfo, median } from './lib/measure.js';
import { machineHeader, markdownTable, resultsDir, writeChart, writeJson, writeText } from './lib/report.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const runs = Number(args.get('runs') ?? 5);
const minutes = Number(args.get('minutes') ?? 5);
const connections = Number(args.get('connections') ?? 16);
const KEY = 'ee75e419182e188661f24680371c073d'; // subscription1's well-known primary key in the lab presets
const CHAT = '/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview';

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function post(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${CHAT}`, { method: 'POST', agent: false, headers: { 'api-key': KEY, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(res.statusCode) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(LAB_BODY);
  });
}

/** Spawn → banner → first 200; then idle RSS 2 s later. */
function coldStart(bin: string): Promise<{ bannerMs: number; firstResponseMs: number; idleRssMb: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--in-memory', '--preset', 'token-metrics-emitting'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    child.stdout!.on('data', async (chunk: Buffer) => {
      out += chunk.toString();
      if (done || !out.includes('Control plane')) return;
      done = true;
      const bannerMs = performance.now() - started;
      const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      try {
        await post(url);
        const firstResponseMs = performance.now() - started;
        await new Promise((r) => setTimeout(r, 2000));
        const idleRssMb = rssMb(child.pid!);
        child.kill('SIGTERM');
        child.once('exit', () => resolve({ bannerMs, firstResponseMs, idleRssMb }));
      } catch (error) {
        child.kill('SIGTERM');
        reject(error);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => (done ? undefined : reject(new Error(`exited ${code} before its banner: ${out}`))));
  });
}

const info = machineInfo();
const dir = resultsDir(args.get('out'));
const bins: Record<string, string> = { 'source (tsx)': fileURLToPath(new URL('../bin/ai-gateway-emulator.js', import.meta.url)) };
const compiled = fileURLToPath(new URL('../dist/bin/ai-gateway-emulator.js', import.meta.url));
if (existsSync(compiled)) bins['compiled dist/ (npm run build)'] = compiled;
const cold: Record<string, { bannerMs: number; firstResponseMs: number; idleRssMb: number }> = {};
for (const [name, bin] of Object.entries(bins)) {
  await coldStart(bin); // file-system cache
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await coldStart(bin));
  cold[name] = { bannerMs: median(samples.map((s) => s.bannerMs)), firstResponseMs: median(samples.map((s) => s.firstResponseMs)), idleRssMb: median(samples.map((s) => s.idleRssMb)) };
  process.stderr.write(`cold start ${name}: ${JSON.stringify(cold[name])}\n`);
}

// RSS drift under load: the CLI as users run it (compiled dist/ when built, its bin's V8 settings included), the
// metrics lab preset with the SQLite file store in a temporary data directory, RSS read every second. Verdict as in
// bench/soak.ts: median of the minute after warm-up (60–120 s) against the median of the last minute (a single
// sample lands anywhere on V8's heap sawtooth).
const dataDir = mkdtempSync(join(tmpdir(), 'footprint-drift-'));
const driftConfig = presetConfig('token-metrics-emitting');
driftConfig.backends![0]!.deployments![0]!.capacity = undefined; // the gateway under load, not the mock's RPM 429s
writeFileSync(join(dataDir, 'config.json'), JSON.stringify(driftConfig));
const driftBin = bins['compiled dist/ (npm run build)'] ?? bins['source (tsx)']!;
const cli = spawn(process.execPath, [driftBin, 'start', '--port', '0', '--data', join(dataDir, 'data'), '--config', join(dataDir, 'config.json'), '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  cli.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (m && out.includes('Control plane')) resolve(m[1]!);
  });
  cli.once('exit', (code) => reject(new Error(`the CLI exited (${code}) before its banner: ${out}`)));
});
const samples: Array<{ seconds: number; rssMb: number }> = [{ seconds: 0, rssMb: rssMb(cli.pid!) }];
const t0 = performance.now();
const sampler = setInterval(() => {
  samples.push({ seconds: Math.round((performance.now() - t0) / 1000), rssMb: rssMb(cli.pid!) });
  process.stderr.write(`\rRSS drift: ${samples.at(-1)!.seconds} s / ${minutes * 60} s, ${samples.at(-1)!.rssMb.toFixed(0)} MB   `);
}, 1000);
const loadResult = await autocannon({ url: `${url}${CHAT}`, method: 'POST', headers: { 'content-type': 'application/json', 'api-key': KEY }, body: LAB_BODY, duration: minutes * 60, connections });
clearInterval(sampler);
samples.push({ seconds: Math.round((performance.now() - t0) / 1000), rssMb: rssMb(cli.pid!) });
await new Promise<void>((resolve) => {
  cli.once('exit', () => resolve());
  cli.kill('SIGTERM');
});
rmSync(dataDir, { recursive: true, force: true });
process.stderr.write('\n');
const end = samples.at(-1)!.seconds;
const warm = samples.filter((s) => s.seconds > 60 && s.seconds <= 120).map((s) => s.rssMb);
const lastMinute = samples.filter((s) => s.seconds > end - 60).map((s) => s.rssMb);
const rssAfterWarmupMb = median(warm.length ? warm : samples.map((s) => s.rssMb));
const rssEndMb = median(lastMinute);
const drift = { bin: driftBin, rssAfterWarmupMb, rssEndMb, growthMb: rssEndMb - rssAfterWarmupMb, growthPct: (100 * (rssEndMb - rssAfterWarmupMb)) / rssAfterWarmupMb, maxMb: Math.max(...samples.map((s) => s.rssMb)), requests: loadResult.requests.total, non2xx: loadResult.non2xx };

writeJson(dir, 'footprint', { scenario: 'footprint', machine: info, settings: { runs, minutes, connections }, coldStart: cold, drift, samples });
const f = (n: number, d = 0) => n.toFixed(d);
const md = [
  '# footprint',
  '',
  machineHeader(info),
  '',
  `Cold start: \`start --port 0 --in-memory --preset token-metrics-emitting\`, spawn to banner and to the first 200 of the lab request; idle RSS 2 s after that request; medians of ${runs} fresh processes.`,
  '',
  markdownTable(['CLI', 'to banner ms', 'to first response ms', 'idle RSS MB'], Object.entries(cold).map(([k, v]) => [k, f(v.bannerMs), f(v.firstResponseMs), f(v.idleRssMb)])),
  '',
  `RSS drift: the CLI (\`${drift.bin}\`, the token-metrics-emitting preset without the deployment's RPM/TPM capacity, SQLite file store), autocannon c=${connections} for ${minutes} min (${drift.requests} requests, ${drift.non2xx} non-2xx), RSS read every second; after warm-up = median of 60–120 s, end = median of the last minute.`,
  '',
  markdownTable(['RSS after warm-up MB', 'RSS at end MB', 'growth MB', 'growth %', 'max MB'], [[f(drift.rssAfterWarmupMb), f(drift.rssEndMb), f(drift.growthMb, 1), f(drift.growthPct, 1), f(drift.maxMb)]]),
  '',
].join('\n');
writeText(dir, 'footprint.md', md);
await writeChart(dir, 'footprint-rss', {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: `Emulator RSS under load (c=${connections})`,
  width: 520,
  height: 240,
  data: { values: samples },
  mark: { type: 'line', point: true },
  encoding: { x: { field: 'seconds', type: 'quantitative' }, y: { field: 'rssMb', type: 'quantitative', title: 'RSS MB' } },
});
process.stdout.write(`${md}\nReport: ${dir}\n`);
