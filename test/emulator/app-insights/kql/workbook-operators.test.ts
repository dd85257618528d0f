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
  'customMetrics | make-series n = count() on timestamp step 30m | mv-expand n to typeof(long), timestamp to typeof(datetime)',
  "customMetrics | top-nested 2 of name by sum(value), top-nested 1 of Sub = tostring(customDimensions['Subscription ID']) by sum(value)",
  'customMetrics | top-nested of name by Total = sum(value) asc',
  "datatable(a:long, d:dynamic, e:dynamic)[1, dynamic([1]), dynamic(['x'])] | mv-expand with_itemindex=ix d, e to typeof(string)",
  "ApiManagementGatewayLlmLog | parse ModelName with model '-20' released | project model, released",
  "datatable(s:string)['a=1'] | parse kind=relaxed s with 'a=' a:long ', b=' b:datetime",
  "datatable(s:string)['a=1'] | parse-where kind=regex flags=i s with 'A=' a:long ',\\\\s*b=' b:real",
];

describe('result columns equal Kusto.Language', () => {
  it.each([...SCHEMA_QUERIES, 'customMetrics | make-series n = count() on timestamp in range(datetime(2026-07-24 09:00), datetime(2026-07-24 11:00), 1h) | mvexpand timestamp to typeof(datetime), n to typeof(long)'])('%s', (q) => {
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
    expect(errorOf('customMetrics | make-series max(timestamp) on timestamp step 1h').message).toBe("'make-series' operator: aggregates must return numbers; 'max' returns 'datetime'");
    expect(errorOf('customMetrics | make-series count() on timestamp step 0s').message).toMatch(/step must be positive/);
  });
});

const SLICES = "print s = 'Event: NotifySliceRelease (resourceName=PipelineScheduler, totalSlices=27, sliceNumber=23, lockTime=02/17/2016 08:40:01, releaseTime=02/17/2016 08:40:02)'";
const AB = "datatable(s:string)['a=1, b=2, c=3', 'a=x, b=2', 'nothing']";

describe('parse / parse-where', () => {
  it('simple: constants literal, * skips, typed captures convert, the last column takes the rest', () => {
    const q = `${SLICES} | parse s with * 'resourceName=' resourceName ', totalSlices=' totalSlices:long * 'sliceNumber=' sliceNumber:long * 'lockTime=' lockTime ', releaseTime=' releaseTime:datetime ')' * | project-away s`;
    const r = run(q);
    expect(r.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['resourceName:string', 'totalSlices:long', 'sliceNumber:long', 'lockTime:string', 'releaseTime:datetime']);
    expect(r.rows).toEqual([['PipelineScheduler', 27, 23, '02/17/2016 08:40:01', '2016-02-17T08:40:02.000Z']]);
  });

  it('unmatched rows and failed conversions give null / empty string for every column (strict)', () => {
    expect(run(`${AB} | parse s with 'a=' a:long ', b=' b`).rows).toEqual([
      ['a=1, b=2, c=3', 1, '2, c=3'],
      ['a=x, b=2', null, ''],
      ['nothing', null, ''],
    ]);
  });

  it('relaxed: a column that does not convert is null alone', () => {
    expect(run(`${AB} | parse kind=relaxed s with 'a=' a:long ', b=' b`).rows).toEqual([
      ['a=1, b=2, c=3', 1, '2, c=3'],
      ['a=x, b=2', null, '2'],
      ['nothing', null, ''],
    ]);
  });

  it('kind=regex with flags, and parse-where drops the rows that do not parse', () => {
    expect(run(`${AB} | parse-where kind=regex flags=i s with 'A=' a:long ',\\\\s*B=' b:long`).rows).toEqual([['a=1, b=2, c=3', 1, 2]]);
    expect(run(`${AB} | parse kind=regex s with '[a-z]=' first ',' *`).rows).toEqual([
      ['a=1, b=2, c=3', '1'],
      ['a=x, b=2', 'x'],
      ['nothing', ''],
    ]);
  });

  it('non-greedy columns: a telemetry column split at the first delimiter', () => {
    expect(run("ApiManagementGatewayLlmLog | where ModelName != '' | parse ModelName with model '-20' released | project model, released | order by model asc").rows).toEqual([
      ['gpt-4o', '24-11-20'],
      ['gpt-4o', '24-11-20'],
      ['gpt-4o', '24-11-20'],
      ['gpt-4o-mini', '24-07-18'],
    ]);
  });

  it('refuses what it cannot do exactly, with the position', () => {
    const star = errorOf(`${AB} | parse s with a * ',' b`);
    expect(star.message).toBe("'parse' operator: '*' cannot follow the string column 'a'");
    expect(star.pos).toBe(`${AB} | parse s with a `.length);
    expect(errorOf(`${AB} | parse kind=regex flags=U s with 'a=' a`).message).toBe("'parse' flags=U (ungreedy) is not supported by this emulator");
    expect(errorOf(`${AB} | parse kind=regex s with '(' a`).message).toMatch(/^'parse' operator: invalid regular expression/);
    expect(errorOf(`${AB} | parse s with 'a=' a:dynamic`).message).toBe("'parse' into a dynamic column is not supported by this emulator");
  });
});

describe('evaluate bag_unpack', () => {
  it('customDimensions → one column per key seen in the rows reaching it, sorted, source column dropped', () => {
    const r = run("customMetrics | where name == 'Prompt Tokens' | project timestamp, customDimensions | evaluate bag_unpack(customDimensions) | order by timestamp asc");
    expect(r.columns).toEqual([
      { name: 'timestamp', type: 'datetime' },
      ...['API ID', 'Client IP', 'Subscription ID', 'User ID', 'developerName', 'model', 'oid'].map((name) => ({ name, type: 'string' })),
    ]);
    expect(r.rows).toEqual([
      [iso(10, 30, 40), 'inference-api', '1.2.3.5', 'subscription2', 'alex', '', 'gpt-4o', 'oid-2'],
      [iso(10, 31, 20), 'inference-api', '1.2.3.4', 'subscription1', 'alex', 'dev1', 'gpt-4o-mini', 'oid-1'],
    ]);
  });

  it('column types follow the values (string, long, real, bool, else dynamic); missing keys are empty', () => {
    const r = run('datatable(d:dynamic)[dynamic({"Name":"John","Age":20,"ok":true,"w":1}), dynamic({"Name":"Dave","Age":40,"Tags":["a"],"w":2.5}), dynamic({"Name":"Jas"})] | evaluate bag_unpack(d)');
    expect(r.columns).toEqual([
      { name: 'Age', type: 'long' },
      { name: 'Name', type: 'string' },
      { name: 'Tags', type: 'dynamic' },
      { name: 'ok', type: 'bool' },
      { name: 'w', type: 'real' },
    ]);
    expect(r.rows).toEqual([
      [20, 'John', null, true, 1],
      [40, 'Dave', '["a"]', null, 2.5],
      [null, 'Jas', null, null, null],
    ]);
  });

  it('prefix, columnsConflict and ignoredProperties', () => {
    const T = 'datatable(Name:string, d:dynamic)["x", dynamic({"Name":"y","v":1})]';
    expect(errorOf(`${T} | evaluate bag_unpack(d)`).message).toBe("bag_unpack: the property 'Name' clashes with the existing column 'Name' (columnsConflict='error')");
    expect(run(`${T} | evaluate bag_unpack(d, 'p_')`).rows).toEqual([['x', 'y', 1]]);
    expect(run(`${T} | evaluate bag_unpack(d, '', 'replace_source')`).rows).toEqual([['y', 1]]);
    expect(run(`${T} | evaluate bag_unpack(d, '', 'keep_source')`).rows).toEqual([['x', 1]]);
    expect(run(`${T} | evaluate bag_unpack(d, 'p_', 'error', dynamic(['v']))`).columns.map((c) => c.name)).toEqual(['Name', 'p_Name']);
  });

  it('more properties than the column limit are refused with a clear message', () => {
    expect(errorOf("range i from 1 to 1600 step 1 | summarize b = make_bag(bag_pack(strcat('k', i), i)) | evaluate bag_unpack(b)").message).toBe(
      "bag_unpack: 1600 distinct properties exceed this emulator's 1500-column limit; project the keys you need",
    );
  });

  it('compiling alone (no database for the first pass) is refused; other plugins are refused by name', () => {
    expect(() => compileKql('customMetrics | evaluate bag_unpack(customDimensions)', OPTIONS)).toThrow(/bag_unpack: its columns depend on the data/);
    const pivot = errorOf('customMetrics | evaluate pivot(name)');
    expect(pivot.message).toBe("'evaluate pivot' operator is not supported by this emulator");
    expect(pivot.pos).toBe('customMetrics | evaluate '.length);
  });
});

describe('mv-expand (several columns, with_itemindex, limit, kind=array)', () => {
  it('make-series output back to rows: the arrays expand in parallel, typed', () => {
    const q = 'customMetrics | make-series n = count() on timestamp step 30m | mv-expand n to typeof(long), timestamp to typeof(datetime)';
    expect(run(q).columns).toEqual([{ name: 'n', type: 'long' }, { name: 'timestamp', type: 'datetime' }]);
    expect(run(q).rows).toEqual([[1, iso(9, 0)], [0, iso(9, 30)], [0, iso(10, 0)], [8, iso(10, 30)]]);
  });

  it('shorter arrays are padded with null; with_itemindex is the last column; [] and [] give no row', () => {
    const q = "datatable(a:long, d:dynamic, e:dynamic)[1, dynamic([1, 2, 3]), dynamic(['x']), 2, dynamic(null), dynamic([]), 3, dynamic([]), dynamic([]), 4, dynamic({'k': 1, 'j': 2}), dynamic(7)] | mv-expand with_itemindex=ix d, e to typeof(string)";
    expect(run(q).columns.map((c) => `${c.name}:${c.type}`)).toEqual(['a:long', 'd:dynamic', 'e:string', 'ix:long']);
    expect(run(q).rows).toEqual([
      [1, '1', 'x', 0],
      [1, '2', '', 1],
      [1, '3', '', 2],
      [2, null, '', 0],
      [4, '{"k":1}', '', 0],
      [4, '{"j":2}', '', 1],
    ]);
  });

  it('limit caps the rows per input row; kind=array expands bags to [key, value]', () => {
    expect(run('datatable(d:dynamic)[dynamic([1, 2, 3, 4]), dynamic([5])] | mv-expand d limit 2').rows).toEqual([['1'], ['2'], ['5']]);
    expect(run("datatable(d:dynamic)[dynamic({'k': 1, 'j': [2]})] | mv-expand kind=array d").rows).toEqual([['["k",1]'], ['["j",[2]]']]);
    expect(run("datatable(d:dynamic)[dynamic({'k': 1})] | mv-expand bagexpansion=array d").rows).toEqual([['["k",1]']]);
  });
});

describe('top-nested', () => {
  it('each level keeps the top N within its parent; default names aggregated_<key>', () => {
    const q = "customMetrics | top-nested 2 of name by sum(value), top-nested 1 of Sub = tostring(customDimensions['Subscription ID']) by sum(value)";
    // Sums: Total 71+50+90+40 = 251, Completion 30+60 = 90, Prompt 50, Cached 10 → Total, Completion.
    // Total by subscription: 1 → 161, 2 → 50, 3 → 40; Completion: 1 → 60, 2 → 30.
    expect(sortRows(run(q).rows)).toEqual([
      ['Completion Tokens', 90, 'subscription1', 60],
      ['Total Tokens', 251, 'subscription1', 161],
    ]);
  });

  it('no count keeps every value; asc and a named aggregate', () => {
    expect(sortRows(run('customMetrics | top-nested of name by Total = sum(value) asc').rows)).toEqual([
      ['Completion Tokens', 90],
      ['Prompt Cached Tokens', 10],
      ['Prompt Tokens', 50],
      ['Total Tokens', 251],
    ]);
    expect(run("customMetrics | top-nested 1 of name by sum(value) asc").rows).toEqual([['Prompt Cached Tokens', 10]]);
  });

  it("'with others' is refused by name", () => {
    expect(errorOf('customMetrics | top-nested 1 of name with others = "rest" by count()').message).toBe("top-nested 'with others' is not supported by this emulator");
  });
});

describe('render', () => {
  it('accepts the legacy form without parentheses and refuses unknown visualizations / properties', () => {
    expect(compileKql("customMetrics | render barchart title='24H Perf events' kind=stacked", OPTIONS).render).toEqual({ visualization: 'barchart', title: '24H Perf events', kind: 'stacked' });
    expect(compileKql('customMetrics | summarize count() by name | order by name asc | render columnchart', OPTIONS).render).toEqual({ visualization: 'columnchart', isQuerySorted: true });
    expect(compileKql('customMetrics | order by name asc | summarize count() by name | render columnchart', OPTIONS).render).toEqual({ visualization: 'columnchart' });
    expect(errorOf('customMetrics | render bubbles').message).toBe("'render' operator: unknown visualization 'bubbles'");
    expect(errorOf("customMetrics | render timechart with (colour='red')").message).toBe("'render' operator: unknown property 'colour'");
  });
});

/**
 * The shape of the labs' usage workbook tiles (openai-usage-analysis-workbook): an Operation picker row,
 * a `{TimeRange}` filter, `make-series … in range({TimeRange:start}, {TimeRange:end}, {TimeRange:grain})`
 * and the legacy `mvexpand … to typeof()`. Our own query text; parameters substituted as the test sees fit.
 */
describe('lab workbook tile shape on the telemetry store (requests)', () => {
  const identity = defaultAppInsightsIdentity();
  const store = createSqliteTelemetryStore({ inMemory: true, identity });
  const at10 = (mm: number) => Date.UTC(2026, 6, 24, 10, mm, 0);
  const request = (timestamp: number, name: string, durationMs: number) =>
    store.writeRequest({ timestamp, id: `r${timestamp}`, name, url: 'https://apim/x', resultCode: 200, durationMs, success: true, dimensions: {} });
  request(at10(1), 'POST /chat', 100);
  request(at10(3), 'POST /chat', 300);
  request(at10(7), 'GET /models', 50);
  request(at10(16), 'POST /chat', 200);
  request(at10(20), 'GET /models', 70);
  request(at10(-1), 'POST /chat', 999);
  afterAll(() => store.close());

  const tile = (series: string, show: string, type: string, operation: { Operation: string; App: string }) =>
    `let row = dynamic(${JSON.stringify(operation)});
let operation = tostring(row.Operation);
let app = tostring(row.App);
requests
| where timestamp between (datetime(2026-07-24T10:00:00Z) .. datetime(2026-07-24T10:20:00Z))
| where (name == operation and appName == app) or (operation == '' and app == '') or (operation == 'All operations' and app == 'All apps')
| make-series ${series} = ${show} default = 0 on timestamp in range(datetime(2026-07-24T10:00:00Z), datetime(2026-07-24T10:20:00Z), 5m)
| mvexpand timestamp to typeof(datetime), ${series} to typeof(${type})`;
  const query = (q: string) => store.query(q, { nowMs: NOW_MS, tableSet: 'classic' }).tables[0]!;
  const axis = [0, 5, 10, 15, 20].map((m) => new Date(at10(m)).toISOString());

  it('Requests = count() for all operations: one row per 5-minute bin, stop inclusive, empty bins 0', () => {
    const t = query(tile('Requests', 'count()', 'long', { Operation: 'All operations', App: 'All apps' }));
    expect(t.columns).toEqual([{ name: 'Requests', type: 'long' }, { name: 'timestamp', type: 'datetime' }]);
    expect(t.rows).toEqual([[2, axis[0]], [1, axis[1]], [0, axis[2]], [1, axis[3]], [1, axis[4]]]);
  });

  it('Duration = avg / percentile for one operation of this app', () => {
    const chat = { Operation: 'POST /chat', App: identity.name };
    expect(query(tile('Duration', 'avg(duration)', 'real', chat)).rows).toEqual([[200, axis[0]], [0, axis[1]], [0, axis[2]], [200, axis[3]], [0, axis[4]]]);
    expect(query(tile('Duration', 'percentile(duration, 95)', 'real', { Operation: 'All operations', App: 'All apps' })).rows).toEqual([
      [300, axis[0]], [50, axis[1]], [0, axis[2]], [200, axis[3]], [70, axis[4]],
    ]);
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
    const rows = sortRows(table.rows as unknown[][]).map(([s, tokens, ts]) => [s, JSON.parse(tokens as string), JSON.parse(ts as string)]);
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
