/**
 * First request after start-up vs the tenth: spawns `node <cli> start --port 0 --in-memory --preset
 * token-metrics-emitting`, sends the lab's chat request 10 times in a row (a new connection each, as the
 * notebook's `requests.post` does) and prints the latency of the 1st and the 10th, medians over N runs. The client
 * first sends one GET /_emulator/health (not a gateway request) so its own first-request cost is not counted.
 * Run: node bench/first-request.mjs [cli bin=bin/ai-gateway-emulator.js] [runs=5]
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';

const bin = process.argv[2] ?? new URL('../bin/ai-gateway-emulator.js', import.meta.url).pathname;
const runs = Number(process.argv[3] ?? 5);
const KEY = 'ee75e419182e188661f24680371c073d'; // subscription1's well-known primary key
const BODY = JSON.stringify({ messages: [{ role: 'system', content: 'You are a sarcastic, unhelpful assistant.' }, { role: 'user', content: 'Can you tell me the time, please?' }] });

function post(url) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(`${url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, { method: 'POST', agent: false, headers: { 'api-key': KEY, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

function start() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--in-memory', '--quiet', '--preset', 'token-metrics-emitting'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m && out.includes('Control plane')) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const first = [];
const tenth = [];
for (let r = 0; r < runs; r++) {
  const { child, url } = await start();
  await new Promise((resolve, reject) => request(`${url}/_emulator/health`, { agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject).end());
  const times = [];
  for (let i = 0; i < 10; i++) times.push(await post(url));
  first.push(times[0]);
  tenth.push(times[9]);
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}
console.log(`first request ${median(first).toFixed(1)} ms, tenth ${median(tenth).toFixed(1)} ms (medians of ${runs} runs; first: ${first.map((t) => t.toFixed(1)).join(', ')})`);
