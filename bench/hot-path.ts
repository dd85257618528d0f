/**
 * CPU cost per request of the hot path, in process (no load generator competing for the CPU): process CPU time
 * (user + system) over N sequential requests, so a busy shared machine changes it far less than req/s.
 *   mock    the mock models' handle() with a web Request (msw, the models server); mock direct: the same call
 *           through directCallOf, as the gateway's in-process forwarder makes it
 *   express Express 5 + express.json() answering the same bytes, over a keep-alive socket (client included)
 *   gateway the emulator with the metrics lab policy and the SQLite file store, same client (client included)
 * gateway − express is the gateway's own cost. Medians of --reps runs.
 * Run: node --import tsx bench/hot-path.ts [--requests 3000] [--reps 5] [--no-emit]
 */
import express from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClock } from '../policy-engine/index.js';
import { createEmulator } from '../emulator/app.js';
import { createSqliteTelemetryStore } from '../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../emulator/app-insights/store.js';
import { presetConfig } from '../emulator/config/presets.js';
import { createMockModels, directCallOf } from '../mock-models/index.js';
import { LAB_BODY, median } from './lib/measure.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const requests = Number(args.get('requests') ?? 3000);
const reps = Number(args.get('reps') ?? 5);
const CHAT = '/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview';

async function cpuPerCall(call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 300; i++) await call(); // warm-up
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const before = process.cpuUsage();
    for (let i = 0; i < requests; i++) await call();
    const used = process.cpuUsage(before);
    runs.push((used.user + used.system) / 1000 / requests);
  }
  return median(runs);
}

function client(url: string, headers: Record<string, string>): () => Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const payload = Buffer.from(LAB_BODY);
  return () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname + target.search, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': payload.length, ...headers } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(payload);
    });
}

const clock = createClock({ mode: 'system' });
const deployment = { ...presetConfig('token-metrics-emitting').backends![0]!.deployments![0]!, capacity: undefined };
const models = createMockModels({ clock, region: 'UK South', deployments: [deployment] });
const mockMs = await cpuPerCall(async () => {
  const response = await models.handle(new Request(`https://mock${CHAT}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: LAB_BODY }));
  await response.arrayBuffer();
});
// The same call as the gateway's forwarder makes it: straight into the model core, no web objects.
const direct = directCallOf(models)!;
const directUrl = new URL(`https://mock${CHAT}`);
const mockDirectMs = await cpuPerCall(async () => {
  const response = await direct({ method: 'POST', url: directUrl, header: (n) => (n === 'content-type' ? 'application/json' : null), text: () => LAB_BODY, signal: new AbortController().signal });
  if (typeof response.body !== 'string') await new Response(response.body).arrayBuffer();
});

const config = presetConfig('token-metrics-emitting');
config.backends![0]!.deployments![0]!.capacity = undefined;
// --no-emit: the metrics lab policy without its emit-metric step (the emit-metric on/off comparison).
if (process.argv.includes('--no-emit')) config.apis[0]!.policy = config.apis[0]!.policy!.replace(/<azure-openai-emit-token-metric[\s\S]*?<\/azure-openai-emit-token-metric>/, '');
const dataDir = mkdtempSync(join(tmpdir(), 'bench-hot-path-'));
const telemetry = createSqliteTelemetryStore({ dataDir, identity: defaultAppInsightsIdentity(config.appInsights) });
const emulator = createEmulator({ config, clock, telemetry });
const { url } = await emulator.listen(0);
const gatewayCall = client(`${url}/inference${CHAT}`, { 'api-key': emulator.config.subscriptions[0]!.primaryKey });
const sample = await new Promise<string>((resolve) => {
  const chunks: Buffer[] = [];
  const req = request(`${url}/inference${CHAT}`, { method: 'POST', headers: { 'content-type': 'application/json', 'api-key': emulator.config.subscriptions[0]!.primaryKey } }, (res) => {
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString()));
  });
  req.end(LAB_BODY);
});
const app = express();
app.use(express.json());
app.post('/chat', (_req, res) => void res.type('application/json').send(sample));
const server = createServer(app);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const expressCall = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}/chat`, {});

// Interleaved: express, gateway, express, gateway… medians per side.
const expressRuns: number[] = [];
const gatewayRuns: number[] = [];
for (let r = 0; r < 3; r++) {
  expressRuns.push(await cpuPerCall(expressCall));
  gatewayRuns.push(await cpuPerCall(gatewayCall));
}
server.close();
await emulator.close();
await telemetry.close();
rmSync(dataDir, { recursive: true, force: true });
const e = median(expressRuns);
const g = median(gatewayRuns);
const result = { requests, reps, cpuMsPerRequest: { mock: mockMs, mockDirect: mockDirectMs, express: e, gateway: g, gatewayOwn: g - e }, ratioExpressOverGateway: e / g };
console.log(JSON.stringify(result));
console.log(`CPU ms/request: mock handle() ${mockMs.toFixed(3)} · mock direct ${mockDirectMs.toFixed(3)} · express+client ${e.toFixed(3)} · gateway+client ${g.toFixed(3)} (gateway's own ${(g - e).toFixed(3)}) · express/gateway ${(e / g).toFixed(2)}×`);
