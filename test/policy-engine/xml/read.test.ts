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
