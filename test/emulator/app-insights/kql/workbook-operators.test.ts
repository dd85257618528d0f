/**
 * Operators App Insights workbooks use: make-series, parse, evaluate bag_unpack, render (+ the
 * query API's `render` object). Expected rows are hand-computed from fixtures.ts; result column
 * names/types are checked against Kusto.Language (one oracle load for the file).
 */
import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileKql, executeKql, KqlError } from '../../../../emulator/app-insights/kql/index.js';
import { createQueryApiRouter } from '../../../../emulator/app-insights/query-api.js';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../../../emulator/app-insights/sqlite-store.js';
import { defaultAppInsightsIdentity } from '../../../../emulator/app-insights/store.js';
import { createVirtualClock } from '../../../../policy-engine/clock.js';
import { createSeededDb, iso, NOW_MS, OPTIONS, TABLES } from './fixtures.js';
import { createOracle, type Oracle } from './oracle.js';

const db = createSeededDb();
const run = (q: string) => executeKql(db, q, OPTIONS);
const sortRows = (r: unknown[][]) => [...r].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
/** Rows with dynamic cells parsed (the wire carries JSON text). */
const parsed = (q: string) => {
  const r = run(q);
  return sortRows(r.rows.map((row) => row.map((v, i) => (r.columns[i]!.type === 'dynamic' && typeof v === 'string' ? JSON.parse(v) : v))));
};
/** Kusto's serialization of datetimes inside dynamic values. */
const t7 = (hh: number, mm: number, ss = 0) => iso(hh, mm, ss).replace('.000Z', '.0000000Z');

function errorOf(q: string): KqlError {
  try {
    executeKql(db, q, OPTIONS);
  } catch (e) {
    if (e instanceof KqlError) return e;
    throw e;
  }
  throw new Error(`no error for: ${q}`);
}

let oracle: Oracle;
beforeAll(async () => {
  oracle = await createOracle(TABLES);
}, 30_000);

/** A workbook tile: tokens per subscription per minute, drawn as a time chart. */
const WORKBOOK_QUERY = `customMetrics
| where name == 'Total Tokens'
| make-series Tokens = sum(value) default = 0 on timestamp from ago(31m) to ago(27m) step 1m by Subscription = tostring(customDimensions['Subscription ID'])
| render timechart with (title = 'Tokens per subscription', ytitle = 'tokens')`;

const SCHEMA_QUERIES = [
  WORKBOOK_QUERY,
  'customMetrics | make-series count(), avg(value) on timestamp step 30m',
  "customMetrics | make-series c = count() default = long(null) on timestamp in range(datetime(2026-07-24 09:00), datetime(2026-07-24 11:00), 1h) by name",
  'datatable(x:long, v:long)[1, 10, 2, 20, 5, 50] | make-series sum(v) on x from 0 to 6 step 2',
];

describe('result columns equal Kusto.Language', () => {
  it.each(SCHEMA_QUERIES)('%s', (q) => {
    const expected = oracle.analyze(q);
    expect(expected.errors).toEqual([]);
    expect(compileKql(q, OPTIONS).columns).toEqual(expected.columns);
  });
});

describe('make-series', () => {
  it('workbook tile: by-keys, then one dynamic array per aggregate, then the time axis; render properties kept', () => {
    const r = run(WORKBOOK_QUERY);
    expect(r.columns).toEqual([
      { name: 'Subscription', type: 'string' },
      { name: 'Tokens', type: 'dynamic' },
      { name: 'timestamp', type: 'dynamic' },
    ]);
    // now = 11:00 → bins 10:29, 10:30, 10:31, 10:32; subscription3's only row (09:00) is out of range → no series.
    const axis = [t7(10, 29), t7(10, 30), t7(10, 31), t7(10, 32)];
    expect(parsed(WORKBOOK_QUERY)).toEqual([
      ['subscription1', [0, 71, 90, 0], axis],
      ['subscription2', [0, 50, 0, 0], axis],
    ]);
    expect(r.render).toEqual({ visualization: 'timechart', title: 'Tokens per subscription', ytitle: 'tokens' });
  });

  it('without from/to the axis runs from bin(min) through the bin of max; default is 0', () => {
    expect(parsed('customMetrics | make-series count(), avg(value) on timestamp step 30m')).toEqual([
      // 09:00: the 40; 10:30–11:00: 71+50+20+30+90+30+60+10 = 361 over 8 rows = 45.125.
      [[1, 0, 0, 8], [40, 0, 0, 45.125], [t7(9, 0), t7(9, 30), t7(10, 0), t7(10, 30)]],
    ]);
  });

  it('from aligns the bins to the start (bin_at), not to multiples of the step', () => {
    const q = 'customMetrics | make-series n = count() on timestamp from datetime(2026-07-24 10:29:30) to datetime(2026-07-24 10:31:30) step 1m';
    // [10:29:30, 10:30:30): 10:30:05 → 1; [10:30:30, 10:31:30): 10:30:40 ×3, 10:31:10, 10:31:20 ×3 → 7.
    expect(parsed(q)).toEqual([[[1, 7], [t7(10, 29, 30), t7(10, 30, 30)]]]);
  });

  it('from without to ends with the bin holding the last row', () => {
    const q = 'customMetrics | make-series n = count() on timestamp from datetime(2026-07-24 10:30) step 1m';
    expect(parsed(q)).toEqual([[[4, 4], [t7(10, 30), t7(10, 31)]]]);
  });

  it('in range(start, stop, step) includes stop; a typed-null default gives nulls', () => {
    const q = "customMetrics | make-series c = count() default = long(null) on timestamp in range(datetime(2026-07-24 09:00), datetime(2026-07-24 11:00), 1h) by name";
    const axis = [t7(9, 0), t7(10, 0), t7(11, 0)];
    expect(parsed(q)).toEqual([
      ['Completion Tokens', [null, 2, null], axis],
      ['Prompt Cached Tokens', [null, 1, null], axis],
      ['Prompt Tokens', [null, 2, null], axis],
      ['Total Tokens', [1, 3, null], axis],
    ]);
  });

  it('numeric axis: bins start + k·step below to', () => {
    expect(parsed('datatable(x:long, v:long)[1, 10, 2, 20, 5, 50, 6, 60] | make-series sum(v) on x from 0 to 6 step 2')).toEqual([[[10, 20, 50], [0, 2, 4]]]);
  });

  it('several by-keys and aggregates; rows outside the range are dropped before grouping', () => {
    const q = "customMetrics | where name in ('Prompt Tokens', 'Completion Tokens') | make-series total = sum(value), mx = max(value) default = -1 on timestamp from datetime(2026-07-24 10:30) to datetime(2026-07-24 10:32) step 1m by name, sub = tostring(customDimensions['Subscription ID'])";
    const axis = [t7(10, 30), t7(10, 31)];
    expect(parsed(q)).toEqual([
      ['Completion Tokens', 'subscription1', [0, 60], [-1, 60], axis],
      ['Completion Tokens', 'subscription2', [30, 0], [30, -1], axis],
      ['Prompt Tokens', 'subscription1', [0, 30], [-1, 30], axis],
      ['Prompt Tokens', 'subscription2', [20, 0], [20, -1], axis],
    ]);
  });

  it('empty input gives no row; kind=nonempty gives one row of defaults', () => {
    expect(run("customMetrics | where name == 'none' | make-series count() on timestamp from datetime(2026-07-24 09:00) to datetime(2026-07-24 11:00) step 1h").rows).toEqual([]);
    expect(parsed("customMetrics | where name == 'none' | make-series kind=nonempty count() on timestamp from datetime(2026-07-24 09:00) to datetime(2026-07-24 11:00) step 1h")).toEqual([[[0, 0], [t7(9, 0), t7(10, 0)]]]);
  });

  it('refuses what Kusto refuses, naming the operator and position', () => {
    const listAgg = errorOf('customMetrics | make-series make_list(value) on timestamp step 1h');
    expect(listAgg.message).toMatch(/^'make-series' operator: 'make_list' is not an aggregation function make-series accepts/);
    expect(listAgg.pos).toBe('customMetrics | make-series '.length);
    const axis = errorOf('customMetrics | make-series count() on name step 1h');
    expect(axis.code).toBe('SEM0223');
    expect(axis.pos).toBe('customMetrics | make-series count() on '.length);
    expect(errorOf('customMetrics | make-series count() on timestamp step 1').message).toMatch(/step.*timespan/);
    expect(errorOf('customMetrics | make-series count() on timestamp step 0s').message).toMatch(/step must be positive/);
  });
});

describe('render', () => {
  it('accepts the legacy form without parentheses and refuses unknown visualizations / properties', () => {
    expect(compileKql("customMetrics | render barchart title='24H Perf events' kind=stacked", OPTIONS).render).toEqual({ visualization: 'barchart', title: '24H Perf events', kind: 'stacked' });
    expect(errorOf('customMetrics | render bubbles').message).toBe("'render' operator: unknown visualization 'bubbles'");
    expect(errorOf("customMetrics | render timechart with (colour='red')").message).toBe("'render' operator: unknown property 'colour'");
  });
});

describe('end to end through the query API (fetch)', () => {
  const identity = defaultAppInsightsIdentity();
  const clock = createVirtualClock({ startMs: NOW_MS });
  let store: SqliteTelemetryStore;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    store = createSqliteTelemetryStore({ inMemory: true, identity });
    const metric = (minute: number, sub: string, value: number) =>
      store.writeMetric({ timestamp: NOW_MS - (60 - minute) * 60_000 + 5_000, name: 'Total Tokens', value, namespace: 'openai', dimensions: { 'Subscription ID': sub } });
    metric(40, 'subscription1', 30);
    metric(40, 'subscription1', 12);
    metric(42, 'subscription2', 7);
    server = createServer(express().use(createQueryApiRouter({ store, identity, clock })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
  });

  it('make-series … | render timechart: dynamic array columns and the documented render object', async () => {
    const query = `customMetrics | where name == 'Total Tokens'
      | make-series Tokens = sum(value) on timestamp from ago(20m) to ago(16m) step 1m by Subscription = tostring(customDimensions['Subscription ID'])
      | render timechart with (title = 'Tokens', xcolumn = timestamp, ycolumns = Tokens)`;
    const res = await fetch(`${base}/v1/apps/${identity.appId}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'include-render=true' },
      body: JSON.stringify({ query, timespan: 'PT1H' }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    const table = body.tables[0];
    expect(table.columns).toEqual([
      { name: 'Subscription', type: 'string' },
      { name: 'Tokens', type: 'dynamic' },
      { name: 'timestamp', type: 'dynamic' },
    ]);
    // now = 11:00: bins 10:40 … 10:43.
    const axis = [t7(10, 40), t7(10, 41), t7(10, 42), t7(10, 43)];
    const rows = sortRows(table.rows).map(([s, tokens, ts]: [string, string, string]) => [s, JSON.parse(tokens), JSON.parse(ts)]);
    expect(rows).toEqual([
      ['subscription1', [42, 0, 0, 0], axis],
      ['subscription2', [0, 0, 7, 0], axis],
    ]);
    expect(body.render).toEqual({
      visualization: 'timechart', title: 'Tokens', accumulate: false, isQuerySorted: false, kind: 'default', annotation: '', by: null,
      xColumn: 'timestamp', yColumns: 'Tokens',
    });
    const plain = await (await fetch(`${base}/v1/apps/${identity.appId}/query?query=${encodeURIComponent(query)}`)).json();
    expect(plain).not.toHaveProperty('render');
  });
});
