import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteTelemetryStore } from '../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../emulator/app-insights/store.js';
import { wellKnownSubscriptionKey } from '../../emulator/config/load.js';
import { presetConfig } from '../../emulator/config/presets.js';
import { chatUrl, LAB_MESSAGES } from '../support/lab.js';

const BIN = new URL('../../bin/ai-gateway-emulator.js', import.meta.url).pathname;
const REQUESTS = 1000;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function startCli(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const child = spawn(process.execPath, [BIN, '--port', '0', ...args], { stdio: 'pipe' });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m && out.includes('telemetry:')) resolve({ child, url: m[1]! });
    });
    child.on('exit', (code) => reject(new Error(`CLI exited with ${code} before starting: ${out}`)));
  });
}

describe('SIGTERM with requests in flight (real CLI, on-disk telemetry)', () => {
  it('keeps 3 customMetrics rows for every successful response', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-sigterm-cli-'));
    dirs.push(dir);
    const config = presetConfig('token-metrics-emitting');
    config.backends![0]!.deployments![0]!.capacity = undefined; // only the shutdown may refuse requests
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const { child, url } = await startCli(['--config', join(dir, 'config.json'), '--data', join(dir, 'data'), '--quiet']);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const key = wellKnownSubscriptionKey('subscription1', 'primary');
    let answered = 0;
    let signalled = false;
    const calls = Array.from({ length: REQUESTS }, () =>
      fetch(chatUrl(url), {
        method: 'POST',
        headers: { 'api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: LAB_MESSAGES }),
      })
        .then(async (res) => {
          const ok = res.status === 200 && (await res.json()).usage.total_tokens > 0;
          if (++answered === 200 && !signalled) {
            signalled = true;
            child.kill('SIGTERM');
          }
          return ok;
        })
        .catch(() => false),
    );
    const results = await Promise.all(calls);
    const code = await exited;
    const successes = results.filter(Boolean).length;
    expect(signalled).toBe(true);
    expect(code).toBe(0);
    expect(successes).toBeGreaterThanOrEqual(200);

    const store = createSqliteTelemetryStore({ dataDir: join(dir, 'data'), identity: defaultAppInsightsIdentity() });
    try {
      const counts = store.counts();
      expect(counts.customMetrics).toBe(3 * successes);
      // Every request the gateway answered (successes and the ones cut off mid-flight alike) has its row.
      expect(counts.requests).toBeGreaterThanOrEqual(successes);
    } finally {
      await store.close();
    }
    console.log(`SIGTERM after 200 answers: ${successes}/${REQUESTS} succeeded; customMetrics rows = ${3 * successes}`);
  }, 60_000);
});
