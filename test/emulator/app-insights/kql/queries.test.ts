/**
 * Hand-checked result rows for every §4.1 notebook query and the dashboard queries, over the seeded
 * data in fixtures.ts (NOW = 2026-07-24T11:00Z, a Friday). Where Kusto leaves row order undefined
 * (summarize, join, ties) rows are compared after sorting.
 */
import { describe, expect, it } from 'vitest';
import { compileKql, executeKql } from '../../../../emulator/app-insights/kql/index.js';
import { DASHBOARD_QUERIES, SPEC_QUERIES } from './corpus.js';
import { createSeededDb, iso, OPTIONS } from './fixtures.js';

const db = createSeededDb();
const run = (q: string) => executeKql(db, q, OPTIONS);
const sorted = (rows: unknown[][]) => [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
const names = (q: string) => run(q).columns.map((c) => c.name);

describe('§4.1 notebook queries: rows', () => {
  it('token-metrics-emitting (order by timestamp asc)', () => {
    expect(run(SPEC_QUERIES[0]!).rows).toEqual([
      [iso(9, 0), 40, '1.2.3.6', 'inference-api', 'subscription3', 'alex'],
      [iso(10, 30, 5), 71, '1.2.3.4', 'inference-api', 'subscription1', 'alex'],
      [iso(10, 30, 40), 50, '1.2.3.5', 'inference-api', 'subscription2', 'alex'],
      [iso(10, 31, 10), 90, '1.2.3.4', 'inference-api', 'subscription1', 'alex'],
    ]);
  });

  it('google-gemini-api (order by timestamp desc | take 20)', () => {
    expect(run(SPEC_QUERIES[1]!).rows.map((r) => [r[0], r[1]])).toEqual([
      [iso(10, 31, 10), 90],
      [iso(10, 30, 40), 50],
      [iso(10, 30, 5), 71],
      [iso(9, 0), 40],
    ]);
  });

  it('openai-agents: ago(1h) drops the 09:00 row; sum(value) by subscription and bin(timestamp, 1m)', () => {
    const r = run(SPEC_QUERIES[2]!);
    expect(r.columns).toEqual([
      { name: 'apimSubscription', type: 'string' },
      { name: 'timestamp', type: 'datetime' },
      { name: 'TotalValue', type: 'real' },
    ]);
    expect(r.rows.map((x) => x[1])).toEqual([iso(10, 30), iso(10, 30), iso(10, 31)]);
    expect(sorted(r.rows)).toEqual(sorted([
      ['subscription1', iso(10, 30), 71],
      ['subscription2', iso(10, 30), 50],
      ['subscription1', iso(10, 31), 90],
    ]));
  });

  it('ai-agent-service: three keys including agentID', () => {
    expect(sorted(run(SPEC_QUERIES[3]!).rows)).toEqual(sorted([
      ['subscription1', iso(10, 30), 'agent-a', 71],
      ['subscription2', iso(10, 30), 'agent-b', 50],
      ['subscription1', iso(10, 31), 'agent-a', 90],
    ]));
  });

  it('ghcp-byok-foundry cost: sumif defaults to 0, iff() key, round(…, 4), order by Cost desc', () => {
    const r = run(SPEC_QUERIES[4]!);
    // dev1/gpt-4o-mini: ((30-10)*2.5 + 10*1.25 + 60*10)/1e6 = 0.0006625 → 0.0007
    // oid-2/gpt-4o (developerName ''): (20*2.5 + 0 + 30*10)/1e6 = 0.00035 → 0.0003 (binary 0.000349999…)
    expect(r.rows.slice(0, 2)).toEqual([
      ['dev1', 'gpt-4o-mini', 30, 60, 1, 0.0007],
      ['oid-2', 'gpt-4o', 20, 30, 1, 0.0003],
    ]);
    expect(sorted(r.rows.slice(2))).toEqual([
      ['dev1', 'gpt-4o', 0, 0, 1, 0],
      ['dev3', 'gpt-4o', 0, 0, 1, 0],
    ]);
  });

  it('built-in-logging: leftouter join pads the subscription with an empty string', () => {
    expect(sorted(run(SPEC_QUERIES[5]!).rows)).toEqual([
      ['', 'gpt-4o', 'gpt-4o-2024-11-20', 2],
      ['', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18', 10],
      ['subscription1', 'gpt-4o', 'gpt-4o-2024-11-20', 30],
      ['subscription2', 'gpt-4o', 'gpt-4o-2024-11-20', 60],
    ]);
  });

  it('secure-responses-api: SubscriptionId, DeploymentName', () => {
    expect(sorted(run(SPEC_QUERIES[6]!).rows)).toEqual([
      ['', 'gpt-4o', 2],
      ['', 'gpt-4o-mini', 10],
      ['subscription1', 'gpt-4o', 30],
      ['subscription2', 'gpt-4o', 60],
    ]);
  });

  it('ai-foundry-deepseek: per-minute bins ordered asc', () => {
    expect(run(SPEC_QUERIES[7]!).rows).toEqual([
      [iso(9, 0), '', 'gpt-4o', 2],
      [iso(10, 40), 'subscription1', 'gpt-4o', 30],
      [iso(10, 41), 'subscription2', 'gpt-4o', 60],
      [iso(10, 42), '', 'gpt-4o-mini', 10],
    ]);
  });

  it('azure-ml-models: joined rows, newest first', () => {
    expect(run(SPEC_QUERIES[8]!).rows).toEqual([
      [iso(10, 42), 'c3', '', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18', 5, 5, 10],
      [iso(10, 41), 'c2', 'subscription2', 'gpt-4o', 'gpt-4o-2024-11-20', 40, 20, 60],
      [iso(10, 40), 'c1', 'subscription1', 'gpt-4o', 'gpt-4o-2024-11-20', 20, 10, 30],
      [iso(9, 0), 'c0', '', 'gpt-4o', 'gpt-4o-2024-11-20', 1, 1, 2],
    ]);
  });

  it('azure-ml-models gateway logs: bools as true/false, ints as numbers', () => {
    const r = run(SPEC_QUERIES[9]!);
    expect(r.rows.map((x) => [x[0], x[4], x[5], x[8], x[9]])).toEqual([
      [iso(10, 43), false, 500, 40, 30],
      [iso(10, 42, 30), false, 429, 10, 0],
      [iso(10, 41), true, 200, 300, 250],
      [iso(10, 40), true, 200, 120, 100],
    ]);
  });

  it('built-in-logging: mv-expand twice, make_list + strcat_array, empty arrays give no rows', () => {
    // c1 expands to 2×1 rows: Input "Hello there", Output "Hi! Hi!", TotalTokens 30+30.
    expect(sorted(run(SPEC_QUERIES[10]!).rows)).toEqual([
      ['c1', 'Hello there', 'Hi! Hi!', 'gpt-4o-2024-11-20', 60, 'gpt-4o', iso(10, 40)],
      ['c2', 'What time is it?', 'Noon.', 'gpt-4o-2024-11-20', 60, 'gpt-4o', iso(10, 41)],
      ['c3', 'Ping', 'Pong', 'gpt-4o-mini-2024-07-18', 10, 'gpt-4o-mini', iso(10, 42)],
    ]);
  });

  it('foundry-models-evals: take_any keeps dynamic values as JSON strings', () => {
    const rows = sorted(run(SPEC_QUERIES[11]!).rows);
    expect(rows.map((r) => r.slice(0, 5))).toEqual([
      ['c1', iso(10, 40), 'gpt-4o', 'gpt-4o-2024-11-20', 30],
      ['c2', iso(10, 41), 'gpt-4o', 'gpt-4o-2024-11-20', 60],
      ['c3', iso(10, 42), 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18', 10],
      ['c4', iso(10, 42, 30), '', '', 0],
    ]);
    expect(JSON.parse(rows[2]![5] as string)).toEqual([{ role: 'user', content: 'Ping' }]);
    expect(rows[3]![6]).toBe('[]');
  });

  it('ghcp-byok-foundry attribution: mv-expand + where on dynamic, leftouter join, coalesce over empty strings', () => {
    expect(sorted(run(SPEC_QUERIES[12]!).rows)).toEqual([
      ['dev1', 'gpt-4o-2024-11-20', 'gpt-4o', 1, 30],
      ['oid-2', 'gpt-4o-2024-11-20', 'gpt-4o', 1, 60],
      ['unattributed', 'gpt-4o-2024-11-20', 'gpt-4o', 1, 2],
      ['unattributed', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini', 1, 10],
    ]);
  });
});

describe('dashboard queries: rows', () => {
  const d = DASHBOARD_QUERIES;
  it('top 15 by Cost desc', () => {
    expect(run(d[0]!).rows).toEqual([['dev1', 0.00161], ['', 0.0005], ['dev3', 0.0004]]);
  });
  it('dcount / dcountif / countif', () => {
    expect(run(d[1]!).rows).toEqual([[3, 3, 4]]);
  });
  it("bracketed column name ['Est. spend (USD)']", () => {
    expect(names(d[2]!)).toEqual(['Developer', 'Est. spend (USD)']);
    expect(sorted(run(d[2]!).rows)).toEqual([['', 0.000125], ['dev1', 0.000403], ['dev3', 0.0001]]);
  });
  it('two-level summarize: peak tokens per minute', () => {
    expect(sorted(run(d[3]!).rows)).toEqual([['', 50], ['dev1', 90], ['dev3', 40]]);
  });
  it('startofmonth(now()) .. endofmonth(now())', () => {
    expect(run(d[4]!).rows).toEqual([[251]]);
  });
  it('join kind=inner on $left.DeploymentName == $right.Model with arg_max(TimeGenerated, *) by Model', () => {
    expect(sorted(run(d[5]!).rows)).toEqual([
      ['c0', 'gpt-4o', 'gpt-4o', 1, 1, 0.00001],
      ['c1', 'gpt-4o', 'gpt-4o', 20, 10, 0.00012],
      ['c2', 'gpt-4o', 'gpt-4o', 40, 20, 0.00024],
      ['c3', 'gpt-4o-mini', 'gpt-4o-mini', 5, 5, 0.00000375],
    ]);
  });
  it('percentile(TotalTime, 95) is nearest rank; countif; dcount; round(100.0 * a / b, 2)', () => {
    expect(run(d[6]!).rows).toEqual([[300, 2, 1, 4, 50]]);
    expect(names(d[7]!)).toEqual(['percentile_TotalTime_95', 'countif_', 'dcount_ApiId']);
  });
  it('hourofday() and dayofweek() (a timespan: Friday = 5.00:00:00)', () => {
    expect(run(d[8]!).rows).toEqual([[10, '5.00:00:00', 4]]);
  });
  it('countif(IsStreamCompletion == true)', () => {
    expect(run(d[9]!).rows).toEqual([[1, 5, 20]]);
  });
  it('render is dropped from the SQL and returned separately', () => {
    expect(sorted(run(d[10]!).rows)).toEqual([[iso(9, 0), 40], [iso(10, 30), 121], [iso(10, 31), 90]]);
    const c = compileKql(d[10]!, OPTIONS);
    expect(c.render).toEqual({ visualization: 'timechart' });
    expect(c.sql).not.toMatch(/render|timechart/i);
    expect(compileKql(d[11]!, OPTIONS).render).toEqual({ visualization: 'piechart', title: 'Calls per subscription' });
  });
  it('order by / top / count / distinct', () => {
    expect(run(d[12]!).rows[0]).toEqual([200, 2]);
    expect(run(d[13]!).rows).toEqual([['gpt-4o-2024-11-20', 92], ['gpt-4o-mini-2024-07-18', 10], ['', 0]]);
    expect(run(d[14]!).rows).toEqual([[1]]);
    expect(sorted(run(d[15]!).rows)).toEqual([['', ''], ['gpt-4o', 'gpt-4o-2024-11-20'], ['gpt-4o-mini', 'gpt-4o-mini-2024-07-18']]);
  });
});
