/**
 * CLI cold start: wall time from spawning `node <cli> start --port 0 --in-memory` to its banner (the gateway
 * listening), over N runs, each a fresh process.
 * Run: node bench/cold-start.mjs <path to the CLI's bin file> [runs=10]
 */
import { spawn } from 'node:child_process';

const [bin, runsArg] = process.argv.slice(2);
if (!bin) throw new Error('usage: node bench/cold-start.mjs <cli bin> [runs]');
const runs = Number(runsArg ?? 10);

function once() {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--in-memory'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let ms;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (ms === undefined && out.includes('Control plane')) {
        ms = performance.now() - started;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => (ms === undefined ? reject(new Error(`exited ${code} before its banner: ${out}`)) : resolve(ms)));
  });
}

await once(); // warm the file-system cache
const times = [];
for (let i = 0; i < runs; i++) times.push(await once());
times.sort((a, b) => a - b);
const at = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(0);
console.log(`${bin}: cold start to banner over ${runs} runs — median ${at(0.5)} ms, p90 ${at(0.9)} ms, min ${times[0].toFixed(0)} ms`);
