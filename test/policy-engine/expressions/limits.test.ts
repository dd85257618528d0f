import { describe, expect, it } from 'vitest';
import { compileExpression, expressionSource, ExpressionLimitError } from '../../../policy-engine/expressions/index.js';
import { fakeContext, NOW } from './fake-context.js';

/** A deadline clock that advances 1 ms per read, so budgets are deterministic (no wall-time dependence). */
function steppingClock(): () => number {
  let t = 0;
  return () => t++;
}

function run(code: string, limits: Record<string, unknown>): unknown {
  const { expression, diagnostics } = compileExpression(expressionSource(code, 'block'));
  expect(diagnostics).toEqual([]);
  try {
    return expression!.evaluate({ context: fakeContext(), now: () => NOW, limits: { deadlineClock: steppingClock(), ...limits } });
  } catch (e) {
    return e;
  }
}

describe('evaluation limits', () => {
  it('stops an infinite loop at the time budget, even inside try/catch', () => {
    for (const code of ['int i = 0; while (true) { i++; } return i.ToString();', 'try { while (true) { } } catch (Exception) { return "caught"; }']) {
      const e = run(code, { timeBudgetMs: 5 });
      expect(e).toBeInstanceOf(ExpressionLimitError);
      expect((e as ExpressionLimitError).exceptionType).toBe('System.TimeoutException');
      expect((e as ExpressionLimitError).message).toContain('time budget of 5 ms');
    }
  });

  it('stops nested lambdas (no loop statement) at the time budget', () => {
    const e = run('return Enumerable.Range(0, 100000).Select(x => Enumerable.Range(0, 100000).Count(y => y > x)).Sum();', { timeBudgetMs: 5, maxCollectionSize: 1e9 });
    expect((e as ExpressionLimitError).limit).toBe('time');
  });

  it('bounds string growth and collection size', () => {
    const s = run('var s = "x"; while (true) { s = s + s; }', { maxStringLength: 1000, timeBudgetMs: 1e9 });
    expect((s as ExpressionLimitError).limit).toBe('string');
    const sb = run('var b = new StringBuilder(); for (int i = 0; i < 100000; i++) { b.Append("abc"); } return b.ToString();', { maxStringLength: 1000, timeBudgetMs: 1e9 });
    expect((sb as ExpressionLimitError).limit).toBe('string');
    expect((run('return new string(\'a\', 5000);', { maxStringLength: 1000 }) as ExpressionLimitError).limit).toBe('string');
    expect((run('return "a".PadLeft(5000);', { maxStringLength: 1000 }) as ExpressionLimitError).limit).toBe('string');
    const list = run('var l = new List<int>(); while (true) { l.Add(1); }', { maxCollectionSize: 5000, timeBudgetMs: 1e9 });
    expect((list as ExpressionLimitError).limit).toBe('collection');
    expect((run('return new int[100000].Length;', { maxCollectionSize: 5000 }) as ExpressionLimitError).limit).toBe('collection');
    expect((run('return Enumerable.Range(0, 100000).Count();', { maxCollectionSize: 5000 }) as ExpressionLimitError).limit).toBe('collection');
  });

  it('leaves ordinary expressions alone', () => {
    expect(run('var b = new StringBuilder(); for (int i = 0; i < 100; i++) { b.Append(i); } return b.ToString().Length;', {})).toBe(190);
  });
});
