import { describe, expect, it } from 'vitest';
import { substituteNamedValues } from '../../../policy-engine/xml/named-values.js';
import { createOffsetMap } from '../../../policy-engine/xml/offset-map.js';

describe('substituteNamedValues', () => {
  it('returns the text unchanged (identity map) when there is nothing to substitute', () => {
    const r = substituteNamedValues('<policies a="{b}"/>', { namedValues: { b: 'x' } });
    expect(r.text).toBe('<policies a="{b}"/>');
    expect(r.map.identity).toBe(true);
    expect(r.diagnostics).toEqual([]);
  });

  it('replaces names case-insensitively and placeholders, longest placeholder first', () => {
    const text = 'a{{Name}}b{x}{xy}c{{name}}';
    const r = substituteNamedValues(text, { namedValues: { NAME: 'N' }, placeholders: { '{x}': '1', '{xy}': '22' } });
    expect(r.text).toBe('aNb122cN');
    // Offsets inside and after each replacement map back into the original.
    expect(r.map.toOriginal(r.text.indexOf('b'))).toBe(text.indexOf('b'));
    expect(r.map.toOriginal(r.text.indexOf('22') + 1)).toBe(text.indexOf('{xy}'));
    expect(r.map.toOriginal(r.text.indexOf('c'))).toBe(text.indexOf('c'));
    expect(r.map.toOriginalSpan({ start: 1, end: 2 })).toEqual({ start: 1, end: 9 });
  });

  it('prefers a {{name}} over a placeholder that starts at the same offset', () => {
    const r = substituteNamedValues('{{id}}', { namedValues: { id: 'nv' }, placeholders: { '{{id}': 'ph' } });
    expect(r.text).toBe('nv');
  });

  it('leaves {{ that is not a reference alone (C# escaped braces, JSON)', () => {
    const text = 'x = $"{{ {a} }}"; y = "{{}}"; z = "{{{w}}}"';
    const r = substituteNamedValues(text, { namedValues: { w: 'W' } });
    expect(r.diagnostics).toEqual([]);
    expect(r.text).toBe('x = $"{{ {a} }}"; y = "{{}}"; z = "{W}"');
  });

  it('reports unknown and unterminated references with their spans', () => {
    const text = 'a {{missing}} b {{open\n';
    const r = substituteNamedValues(text, { source: 'f.xml' });
    expect(r.diagnostics.map((d) => [d.code, text.slice(d.span.start, d.span.end), d.source])).toEqual([
      ['XML1003', '{{missing}}', 'f.xml'],
      ['XML1006', '{{open', 'f.xml'],
    ]);
    expect(r.diagnostics[0]!.message).toBe("Named value 'missing' is not defined.");
    expect(r.text).toBe(text);
  });
});

describe('createOffsetMap', () => {
  // original "ab{{n}}cd" → rewritten "abXcd": rewritten [2,3) came from original [2,7).
  const map = createOffsetMap([{ start: 2, end: 3, origStart: 2, origEnd: 7 }]);
  it('maps offsets before, inside and after a replacement', () => {
    expect([0, 1, 2, 3, 4, 5].map((o) => map.toOriginal(o))).toEqual([0, 1, 2, 7, 8, 9]);
  });
  it('maps span ends inside or at the end of a replacement to the end of the replaced text', () => {
    expect(map.toOriginalEnd(2)).toBe(2);
    expect(map.toOriginalEnd(3)).toBe(7);
    expect(map.toOriginalSpan({ start: 0, end: 3 })).toEqual({ start: 0, end: 7 });
    expect(map.toOriginalSpan({ start: 3, end: 5 })).toEqual({ start: 7, end: 9 });
  });
  it('handles a replacement by the empty string', () => {
    const empty = createOffsetMap([{ start: 2, end: 2, origStart: 2, origEnd: 7 }]);
    expect(empty.toOriginal(2)).toBe(7);
    expect(empty.toOriginalEnd(2)).toBe(2);
    expect(empty.toOriginalSpan({ start: 1, end: 3 })).toEqual({ start: 1, end: 8 });
  });
});
