/**
 * One benchmark target in its own process (so the load generator does not share its event loop), printing
 * `READY <url> <headers-json>` on stdout once it serves. Targets answer the same chat-completions JSON:
 *   bare-http        node:http returning fixed bytes
 *   express          Express 5 with express.json() returning the same bytes
 *   models           the mock models alone (what the `models` subcommand serves)
 *   emulator-limit   the emulator with the rate-limiting lab policy (TPM high enough not to refuse)
 *   emulator-metrics the emulator with the metrics lab policy and the SQLite file store
 * Run: node --import tsx bench/lib/serve-target.ts <target> [--sample <file>] [--policies <n>] [--no-emit] [--memory-every <ms>]
 * --memory-every <ms> writes `MEM {"t":s,"rss":MB,"heapUsed":MB,"heapTotal":MB,"external":MB,"arrayBuffers":MB}` lines to stderr.
 * Profile: node --cpu-prof --cpu-prof-dir=bench/results/profile --import tsx bench/lib/serve-target.ts emulator-metrics
 */
import express from 'express';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClock } from '../../policy-engine/index.js';
import { createEmulator } from '../../emulator/app.js';
import { createSqliteTelemetryStore } from '../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../emulator/app-insights/store.js';
import { presetConfig, TOKEN_METRICS_EMITTING_POLICY } from '../../emulator/config/presets.js';
import { createMockModels, createMockModelsServer } from '../../mock-models/index.js';

export const CHAT_PATH = '/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview';

const [target, ...rest] = process.argv.slice(2);
const flag = (name: string) => rest.includes(`--${name}`);
const value = (name: string) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : undefined;
};

function listenPlain(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** The metrics lab policy plus `steps` set-header steps in inbound (the cost-growth axis). */
function policyWithSteps(steps: number): string {
  const extra = Array.from({ length: steps }, (_, i) => `        <set-header name="x-bench-${i}" exists-action="override"><value>v${i}</value></set-header>`).join('\n');
  return TOKEN_METRICS_EMITTING_POLICY.replace('</azure-openai-emit-token-metric>', `</azure-openai-emit-token-metric>\n${extra}`);
}

async function start(): Promise<{ url: string; headers: Record<string, string>; close: () => Promise<void> }> {
  const sample = value('sample') ? readFileSync(value('sample')!, 'utf8') : '{}';
  switch (target) {
    case 'bare-http': {
      const bytes = Buffer.from(sample);
      const server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
          res.end(bytes);
        });
      });
      return { url: `${await listenPlain(server)}/chat`, headers: {}, close: () => new Promise((r) => server.close(() => r())) };
    }
    case 'express': {
      const app = express();
      app.use(express.json());
      app.post('/chat', (_req, res) => void res.type('application/json').send(sample));
      const server = createServer(app);
      return { url: `${await listenPlain(server)}/chat`, headers: {}, close: () => new Promise((r) => server.close(() => r())) };
    }
    case 'models': {
      const config = presetConfig('token-metrics-emitting');
      const d = config.backends![0]!.deployments![0]!;
      const models = createMockModels({ clock: createClock({ mode: 'system' }), region: 'UK South', deployments: [{ ...d, capacity: undefined }] });
      const server = await createMockModelsServer(models).listen(0, '127.0.0.1');
      return { url: `${server.url}${CHAT_PATH}`, headers: {}, close: () => server.close() };
    }
    case 'emulator-limit':
    case 'emulator-metrics': {
      const metrics = target === 'emulator-metrics';
      const config = presetConfig(metrics ? 'token-metrics-emitting' : 'token-rate-limiting');
      config.backends![0]!.deployments![0]!.capacity = undefined; // measure the gateway, not the model's RPM throttling
      if (!metrics) config.apis[0]!.policy = config.apis[0]!.policy!.replace('tokens-per-minute="100"', 'tokens-per-minute="1000000000"');
      if (metrics && value('policies')) config.apis[0]!.policy = policyWithSteps(Number(value('policies')));
      if (metrics && flag('no-emit')) config.apis[0]!.policy = config.apis[0]!.policy!.replace(/<azure-openai-emit-token-metric[\s\S]*?<\/azure-openai-emit-token-metric>/, '');
      const dataDir = mkdtempSync(join(tmpdir(), 'bench-telemetry-'));
      const telemetry = createSqliteTelemetryStore({ dataDir, inMemory: !metrics, identity: defaultAppInsightsIdentity(config.appInsights) });
      const emulator = createEmulator({ config, clock: createClock({ mode: 'system' }), telemetry });
      const { url } = await emulator.listen(0);
      return {
        url: `${url}/inference${CHAT_PATH}`,
        headers: { 'api-key': emulator.config.subscriptions[0]!.primaryKey },
        close: async () => {
          await emulator.close();
          await telemetry.close();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    }
    default:
      throw new Error(`unknown target '${target}' (bare-http, express, models, emulator-limit, emulator-metrics)`);
  }
}

const running = await start();
process.stdout.write(`READY ${running.url} ${JSON.stringify(running.headers)}\n`);
const stop = async () => {
  await running.close();
  process.exit(0);
};
if (value('memory-every')) {
  const started = performance.now();
  const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
  setInterval(() => {
    const m = process.memoryUsage();
    const t = Math.round((performance.now() - started) / 1000);
    process.stderr.write(`MEM ${JSON.stringify({ t, rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) })}\n`);
  }, Number(value('memory-every'))).unref();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
