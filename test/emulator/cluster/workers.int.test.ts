/**
 * `start --workers 2` as a real child process: two gateway processes on one port sharing Redis counters, the
 * primary writing telemetry. Runs when REDIS_URL is set; the refusal without Redis runs always.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteTelemetryStore } from '../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../../emulator/app-insights/store.js';
import { startEmulator } from '../../../emulator/testing/index.js';
import { startCli, stopCli, type StartedCli } from '../../support/cli.js';

const REDIS_URL = process.env.REDIS_URL;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** One request on a fresh connection (the cluster hands connections to workers round robin). */
function send(url: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const CHAT_PATH = '/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview';
const chatBody = JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] });

describe.skipIf(!REDIS_URL)(`start --workers 2 (${REDIS_URL ? REDIS_URL : 'skipped: REDIS_URL unset; .ci/run starts redis-server and sets it'})`, () => {
  it('both workers serve (health names both), the 100 TPM limit holds across them, telemetry rows match one process for the same traffic', async () => {
    const data = mkdtempSync(join(tmpdir(), 'age-cluster-'));
    dirs.push(data);
    let cli: StartedCli | undefined;
    try {
      cli = await startCli(['--workers', '2', '--counters', REDIS_URL!, '--counters-group', `cluster-${process.pid}`, '--data', data, '--quiet'], { ready: 'Workers: 2' });
      const key = /subscription1 .*primary (\w+)/.exec(cli.banner)![1]!;

      const answeredBy = new Set<number>();
      let workers: Array<{ id: number; pid: number; state: string }> = [];
      for (let i = 0; i < 6; i++) {
        const health = JSON.parse((await send(cli.url, '/_emulator/health')).body) as { worker: { pid: number }; workers: typeof workers };
        answeredBy.add(health.worker.pid);
        workers = health.workers;
      }
      expect(answeredBy.size).toBe(2);
      expect(workers.map((w) => [w.id, w.state])).toEqual([
        [1, 'listening'],
        [2, 'listening'],
      ]);
      expect(new Set(workers.map((w) => w.pid))).toEqual(answeredBy);

      // Alternating workers: admitted while the shared minute's use is below 100 tokens, as one process would.
      const statuses: number[] = [];
      let tokensPerCall = 0;
      for (let i = 0; i < 12; i++) {
        const res = await send(cli.url, CHAT_PATH, { method: 'POST', headers: { 'api-key': key, 'content-type': 'application/json' }, body: chatBody });
        statuses.push(res.status);
        if (res.status === 200) tokensPerCall = (JSON.parse(res.body) as { usage: { total_tokens: number } }).usage.total_tokens;
      }
      const admitted = statuses.filter((s) => s === 200).length;
      expect(tokensPerCall).toBeGreaterThan(0);
      expect(admitted).toBe(Math.ceil(100 / tokensPerCall));
      expect(statuses.slice(admitted).every((s) => s === 429)).toBe(true);

      await stopCli(cli.child);
      cli = undefined;
      const reader = createSqliteTelemetryStore({ dataDir: data, identity: defaultAppInsightsIdentity(), readonly: true });
      const clusterRows = reader.counts();
      await reader.close();

      // The same 12 calls against one in-process emulator.
      const one = await startEmulator({ preset: 'token-rate-limiting', clock: 'system' });
      for (let i = 0; i < 12; i++) await (await fetch(`${one.url}${CHAT_PATH}`, { method: 'POST', headers: { 'api-key': key, 'content-type': 'application/json' }, body: chatBody })).arrayBuffer();
      await one.emulator.settled();
      const singleRows = one.emulator.telemetry.counts();
      await one.close();
      const gatewayTables = (rows: Record<string, number>) => Object.fromEntries(Object.entries(rows).filter(([, n]) => n > 0));
      expect(gatewayTables(clusterRows)).toEqual(gatewayTables(singleRows));
      // 3 rows per successful response (requests, gateway log, LLM log), 2 per refusal (no LLM log).
      expect(clusterRows.ApiManagementGatewayLlmLog).toBe(admitted);
      expect(Object.values(clusterRows).reduce((a, b) => a + b, 0)).toBe(3 * admitted + 2 * (statuses.length - admitted));
    } finally {
      await stopCli(cli?.child);
    }
  });
});

describe('start --workers without Redis counters', () => {
  it('is refused with a message naming --counters', async () => {
    const error = await startCli(['--workers', '2', '--in-memory']).then(
      async (cli) => (await stopCli(cli.child), undefined),
      (e: Error & { code?: number; stderr?: string }) => e,
    );
    expect(error?.code).toBe(2);
    expect(error?.stderr).toContain('--workers 2 needs counters shared by the workers: add --counters redis://host:port');
  });
});
