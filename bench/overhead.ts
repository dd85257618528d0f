/**
 * Gateway overhead: requests/s and latency of the emulator (subscription gate + policy pipeline + in-process
 * mock model) against plain Express answering the same JSON, measured in one run on the same machine.
 * Run: npm run bench -- [--duration 5] [--connections 20]
 */
import autocannon from 'autocannon';
import express from 'express';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClock } from '../policy-engine/index.js';
import { createEmulator } from '../emulator/app.js';
import { presetConfig } from '../emulator/config/presets.js';
import { LAB_MESSAGES } from '../test/support/lab.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const duration = Number(args.get('duration') ?? 5);
const connections = Number(args.get('connections') ?? 20);

const body = JSON.stringify({ messages: LAB_MESSAGES });

async function run(url: string, headers: Record<string, string>) {
  const result = await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, duration, connections });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

async function main() {
  // Emulator: the metrics lab preset has no token limit, so every call reaches the mock model.
  const config = presetConfig('token-metrics-emitting');
  config.backends![0]!.deployments![0]!.capacity = undefined; // measure the gateway, not the model's RPM throttling
  const emulator = createEmulator({ config, clock: createClock({ mode: 'system' }) });
  const { url } = await emulator.listen(0);
  const key = emulator.config.subscriptions[0]!.primaryKey;
  const chat = `${url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`;
  const sample = await (await fetch(chat, { method: 'POST', headers: { 'api-key': key, 'content-type': 'application/json' }, body })).text();

  // Baseline: plain Express answering the same bytes.
  const app = express();
  app.use(express.json());
  app.post('/chat', (_req, res) => void res.type('application/json').send(sample));
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const plain = `http://127.0.0.1:${(server.address() as AddressInfo).port}/chat`;

  await run(plain, {}); // warm-up both
  await run(chat, { 'api-key': key });
  const baseline = await run(plain, {});
  const gateway = await run(chat, { 'api-key': key });
  server.close();
  await emulator.close();

  if (gateway.non2xx > 0 || gateway.errors > 0) throw new Error(`gateway answered ${gateway.non2xx} non-2xx and ${gateway.errors} errors`);
  const ratio = gateway.rps / baseline.rps;
  console.log(JSON.stringify({ duration, connections, baseline, gateway, throughputRatio: Number(ratio.toFixed(3)) }, null, 2));
  console.log(`emulator/plain-express throughput ratio: ${ratio.toFixed(3)} (${gateway.rps.toFixed(0)} vs ${baseline.rps.toFixed(0)} req/s)`);
}

await main();
