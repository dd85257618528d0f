import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePolicyDocument } from '../../../policy-engine/pipeline/compile.js';
import { DEFAULT_ENGINE_OPTIONS, PolicyLoadError, type ScopeKind } from '../../../policy-engine/index.js';
import { TOKEN_METRICS_EMITTING_POLICY, TOKEN_RATE_LIMITING_POLICY } from '../../../emulator/config/presets.js';

const compile = (xml: string, opts: { scope?: ScopeKind; strict?: boolean } = {}) =>
  compilePolicyDocument(xml, {
    scope: opts.scope ?? 'api',
    name: 'api.xml',
    placeholders: { '{backend-id}': 'foundry1' },
    options: { ...DEFAULT_ENGINE_OPTIONS, strict: opts.strict ?? true },
    backendIds: new Set(['foundry1']),
  });

function loadError(xml: string, opts: { scope?: ScopeKind; strict?: boolean } = {}): PolicyLoadError {
  try {
    compile(xml, opts);
  } catch (error) {
    if (error instanceof PolicyLoadError) return error;
    throw error;
  }
  throw new Error('expected the policy to fail to load');
}

const inbound = (body: string) => `<policies>\n  <inbound>\n    <base />\n    ${body}\n  </inbound>\n</policies>`;

describe('compilePolicyDocument', () => {
  it('loads both seed lab policies, whose @(…) values hold raw double quotes', () => {
    for (const xml of [TOKEN_RATE_LIMITING_POLICY, TOKEN_METRICS_EMITTING_POLICY]) {
      const doc = compile(xml);
      expect(doc.sections.inbound?.length).toBe(3);
    }
  });

  it('loads the lab fixture files in test/fixtures/policies as well', () => {
    for (const file of ['token-rate-limiting.xml', 'token-metrics-emitting.xml']) {
      const xml = readFileSync(new URL(`../../fixtures/policies/${file}`, import.meta.url), 'utf8');
      expect(() => compile(xml)).not.toThrow();
    }
  });

  it.each([
    ['malformed XML', '<policies>\n  <inbound>\n    <base />\n  </inbound>\n</polices>', 'XML1001', 5, 1],
    ['an unknown policy', inbound('<rate-limit-by-nothing calls="1" />'), 'POL3001', 4, 6],
    ['a missing required attribute', inbound('<llm-token-limit counter-key="k" tokens-per-minute="10" />'), 'POL3003', 4, 6],
    ['an expression where none is allowed', inbound('<llm-token-limit counter-key="k" tokens-per-minute="@(100)" estimate-prompt-tokens="false" />'), 'POL3006', 4, 57],
    ['a quota without its period', inbound('<llm-token-limit counter-key="k" token-quota="100" estimate-prompt-tokens="false" />'), 'POL3012', 4, 6],
    ['neither TPM nor quota', inbound('<llm-token-limit counter-key="k" estimate-prompt-tokens="false" />'), 'POL3012', 4, 6],
    ['an unknown quota period', inbound('<llm-token-limit counter-key="k" token-quota="1" token-quota-period="Fortnightly" estimate-prompt-tokens="false" />'), 'POL3004', 4, 74],
    ['an unknown attribute', inbound('<llm-token-limit counter-key="k" tokens-per-minute="1" estimate-prompt-tokens="false" consumed-tokens="x" />'), 'POL3005', 4, 91],
    ['a policy in the wrong section', '<policies>\n  <outbound>\n    <llm-token-limit counter-key="k" tokens-per-minute="1" estimate-prompt-tokens="false" />\n  </outbound>\n</policies>', 'POL3007', 3, 6],
    ['an unknown backend', inbound('<set-backend-service backend-id="nope" />'), 'POL3016', 4, 38],
    ['an unknown section', '<policies>\n  <inbund />\n</policies>', 'POL3008', 2, 4],
  ])('reports %s with its code and line:column', (_what, xml, code, line, column) => {
    const error = loadError(xml);
    const d = error.toJSON().find((x) => x.severity === 'error')!;
    expect({ code: d.code, line: d.line, column: d.column }).toEqual({ code, line, column });
    expect(error.message).toContain(`api.xml(${line},${column}): error ${code}`);
  });

  it('names the policy and attribute in the message', () => {
    const error = loadError(inbound('<llm-token-limit counter-key="k" tokens-per-minute="10" />'));
    expect(error.message).toContain("Policy 'llm-token-limit' requires attribute 'estimate-prompt-tokens'.");
  });

  it('reports a bad expression at load with a position inside the policy file', () => {
    const error = loadError(inbound('<set-variable name="x" value="@(context.Request.Headers.GetValueOrDefault(&quot;a&quot;,))" />'));
    expect(error.toJSON()[0]).toMatchObject({ code: 'EXPR2001', message: 'Argument expected.', line: 4, column: 93 });
    const unknown = loadError(inbound('<set-variable name="x" value="@(contxt.Api.Id)" />'));
    expect(unknown.toJSON()[0]).toMatchObject({ code: 'EXPR2011', line: 4, column: 37 });
  });

  it('counts forward-request nested in retry towards the one allowed per document', () => {
    const xml = '<policies><backend><retry condition="@(false)" count="1" interval="0"><forward-request /></retry><forward-request /></backend></policies>';
    expect(loadError(xml).toJSON()[0]!.code).toBe('POL3015');
  });

  it('reports every problem of a document in one load', () => {
    const error = loadError(inbound('<nope-one />\n    <nope-two />'));
    expect(error.toJSON().map((d) => d.code)).toEqual(['POL3001', 'POL3001']);
  });

  it('--loose skips unknown policies with a warning', () => {
    const doc = compile(inbound('<my-custom-policy url="http://proxy.example:8080" />'), { strict: false });
    expect(doc.diagnostics.map((d) => [d.code, d.severity])).toEqual([['POL3002', 'warning']]);
    expect(doc.sections.inbound).toHaveLength(1); // just <base/>
  });

  it("a reference policy that is not emulated says why, refused (POL3001) or skipped with --loose (POL3002)", () => {
    const refused = loadError(inbound('<validate-graphql-request />')).toJSON()[0]!;
    expect(refused).toMatchObject({ code: 'POL3001', message: "Policy 'validate-graphql-request' is not emulated: GraphQL APIs are not emulated. Run with --loose to skip it with a warning." });
    const doc = compile(inbound('<validate-graphql-request />'), { strict: false });
    expect(doc.diagnostics.map((d) => [d.code, d.severity, d.message])).toEqual([['POL3002', 'warning', "Policy 'validate-graphql-request' is not emulated (GraphQL APIs are not emulated) and was skipped (--loose)."]]);
  });

  it('limits metric dimensions to five and requires values for non-default dimensions', () => {
    const dims = (n: number) => Array.from({ length: n }, (_, i) => `<dimension name="d${i}" value="v" />`).join('');
    expect(() => compile(inbound(`<llm-emit-token-metric>${dims(5)}</llm-emit-token-metric>`))).not.toThrow();
    const tooMany = loadError(inbound(`<llm-emit-token-metric>${dims(6)}</llm-emit-token-metric>`));
    expect(tooMany.toJSON()[0]).toMatchObject({ code: 'POL3013' });
    expect(tooMany.message).toContain('has 6 custom dimensions; at most 5 are allowed');
    expect(loadError(inbound('<llm-emit-token-metric><dimension name="Client IP" /></llm-emit-token-metric>')).toJSON()[0]!.code).toBe('POL3017');
    expect(() => compile(inbound('<llm-emit-token-metric><dimension name="API ID" /></llm-emit-token-metric>'))).not.toThrow();
    expect(loadError(inbound('<llm-emit-token-metric namespace="x" />')).toJSON()[0]!.code).toBe('POL3011');
  });
});
