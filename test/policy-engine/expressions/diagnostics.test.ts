import { describe, expect, it } from 'vitest';
import { SourceText } from '../../../policy-engine/diagnostics.js';
import { compileExpression, expressionSource } from '../../../policy-engine/expressions/index.js';
import { liftExpressions } from '../../../policy-engine/xml/index.js';

/** [code, kind, expected "CODE line:column" list] — positions are 1-based in the code (one line unless it has newlines). */
const CASES: Array<[string, 'expression' | 'block', string[]]> = [
  ['', 'expression', ['EXPR2001 1:1']],
  ['foo', 'expression', ['EXPR2011 1:1']],
  ['context.Reqest.Headers', 'expression', ['EXPR2015 1:9']],
  ['context.Request.Hedaers', 'expression', ['EXPR2015 1:17']],
  ['context.Request.Headers.GetValue("x")', 'expression', ['EXPR2015 1:25']],
  ['context.Response.StatusCode(1)', 'expression', ['EXPR2001 1:18']],
  ['Math.Foo(1)', 'expression', ['EXPR2015 1:6']],
  ['Foo.Bar()', 'expression', ['EXPR2011 1:1']],
  ['(Frob)context.Variables["x"]', 'expression', ['EXPR2014 1:2']],
  ['new Frob()', 'expression', ['EXPR2014 1:5']],
  ['new XDocument()', 'expression', ['EXPR2010 1:5']],
  ['System.Xml.Linq.XNamespace.Get("urn:x")', 'expression', ['EXPR2010 1:1']],
  ['(1 + 2', 'expression', ['EXPR2005 1:7']],
  ['f(1, 2', 'expression', ['EXPR2011 1:1', 'EXPR2005 1:7']],
  ['a[1', 'expression', ['EXPR2011 1:1', 'EXPR2005 1:4']],
  ['1 +', 'expression', ['EXPR2001 1:4']],
  ['1 2', 'expression', ['EXPR2006 1:3']],
  ['"abc', 'expression', ['EXPR2007 1:1']],
  ["'ab'", 'expression', ['EXPR2008 1:1']],
  ['"\\q"', 'expression', ['EXPR2003 1:2']],
  ['12abc', 'expression', ['EXPR2002 1:1']],
  ['1 # 2', 'expression', ['EXPR2004 1:3']],
  ['$"{1 + }"', 'expression', ['EXPR2001 1:7']],
  ['$"{context.Nope}"', 'expression', ['EXPR2015 1:12']],
  ['return 1;', 'expression', ['EXPR2021 1:1']],
  ['context.Api.Id;', 'expression', ['EXPR2021 1:15']],
  ['typeof(string)', 'expression', ['EXPR2010 1:1']],
  ['this.x', 'expression', ['EXPR2010 1:1']],
  ['(1, 2)', 'expression', ['EXPR2010 1:1']],
  ['await Foo()', 'expression', ['EXPR2010 1:1', 'EXPR2011 1:7']],
  ['Math', 'expression', ['EXPR2001 1:1']],
  ['x => x', 'expression', []],
  ['context.Variables["a"] = 1', 'expression', []],
  ['var x = 1;', 'block', ['EXPR2012 1:1']],
  ['if (true) { return 1; }', 'block', ['EXPR2012 1:1']],
  ['if (true) { return 1; } else { return 2; }', 'block', []],
  ['while (true) { }', 'block', []],
  ['while (true) { break; }', 'block', ['EXPR2012 1:1']],
  ['try { return 1; } catch { return 2; }', 'block', []],
  ['switch (1) { case 1: return "a"; default: return "b"; }', 'block', []],
  ['switch (1) { case 1: return "a"; }', 'block', ['EXPR2012 1:1']],
  ['throw new Exception("x");', 'block', []],
  ['var x = 1; var x = 2; return x;', 'block', ['EXPR2016 1:16']],
  ['var x; return 1;', 'block', ['EXPR2001 1:5']],
  ['break; return 1;', 'block', ['EXPR2018 1:1']],
  ['1 + 1; return 2;', 'block', ['EXPR2017 1:1']],
  ['var a = 1\nreturn a;', 'block', ['EXPR2005 1:10']],
  ['return y;\nreturn z;', 'block', ['EXPR2011 1:8', 'EXPR2011 2:8']],
  ['goto end; return 1;', 'block', ['EXPR2010 1:1']],
  ['lock (x) { } return 1;', 'block', ['EXPR2010 1:1']],
  // Local functions are emulated (dotnet-members.test.ts); ref/out/in/params parameters are not.
  ['int F(ref int x) => 1; return 1;', 'block', ['EXPR2010 1:7']],
  ['int F() => 1; return F();', 'block', []],
  ['int F() { } return F();', 'block', ['EXPR2001 1:5']],
  ['int F(int a) => a; return F();', 'block', ['EXPR2001 1:27']],
  ['void G() { return 1; } G(); return 0;', 'block', ['EXPR2001 1:12']],
  ['checked(1 + 1)', 'expression', ['EXPR2010 1:1']],
  ['yield return 1;', 'block', ['EXPR2010 1:1', 'EXPR2012 1:1']],
  ['5 = 3; return 1;', 'block', ['EXPR2019 1:1']],
  ['if (true) return 1 else return 2;', 'block', ['EXPR2005 1:19']],
  ['var q = new List<string>(; return 1;', 'block', ['EXPR2001 1:26']],
  ['return context.Request.Body.As<JObject>(preserveContent: true)["a"];', 'block', []],
  // AsJwt/AsBasic/Encrypt/Decrypt are emulated (apim-extensions.test.ts); VerifyNoRevocation is not.
  ['context.Request.Certificate.VerifyNoRevocation()', 'expression', ['EXPR2010 1:29']],
  ['/* unterminated', 'expression', ['EXPR2005 1:1', 'EXPR2001 1:16']],
];

function render(code: string, kind: 'expression' | 'block'): string[] {
  const { diagnostics, expression } = compileExpression(expressionSource(code, kind));
  const text = new SourceText(code);
  const out = diagnostics.map((d) => {
    const { line, column } = text.lineAndColumn(d.span.start);
    return `${d.code} ${line}:${column}`;
  });
  if (out.length === 0) expect(expression).toBeDefined();
  else expect(expression).toBeUndefined();
  return out;
}

describe('load-time diagnostics', () => {
  it.each(CASES)('%s (%s)', (code, kind, expected) => {
    expect(render(code, kind)).toEqual(expected);
  });

  it('names the unsupported feature and the unknown member in the message', () => {
    const a = compileExpression(expressionSource('lock (o) { } return 1;', 'block')).diagnostics[0]!;
    expect(a.message).toBe("The 'lock' statement is not supported by the emulator in policy expressions.");
    const b = compileExpression(expressionSource('context.Request.Hedaers')).diagnostics[0]!;
    expect(b.message).toBe("'IRequest' does not contain a definition for 'Hedaers'.");
  });

  it('a missing ) points back at the ( with related information', () => {
    const d = compileExpression(expressionSource('Math.Max(1, 2')).diagnostics[0]!;
    expect(d.message).toBe("')' expected.");
    expect(d.related?.[0]?.span).toEqual({ start: 8, end: 9 });
  });

  it('maps spans into the original policy file through positionOf (XML entities decoded)', () => {
    const xml = '<policies>\n  <inbound>\n    <set-header name="x" exists-action="override">\n      <value>@(context.Request.Hedaers.GetValueOrDefault(&quot;a&quot;) + nope)</value>\n    </set-header>\n  </inbound>\n</policies>';
    const { expressions } = liftExpressions(xml);
    const { diagnostics } = compileExpression(expressions[0]!, { source: 'policies/api.xml' });
    const text = new SourceText(xml, 'policies/api.xml');
    expect(diagnostics.map((d) => [d.code, d.source, text.lineAndColumn(d.span.start), xml.slice(d.span.start, d.span.end)])).toEqual([
      ['EXPR2015', 'policies/api.xml', { line: 4, column: 32 }, 'Hedaers'],
      ['EXPR2011', 'policies/api.xml', { line: 4, column: 75 }, 'nope'],
    ]);
  });

  it('reports every problem of one load (recovers after errors)', () => {
    const { diagnostics } = compileExpression(expressionSource('var a = ;\nvar b = foo;\nreturn a +;', 'block'));
    expect(diagnostics.map((d) => d.code)).toEqual(['EXPR2001', 'EXPR2011', 'EXPR2001']);
  });
});
