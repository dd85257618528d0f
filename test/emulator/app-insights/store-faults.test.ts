import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../../emulator/app-insights/store.js';
import { LAB_NOW } from './support.js';

const dirs: string[] = [];
const stores: SqliteTelemetryStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const metric = (value: number) => ({ timestamp: LAB_NOW - 1000, name: 'Total Tokens', value, namespace: 'openai', dimensions: { 'Subscription ID': 'subscription1', padding: 'x'.repeat(200) } });

describe('telemetry store: a full database (max_page_count) is counted, never thrown into the request path', () => {
  it('writes past the cap: failed flushes and dropped rows in health(), writes never throw, queries still answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-store-full-'));
    dirs.push(dir);
    const errors: string[] = [];
    const store = createSqliteTelemetryStore({ dataDir: dir, identity: defaultAppInsightsIdentity(), maxPageCount: 60, maxQueue: 200, batchSize: 50, onError: (e) => errors.push(e.message) });
    stores.push(store);
    expect(store.health()).toMatchObject({ status: 'ok', failedFlushes: 0, droppedRows: 0, lastError: null });
    for (let i = 0; i < 20; i++) store.writeMetric(metric(i));
    await store.flush();
    for (let i = 20; i < 2000; i++) expect(() => store.writeMetric(metric(i))).not.toThrow();
    const health = store.health();
    expect(health.status).toBe('degraded');
    expect(health.failedFlushes).toBeGreaterThan(0);
    expect(health.lastError).toBe('SQLITE_FULL: database or disk is full');
    expect(health.pendingRows).toBeLessThan(200);
    const stored = store.query('customMetrics | count', { nowMs: LAB_NOW }).tables[0]!.rows[0]![0] as number;
    expect(stored).toBeGreaterThanOrEqual(20);
    // Nothing vanishes silently: stored + queued + dropped = written.
    expect(stored + store.health().pendingRows + store.health().droppedRows).toBe(2000);
    expect(errors.length).toBeGreaterThan(0);
    await expect(store.flush()).rejects.toThrow(/full/);
  });
});
