import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Span } from '../../../policy-engine/diagnostics.js';
import { readPolicyXml, type PolicyElement, type ReadPolicyXmlOptions } from '../../../policy-engine/xml/index.js';

/** Span invariants that must hold for every element of any document read without errors. */
function checkSpans(text: string, root: PolicyElement, substituted: boolean): number {
  const slice = (s: Span): string => text.slice(s.start, s.end);
  const inside = (inner: Span, outer: Span): void => {
    expect(inner.start).toBeGreaterThanOrEqual(outer.start);
    expect(inner.end).toBeLessThanOrEqual(outer.end);
  };
  let checked = 0;
  const visit = (e: PolicyElement): void => {
    checked++;
    expect(slice(e.nameSpan)).toBe(e.name);
    expect(text[e.span.start]).toBe('<');
    expect(text[e.span.end - 1]).toBe('>');
    expect(e.nameSpan.start).toBe(e.span.start + 1);
    const source = slice(e.span);
    expect(source.endsWith('/>') || source.endsWith(`</${e.name}>`)).toBe(true);
    let previous = e.nameSpan.end;
    for (const a of e.attributes) {
      expect(slice(a.nameSpan)).toBe(a.name);
      expect(a.nameSpan.start).toBeGreaterThanOrEqual(previous); // source order
      previous = a.valueSpan.end;
      inside(a.valueSpan, e.span);
      expect(['"', "'"]).toContain(text[a.valueSpan.start - 1]);
      expect(text[a.valueSpan.end]).toBe(text[a.valueSpan.start - 1]);
      if (a.expression) {
        expect(slice(a.expression.span)).toBe(a.value);
        inside(a.expression.span, a.valueSpan);
      } else if (!substituted && !slice(a.valueSpan).includes('&')) {
        expect(slice(a.valueSpan)).toBe(a.value);
      }
    }
    if (e.text) {
      inside(e.text.span, e.span);
      if (e.text.expression) expect(slice(e.text.span)).toBe(e.text.value);
    }
    let last = e.nameSpan.end;
    for (const c of e.children) {
      inside(c.span, e.span);
      expect(c.span.start).toBeGreaterThanOrEqual(last); // document order, no overlap
      last = c.span.end;
      visit(c);
    }
  };
  visit(root);
  return checked;
}

const FIXTURES = new URL('../../fixtures/policies/', import.meta.url);
const cases: Array<[string, ReadPolicyXmlOptions, number]> = [
  ['token-metrics-emitting.xml', { placeholders: { '{backend-id}': 'foundry1' } }, 15],
  ['token-rate-limiting.xml', { placeholders: { '{backend-id}': 'foundry1' } }, 11],
  [
    'kitchen-sink.xml',
    {
      namedValues: { secretkey: 'k3y', TPM: '1000', errortext: 'boom', host: 'host;x-amz-date' },
      placeholders: { '{backend-id}': 'foundry1' },
    },
    30,
  ],
];

describe('spans point into the original text', () => {
  it.each(cases)('%s', (file, options, elements) => {
    const text = readFileSync(new URL(file, FIXTURES), 'utf8');
    const doc = readPolicyXml(text, options);
    expect(doc.diagnostics).toEqual([]);
    expect(checkSpans(text, doc.root!, true)).toBe(elements);
  });

  it('kitchen-sink: every expression form is recognised and decoded', () => {
    const text = readFileSync(new URL('kitchen-sink.xml', FIXTURES), 'utf8');
    const doc = readPolicyXml(text, cases[2]![1]);
    const codes: string[] = [];
    const visit = (e: PolicyElement): void => {
      for (const a of e.attributes) if (a.expression) codes.push(a.expression.code);
      if (e.text?.expression) codes.push(e.text.expression.code);
      e.children.forEach(visit);
    };
    visit(doc.root!);
    expect(codes).toHaveLength(11);
    expect(codes).toContain('((string)context.Variables["requestedModel"]) == "gpt-4.1-mini" || ((string)context.Variables["requestedModel"]) == "gpt-4.1-nano"');
    expect(codes).toContain('context.Response != null && context.Response.StatusCode < 500');
    expect(codes).toContain(' return "<done/>"; ');
    const signed = codes.find((c) => c.includes('AWS4-HMAC-SHA256'))!;
    expect(signed).toContain('var key = "k3y";');
    expect(signed).toContain('SignedHeaders=host;x-amz-date,');
    const onError = doc.root!.children[3]!.children[1]!;
    expect(onError.text!.value).toBe('{"error": "boom", "reason": "<unknown>"}');
  });

  it('kitchen-sink: {{…}} inside a C# interpolated string is a named value, as in APIM', () => {
    const text = readFileSync(new URL('kitchen-sink.xml', FIXTURES), 'utf8');
    const { host: _host, ...rest } = cases[2]![1].namedValues!;
    const doc = readPolicyXml(text, { ...cases[2]![1], namedValues: rest });
    expect(doc.diagnostics.map((d) => [d.code, doc.source.lineAndColumn(d.span.start)])).toEqual([['XML1003', { line: 41, column: 83 }]]);
    expect(doc.root).toBeDefined();
  });

  it('holds for a document without substitutions, attribute by attribute', () => {
    const text = readFileSync(new URL('token-rate-limiting.xml', FIXTURES), 'utf8');
    const doc = readPolicyXml(text);
    expect(doc.diagnostics).toEqual([]);
    expect(checkSpans(text, doc.root!, false)).toBe(11);
  });
});
