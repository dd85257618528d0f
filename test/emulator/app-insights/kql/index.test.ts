import { describe, expect, it } from 'vitest';
import { compileKql, executeKql, KqlError } from '../../../../emulator/app-insights/kql/index.js';
import { createSeededDb, iso, OPTIONS } from './fixtures.js';

const db = createSeededDb();
const run = (q: string) => executeKql(db, q, OPTIONS);

describe('executeKql: first-cut pipeline (where | extend | project | order by | take)', () => {
  it('answers the token-metrics-emitting lab query (labs.md §3.4) with the expected columns and rows', () => {
    const q =
      "customMetrics | where name == 'Total Tokens' | extend parsedCustomDimensions = parse_json(customDimensions) | extend clientIP = tostring(parsedCustomDimensions.['Client IP']) | extend apiId = tostring(parsedCustomDimensions.['API ID']) | extend apimSubscription = tostring(parsedCustomDimensions.['Subscription ID']) | extend UserId = tostring(parsedCustomDimensions.['User ID']) | project timestamp, value, clientIP, apiId, apimSubscription, UserId | order by timestamp asc";
    const r = run(q);
    expect(r.columns).toEqual([
      { name: 'timestamp', type: 'datetime' },
      { name: 'value', type: 'real' },
      { name: 'clientIP', type: 'string' },
      { name: 'apiId', type: 'string' },
      { name: 'apimSubscription', type: 'string' },
      { name: 'UserId', type: 'string' },
    ]);
    expect(r.rows).toEqual([
      [iso(9, 0), 40, '1.2.3.6', 'inference-api', 'subscription3', 'alex'],
      [iso(10, 30, 5), 71, '1.2.3.4', 'inference-api', 'subscription1', 'alex'],
      [iso(10, 30, 40), 50, '1.2.3.5', 'inference-api', 'subscription2', 'alex'],
      [iso(10, 31, 10), 90, '1.2.3.4', 'inference-api', 'subscription1', 'alex'],
    ]);
  });

  it('applies the request timespan to the table time column (half-open interval)', () => {
    const r = executeKql(db, "customMetrics | where name == 'Total Tokens' | project value", { ...OPTIONS, timespan: { startMs: Date.UTC(2026, 6, 24, 10, 0), endMs: Date.UTC(2026, 6, 24, 10, 31, 10) } });
    expect(r.rows).toEqual([[71], [50]]);
  });

  it('orders descending by default and takes n rows in that order', () => {
    const r = run("customMetrics | where name == 'Total Tokens' | order by value | take 2 | project value");
    expect(r.rows).toEqual([[90], [71]]);
  });

  it('binds every literal as a parameter', () => {
    const c = compileKql("customMetrics | where name == 'x' and value > 5 | take 3", OPTIONS);
    expect(c.sql).not.toContain("'x'");
    expect(c.params).toEqual(['x', 5n, 3n]);
  });

  it('reports a syntax error with line, position and token', () => {
    let err: unknown;
    try {
      compileKql('customMetrics\n| wher x', OPTIONS);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KqlError);
    expect(err).toMatchObject({ kind: 'syntax', code: 'SYN0002', line: 2, pos: 2, token: 'wher', message: "Query could not be parsed at 'wher' on line [2,2]" });
  });

  it('reports an unknown column as SEM0100', () => {
    expect(() => compileKql('customMetrics | where nam == 1', OPTIONS)).toThrowError(
      expect.objectContaining({ kind: 'semantic', code: 'SEM0100', message: "'where' operator: Failed to resolve column or scalar expression named 'nam'", line: 1, pos: 22 }),
    );
  });
});
