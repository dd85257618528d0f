import { describe, expect, it } from 'vitest';
import { createSqliteTelemetryStore } from '../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../../emulator/app-insights/store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_NOW, LAB_QUERY, labCalls, labMetrics } from './support.js';

/**
 * Measurements (printed) with deliberately loose floors: the batched writer's rows/s on a WAL file, the
 * per-write cost on the request path, and the lab query's latency over 10k rows.
 */
describe('telemetry store throughput', () => {
  it('batched writes to telemetry.db', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-perf-'));
    const store = createSqliteTelemetryStore({ dataDir: dir, identity: defaultAppInsightsIdentity() });
    const calls = labCalls(20_000, LAB_NOW);
    const metrics = calls.flatMap(labMetrics); // 60k rows
    // Writes arrive in bursts of 100 (as from concurrent requests); the batched writer commits in between.
    const started = performance.now();
    let writing = 0;
    for (let i = 0; i < metrics.length; i += 100) {
      const t = performance.now();
      for (let j = i; j < i + 100 && j < metrics.length; j++) store.writeMetric(metrics[j]!);
      writing += performance.now() - t;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await store.flush();
    const done = performance.now();
    const rowsPerSecond = Math.round(metrics.length / ((done - started) / 1000));
    const enqueueMicros = (writing * 1000) / metrics.length;
    console.log(`[throughput] ${metrics.length} rows to telemetry.db (WAL): ${rowsPerSecond} rows/s end to end; write call (enqueue) ${enqueueMicros.toFixed(1)} µs/row on the caller's path`);
    expect(store.counts().customMetrics).toBe(metrics.length);
    expect(rowsPerSecond).toBeGreaterThan(10_000);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('lab query latency over 10k customMetrics rows', async () => {
    const store = createSqliteTelemetryStore({ inMemory: true, identity: defaultAppInsightsIdentity() });
    // 10k rows: 3,334 calls × 3 metric names (≈3.3k 'Total Tokens'), all within the last hour.
    const calls = labCalls(3_334, LAB_NOW).map((c, i) => ({ ...c, timestamp: LAB_NOW - 3_500_000 + i * 1000 }));
    for (const c of calls) for (const m of labMetrics(c)) store.writeMetric(m);
    await store.flush();
    expect(store.counts().customMetrics).toBe(10_002);
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      rows = store.query(LAB_QUERY, { nowMs: LAB_NOW, timespan: 'PT1H', tableSet: 'classic' }).tables[0]!.rows.length;
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const median = times[15]!;
    console.log(`[latency] lab query over 10,002 rows → ${rows} rows: median ${median.toFixed(1)} ms, p90 ${times[27]!.toFixed(1)} ms, range ${times[0]!.toFixed(1)}–${times[29]!.toFixed(1)} ms`);
    expect(rows).toBe(3_334);
    expect(median).toBeLessThan(500);
    await store.close();
  }, 60_000);
});
