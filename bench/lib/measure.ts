/** Load and latency measurements shared by the benchmark scripts. */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { execSync } from 'node:child_process';
import { LAB_MESSAGES } from '../../test/support/lab.js';
import { createClock } from '../../policy-engine/index.js';

const wallClock = createClock({ mode: 'system' });

export const LAB_BODY = JSON.stringify({ messages: LAB_MESSAGES });

export interface LoadResult {
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  non2xx: number;
  errors: number;
  /** CPU time (user + system) the target process spent per answered request, in ms; robust to a busy machine. */
  cpuMsPerRequest?: number;
}

/** utime + stime of a process in ms (Linux /proc; undefined elsewhere). */
export function processCpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/** autocannon at `connections` for `duration` s: req/s (total / duration) and latency percentiles in ms. */
export async function load(url: string, headers: Record<string, string>, connections: number, duration: number, body = LAB_BODY, pid?: number): Promise<LoadResult> {
  const cpuBefore = pid === undefined ? undefined : processCpuMs(pid);
  const r = await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, duration, connections });
  const lat = r.latency as unknown as Record<string, number>;
  return { connections, rps: r.requests.total / r.duration, p50: lat.p50!, p99: lat.p99!, p999: lat.p99_9 ?? lat.p99!, non2xx: r.non2xx, errors: r.errors + r.timeouts, ...(cpuBefore === undefined ? {} : { cpuMsPerRequest: (processCpuMs(pid!)! - cpuBefore) / Math.max(1, r.requests.total) }) };
}

export interface LatencyResult {
  requests: number;
  p50: number;
  p99: number;
  p999: number;
  mean: number;
}

/**
 * One keep-alive connection, one request at a time, for `duration` s: per-request latency in ms with
 * microsecond resolution (autocannon's histogram rounds to whole ms, too coarse for added latency at c = 1).
 */
export async function sequentialLatency(url: string, headers: Record<string, string>, duration: number, body = LAB_BODY): Promise<LatencyResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const payload = Buffer.from(body);
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const t = process.hrtime.bigint();
      const req = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname + target.search, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': payload.length, ...headers } },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t) / 1e6) : reject(new Error(`status ${res.statusCode} from ${url}`))));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  for (let i = 0; i < 50; i++) await one(); // warm-up
  const times: number[] = [];
  const end = performance.now() + duration * 1000;
  while (performance.now() < end) times.push(await one());
  agent.destroy();
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!;
  return { requests: times.length, p50: pct(50), p99: pct(99), p999: pct(99.9), mean: times.reduce((s, x) => s + x, 0) / times.length };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Header facts of every report: machine, Node, commit, load average at start. */
export function machineInfo(): Record<string, string | number> {
  let commit = 'unknown';
  try {
    const dirty = execSync('git status --porcelain --untracked-files=no', { encoding: 'utf8' }).trim() !== '';
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim() + (dirty ? ' (+ uncommitted changes in the tree)' : '');
  } catch {
    // not a checkout
  }
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, commit, loadAverage1m: Number(loadavg()[0]!.toFixed(2)), date: new Date(wallClock.now()).toISOString() };
}
