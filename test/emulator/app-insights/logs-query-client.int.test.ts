import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSelfSignedCertificate } from '../../../emulator/app-insights/tls.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { labPost } from '../../support/lab.js';

/**
 * @azure/monitor-query-logs refuses bearer tokens over http, so the client runs in a child process that
 * trusts the emulator's generated certificate through NODE_EXTRA_CA_CERTS, as a user would.
 */
describe('@azure/monitor-query-logs LogsQueryClient over HTTPS', () => {
  let gw: RunningEmulator;
  let httpsUrl: string;
  let certPath: string;
  let close: () => void;
  const dir = mkdtempSync(join(tmpdir(), 'aigw-tls-'));

  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-metrics-emitting' });
    for (const s of ['subscription1', 'subscription2', 'subscription3']) expect((await labPost(gw.url, gw.keyFor(s), { 'x-user-id': 'alex' })).status).toBe(200);
    const tls = await ensureSelfSignedCertificate(dir, gw.clock.now());
    certPath = tls.certPath;
    const server = createServer({ cert: tls.cert, key: tls.key }, gw.emulator.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    httpsUrl = `https://localhost:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(async () => {
    close();
    await gw.close();
  });

  it('reuses the certificate on restart', async () => {
    const again = await ensureSelfSignedCertificate(dir, gw.clock.now());
    expect(again.generated).toBe(false);
    expect(again.certPath).toBe(certPath);
  });

  it('queryWorkspace and queryResource return typed results equal to the HTTP API', async () => {
    const query = "AppMetrics | where Name == 'Total Tokens' | project TimeGenerated, Sum, Properties | order by TimeGenerated asc";
    const { workspaceId } = await (await fetch(`${gw.url}/_emulator/appinsights`)).json();
    const script = join(dir, 'client.mjs');
    writeFileSync(
      script,
      `import { LogsQueryClient } from '${pathToFileURL(createRequire(import.meta.url).resolve('@azure/monitor-query-logs')).href}';
const credential = { getToken: async () => ({ token: 'static-token', expiresOnTimestamp: Date.now() + 3600_000 }) };
const client = new LogsQueryClient(credential, { endpoint: '${httpsUrl}/v1' });
const ws = await client.queryWorkspace('${workspaceId}', ${JSON.stringify(query)}, { duration: 'P1D' });
const rs = await client.queryResource('/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/workspace-emulator', ${JSON.stringify(query)}, { duration: 'P1D' });
const shape = (r) => ({ status: r.status, columns: r.tables[0].columnDescriptors, rows: r.tables[0].rows.map((row) => row.map((v) => v instanceof Date ? { date: v.toISOString() } : v)) });
console.log(JSON.stringify({ ws: shape(ws), rs: shape(rs) }));`,
    );
    // Asynchronously: the emulator answering the child runs in this process.
    const child = await promisify(execFile)(process.execPath, [script], {
      cwd: process.cwd(),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: certPath },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.stderr).toBe('');
    const out = JSON.parse(child.stdout);
    const http = await (
      await fetch(`${gw.url}/v1/workspaces/${workspaceId}/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, timespan: 'P1D' }) })
    ).json();
    const expected = http.tables[0];
    for (const result of [out.ws, out.rs]) {
      expect(result.status).toBe('Success');
      expect(result.columns).toEqual(expected.columns);
      expect(result.rows).toHaveLength(3);
      // datetime → Date, dynamic → parsed object, real → number
      result.rows.forEach((row: unknown[], i: number) => {
        expect(row[0]).toEqual({ date: expected.rows[i][0] });
        expect(row[1]).toBe(expected.rows[i][1]);
        expect(row[2]).toEqual(JSON.parse(expected.rows[i][2]));
      });
    }
  }, 40_000);
});
