/**
 * Engine semantics (tier 1/2 operators and functions), diagnostics as tables of
 * [input, code, line, pos, token], and SQL-injection attempts.
 */
import { describe, expect, it } from 'vitest';
import { compileKql, executeKql, KqlError } from '../../../../emulator/app-insights/kql/index.js';
import { createSeededDb, iso, OPTIONS } from './fixtures.js';

const db = createSeededDb();
const run = (q: string) => executeKql(db, q, OPTIONS);
const rows = (q: string) => run(q).rows;
const sorted = (r: unknown[][]) => [...r].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

function errorOf(q: string): KqlError {
  try {
    compileKql(q, OPTIONS);
  } catch (e) {
    if (e instanceof KqlError) return e;
    throw e;
  }
  throw new Error(`no error for: ${q}`);
}

describe('aggregates', () => {
  it('percentile is nearest rank (10,20,30,40: p95 = 40, p50 = 20, p0 = 10)', () => {
    expect(rows('datatable(x:long)[10, 20, 30, 40] | summarize percentile(x, 95), percentile(x, 50), percentile(x, 0), percentiles(x, 25, 75)')).toEqual([[40, 20, 10, 10, 30]]);
  });
  it('summarize with no by-clause returns one row on empty input, with Kusto defaults', () => {
    expect(rows("customMetrics | where name == 'nope' | summarize count(), sum(value), sumif(value, true), dcount(name), make_list(name), max(value)")).toEqual([[0, 0, 0, 0, '[]', null]]);
  });
  it('summarize with a by-clause returns no row on empty input', () => {
    expect(rows("customMetrics | where name == 'nope' | summarize count() by name")).toEqual([]);
  });
  it('make_list / make_set / strcat_array', () => {
    const [[list, set]] = rows("customMetrics | where name == 'Total Tokens' | order by timestamp asc | summarize make_list(value), make_set(tostring(customDimensions['Subscription ID']))") as [[string, string]];
    expect(JSON.parse(list)).toEqual([40, 71, 50, 90]);
    expect(JSON.parse(set)).toEqual(['subscription3', 'subscription1', 'subscription2']);
    expect(rows('print strcat_array(dynamic(["a", 1, true]), "-")')).toEqual([['a-1-true']]);
  });
  it('arg_max(t, *) keeps the row with the latest t per key', () => {
    expect(sorted(rows('PRICING_CL | summarize arg_max(TimeGenerated, *) by Model | project Model, InputPrice'))).toEqual([['gpt-4o', 2], ['gpt-4o-mini', 0.15]]);
  });
  it('sum(int) is long, avg is real, count is long', () => {
    expect(run('ApiManagementGatewayLlmLog | summarize sum(TotalTokens), avg(TotalTokens), count()').columns.map((c) => c.type)).toEqual(['long', 'real', 'long']);
    expect(rows('ApiManagementGatewayLlmLog | summarize sum(TotalTokens), avg(TotalTokens), count()')).toEqual([[102, 20.4, 5]]);
  });
  it('bin() on datetimes keeps the column name and aligns to the bin', () => {
    const r = run("customMetrics | where name == 'Total Tokens' | summarize count() by bin(timestamp, 1h) | order by timestamp asc");
    expect(r.columns[0]).toEqual({ name: 'timestamp', type: 'datetime' });
    expect(r.rows).toEqual([[iso(9, 0), 1], [iso(10, 0), 3]]);
  });
});

describe('tabular operators', () => {
  it('extend replaces an existing column in place', () => {
    const r = run("customMetrics | project name, value | extend name = strlen(name) | take 1");
    expect(r.columns).toEqual([{ name: 'name', type: 'long' }, { name: 'value', type: 'real' }]);
  });
  it('order by defaults to desc; asc puts nulls first, desc puts them last', () => {
    expect(rows('datatable(x:long)[2, long(null), 1, 3] | order by x')).toEqual([[3], [2], [1], [null]]);
    expect(rows('datatable(x:long)[2, long(null), 1, 3] | order by x asc')).toEqual([[null], [1], [2], [3]]);
    expect(rows('datatable(x:long)[2, long(null), 1, 3] | order by x asc nulls last')).toEqual([[1], [2], [3], [null]]);
  });
  it('top defaults to desc', () => {
    expect(rows("customMetrics | where name == 'Total Tokens' | top 2 by value | project value")).toEqual([[90], [71]]);
  });
  it('order survives project, extend and where', () => {
    expect(rows("customMetrics | order by value asc | where value > 30 | extend v2 = value * 2 | project v2")).toEqual([[80], [100], [120], [142], [180]]);
  });
  it('join suffixes duplicate right columns with 1 and leftanti/leftsemi keep left columns only', () => {
    const r = run('ApiManagementGatewayLlmLog | join kind=inner ApiManagementGatewayLogs on CorrelationId | project CorrelationId, CorrelationId1, TimeGenerated1');
    expect(sorted(r.rows)).toEqual([['c1', 'c1', iso(10, 40)], ['c2', 'c2', iso(10, 41)], ['c4', 'c4', iso(10, 42, 30)]]);
    expect(sorted(rows('ApiManagementGatewayLlmLog | join kind=leftanti ApiManagementGatewayLogs on CorrelationId | project CorrelationId'))).toEqual([['c0'], ['c3']]);
    expect(sorted(rows('ApiManagementGatewayLlmLog | join kind=leftsemi ApiManagementGatewayLogs on CorrelationId | project CorrelationId'))).toEqual([['c1'], ['c2'], ['c4']]);
    expect(sorted(rows('ApiManagementGatewayLlmLog | join kind=rightanti ApiManagementGatewayLogs on CorrelationId | project CorrelationId'))).toEqual([['c5']]);
    expect(rows('ApiManagementGatewayLlmLog | join kind=fullouter ApiManagementGatewayLogs on CorrelationId | count')).toEqual([[6]]);
  });
  it('default join kind innerunique keeps one left row per key', () => {
    expect(rows('datatable(k:string, a:long)["x", 1, "x", 2] | join (datatable(k:string, b:long)["x", 10, "x", 20]) on k | count')).toEqual([[2]]);
    expect(rows('datatable(k:string, a:long)["x", 1, "x", 2] | join kind=inner (datatable(k:string, b:long)["x", 10, "x", 20]) on k | count')).toEqual([[4]]);
  });
  it('mv-expand: arrays expand, bags expand to single-key bags, null gives one row, [] gives none', () => {
    expect(rows('datatable(d:dynamic)[dynamic([1, "a"]), dynamic({"k": 1, "j": [2]}), dynamic(null), dynamic([])] | mv-expand d')).toEqual([
      ['1'], ['"a"'], ['{"k":1}'], ['{"j":[2]}'], [null],
    ]);
    expect(rows('datatable(d:dynamic)[dynamic([1, "a", 2.5])] | mv-expand x = d to typeof(long) | project x')).toEqual([[1], [null], [null]]);
  });
  it('union is outer by name with NULL padding ("" for strings)', () => {
    const r = run('datatable(a:long, s:string)[1, "x"] | union (datatable(b:real)[2.5])');
    expect(r.columns.map((c) => c.name)).toEqual(['a', 's', 'b']);
    expect(r.rows).toEqual([[1, 'x', null], [null, '', 2.5]]);
  });
  it('let: scalar and tabular', () => {
    expect(rows("let threshold = 60; let big = customMetrics | where value > threshold; big | summarize count()")).toEqual([[2]]);
  });
  it('in / !in / in~ with lists, dynamic arrays and subqueries', () => {
    expect(rows("customMetrics | where name in ('Prompt Tokens', 'Completion Tokens') | count")).toEqual([[4]]);
    expect(rows("customMetrics | where name in~ ('total TOKENS') | count")).toEqual([[4]]);
    expect(rows("let n = dynamic(['Prompt Tokens']); customMetrics | where name !in (n) | count")).toEqual([[7]]);
    expect(rows("customMetrics | where name in (customMetrics | where value == 10 | project name) | count")).toEqual([[1]]);
  });
  it('print, range, datatable, project-rename/reorder/away, getschema, serialize + row functions', () => {
    expect(rows('range x from 1 to 4 step 1 | serialize | extend s = row_cumsum(x), p = prev(x), n = next(x)')).toEqual([
      [1, 1, null, 2], [2, 3, 1, 3], [3, 6, 2, 4], [4, 10, 3, null],
    ]);
    expect(rows('range t from datetime(2024-01-01) to datetime(2024-01-01 12:00) step 6h')).toEqual([['2024-01-01T00:00:00.000Z'], ['2024-01-01T06:00:00.000Z'], ['2024-01-01T12:00:00.000Z']]);
    expect(run('datatable(a:long, b:string)[1, "x"] | project-rename c = a | project-reorder b').columns.map((c) => c.name)).toEqual(['b', 'c']);
    expect(rows('datatable(a:long, b:string)[1, "x"] | getschema | project ColumnName, ColumnType')).toEqual([['a', 'long'], ['b', 'string']]);
  });
});

describe('scalar functions and literals', () => {
  it('string operators', () => {
    expect(rows('print "Hello World" has "world", "Hello World" has "wor", "Hello World" contains "LO W", "abc" startswith "AB", "abc" endswith_cs "C", "Abc" =~ "aBC", "a-b" has "b"')).toEqual([
      [true, false, true, true, false, true, true],
    ]);
  });
  it('datetime arithmetic and helpers', () => {
    expect(rows('print datetime(2024-01-02) - datetime(2024-01-01), datetime(2024-01-01) + 90m, startofmonth(datetime(2024-02-10)), endofmonth(datetime(2024-02-10)), format_datetime(datetime(2024-03-05 10:04:05), "yyyy-MM-dd HH:mm"), datetime_diff("day", datetime(2024-03-05), datetime(2024-03-01))')).toEqual([
      ['1.00:00:00', '2024-01-01T01:30:00.000Z', '2024-02-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z', '2024-03-05 10:04', 4],
    ]);
  });
  it('ago/now come from nowMs', () => {
    expect(rows('print now(), ago(1h), ago(1d) < now()')).toEqual([['2026-07-24T11:00:00.000Z', '2026-07-24T10:00:00.000Z', true]]);
  });
  it('dynamic access: d.key, d["key"], d.["key"], d[0], chained', () => {
    expect(rows('print d = dynamic({"a b": {"c": [10, 20]}, "x": "s"}) | project d["a b"].c[1], d.x, tostring(d.["x"]), d["a b"]["c"][0], tostring(d.missing)')).toEqual([['20', '"s"', 's', '10', '']]);
  });
  it('tostring/todouble/toint/tobool conversions and integer division', () => {
    expect(rows('print tostring(1.0), tostring(2.5), todouble("x"), toint("42"), tobool("TRUE"), 7 / 2, 7.0 / 2, 7 % 3')).toEqual([['1', '2.5', null, 42, true, 3, 3.5, 1]]);
  });
  it('iff / case / coalesce ("" is empty for strings)', () => {
    expect(rows('print iff(1 > 2, "a", "b"), case(false, 1, true, 2, 3), coalesce("", "", "z"), coalesce(long(null), 5)')).toEqual([['b', 2, 'z', 5]]);
  });
  it('split / extract / replace_string / matches regex / bag_keys / pack', () => {
    expect(rows('print split("a,b", ","), extract("id=([0-9]+)", 1, "x id=42"), replace_string("a.b.c", ".", "/"), "abc" matches regex "^a.c$", bag_keys(dynamic({"k": 1})), pack("n", 1, "s", "t")')).toEqual([
      ['["a","b"]', '42', 'a/b/c', true, '["k"]', '{"n":1,"s":"t"}'],
    ]);
  });
});

describe('diagnostics', () => {
  // [input, code, line, pos, token]
  const SYNTAX: Array<[string, string, number, number, string]> = [
    ['customMetrics | wher x', 'SYN0002', 1, 16, 'wher'],
    ['customMetrics | where', 'SYN0002', 1, 21, ''],
    ['customMetrics | where (value > 1', 'SYN0002', 1, 32, ''],
    ['customMetrics\n| project a,, b', 'SYN0002', 2, 12, ','],
    ["customMetrics | where name == 'x", 'SYN0002', 1, 30, "'x"],
    ['customMetrics | take 5 5', 'SYN0002', 1, 23, '5'],
    ['customMetrics | summarize count() by', 'SYN0002', 1, 36, ''],
    ['| take 1', 'SYN0002', 1, 0, '|'],
    ['customMetrics | where x == 1 #', 'SYN0002', 1, 29, '#'],
    ['print 1m2', 'SYN0002', 1, 6, '1m2'],
  ];
  it.each(SYNTAX)('%j → %s at [%i,%i]', (q, code, line, pos, token) => {
    const e = errorOf(q);
    expect(e).toMatchObject({ kind: 'syntax', code, line, pos, token });
    expect(e.message).toBe(`Query could not be parsed at '${token}' on line [${line},${pos}]`);
  });

  const SEMANTIC: Array<[string, string, RegExp]> = [
    ['customMetrics | where nam == 1', 'SEM0100', /^'where' operator: Failed to resolve column or scalar expression named 'nam'$/],
    ['customMetric | take 1', 'SEM0100', /Failed to resolve table or column expression named 'customMetric'/],
    ['customMetrics | extend x = foo(1)', 'SEM0100', /^'extend' operator: Failed to resolve scalar expression named 'foo'$/],
    ['customMetrics | evaluate pivot(name)', 'SEM0001', /^'evaluate pivot' operator is not supported by this emulator$/],
    ['customMetrics | parse-kv name as (a:string)', 'SEM0001', /^'parse-kv' operator is not supported by this emulator$/],
    ['customMetrics | extend h = hash(name)', 'SEM0001', /^'hash' function is not supported by this emulator$/],
    ['customMetrics | extend s = sum(value)', 'SEM0120', /aggregation function/],
    ['customMetrics | summarize value', 'SEM0121', /not an aggregation expression/],
    ['customMetrics | project value, value', 'SEM0171', /already declared/],
    ['1 + 1', 'SEM0003', /tabular/],
    ['customMetrics | where value', 'SEM0150', /Boolean/],
    ['customMetrics | extend x = name + 1', 'SEM0106', /Cannot apply '\+'/],
  ];
  it.each(SEMANTIC)('%j → %s', (q, code, message) => {
    const e = errorOf(q);
    expect(e.kind).toBe('semantic');
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(e.line).toBe(1);
  });

  it('positions the semantic error at the offending name', () => {
    const e = errorOf('customMetrics\n| where value > 1\n| extend y = nope');
    expect([e.line, e.pos, e.token]).toEqual([3, 13, 'nope']);
  });
});

describe('SQL safety', () => {
  const tableCount = () => db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
  const before = { tables: tableCount().n, metrics: (db.prepare('SELECT count(*) AS n FROM customMetrics').get() as { n: number }).n };

  const ATTEMPTS = [
    "customMetrics | where name == '; DROP TABLE customMetrics; --'",
    "customMetrics | where name == \"x' OR '1'='1\"",
    "customMetrics | where name == 'x' union select * from sqlite_master",
    "customMetrics | where name == 'x'; DROP TABLE customMetrics",
    "customMetrics | project ['x\"; drop table customMetrics; --'] = name",
    "customMetrics | extend ['a\"b'] = 1 | project ['a\"b']",
    "customMetrics | where customDimensions['\"); DROP TABLE customMetrics; --'] == 'x'",
    "customMetrics | where customDimensions.['$.a\" OR 1=1 --'] == 1",
    'customMetrics /* comment */ | take 1',
    "customMetrics | where name == @'it''s' -- | take 1",
    'customMetrics | take 1; DROP TABLE customMetrics',
    "customMetrics | summarize count() by ['k\"); DELETE FROM customMetrics; --'] = name",
    "customMetrics | extend x = strcat('a', \"'); DELETE FROM customMetrics; --\")",
    "datatable(['x\"y']:string)['\"; DROP TABLE customMetrics; --'] | project ['x\"y']",
  ];

  it.each(ATTEMPTS)('%s → a correct result or a KqlError, database unchanged', (q) => {
    let outcome: unknown;
    try {
      outcome = executeKql(db, q, OPTIONS);
    } catch (e) {
      expect(e).toBeInstanceOf(KqlError);
      outcome = e;
    }
    expect(outcome).toBeDefined();
    expect(tableCount().n).toBe(before.tables);
    expect((db.prepare('SELECT count(*) AS n FROM customMetrics').get() as { n: number }).n).toBe(before.metrics);
  });

  it('treats injected text as data', () => {
    expect(rows("customMetrics | where name == '; DROP TABLE customMetrics; --' | count")).toEqual([[0]]);
    const r = run("customMetrics | take 1 | project ['x\"; drop table customMetrics; --'] = name");
    expect(r.columns).toEqual([{ name: 'x"; drop table customMetrics; --', type: 'string' }]);
    expect(rows("datatable(['x\"y']:string)['\"; DROP TABLE customMetrics; --'] | project ['x\"y']")).toEqual([['"; DROP TABLE customMetrics; --']]);
    const c = compileKql("customMetrics | where customDimensions['\"); DROP TABLE customMetrics; --'] == 'x'", OPTIONS);
    expect(c.sql).not.toMatch(/DROP/i);
  });
});
