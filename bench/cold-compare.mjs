/**
 * Cold start of several CLI builds, interleaved in one session (compare a before and an after on a busy machine):
 * per fresh `node <cli> start --port 0 --in-memory --preset token-metrics-emitting`, wall time to the banner and to
 * the first 200 of the lab request, the process's CPU time (user + system, /proc) until that response, and idle RSS
 * 2 s later. CPU time moves far less with the machine's load than wall time. Linux only (/proc).
 * Run: node bench/cold-compare.mjs <runs> <cli bin> [<cli bin> …]   (one warm-up start per bin first)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
const [runsArg, ...bins] = process.argv.slice(2);
if (!bins.length) throw new Error('usage: node bench/cold-compare.mjs <runs> <cli bin> [<cli bin> …]');
const KEY = 'ee75e419182e188661f24680371c073d';
const BODY = JSON.stringify({ messages: [{ role: 'system', content: 'You are a sarcastic, unhelpful assistant.' }, { role: 'user', content: 'Can you tell me the time, please?' }] });
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const cpuMs = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const post = (url) => new Promise((res, rej) => { const r = request(`${url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, { method: 'POST', agent: false, headers: { 'api-key': KEY, 'content-type': 'application/json' } }, (m) => { m.resume(); m.on('end', () => (m.statusCode === 200 ? res() : rej(new Error(String(m.statusCode))))); }); r.on('error', rej); r.end(BODY); });
function once(bin) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--in-memory', '--preset', 'token-metrics-emitting'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = ''; let done = false;
    child.stdout.on('data', async (d) => {
      out += d; if (done || !out.includes('Control plane')) return; done = true;
      const banner = performance.now() - t0; const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out)[1];
      await post(url); const first = performance.now() - t0; const cpu = cpuMs(child.pid);
      await new Promise((r) => setTimeout(r, 2000)); const idle = rss(child.pid);
      child.once('exit', () => resolve({ banner, first, cpu, idle })); child.kill('SIGTERM');
    });
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (c) => { if (!done) reject(new Error(`exit ${c}: ${out}`)); });
  });
}
const res = Object.fromEntries(bins.map((b) => [b, []]));
for (const b of bins) await once(b);
for (let i = 0; i < Number(runsArg); i++) for (const b of bins) res[b].push(await once(b));
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const b of bins) { const r = res[b]; console.log(`${b}: banner ${med(r.map((x) => x.banner)).toFixed(0)} ms, first response ${med(r.map((x) => x.first)).toFixed(0)} ms, CPU to first response ${med(r.map((x) => x.cpu)).toFixed(0)} ms, idle RSS ${med(r.map((x) => x.idle)).toFixed(1)} MB (medians of ${r.length})`); }
