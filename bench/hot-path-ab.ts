/**
 * Before/after of a hot-path change in ONE process: the emulator of two source trees (e.g. `git archive` of two
 * commits, each with a node_modules symlink), each with the metrics lab policy with and without its emit-metric
 * step, rounds interleaved (order reversed every round), so both trees see the same machine load. CPU ms/request
 * (process.cpuUsage, the keep-alive client included; each window ends with its store's flush) and GC pause µs/request.
 * Run: A=<before tree> B=<after tree> [N=300] [ROUNDS=14] node --import tsx bench/hot-path-ab.ts
 */
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
const here = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const trees = [['before', process.env.A ?? here], ['after', process.env.B ?? here]];
const N = Number(process.env.N ?? 400), ROUNDS = Number(process.env.ROUNDS ?? 10);
const CHAT = '/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview';
const EMIT = /<azure-openai-emit-token-metric[\s\S]*?<\/azure-openai-emit-token-metric>/;
let gcMs = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) gcMs += e.duration; }).observe({ entryTypes: ['gc'] });
const { LAB_BODY } = await import('./lib/measure.js');
const payload = Buffer.from(LAB_BODY);
function client(url: string, key: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const t = new URL(url);
  const headers = { 'content-type': 'application/json', 'content-length': payload.length, 'api-key': key };
  return () => new Promise<void>((resolve, reject) => {
    const req = request({ agent, host: t.hostname, port: t.port, path: t.pathname + t.search, method: 'POST', headers }, (res) => { res.resume(); res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)))); });
    req.on('error', reject); req.end(payload);
  });
}
const targets: Array<{ name: string; call: () => Promise<void>; cpu: number[]; gc: number[]; telemetry: { flush(): Promise<void> } }> = [];
for (const [tree, M] of trees) {
  const { createClock } = await import(`${M}/policy-engine/index.ts`);
  const { createEmulator } = await import(`${M}/emulator/app.ts`);
  const { createSqliteTelemetryStore } = await import(`${M}/emulator/app-insights/sqlite-store.ts`);
  const { defaultAppInsightsIdentity } = await import(`${M}/emulator/app-insights/store.ts`);
  const { presetConfig } = await import(`${M}/emulator/config/presets.ts`);
  for (const variant of (process.env.VARIANTS ?? 'off,on').split(',')) {
    const config = presetConfig('token-metrics-emitting');
    config.backends![0]!.deployments![0]!.capacity = undefined;
    if (variant === 'off') config.apis[0]!.policy = config.apis[0]!.policy!.replace(EMIT, '');
    const telemetry = createSqliteTelemetryStore({ dataDir: mkdtempSync(join(tmpdir(), 'hp-ab-')), identity: defaultAppInsightsIdentity(config.appInsights) });
    const emulator = createEmulator({ config, clock: createClock({ mode: 'system' }), telemetry });
    const { url } = await emulator.listen(0);
    targets.push({ name: `${tree}/${variant}`, call: client(`${url}/inference${CHAT}`, emulator.config.subscriptions[0]!.primaryKey), cpu: [], gc: [], telemetry });
  }
}
for (const t of targets) { for (let i = 0; i < 600; i++) await t.call(); await t.telemetry.flush(); }
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? [...targets].reverse() : targets;
  for (const t of order) {
    const g0 = gcMs; const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) await t.call();
    await t.telemetry.flush(); // this target's last rows are committed inside its own window
    const c = process.cpuUsage(c0);
    await new Promise((res) => setImmediate(res));
    t.cpu.push((c.user + c.system) / 1000 / N); t.gc.push(((gcMs - g0) * 1000) / N);
  }
}
const q = (a: number[], p: number) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(p * (s.length - 1))]!; };
for (const t of targets) console.log(`${t.name.padEnd(12)} CPU ms/req median ${q(t.cpu, 0.5).toFixed(3)} p25 ${q(t.cpu, 0.25).toFixed(3)} min ${q(t.cpu, 0).toFixed(3)} | GC µs/req median ${q(t.gc, 0.5).toFixed(0)}`);
const get = (n: string) => targets.find((t) => t.name === n);
for (const tree of ['before', 'after']) {
  const on = get(`${tree}/on`), off = get(`${tree}/off`);
  if (!on || !off) continue;
  // ratio per round (same minute), then the median
  const ratios = on.cpu.map((c, i) => off.cpu[i]! / c);
  console.log(`${tree}: emit on/off throughput-equivalent ratio (off CPU / on CPU) median ${q(ratios, 0.5).toFixed(3)}; on − off ${(1000 * (q(on.cpu, 0.5) - q(off.cpu, 0.5))).toFixed(0)} µs`);
}
process.exit(0);
