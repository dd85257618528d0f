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
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../../emulator/app-insights/store.js';
import { ensureSelfSignedCertificate } from '../../../emulator/app-insights/tls.js';
import { createClock } from '../../../policy-engine/clock.js';
import { LAB_QUERY, labCalls, seedLab } from './support.js';

const CLIENT = fileURLToPath(new URL('./fixtures/logs-query-client.mjs', import.meta.url));
const WORKSPACE_QUERY = "AppMetrics | where Name == 'Total Tokens' | project TimeGenerated, Sum, Properties, _IsEstimated | order by TimeGenerated asc | take 5";

/**
 * @azure/monitor-query-logs refuses bearer tokens over http, so the client runs in a child process that trusts
 * the generated certificate through NODE_EXTRA_CA_CERTS. The SDK only sees real wall time, so the emulator's
 * clock here is the system clock and the rows are written relative to it.
 */
describe('@azure/monitor-query-logs LogsQueryClient over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-tls-'));
  const identity = defaultAppInsightsIdentity();
  const clock = createClock();
  let store: SqliteTelemetryStore;
  let app: express.Express;
  let server: Server;
  let endpoint: string;
  let certPath: string;
  const seen: string[] = [];

  beforeAll(async () => {
    store = createSqliteTelemetryStore({ inMemory: true, identity });
    seedLab(store, labCalls(40, clock.now()));
    app = express()
      .use((req, _res, next) => {
        seen.push(`${req.method} ${req.originalUrl} ${req.get('authorization') ?? ''}`);
        next();
      })
      .use(createQueryApiRouter({ store, identity, clock }));
    const tls = await ensureSelfSignedCertificate(dir);
    certPath = tls.certPath;
    server = createServer({ cert: tls.cert, key: tls.key }, app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `https://localhost:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('queryWorkspace, queryResource (// path) and queryBatch return typed results equal to the HTTP API; errors are RestErrors', async () => {
    const input = { endpoint, workspaceId: identity.workspaceId, resourceId: identity.resourceId, workspaceQuery: WORKSPACE_QUERY, resourceQuery: LAB_QUERY };
    // Asynchronous: the server runs in this process and must keep answering while the child waits.
    const child = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLIENT, JSON.stringify(input)], { cwd: process.cwd(), env: { ...process.env, NODE_EXTRA_CA_CERTS: certPath }, timeout: 30_000 }, (_error, stdout, stderr) =>
        resolve({ stdout, stderr }),
      );
    });
    expect(child.stderr).toBe('');
    const out = JSON.parse(child.stdout);

    const viaHttp = async (path: string, query: string) => (await request(app).post(path).send({ query, timespan: 'PT1H' })).body.tables[0];
    const ws = await viaHttp(`/v1/workspaces/${identity.workspaceId}/query`, WORKSPACE_QUERY);
    const rs = await viaHttp(`/v1${identity.resourceId}/query`, LAB_QUERY);
    expect(ws.rows).toHaveLength(5);
    expect(rs.rows).toHaveLength(40);

    // datetime → Date, real → number, dynamic (a JSON string on the wire) → parsed object, bool → boolean
    const typed = (t: { columns: Array<{ type: string }>; rows: unknown[][] }) =>
      t.rows.map((row) => row.map((v, i) => (t.columns[i]!.type === 'datetime' ? { date: v } : t.columns[i]!.type === 'dynamic' ? JSON.parse(v as string) : v)));
    expect(out.workspace.status).toBe('Success');
    expect(out.workspace.tables[0].columns).toEqual(ws.columns);
    expect(out.workspace.tables[0].rows).toEqual(typed(ws));
    expect(out.workspace.tables[0].rows[0][2]).toEqual({ 'Subscription ID': expect.any(String), 'Client IP': '10.0.0.7', 'API ID': 'inference-api', 'User ID': 'alex' });
    expect(out.workspace.statistics.query).toBeDefined();
    expect(out.resource.status).toBe('Success');
    expect(out.resource.tables[0].columns).toEqual(rs.columns);
    expect(out.resource.tables[0].rows).toEqual(typed(rs));

    expect(out.batch[0].tables[0].rows).toEqual(typed(ws));
    expect(out.batch[1]).toEqual({ status: 'PartialFailure', code: 'BadArgumentError' });
    expect(seen).toContain(`POST /v1//subscriptions/${identity.subscriptionId}/resourceGroups/${identity.resourceGroup}/providers/microsoft.insights/components/${identity.name}/query Bearer static-token`);
    expect(seen).toContain('POST /v1/$batch Bearer static-token');
    expect(out.error).toEqual({ name: 'RestError', statusCode: 400, code: 'BadArgumentError', inner: 'SEM0100' });
  }, 40_000);
});
