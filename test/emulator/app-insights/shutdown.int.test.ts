import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteTelemetryStore } from '../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../../emulator/app-insights/store.js';

const WRITER = fileURLToPath(new URL('./fixtures/telemetry-writer.ts', import.meta.url));
const ROWS = 5000;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Starts the writer, waits for its acknowledgement, sends SIGTERM, and resolves with how it ended. */
function writeThenTerminate(dataDir: string, flushOnSignal: boolean): Promise<{ ack: string; code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, String(ROWS), ...(flushOnSignal ? ['--flush-on-signal'] : [])], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let ack = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (!ack && out.includes('\n')) {
        ack = out.trim();
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ ack, code, signal, stderr }));
  });
}

const countRows = (dataDir: string) => {
  const store = createSqliteTelemetryStore({ dataDir, identity: defaultAppInsightsIdentity() });
  try {
    return store.counts().customMetrics;
  } finally {
    void store.close();
  }
};

describe('SIGTERM to a process holding acknowledged writes', () => {
  it('installShutdownFlush: every acknowledged row is on disk after SIGTERM, and survives a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-sigterm-'));
    dirs.push(dir);
    const result = await writeThenTerminate(dir, true);
    expect(result.ack).toBe(`acked ${ROWS} pending ${ROWS}`); // nothing was committed before the signal
    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(countRows(dir)).toBe(ROWS);
    // A second run appends to the same file.
    await writeThenTerminate(dir, true);
    expect(countRows(dir)).toBe(2 * ROWS);
    const store = createSqliteTelemetryStore({ dataDir: dir, identity: defaultAppInsightsIdentity() });
    const r = store.query("customMetrics | summarize n = count(), total = sum(value) by sub = tostring(customDimensions['Subscription ID']) | order by sub asc", { nowMs: Date.UTC(2026, 0, 2) });
    await store.close();
    const expectedTotal = (k: number) => 2 * Array.from({ length: ROWS }, (_, i) => i).filter((i) => i % 3 === k).reduce((a, b) => a + b, 0);
    expect(r.tables[0]!.rows).toEqual([
      ['subscription1', 2 * 1667, expectedTotal(0)],
      ['subscription2', 2 * 1667, expectedTotal(1)],
      ['subscription3', 2 * 1666, expectedTotal(2)],
    ]);
  }, 60_000);

  it('control: without the handler the default SIGTERM loses the pending rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-sigterm-'));
    dirs.push(dir);
    const result = await writeThenTerminate(dir, false);
    expect(result.ack).toBe(`acked ${ROWS} pending ${ROWS}`);
    expect(result.signal).toBe('SIGTERM');
    expect(countRows(dir)).toBe(0);
  }, 60_000);
});
