import { describe, expect, it } from 'vitest';
import { compileExpression, expressionSource, JToken, typeNameOf, writeJson } from '../../../policy-engine/expressions/index.js';
import { fakeContext, NOW } from './fake-context.js';
import { LAB_EXPRESSIONS } from './lab-corpus.js';

/** `@(code)` / `@{code}` → the lifted form compileExpression receives. */
function lift(text: string) {
  const kind = text.startsWith('@{') ? 'block' : 'expression';
  return expressionSource(text.slice(2, -1), kind);
}

describe('labs.md §6.4 corpus', () => {
  it('has every distinct short expression (89)', () => {
    expect(LAB_EXPRESSIONS).toHaveLength(89);
  });

  it.each(LAB_EXPRESSIONS)('%s', (text, expected) => {
    const { expression, diagnostics } = compileExpression(lift(text));
    expect(diagnostics).toEqual([]);
    const value = expression!.evaluate({ context: fakeContext(), now: () => NOW, random: () => 0.5 });
    if (typeof expected === 'string' && expected.startsWith('JSON:')) {
      expect(value).toBeInstanceOf(JToken);
      expect(writeJson(value as JToken, false)).toBe(expected.slice(5));
    } else if (typeof expected === 'string' && expected.startsWith('TYPE:')) {
      expect(typeNameOf(value)).toBe(expected.slice(5));
    } else {
      expect(value).toEqual(expected);
    }
  });
});
