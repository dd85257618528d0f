import express from 'express';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryApiRouter } from '../../../emulator/app-insights/query-api.js';
import { createSqliteTelemetryStore, DEFAULT_QUERY_LIMITS, type SqliteTelemetryStore } from '../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../../emulator/app-insights/store.js';
import { ensureSelfSignedCertificate } from '../../../emulator/app-insights/tls.js';
import { createClock } from '../../../policy-engine/clock.js';
import { labCalls, seedLab } from './support.js';

const CLIENT = fileURLToPath(new URL('./fixtures/logs-query-partial.mjs', import.meta.url));
const identity = defaultAppInsightsIdentity();
const clock = createClock();
const ROWS = "AppMetrics | where Name == 'Total Tokens' | project TimeGenerated, Sum | order by TimeGenerated asc";

function storeWith(queryLimits: Parameters<typeof createSqliteTelemetryStore>[0]['queryLimits']): SqliteTelemetryStore {
  const store = createSqliteTelemetryStore({ inMemory: true, identity, queryLimits });
  seedLab(store, labCalls(40, clock.now()));
  return store;
}

describe('KQL result caps: rows, bytes and time, flagged as Log Analytics does (200 + PartialError)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-kql-limits-'));
  const stores: SqliteTelemetryStore[] = [];
  let server: Server;
  let endpoint: string;
  let certPath: string;
  let rowCapped: express.Express;
  beforeAll(async () => {
    const store = storeWith({ maxRows: 7 });
    stores.push(store);
    rowCapped = express().use(createQueryApiRouter({ store, identity, clock }));
    const tls = await ensureSelfSignedCertificate(dir);
    certPath = tls.certPath;
    server = createServer({ cert: tls.cert, key: tls.key }, rowCapped);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `https://localhost:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('defaults: 500,000 rows, 64 MiB, 30 s', () => {
    expect(DEFAULT_QUERY_LIMITS).toEqual({ maxRows: 500_000, maxBytes: 64 * 1024 * 1024, timeBudgetMs: 30_000 });
  });

  it('past maxRows: the first rows and error PartialError naming the record count limit', async () => {
    const res = await request(rowCapped).post(`/v1/workspaces/${identity.workspaceId}/query`).send({ query: ROWS, timespan: 'PT1H' });
    expect(res.status).toBe(200);
    expect(res.body.tables[0].rows).toHaveLength(7);
    expect(res.body.error).toEqual({
      code: 'PartialError',
      message: 'There were some errors when processing your query.',
      details: [{ code: 'EngineError', message: 'Something went wrong processing your query on the server.', innererror: { code: 'E_QUERY_RESULT_SET_TOO_LARGE', message: 'Query result set has exceeded the internal record count limit 7 (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)', severity: 2, severityName: 'Error' } }],
    });
    // A result within the cap has no error.
    const small = await request(rowCapped).post(`/v1/workspaces/${identity.workspaceId}/query`).send({ query: `${ROWS} | take 7`, timespan: 'PT1H' });
    expect(small.body.tables[0].rows).toHaveLength(7);
    expect(small.body.error).toBeUndefined();
  });

  it('@azure/monitor-query-logs reports the cut result as PartialFailure with partialTables and partialError', async () => {
    const input = { endpoint, workspaceId: identity.workspaceId, query: ROWS };
    const child = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLIENT, JSON.stringify(input)], { cwd: process.cwd(), env: { ...process.env, NODE_EXTRA_CA_CERTS: certPath }, timeout: 30_000 }, (_e, stdout, stderr) => resolve({ stdout, stderr }));
    });
    expect(child.stderr).toBe('');
    const out = JSON.parse(child.stdout);
    expect(out.status).toBe('PartialFailure');
    expect(out.rows).toBe(7);
    expect(out.partialError.code).toBe('PartialError');
  }, 40_000);

  it('past maxBytes and past the time budget: cut and flagged', async () => {
    const bytes = storeWith({ maxBytes: 200 });
    const timed = storeWith({ timeBudgetMs: 5, deadlineClock: (() => { let t = 0; return () => (t += 10); })() });
    stores.push(bytes, timed);
    const opts = { nowMs: clock.now(), tableSet: 'workspace' as const, timespan: 'PT1H' };
    const b = bytes.query(ROWS, opts);
    expect(b.truncated).toEqual({ limit: 'bytes', value: 200 });
    expect(b.tables[0]!.rows.length).toBeGreaterThan(0);
    expect(b.tables[0]!.rows.length).toBeLessThan(40);
    const many = `range i from 1 to 5000 step 1`;
    const t = timed.query(many, opts);
    expect(t.truncated).toEqual({ limit: 'time', value: 5 });
    expect(t.tables[0]!.rows).toHaveLength(1023);
  });
});
