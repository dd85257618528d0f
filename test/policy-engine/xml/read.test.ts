import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Span } from '../../../policy-engine/diagnostics.js';
import { readPolicyXml, type PolicyElement } from '../../../policy-engine/xml/index.js';

const FIXTURES = new URL('../../fixtures/policies/', import.meta.url);
const LAB = { placeholders: { '{backend-id}': 'foundry1' } };

function fixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

function slice(text: string, span: Span): string {
  return text.slice(span.start, span.end);
}

function find(root: PolicyElement, name: string): PolicyElement[] {
  const out: PolicyElement[] = [];
  const walk = (e: PolicyElement): void => {
    if (e.name === name) out.push(e);
    e.children.forEach(walk);
  };
  walk(root);
  return out;
}

describe('readPolicyXml: seed lab policies', () => {
  it('reads token-metrics-emitting with raw quotes inside @(…)', () => {
    const text = fixture('token-metrics-emitting.xml');
    const doc = readPolicyXml(text, { ...LAB, name: 'token-metrics-emitting.xml' });
    expect(doc.diagnostics).toEqual([]);
    const root = doc.root!;
    expect(root.name).toBe('policies');
    expect(root.children.map((c) => c.name)).toEqual(['inbound', 'backend', 'outbound', 'on-error']);
    expect(root.children[0]!.children.map((c) => c.name)).toEqual(['base', 'set-backend-service', 'azure-openai-emit-token-metric']);
    const backend = find(root, 'set-backend-service')[0]!;
    expect(backend.attributes[0]).toMatchObject({ name: 'backend-id', value: 'foundry1' });
    expect(slice(text, backend.attributes[0]!.valueSpan)).toBe('{backend-id}');
    const dims = find(root, 'dimension');
    expect(dims.map((d) => d.attributes.map((a) => a.name))).toEqual(Array(4).fill(['name', 'value']));
    expect(dims.map((d) => d.attributes[1]!.expression?.code)).toEqual([
      'context.Subscription.Id',
      'context.Request.IpAddress',
      'context.Api.Id',
      'context.Request.Headers.GetValueOrDefault("x-user-id", "N/A")',
    ]);
    const user = dims[3]!.attributes[1]!;
    expect(user.value).toBe('@(context.Request.Headers.GetValueOrDefault("x-user-id", "N/A"))');
    expect(slice(text, user.valueSpan)).toBe(user.value);
    expect(slice(text, user.expression!.span)).toBe(user.value);
    const code = user.expression!.code;
    expect(text[user.expression!.positionOf(code.indexOf('"N/A"'))]).toBe('"');
    expect(text.slice(user.expression!.positionOf(code.indexOf('N/A')), user.expression!.positionOf(code.indexOf('N/A')) + 3)).toBe('N/A');
    expect(slice(text, dims[3]!.span)).toBe(`<dimension name="User ID" value="${user.value}" />`);
    expect(slice(text, dims[3]!.nameSpan)).toBe('dimension');
    const inbound = root.children[0]!;
    expect(slice(text, inbound.span).startsWith('<inbound>')).toBe(true);
    expect(slice(text, inbound.span).endsWith('</inbound>')).toBe(true);
    expect(slice(text, root.span)).toBe(text.trimEnd());
  });

  it('reads token-rate-limiting with a multi-line start tag', () => {
    const text = fixture('token-rate-limiting.xml');
    const doc = readPolicyXml(text, LAB);
    expect(doc.diagnostics).toEqual([]);
    const limit = find(doc.root!, 'llm-token-limit')[0]!;
    expect(limit.attributes.map((a) => [a.name, a.value])).toEqual([
      ['counter-key', '@(context.Subscription.Id)'],
      ['tokens-per-minute', '100'],
      ['estimate-prompt-tokens', 'false'],
      ['remaining-tokens-variable-name', 'remainingTokens'],
    ]);
    expect(limit.attributes[0]!.expression).toMatchObject({ kind: 'expression', code: 'context.Subscription.Id' });
    expect(limit.attributes.slice(1).every((a) => a.expression === undefined)).toBe(true);
    expect(limit.text).toBeUndefined();
    expect(doc.source.lineAndColumn(limit.attributes[1]!.nameSpan.start)).toEqual({ line: 6, column: 13 });
    expect(slice(text, limit.span).endsWith('</llm-token-limit>')).toBe(true);
  });
});

describe('readPolicyXml: expressions in attributes and text', () => {
  it('reads the &quot; form, single-quoted attributes and raw && / < in one document', () => {
    const text = [
      '<policies>',
      '  <inbound>',
      '    <choose>',
      `      <when condition='@((string)context.Product?.Id == "gold")'>`,
      '        <set-variable name="tier" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-tier&quot;, &quot;N/A&quot;))" />',
      '      </when>',
      '      <when condition="@(context.Response.StatusCode < 500 && context.Response.StatusCode >= 400)" />',
      '    </choose>',
      '  </inbound>',
      '</policies>',
    ].join('\n');
    const doc = readPolicyXml(text);
    expect(doc.diagnostics).toEqual([]);
    const [gold, client] = find(doc.root!, 'when');
    const cond = gold!.attributes[0]!;
    expect(cond.expression!.code).toBe('(string)context.Product?.Id == "gold"');
    expect(slice(text, cond.valueSpan)).toBe(`@((string)context.Product?.Id == "gold")`);
    expect(doc.source.lineAndColumn(cond.valueSpan.start)).toEqual({ line: 4, column: 24 });
    const tier = find(doc.root!, 'set-variable')[0]!.attributes[1]!;
    expect(tier.expression!.code).toBe('context.Request.Headers.GetValueOrDefault("x-tier", "N/A")');
    expect(tier.value).toBe('@(context.Request.Headers.GetValueOrDefault(&quot;x-tier&quot;, &quot;N/A&quot;))');
    const na = tier.expression!.positionOf(tier.expression!.code.indexOf('N/A'));
    expect(text.slice(na, na + 3)).toBe('N/A');
    expect(doc.source.lineAndColumn(na)).toEqual({ line: 5, column: 112 });
    expect(client!.attributes[0]!.expression!.code).toBe('context.Response.StatusCode < 500 && context.Response.StatusCode >= 400');
    expect(client!.children).toEqual([]);
  });

  it('reads @{ … } blocks in element text, with a raw < and strings holding } and )', () => {
    const text = [
      '<policies>',
      '  <outbound>',
      '    <set-body>@{',
      '      var x = "}";',
      '      var y = context.Response.Body.As<JObject>(preserveContent: true);',
      '      return x + ")" + (y.Count < 3 ? "few" : "many");',
      '    }</set-body>',
      '  </outbound>',
      '</policies>',
    ].join('\n');
    const doc = readPolicyXml(text);
    expect(doc.diagnostics).toEqual([]);
    const body = find(doc.root!, 'set-body')[0]!;
    expect(body.children).toEqual([]);
    const t = body.text!;
    expect(t.expression!.kind).toBe('block');
    expect(t.value).toBe(text.slice(text.indexOf('@{'), text.indexOf('}</set-body>') + 1));
    expect(t.expression!.code).toBe(t.value.slice(2, -1));
    expect(t.span).toEqual(t.expression!.span);
    const ret = t.expression!.positionOf(t.expression!.code.indexOf('return'));
    expect(doc.source.lineAndColumn(ret)).toEqual({ line: 6, column: 7 });
  });

  it('reads interpolated strings with nested holes', () => {
    const text = `<policies><inbound><set-header name="x" exists-action="override"><value>@($"[\\"{context.Variables.GetValueOrDefault<string>("client_id")}\\"] {(ok ? "}" : "{")}")</value></set-header></inbound></policies>`;
    const doc = readPolicyXml(text);
    expect(doc.diagnostics).toEqual([]);
    const value = find(doc.root!, 'value')[0]!;
    expect(value.text!.expression!.code).toBe(`$"[\\"{context.Variables.GetValueOrDefault<string>("client_id")}\\"] {(ok ? "}" : "{")}"`);
  });

  it('keeps plain values plain: entity-decoded attributes and untrimmed text', () => {
    const text = [
      '<policies>',
      '  <inbound>',
      '    <!-- comments are not part of the model -->',
      `    <set-header name="x-a&amp;b" exists-action='override' id="&#65;&#x42;"><value>&lt;c&gt; &quot;d&quot; &apos;e&apos; &unknown; mail@example.com</value></set-header>`,
      '    <set-body>  line one',
      '  line two  </set-body>',
      '    <set-body><![CDATA[<raw> & "text" @(not decoded]]></set-body>',
      '    <set-body>before<!-- c -->after</set-body>',
      '    <set-body>Bearer @(token)</set-body>',
      '  </inbound>',
      '</policies>',
    ].join('\n');
    const doc = readPolicyXml(text);
    expect(doc.diagnostics).toEqual([]);
    const inbound = doc.root!.children[0]!;
    expect(inbound.text).toBeUndefined();
    expect(inbound.children.map((c) => c.name)).toEqual(['set-header', 'set-body', 'set-body', 'set-body', 'set-body']);
    const header = inbound.children[0]!;
    expect(header.attributes.map((a) => [a.name, a.value])).toEqual([
      ['name', 'x-a&b'],
      ['exists-action', 'override'],
      ['id', 'AB'],
    ]);
    expect(header.attributes.every((a) => a.expression === undefined)).toBe(true);
    expect(slice(text, header.attributes[0]!.valueSpan)).toBe('x-a&amp;b');
    expect(slice(text, header.attributes[1]!.nameSpan)).toBe('exists-action');
    const value = header.children[0]!;
    expect(value.text!.value).toBe(`<c> "d" 'e' &unknown; mail@example.com`);
    expect(value.text!.expression).toBeUndefined();
    const [multi, cdata, split, mixed] = inbound.children.slice(1);
    expect(multi!.text!.value).toBe('  line one\n  line two  ');
    expect(slice(text, multi!.text!.span)).toBe('  line one\n  line two  ');
    expect(cdata!.text!.value).toBe('<raw> & "text" @(not decoded');
    expect(slice(text, cdata!.text!.span)).toBe('<raw> & "text" @(not decoded');
    expect(split!.text!.value).toBe('beforeafter');
    expect(slice(text, split!.text!.span)).toBe('before<!-- c -->after');
    expect(mixed!.text).toMatchObject({ value: 'Bearer @(token)' });
    expect(mixed!.text!.expression).toBeUndefined();
  });

  it('treats a CDATA section holding one whole expression as an expression', () => {
    const text = '<policies><outbound><set-body><![CDATA[@{ return "<b>&amp;</b>"; }]]></set-body></outbound></policies>';
    const body = find(readPolicyXml(text).root!, 'set-body')[0]!;
    expect(body.text!.expression).toMatchObject({ kind: 'block', code: ' return "<b>&amp;</b>"; ' });
    expect(slice(text, body.text!.span)).toBe('@{ return "<b>&amp;</b>"; }');
  });

  it('accepts <fragment> as the root, an XML declaration and a byte order mark', () => {
    const text = '\uFEFF<?xml version="1.0" encoding="utf-8"?>\n<fragment>\n  <set-variable name="a" value="1" />\n</fragment>\n';
    const doc = readPolicyXml(text);
    expect(doc.diagnostics).toEqual([]);
    expect(doc.root!.name).toBe('fragment');
    expect(slice(text, doc.root!.children[0]!.nameSpan)).toBe('set-variable');
  });
});

describe('readPolicyXml: named values and placeholders', () => {
  const text = [
    '<policies>',
    '  <inbound>',
    '    <llm-token-limit counter-key="@("{{Key-Prefix}}" + context.Subscription.Id)" tokens-per-minute="{{TIER-tpm}}" />',
    '    <set-header name="x-env" exists-action="override"><value>{{Multi}}</value></set-header>',
    '    <set-backend-service backend-id="{backend-id}" />',
    '  </inbound>',
    '</policies>',
  ].join('\n');
  const doc = readPolicyXml(text, {
    namedValues: { 'key-prefix': 'tenant-a', 'Tier-TPM': '500', multi: 'line1\nline2\nline3' },
    placeholders: { '{backend-id}': 'foundry1' },
  });

  it('substitutes case-insensitively inside and outside expressions', () => {
    expect(doc.diagnostics).toEqual([]);
    const limit = find(doc.root!, 'llm-token-limit')[0]!;
    const key = limit.attributes[0]!;
    expect(key.expression!.code).toBe('"tenant-a" + context.Subscription.Id');
    expect(key.value).toBe('@("{{Key-Prefix}}" + context.Subscription.Id)');
    expect(slice(text, key.valueSpan)).toBe(key.value);
    expect(limit.attributes[1]).toMatchObject({ name: 'tokens-per-minute', value: '500' });
    expect(slice(text, limit.attributes[1]!.valueSpan)).toBe('{{TIER-tpm}}');
    expect(find(doc.root!, 'value')[0]!.text!.value).toBe('line1\nline2\nline3');
    expect(find(doc.root!, 'set-backend-service')[0]!.attributes[0]!.value).toBe('foundry1');
  });

  it('maps positions inside a substituted value to the start of its {{…}}, and after it exactly', () => {
    const key = find(doc.root!, 'llm-token-limit')[0]!.attributes[0]!.expression!;
    const ref = text.indexOf('{{Key-Prefix}}');
    expect(key.positionOf(key.code.indexOf('tenant-a'))).toBe(ref);
    expect(key.positionOf(key.code.indexOf('a"'))).toBe(ref);
    const ctx = key.positionOf(key.code.indexOf('context'));
    expect(text.slice(ctx, ctx + 7)).toBe('context');
    const value = find(doc.root!, 'value')[0]!.text!;
    expect(slice(text, value.span)).toBe('{{Multi}}');
  });

  it('keeps spans after a multi-line substitution on the original lines', () => {
    const backend = find(doc.root!, 'set-backend-service')[0]!;
    expect(doc.source.lineAndColumn(backend.span.start)).toEqual({ line: 5, column: 5 });
    expect(slice(text, backend.span)).toBe('<set-backend-service backend-id="{backend-id}" />');
    const header = find(doc.root!, 'set-header')[0]!;
    expect(slice(text, header.span)).toBe(
      '<set-header name="x-env" exists-action="override"><value>{{Multi}}</value></set-header>',
    );
  });

  it('reports errors after a multi-line substitution at their original line and column', () => {
    const bad = '<policies>\n  <inbound>{{multi}}\n    <base/>\n  </inbund>\n</policies>';
    const d = readPolicyXml(bad, { namedValues: { multi: '\n\n\n' } });
    expect(d.diagnostics).toHaveLength(1);
    const pos = d.source.lineAndColumn(d.diagnostics[0]!.span.start);
    expect([d.diagnostics[0]!.code, pos.line, pos.column]).toEqual(['XML1001', 4, 3]);
    expect(d.diagnostics[0]!.message).toContain('(opened in line 2, col 3)');
    expect(d.diagnostics[0]!.related![0]!.span.start).toBe(bad.indexOf('<inbound>'));
  });

  it('does not substitute inside substituted values', () => {
    const d = readPolicyXml('<policies><inbound><value>{{a}}</value></inbound></policies>', { namedValues: { a: '{{b}}', b: 'no' } });
    expect(d.diagnostics).toEqual([]);
    expect(find(d.root!, 'value')[0]!.text!.value).toBe('{{b}}');
  });
});

describe('readPolicyXml: bad input', () => {
  const cases: Array<[string, string, string, number, number]> = [
    ['unclosed tag', '<policies>\n  <inbound>\n    <base />\n</policies>', 'XML1001', 4, 1],
    ['unclosed tag at end of input', '<policies>\n  <inbound>\n', 'XML1001', 2, 3],
    ['mismatched tag', '<policies>\n  <inbound>\n  </outbound>\n</policies>', 'XML1001', 3, 3],
    ['unterminated @(', '<policies>\n  <inbound>\n    <x v="@(a.B(1)" />\n  </inbound>\n</policies>', 'XML1002', 3, 11],
    ['unterminated @{', '<policies>\n  <inbound>\n    <set-body>@{ return (1; }</set-body>\n  </inbound>\n</policies>', 'XML1002', 3, 15],
    ['unknown named value', '<policies>\n  <inbound>\n    <x v="{{nope}}" />\n  </inbound>\n</policies>', 'XML1003', 3, 11],
    ['wrong root', '<inbound>\n  <base />\n</inbound>', 'XML1004', 1, 2],
    ['empty document', '', 'XML1005', 1, 1],
    ['whitespace and a comment only', '\n  <!-- -->\n', 'XML1005', 1, 1],
    ['unterminated named value', '<policies>\n  <x v="{{nope" />\n</policies>', 'XML1006', 2, 9],
    ['text outside the root', '<policies />\ntrailing', 'XML1001', 2, 1],
    ['second root element', '<policies />\n<x/>', 'XML1001', 2, 1],
  ];
  it.each(cases)('%s → %s at %i:%i', (_title, text, code, line, column) => {
    const doc = readPolicyXml(text, { name: 'bad.xml' });
    expect(doc.diagnostics).toHaveLength(1);
    const d = doc.diagnostics[0]!;
    expect(d.code).toBe(code);
    expect(d.severity).toBe('error');
    expect(d.source).toBe('bad.xml');
    expect(doc.source.lineAndColumn(d.span.start)).toEqual({ line, column });
  });

  it('reports nesting beyond the parser limit at the first element past it', () => {
    const text = `<policies>${'<a>'.repeat(120)}${'</a>'.repeat(120)}</policies>`;
    const doc = readPolicyXml(text);
    expect(doc.root).toBeUndefined();
    expect(doc.diagnostics).toHaveLength(1);
    expect(doc.diagnostics[0]!.code).toBe('XML1001');
    expect(doc.diagnostics[0]!.span.start).toBe('<policies>'.length + 99 * 3);
  });

  it('reports names the XML parser refuses (prototype pollution guard) at the name', () => {
    const text = '<policies>\n  <x constructor="1" />\n</policies>';
    const doc = readPolicyXml(text);
    expect(doc.root).toBeUndefined();
    expect(doc.diagnostics.map((d) => [d.code, slice(text, d.span)])).toEqual([['XML1001', 'constructor']]);
  });

    it('never throws, whatever the input', () => {
    const inputs = ['<', '<<', '</', '<policies', '<policies a', '<policies a=', '<policies a="', '&', '@(', '<policies>@{', '<![CDATA[', '<?', '<!', '{{', '{{a', "<policies a='@(\"'/>", '\uFEFF', '<a><b></a></b>', '<policies><a/></policies><!--'];
    for (const text of inputs) {
      const doc = readPolicyXml(text);
      expect(doc.diagnostics.some((d) => d.severity === 'error'), JSON.stringify(text)).toBe(true);
      for (const d of doc.diagnostics) {
        expect(d.span.start).toBeGreaterThanOrEqual(0);
        expect(d.span.end).toBeLessThanOrEqual(text.length);
        expect(d.span.end).toBeGreaterThanOrEqual(d.span.start);
      }
    }
  });
});
