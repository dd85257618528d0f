import { describe, expect, it } from 'vitest';
import { compileKql, KqlError } from '../../emulator/app-insights/kql/index.js';
import { MAX_BINARY_CHAIN, MAX_NESTING_DEPTH } from '../../emulator/app-insights/kql/parser.js';
import { kqlTables } from '../../emulator/app-insights/tables.js';
import { startEmulator } from '../../emulator/testing/start-emulator.js';
import { compileExpression, expressionSource } from '../../policy-engine/expressions/index.js';
import { MAX_EXPRESSION_NESTING } from '../../policy-engine/expressions/parser.js';
import { fakeContext, NOW } from '../policy-engine/expressions/fake-context.js';

/**
 * Deep nesting and long operator chains: the parsers recurse, so 10,000 '(' used to end in a RangeError
 * ("Maximum call stack size exceeded") instead of a structured error, and an expression of 10,000 '(' took 20 s to
 * fail. Each case below must give the parser's own error with a position, quickly; inputs just under the limits
 * still compile and run.
 */
const N = 10_000;
const kql = (q: string) => compileKql(q, { tables: kqlTables('all'), nowMs: 0 });

function kqlError(q: string): KqlError {
  const started = performance.now();
  try {
    kql(q);
  } catch (error) {
    expect(performance.now() - started).toBeLessThan(2000);
    if (!(error instanceof KqlError)) throw error;
    return error;
  }
  throw new Error(`compiled: ${q.slice(0, 60)}…`);
}

describe('KQL: nesting and operator chains are bounded', () => {
  it.each([
    ['parentheses', `print x = ${'('.repeat(N)}1${')'.repeat(N)}`, 'Nesting deeper than'],
    ['unary minus', `print x = ${'- '.repeat(N)}1`, 'Nesting deeper than'],
    ['dynamic arrays', `print x = dynamic(${'['.repeat(N)}1${']'.repeat(N)})`, 'Nesting deeper than'],
    ['sub-queries', `print x = ${'toscalar('.repeat(N)}customMetrics | count${')'.repeat(N)}`, 'Nesting deeper than'],
    ['+ chain', `print x = 1${' + 1'.repeat(N)}`, `more than ${MAX_BINARY_CHAIN} operators`],
    ['and chain', `customMetrics | where ${Array.from({ length: N }, (_, i) => `value != ${i}`).join(' and ')} | count`, `more than ${MAX_BINARY_CHAIN} operators`],
  ])('%s ×10,000 → a KQL error with a position, not a RangeError', (_label, q, message) => {
    const error = kqlError(q);
    expect(error.code).toBe('SEM0001');
    expect(error.message).toContain(message);
    expect(error.offset).toBeGreaterThan(0);
    expect(error.offset).toBeLessThan(q.length);
  });

  it('just under the limits compiles', () => {
    expect(() => kql(`print x = ${'('.repeat(MAX_NESTING_DEPTH / 4)}1${')'.repeat(MAX_NESTING_DEPTH / 4)}`)).not.toThrow();
    expect(() => kql(`print x = 1${' + 1'.repeat(MAX_BINARY_CHAIN)}`)).not.toThrow();
  });

  it('over the query API: 400 BadArgumentError, and the next query is answered', async () => {
    const gw = await startEmulator({ preset: 'token-metrics-emitting' });
    try {
      const { appId } = await (await fetch(`${gw.url}/_emulator/appinsights`)).json();
      const query = (q: string) => fetch(`${gw.url}/v1/apps/${appId}/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
      const res = await query(`print x = ${'('.repeat(N)}1${')'.repeat(N)}`);
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.error.code).toBe('BadArgumentError');
      expect(JSON.stringify(body)).toContain('Nesting deeper than');
      const next = await query('print x = 1');
      expect(next.status).toBe(200);
      expect((await next.json()).tables[0].rows).toEqual([[1]]);
    } finally {
      await gw.close();
    }
  });
});

describe('Policy expressions: nesting and operator chains are bounded', () => {
  const interpolated = (levels: number) => {
    let code = '1';
    for (let i = 0; i < levels; i++) code = `$"{${code}}"`;
    return code;
  };
  it.each([
    ['parentheses', `${'('.repeat(N)}1${')'.repeat(N)}`, 'expression'],
    ['unary !', `${'!'.repeat(N)}true`, 'expression'],
    ['nested lambdas', `${'((Func<int>)(() => '.repeat(N)}1${'))()'.repeat(N)}`, 'expression'],
    ['interpolation holes', interpolated(500), 'expression'],
    ['nested blocks', `${'{ '.repeat(N)}return "a";${' }'.repeat(N)}`, 'block'],
    ['nested ifs', `${'if (true) '.repeat(N)}return "a"; return "b";`, 'block'],
    ['+ chain', `1${'+1'.repeat(N * 2)}`, 'expression'],
  ] as const)('%s → an EXPR diagnostic with a span, not a RangeError', (_label, code, kind) => {
    const started = performance.now();
    const { expression, diagnostics } = compileExpression(expressionSource(code, kind));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(expression).toBeUndefined();
    const d = diagnostics.find((x) => x.severity === 'error' && /Nesting deeper than|more than \d+ operators/.test(x.message));
    expect(d, JSON.stringify(diagnostics.slice(0, 3))).toBeDefined();
    expect(d!.code).toMatch(/^EXPR\d{4}$/);
    expect(d!.span.start).toBeGreaterThan(0);
    expect(d!.span.end).toBeLessThanOrEqual(code.length);
  });

  it('just under the limits compiles and evaluates', () => {
    const deep = MAX_EXPRESSION_NESTING - 2;
    const cases: Array<[string, unknown]> = [
      [`${'('.repeat(deep)}1 + 2${')'.repeat(deep)}`, 3],
      [`1${'+1'.repeat(999)}`, 1000],
    ];
    for (const [code, value] of cases) {
      const { expression, diagnostics } = compileExpression(expressionSource(code));
      expect(diagnostics).toEqual([]);
      expect(expression!.evaluate({ context: fakeContext(), now: () => NOW })).toBe(value);
    }
  });
});
