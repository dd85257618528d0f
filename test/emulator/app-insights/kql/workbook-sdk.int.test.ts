/**
 * A workbook time chart through the real @azure/monitor-query-logs client (child process over HTTPS,
 * certificate trusted via NODE_EXTRA_CA_CERTS): make-series arrays arrive as parsed JSON arrays and
 * `includeVisualization` surfaces the query API's `render` object as `result.visualization`.
 */
import express from 'express';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryApiRouter } from '../../../../emulator/app-insights/query-api.js';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../../../emulator/app-insights/store.js';
import { ensureSelfSignedCertificate } from '../../../../emulator/app-insights/tls.js';
import { createClock } from '../../../../policy-engine/clock.js';

const CLIENT = fileURLToPath(new URL('./fixtures/render-client.mjs', import.meta.url));
const MINUTE = 60_000;

describe('workbook time chart via @azure/monitor-query-logs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-kql-sdk-'));
  const identity = defaultAppInsightsIdentity();
  // The SDK's `duration: 'PT1H'` is relative to the server's now, so this store runs on the system clock;
  // the series bounds are absolute datetimes so the answer does not depend on when the test runs.
  const clock = createClock();
  const t0 = Math.floor(clock.now() / MINUTE) * MINUTE - 10 * MINUTE;
  let store: SqliteTelemetryStore;
  let server: Server;
  let endpoint: string;
  let certPath: string;

  beforeAll(async () => {
    store = createSqliteTelemetryStore({ inMemory: true, identity });
    const metric = (minute: number, sub: string, value: number) =>
      store.writeMetric({ timestamp: t0 + minute * MINUTE + 1_000, name: 'Total Tokens', value, namespace: 'openai', dimensions: { 'Subscription ID': sub } });
    metric(0, 'subscription1', 30);
    metric(0, 'subscription1', 12);
    metric(2, 'subscription2', 7);
    metric(3, 'subscription1', 5);
    const tls = await ensureSelfSignedCertificate(dir);
    certPath = tls.certPath;
    server = createServer({ cert: tls.cert, key: tls.key }, express().use(createQueryApiRouter({ store, identity, clock })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `https://localhost:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('make-series … | render timechart', async () => {
    const from = new Date(t0).toISOString();
    const to = new Date(t0 + 4 * MINUTE).toISOString();
    const query = `AppMetrics | where Name == 'Total Tokens'
      | make-series Tokens = sum(Sum) default = 0 on TimeGenerated from datetime(${from}) to datetime(${to}) step 1m by Subscription = tostring(Properties['Subscription ID'])
      | order by Subscription asc
      | render timechart with (title = 'Tokens per subscription', ytitle = 'tokens')`;
    const child = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLIENT, JSON.stringify({ endpoint, workspaceId: identity.workspaceId, query })], { cwd: process.cwd(), env: { ...process.env, NODE_EXTRA_CA_CERTS: certPath }, timeout: 30_000 }, (_error, stdout, stderr) =>
        resolve({ stdout, stderr }),
      );
    });
    expect(child.stderr).toBe('');
    const out = JSON.parse(child.stdout);
    expect(out.status).toBe('Success');
    expect(out.columns).toEqual([
      { name: 'Subscription', type: 'string' },
      { name: 'Tokens', type: 'dynamic' },
      { name: 'TimeGenerated', type: 'dynamic' },
    ]);
    const axis = [0, 1, 2, 3].map((m) => new Date(t0 + m * MINUTE).toISOString().replace('.000Z', '.0000000Z'));
    expect(out.rows).toEqual([
      ['subscription1', [42, 0, 0, 5], axis],
      ['subscription2', [0, 0, 7, 0], axis],
    ]);
    expect(out.visualization).toEqual({
      visualization: 'timechart', title: 'Tokens per subscription', accumulate: false, isQuerySorted: true, kind: 'default', annotation: '', by: null, yTitle: 'tokens',
    });
  }, 40_000);
});
