import { describe, expect, it } from 'vitest';
import { liftExpressions } from '../../../policy-engine/xml/index.js';

/** The slice of `text` each expression's span covers, and its decoded code. */
function lifted(text: string): Array<[string, string]> {
  const r = liftExpressions(text);
  expect(r.diagnostics).toEqual([]);
  return r.expressions.map((e) => [text.slice(e.span.start, e.span.end), e.code]);
}

describe('liftExpressions: where an expression ends', () => {
  const cases: Array<[string, string, string, string]> = [
    // [title, xml, expected @(…) slice, expected code]
    ['raw double quotes in a double-quoted attribute', `<d value="@(h.Get("x-user-id", "N/A"))" />`, `@(h.Get("x-user-id", "N/A"))`, `h.Get("x-user-id", "N/A")`],
    ['&quot; form', `<d value="@(h.Get(&quot;x)y&quot;, &quot;N/A&quot;))" />`, `@(h.Get(&quot;x)y&quot;, &quot;N/A&quot;))`, `h.Get("x)y", "N/A")`],
    ['single-quoted attribute with raw double quotes', `<when condition='@((string)context.Product?.Id == "gold")'>`, `@((string)context.Product?.Id == "gold")`, `(string)context.Product?.Id == "gold"`],
    ['raw && and < inside an attribute', `<when condition="@(a < 3 && b > 2)">`, `@(a < 3 && b > 2)`, `a < 3 && b > 2`],
    ['escaped &amp;&amp; and &lt;', `<when condition="@(a &lt; 3 &amp;&amp; b &gt; 2)">`, `@(a &lt; 3 &amp;&amp; b &gt; 2)`, `a < 3 && b > 2`],
    ['numeric references', `<x v="@(&#34;a&#x29;&#34;)"/>`, `@(&#34;a&#x29;&#34;)`, `"a)"`],
    ['nested parentheses and strings holding ) and }', `<x v="@(F("a)b", ")", ((1)), "}"))"/>`, `@(F("a)b", ")", ((1)), "}"))`, `F("a)b", ")", ((1)), "}")`],
    ['escaped quote in a regular string', `<x v='@("a\\")" + b)'/>`, `@("a\\")" + b)`, `"a\\")" + b`],
    ['verbatim string with "" and a backslash', `<x v='@(@"C:\\dir\\"")" + x)'/>`, `@(@"C:\\dir\\"")" + x)`, `@"C:\\dir\\"")" + x`],
    ['char literals', `<x v="@(c == ')' ? '}' : '\\'')"/>`, `@(c == ')' ? '}' : '\\'')`, `c == ')' ? '}' : '\\''`],
    ['interpolated string with a hole holding a string', `<x v='@($"[\\"{v.Get<string>("id")}\\"]")'/>`, `@($"[\\"{v.Get<string>("id")}\\"]")`, `$"[\\"{v.Get<string>("id")}\\"]"`],
    ['interpolated string with escaped braces and nested braces', `<x v='@($"{{a)}} {new[] { 1 }.Length} {(x ? "}" : ")")}")'/>`, `@($"{{a)}} {new[] { 1 }.Length} {(x ? "}" : ")")}")`, `$"{{a)}} {new[] { 1 }.Length} {(x ? "}" : ")")}"`],
    ['verbatim interpolated string', `<x v='@($@"{a}"")" + @$"x")'/>`, `@($@"{a}"")" + @$"x")`, `$@"{a}"")" + @$"x"`],
    ['generic type arguments in element text', `<set-body>@(context.Request.Body.As<JObject>(true).ToString())</set-body>`, `@(context.Request.Body.As<JObject>(true).ToString())`, `context.Request.Body.As<JObject>(true).ToString()`],
    ['block with a brace inside a string', `<set-body>@{ var x = "}"; return x; }</set-body>`, `@{ var x = "}"; return x; }`, ` var x = "}"; return x; `],
    ['block with comments holding delimiters', `<set-body>@{\n  // a ) comment }\n  /* } */ return "<b>" + (1 < 2); }</set-body>`, `@{\n  // a ) comment }\n  /* } */ return "<b>" + (1 < 2); }`, `\n  // a ) comment }\n  /* } */ return "<b>" + (1 < 2); `],
    ['whitespace around a whole-value expression', `<value>\n    @("Bearer " + t)\n</value>`, `@("Bearer " + t)`, `"Bearer " + t`],
    ['char literals written with &apos;', `<x v='@(c == &apos;)&apos; ? 1 : 2)'/>`, `@(c == &apos;)&apos; ? 1 : 2)`, `c == ')' ? 1 : 2`],
    ['division and a verbatim identifier are not strings or comments', `<x v="@(a / b + @class.Length)"/>`, `@(a / b + @class.Length)`, `a / b + @class.Length`],
    ['stray closer of another kind is left to the expression parser', `<x v="@(a] + (b))"/>`, `@(a] + (b))`, `a] + (b)`],
    ['verbatim string spanning lines in a block', `<set-body>@{ return @"a\n)}\n"; }</set-body>`, `@{ return @"a\n)}\n"; }`, ` return @"a\n)}\n"; `],
        ['expression in CDATA (not decoded)', `<set-body><![CDATA[@{ return "a &amp; <b>"; }]]></set-body>`, `@{ return "a &amp; <b>"; }`, ` return "a &amp; <b>"; `],
  ];
  it.each(cases)('%s', (_title, xml, slice, code) => {
    expect(lifted(xml)).toEqual([[slice, code]]);
  });

  it('replaces each expression with a same-length placeholder and keeps line breaks', () => {
    const xml = `<a v="@(&quot;x)&quot;)" w='@(a == "b")'>\n  @{ var x = "}";\r\n return x; }\n</a>`;
    const r = liftExpressions(xml);
    expect(r.text.length).toBe(xml.length);
    expect(r.text).toBe(`<a v="${'_'.repeat(17)}" w='${'_'.repeat(11)}'>\n  ${'_'.repeat(15)}\r\n${'_'.repeat(12)}\n</a>`);
    expect(r.expressions.map((e) => e.kind)).toEqual(['expression', 'expression', 'block']);
  });

  it('maps code positions back through decoded entities', () => {
    const xml = `<d v="@(h.Get(&quot;x-user-id&quot;) &amp;&amp; y)" />`;
    const [e] = liftExpressions(xml).expressions;
    expect(e!.code).toBe('h.Get("x-user-id") && y');
    const at = (needle: string): number => e!.positionOf(e!.code.indexOf(needle));
    expect(xml.slice(at('h.Get'), at('h.Get') + 5)).toBe('h.Get');
    expect(xml.slice(at('"x-user'), at('"x-user') + 6)).toBe('&quot;');
    expect(xml.slice(at('x-user-id'), at('x-user-id') + 9)).toBe('x-user-id');
    expect(xml.slice(at('&&'), at('&&') + 5)).toBe('&amp;');
    expect(xml.slice(at('y)'.slice(0, 1)), at('y') + 1)).toBe('y');
    // One past the end is the closing delimiter.
    expect(xml[e!.positionOf(e!.code.length)]).toBe(')');
  });

  it('maps code positions exactly when nothing was decoded', () => {
    const xml = `<x>\n  <set-body>@{ return "<b>"; }</set-body>\n</x>`;
    const [e] = liftExpressions(xml).expressions;
    const i = e!.code.indexOf('return');
    expect(xml.slice(e!.positionOf(i), e!.positionOf(i) + 6)).toBe('return');
  });
});

describe('liftExpressions: what is not an expression', () => {
  const cases: Array<[string, string]> = [
    ['@ not followed by ( or {', `<x v="user@example.com" w="@foo">@bar</x>`],
    ['expression followed by more text', `<value>@(a) and more</value>`],
    ['text before the expression', `<value>Bearer @(token)</value>`],
    ['attribute with text after the expression', `<x v="@(a)b" />`],
    ['expression syntax inside a comment', `<x><!-- @(a "unbalanced --></x>`],
  ];
  it.each(cases)('%s', (_title, xml) => {
    const r = liftExpressions(xml);
    expect(r.expressions).toEqual([]);
    expect(r.diagnostics).toEqual([]);
    expect(r.text).toBe(xml);
  });
});

describe('liftExpressions: unterminated expressions', () => {
  // [title, xml, expected closer, lifted text: the broken code is hidden from the XML parser when its end can be guessed]
  const cases: Array<[string, string, string, string]> = [
    ['missing ) at end of input', `<x v="@(a(b)" />`, ')', `<x v="______" />`],
    ['missing } in a block', `<x><set-body>@{ return 1; </set-body></x>`, '}', `<x><set-body>${'_'.repeat(13)}</set-body></x>`],
    ['missing ) with raw quotes in the code', `<d n="u" v="@(h.Get("a", "b")" w="1" />`, ')', `<d n="u" v="${'_'.repeat(17)}" w="1" />`],
    ['string literal runs past a line break (no guess)', `<x v="@(F("a)) />\n<y/>`, ')', `<x v="@(F("a)) />\n<y/>`],
    ['string never closed', `<x>\n  <y v='@("abc' />\n</x>`, ')', `<x>\n  <y v='______' />\n</x>`],
  ];
  it.each(cases)('%s', (_title, xml, closer, text) => {
    const at = xml.indexOf('@');
    const r = liftExpressions(xml);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({
      code: 'XML1002',
      message: `Unterminated policy expression: '${closer}' expected.`,
      span: { start: at, end: at + 2 },
    });
    expect(r.expressions).toEqual([]);
    expect(r.text).toBe(text);
  });
});
