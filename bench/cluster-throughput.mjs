/**
 * Gateway throughput with `start --workers N` (N = 1, 2, 4): chat completions through llm-token-limit (a limit never
 * reached, so every request reads and writes its Redis counter) and azure-openai-emit-token-metric (telemetry rows
 * to the primary), mock model without a capacity limit; autocannon on loopback, bounded in time.
 * Run: REDIS_URL=redis://127.0.0.1:6379 node bench/cluster-throughput.mjs [seconds=8] [connections=32]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

const redis = process.env.REDIS_URL;
if (!redis) throw new Error('set REDIS_URL');
const seconds = Number(process.argv[2] ?? 8);
const connections = Number(process.argv[3] ?? 32);
const bin = new URL('../bin/ai-gateway-emulator.js', import.meta.url).pathname;

const POLICY = `<policies><inbound><base /><set-backend-service backend-id="foundry1" />
  <llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="1000000000" estimate-prompt-tokens="false" />
  <azure-openai-emit-token-metric namespace="openai"><dimension name="Subscription ID" value="@(context.Subscription.Id)" /></azure-openai-emit-token-metric>
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;
const CONFIG = {
  backends: [{ id: 'foundry1', url: 'https://foundry1.cognitiveservices.azure.com/openai', type: 'mock', deployments: [{ name: 'gpt-4.1-mini', model: 'gpt-4.1-mini', version: '2025-04-14' }] }],
  apis: [{ id: 'inference-api', path: 'inference/openai', type: 'azure-openai', subscriptionKeyParameterNames: { header: 'api-key', query: 'api-key' }, policy: POLICY }],
  subscriptions: [{ name: 'subscription1', displayName: 'Subscription 1', scope: '/apis' }],
};

function start(workers, data) {
  const config = join(data, 'bench-config.json');
  writeFileSync(config, JSON.stringify(CONFIG));
  const args = [bin, 'start', '--port', '0', '--config', config, '--counters', redis, '--counters-group', `bench-${process.pid}`, '--data', data, '--quiet'];
  if (workers > 1) args.push('--workers', String(workers));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const key = /subscription1 .*primary (\w+)/.exec(out)?.[1];
      if (url && key && out.includes(workers > 1 ? 'Workers:' : 'Identity:')) resolve({ child, url, key });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

for (const workers of [1, 2, 4]) {
  const data = mkdtempSync(join(tmpdir(), 'age-bench-'));
  const { child, url, key } = await start(workers, data);
  const result = await autocannon({
    url: `${url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`,
    method: 'POST',
    headers: { 'api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
    connections,
    duration: seconds,
  });
  child.removeAllListeners('exit');
  await new Promise((r) => (child.once('exit', r), child.kill('SIGTERM')));
  rmSync(data, { recursive: true, force: true });
  const non2xx = result.non2xx + result.errors;
  console.log(`workers=${workers}: ${result.requests.average.toFixed(0)} req/s (median latency ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx/errors ${non2xx}) over ${seconds} s, ${connections} connections`);
}
