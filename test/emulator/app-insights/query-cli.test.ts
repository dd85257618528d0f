import express from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppInsightsInfoRouter, createQueryApiRouter } from '../../../emulator/app-insights/query-api.js';
import { formatTable, runQueryCommand } from '../../../emulator/app-insights/query-cli.js';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../../emulator/app-insights/store.js';
import { createVirtualClock } from '../../../policy-engine/clock.js';

const NOW = Date.UTC(2026, 6, 24, 11, 0, 0);
const identity = defaultAppInsightsIdentity();
const QUERY = "customMetrics | where name == 'Total Tokens' | project timestamp, value, sub = tostring(customDimensions['Subscription ID']), note = tostring(customDimensions.note) | order by timestamp asc";

describe('runQueryCommand', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'aigw-cli-'));
  let store: SqliteTelemetryStore;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    store = createSqliteTelemetryStore({ dataDir, identity });
    store.writeMetric({ timestamp: NOW - 2 * 60_000, name: 'Total Tokens', value: 71, namespace: 'openai', dimensions: { 'Subscription ID': 'subscription1', note: 'a, "quoted" one' } });
    store.writeMetric({ timestamp: NOW - 60_000, name: 'Total Tokens', value: 80.5, namespace: 'openai', dimensions: { 'Subscription ID': 'subscription2', note: 'two\nlines' } });
    store.writeMetric({ timestamp: NOW - 3 * 3_600_000, name: 'Total Tokens', value: 1, namespace: 'openai', dimensions: { 'Subscription ID': 'old' } });
    await store.flush();
    const app = express()
      .use('/_emulator', createAppInsightsInfoRouter(identity))
      .use(createQueryApiRouter({ store, identity, clock: createVirtualClock({ startMs: NOW, frozen: true }) }));
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const TABLE = [
    'timestamp                 value  sub            note',
    '------------------------  -----  -------------  ---------------',
    '2026-07-24T10:58:00.000Z  71     subscription1  a, "quoted" one',
    '2026-07-24T10:59:00.000Z  80.5   subscription2  two\\nlines',
    '(2 rows)',
  ].join('\n');

  it('reads a data directory directly (read-only, next to the running writer): table format', async () => {
    const r = await runQueryCommand({ query: QUERY, timespan: 'PT1H', format: 'table', dataDir, nowMs: NOW });
    expect(r).toEqual({ ok: true, text: TABLE });
  });

  it('asks a running emulator over HTTP and prints the same', async () => {
    expect(await runQueryCommand({ query: QUERY, timespan: 'PT1H', format: 'table', url: `${url}/` })).toEqual({ ok: true, text: TABLE });
  });

  it('csv quotes commas, quotes and newlines (RFC 4180)', async () => {
    const r = await runQueryCommand({ query: QUERY, timespan: 'PT1H', format: 'csv', url });
    expect(r.text).toBe(['timestamp,value,sub,note', '2026-07-24T10:58:00.000Z,71,subscription1,"a, ""quoted"" one"', '2026-07-24T10:59:00.000Z,80.5,subscription2,"two\nlines"'].join('\n'));
  });

  it('json is the API response shape', async () => {
    const r = await runQueryCommand({ query: QUERY, format: 'json', dataDir, nowMs: NOW });
    const parsed = JSON.parse(r.text);
    expect(parsed.tables[0].name).toBe('PrimaryResult');
    expect(parsed.tables[0].columns).toEqual([{ name: 'timestamp', type: 'datetime' }, { name: 'value', type: 'real' }, { name: 'sub', type: 'string' }, { name: 'note', type: 'string' }]);
    expect(parsed.tables[0].rows).toHaveLength(3);
  });

  it('a bad query prints the code, position and a caret (or the envelope with --format json)', async () => {
    const query = 'customMetrics | where nam == 1';
    for (const source of [{ dataDir, nowMs: NOW }, { url }]) {
      const r = await runQueryCommand({ query, format: 'table', ...source });
      expect(r.ok).toBe(false);
      const [head, line, caret] = r.text.split('\n');
      expect(head).toMatch(/^error SEM0100 at line 1, pos (\d+): 'where' operator: Failed to resolve column or scalar expression named 'nam'$/);
      const pos = Number(/pos (\d+)/.exec(head!)![1]);
      expect(line).toBe(`  ${query}`);
      expect(caret).toBe(`  ${' '.repeat(pos)}^`);
      expect(query.slice(pos, pos + 3)).toBe('nam');
    }
    const json = await runQueryCommand({ query, format: 'json', url });
    expect(JSON.parse(json.text).error.innererror.code).toBe('SemanticError');
  });

  it('reports a bad timespan, a missing data directory and an unreachable emulator', async () => {
    const bad = await runQueryCommand({ query: QUERY, timespan: 'soon', format: 'table', dataDir, nowMs: NOW });
    expect(bad).toMatchObject({ ok: false, text: expect.stringContaining("Invalid timespan 'soon'") });
    const badHttp = await runQueryCommand({ query: QUERY, timespan: 'soon', format: 'table', url });
    expect(badHttp).toMatchObject({ ok: false, text: expect.stringContaining("Invalid timespan 'soon'") });
    const missing = await runQueryCommand({ query: QUERY, format: 'table', dataDir: join(dataDir, 'nope') });
    expect(missing).toMatchObject({ ok: false, text: expect.stringContaining('No telemetry at') });
    const down = await runQueryCommand({ query: QUERY, format: 'table', url: 'http://127.0.0.1:1' });
    expect(down).toMatchObject({ ok: false, text: expect.stringContaining('Cannot reach an emulator at http://127.0.0.1:1') });
  });

  it('formatTable renders null as empty and objects as JSON', () => {
    expect(formatTable({ columns: [{ name: 'a', type: 'dynamic' }, { name: 'b', type: 'real' }], rows: [[{ x: 1 }, null]] }, 'csv')).toBe('a,b\n"{""x"":1}",');
    expect(formatTable({ columns: [{ name: 'a', type: 'string' }], rows: [] }, 'table')).toBe('a\n-\n(0 rows)');
  });
});
