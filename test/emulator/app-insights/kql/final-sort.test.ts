/**
 * A query's last sort is the statement's own ORDER BY (no ROW_NUMBER column, no second sort), so SQLite can take
 * the order from an index; results are those of the ROW_NUMBER form.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { compileKql, encodeRows, encodeValue, executeKql, registerKqlFunctions } from '../../../../emulator/app-insights/kql/index.js';
import type { KqlType } from '../../../../emulator/app-insights/kql/index.js';
import { applySchema, kqlTables } from '../../../../emulator/app-insights/tables.js';
import { LAB_KQL } from '../../../support/lab.js';
import { createSeededDb, iso, OPTIONS } from './fixtures.js';

const db = createSeededDb();
const rows = (q: string) => executeKql(db, q, OPTIONS).rows;
const finalSelect = (q: string) => {
  const sql = compileKql(q, OPTIONS).sql;
  return sql.slice(sql.lastIndexOf(') SELECT ') + 2);
};

describe('final sort', () => {
  it('orders the statement by the sort keys instead of a ROW_NUMBER column', () => {
    const q = "customMetrics | where name == 'Total Tokens' | project timestamp, value | order by timestamp asc";
    expect(compileKql(q, OPTIONS).sql).not.toContain('ROW_NUMBER');
    expect(finalSelect(q)).toBe('SELECT c0, c1 FROM s3 ORDER BY c0 ASC NULLS FIRST');
    expect(rows(q)).toEqual([[iso(9, 0), 40], [iso(10, 30, 5), 71], [iso(10, 30, 40), 50], [iso(10, 31, 10), 90]]);
  });

  it('does so before a trailing render, which still reports the rows as sorted', () => {
    const q = "customMetrics | where name == 'Total Tokens' | project timestamp, value | order by value | render table";
    expect(compileKql(q, OPTIONS).sql).not.toContain('ROW_NUMBER');
    const r = executeKql(db, q, OPTIONS);
    expect(r.rows.map((x) => x[1])).toEqual([90, 71, 50, 40]);
    expect(r.render).toMatchObject({ visualization: 'table', isQuerySorted: true });
  });

  it('keeps ROW_NUMBER for a sort that is not the last operator', () => {
    const q = "customMetrics | where name == 'Total Tokens' | order by value | take 2 | project value";
    expect(compileKql(q, OPTIONS).sql).toContain('ROW_NUMBER() OVER (ORDER BY');
    expect(rows(q)).toEqual([[90], [71]]);
    expect(rows("customMetrics | where name == 'Total Tokens' | order by value asc | project value")).toEqual([[40], [50], [71], [90]]);
  });

  it('breaks ties by the earlier order (a previous sort, datatable order) and places nulls as Kusto does', () => {
    const pairs = 'datatable(a:long, b:long)[2, 1, 1, 2, 2, 2, 1, 1]';
    expect(rows(`${pairs} | order by b asc | order by a asc`)).toEqual([[1, 1], [1, 2], [2, 1], [2, 2]]);
    expect(rows(`${pairs} | order by a desc`)).toEqual([[2, 1], [2, 2], [1, 2], [1, 1]]);
    expect(finalSelect(`${pairs} | order by a desc`)).toBe('SELECT c0, c1 FROM s1 ORDER BY c0 DESC NULLS LAST, _o');
    expect(rows('datatable(x:long)[2, long(null), 1, 3] | order by x')).toEqual([[3], [2], [1], [null]]);
    expect(rows('datatable(x:long)[2, long(null), 1, 3] | order by x asc')).toEqual([[null], [1], [2], [3]]);
    expect(rows('datatable(x:long)[2, long(null), 1, 3] | order by x asc nulls last')).toEqual([[1], [2], [3], [null]]);
  });

  it('keeps the ROW_NUMBER form for a key whose SQL is an integer literal (ORDER BY would read it as a column number)', () => {
    const q = "customMetrics | where name == 'Total Tokens' | project value | order by value in () asc, value asc";
    expect(compileKql(q, OPTIONS).sql).toContain('ROW_NUMBER');
    expect(rows(q)).toEqual([[40], [50], [71], [90]]);
    expect(rows('print x = 1 | order by 1 asc')).toEqual([[1]]);
  });

  it("lets SQLite read the lab query's order from the (name, timestamp) index: no temporary sort", () => {
    const store = new Database(':memory:');
    registerKqlFunctions(store);
    applySchema(store);
    const c = compileKql(LAB_KQL, { tables: kqlTables('all'), nowMs: 0 });
    const plan = (store.prepare(`EXPLAIN QUERY PLAN ${c.sql}`).all(...c.params) as Array<{ detail: string }>).map((r) => r.detail);
    expect(plan).toEqual(['SEARCH customMetrics USING INDEX ix_customMetrics_name_timestamp (name=?)']);
    store.close();
  });
});

describe('encodeRows', () => {
  it('gives encodeValue of every cell, in place', () => {
    const cells: Record<KqlType, unknown[]> = {
      string: ['a', '', null, 5, 1.5],
      real: [1.5, 0, -2, null, Infinity, -Infinity, 7n],
      long: [3, null, 9007199254740993n, Infinity],
      int: [1, null, 2n],
      decimal: [0.1, null],
      datetime: [Date.UTC(2026, 6, 24), 0, null, 8.64e16],
      timespan: [90_000, 0, null, -1],
      dynamic: ['{"a":1}', '[1]', null, 5],
      bool: [1, 0, null, 'true', '1', 'false'],
      guid: ['00000000-0000-0000-0000-000000000001', null],
    };
    for (const [type, values] of Object.entries(cells) as Array<[KqlType, unknown[]]>) {
      const raw = values.map((v) => ['x', v]);
      const out = encodeRows([{ name: 's', type: 'string' }, { name: 'v', type }], raw);
      expect(out, type).toBe(raw);
      expect(out, type).toEqual(values.map((v) => ['x', encodeValue(v, type)]));
    }
  });
});
