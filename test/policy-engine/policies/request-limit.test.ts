import { describe, expect, it } from 'vitest';
import { compilePolicyDocument } from '../../../policy-engine/pipeline/compile.js';
import { DEFAULT_ENGINE_OPTIONS, PolicyLoadError, type ScopeKind } from '../../../policy-engine/index.js';
import { DEFAULT_FIRST_PERIOD_START, formatTimeSpan, quotaMessage, quotaWindow } from '../../../policy-engine/policies/shared/request-limit.js';

describe('formatTimeSpan (.NET TimeSpan "c" format of whole seconds)', () => {
  it.each([
    [0, '00:00:00'],
    [1, '00:00:01'],
    [59.2, '00:01:00'],
    [3600, '01:00:00'],
    [25_280, '07:01:20'],
    [86_399, '23:59:59'],
    [86_400, '1.00:00:00'],
    [604_800, '7.00:00:00'],
    [20 * 86_400 + 9 * 3600 + 58 * 60 + 55, '20.09:58:55'],
    [11_657, '03:14:17'],
  ])('%s s → %s', (seconds, expected) => {
    expect(formatTimeSpan(seconds)).toBe(expected);
  });

  it('builds the quota messages', () => {
    expect(quotaMessage('calls', 25_280)).toBe('Out of call volume quota. Quota will be replenished in 07:01:20.');
    expect(quotaMessage('bandwidth', 604_800)).toBe('Out of bandwidth quota. Quota will be replenished in 7.00:00:00.');
    expect(quotaMessage('calls', undefined)).toBe('Out of call volume quota.');
  });
});

describe('quotaWindow', () => {
  it('aligns fixed windows to the anchor (default 0001-01-01T00:00:00Z, so hours and Monday-weeks line up)', () => {
    const now = Date.parse('2026-01-01T10:20:00Z');
    expect(quotaWindow(DEFAULT_FIRST_PERIOD_START, 3600, now)).toEqual({ start: Date.parse('2026-01-01T10:00:00Z'), end: Date.parse('2026-01-01T11:00:00Z') });
    expect(quotaWindow(DEFAULT_FIRST_PERIOD_START, 604_800, now).end).toBe(Date.parse('2026-01-05T00:00:00Z')); // a Monday
    const anchor = Date.parse('2026-01-01T00:02:00Z');
    expect(quotaWindow(anchor, 300, now)).toEqual({ start: Date.parse('2026-01-01T10:17:00Z'), end: Date.parse('2026-01-01T10:22:00Z') });
    expect(quotaWindow(anchor, 0, now)).toEqual({ start: anchor, end: Number.POSITIVE_INFINITY });
  });
});

const compile = (xml: string, scope: ScopeKind) =>
  compilePolicyDocument(xml, { scope, name: 'policy.xml', options: DEFAULT_ENGINE_OPTIONS, backendIds: new Set() });

function loadError(xml: string, scope: ScopeKind): PolicyLoadError {
  try {
    compile(xml, scope);
  } catch (error) {
    if (error instanceof PolicyLoadError) return error;
    throw error;
  }
  throw new Error('expected the policy to fail to load');
}

const inbound = (body: string) => `<policies>\n  <inbound>\n    <base />\n    ${body}\n  </inbound>\n</policies>`;

describe('load-time validation of rate-limit, rate-limit-by-key, quota, quota-by-key', () => {
  it.each<[string, string, ScopeKind, string, number, number | string]>([
    ['rate-limit-by-key renewal-period over 300 s (§10.58)', inbound('<rate-limit-by-key calls="1" renewal-period="301" counter-key="k" />'), 'api', 'POL3004', 4, '301"'],
    ['rate-limit-by-key without counter-key', inbound('<rate-limit-by-key calls="1" renewal-period="60" />'), 'api', 'POL3003', 4, 6],
    ['rate-limit-by-key without calls', inbound('<rate-limit-by-key renewal-period="60" counter-key="k" />'), 'api', 'POL3003', 4, 6],
    ['rate-limit-by-key in outbound', '<policies>\n  <outbound>\n    <rate-limit-by-key calls="1" renewal-period="60" counter-key="k" />\n  </outbound>\n</policies>', 'api', 'POL3007', 3, 6],
    ['rate-limit-by-key with an unknown attribute', inbound('<rate-limit-by-key calls="1" renewal-period="60" counter-key="k" increment-after-response="true" />'), 'api', 'POL3005', 4, 'increment-after-response'],
    ['rate-limit calls as an expression', inbound('<rate-limit calls="@(5)" renewal-period="60" />'), 'product', 'POL3006', 4, '@(5)'],
    ['rate-limit renewal-period over 300 s', inbound('<rate-limit calls="5" renewal-period="600" />'), 'api', 'POL3004', 4, '600"'],
    ['rate-limit at global scope', inbound('<rate-limit calls="5" renewal-period="60" />'), 'global', 'POL3018', 4, 6],
    ['rate-limit twice in one definition', inbound('<rate-limit calls="5" renewal-period="60" />\n    <rate-limit calls="5" renewal-period="60" />'), 'product', 'POL3019', 5, 6],
    ['rate-limit <api> without calls', inbound('<rate-limit calls="5" renewal-period="60">\n      <api id="a" renewal-period="60" />\n    </rate-limit>'), 'product', 'POL3003', 5, 8],
    ['rate-limit <api> without name or id', inbound('<rate-limit calls="5" renewal-period="60">\n      <api calls="1" renewal-period="60" />\n    </rate-limit>'), 'product', 'POL3012', 5, 8],
    ['rate-limit <api> renewal-period over 300 s', inbound('<rate-limit calls="5" renewal-period="60">\n      <api id="a" calls="1" renewal-period="301" />\n    </rate-limit>'), 'product', 'POL3004', 5, '301"'],
    ['rate-limit <operation> outside <api>', inbound('<rate-limit calls="5" renewal-period="60">\n      <operation id="o" calls="1" renewal-period="60" />\n    </rate-limit>'), 'product', 'POL3010', 5, 8],
    ['rate-limit <api> with an unknown attribute', inbound('<rate-limit calls="5" renewal-period="60">\n      <api id="a" calls="1" renewal-period="60" bandwidth="3" />\n    </rate-limit>'), 'product', 'POL3005', 5, 'bandwidth'],
    ['quota at API scope', inbound('<quota calls="5" renewal-period="3600" />'), 'api', 'POL3018', 4, 6],
    ['quota without calls or bandwidth', inbound('<quota renewal-period="3600" />'), 'product', 'POL3012', 4, 6],
    ['quota without renewal-period', inbound('<quota calls="5" />'), 'product', 'POL3003', 4, 6],
    ['quota twice in one definition', inbound('<quota calls="5" renewal-period="3600" />\n    <quota calls="5" renewal-period="3600" />'), 'product', 'POL3019', 5, 6],
    ['quota-by-key renewal-period under 300 s (§10.62)', inbound('<quota-by-key calls="5" renewal-period="299" counter-key="k" />'), 'api', 'POL3004', 4, '299"'],
    ['quota-by-key renewal-period as an expression', inbound('<quota-by-key calls="5" renewal-period="@(300)" counter-key="k" />'), 'api', 'POL3006', 4, '@(300)'],
    ['quota-by-key without calls or bandwidth', inbound('<quota-by-key renewal-period="300" counter-key="k" />'), 'api', 'POL3012', 4, 6],
    ['quota-by-key with a malformed first-period-start', inbound('<quota-by-key calls="5" renewal-period="300" counter-key="k" first-period-start="2026-01-01" />'), 'api', 'POL3004', 4, '2026-01-01"'],
  ])('reports %s with its code and line:column', (_what, xml, scope, code, line, at) => {
    // A string names what the diagnostic points at (the value or attribute on that line): its 1-based column.
    const column = typeof at === 'number' ? at : xml.split('\n')[line - 1]!.indexOf(at) + 1;
    expect(column).toBeGreaterThan(0);
    const error = loadError(xml, scope);
    const d = error.toJSON().find((x) => x.severity === 'error')!;
    expect({ code: d.code, line: d.line, column: d.column }).toEqual({ code, line, column });
    expect(error.message).toContain(`policy.xml(${line},${column}): error ${code}`);
  });

  it('accepts the documented forms', () => {
    expect(() => compile(inbound('<quota-by-key calls="5" bandwidth="100" renewal-period="0" counter-key="@(context.Subscription.Id)" first-period-start="2026-01-01T00:00:00Z" increment-condition="@(context.Response.StatusCode == 200)" increment-count="@(2)" />'), 'global')).not.toThrow();
    expect(() => compile(inbound('<quota-by-key bandwidth="100" renewal-period="300" counter-key="k" />'), 'operation')).not.toThrow();
    expect(() => compile(inbound('<rate-limit-by-key calls="@(5)" renewal-period="@(300)" counter-key="k" increment-count="2" />'), 'global')).not.toThrow();
    expect(() => compile(inbound('<rate-limit calls="5" renewal-period="300"><api name="x" calls="1" renewal-period="10"><operation id="y" calls="1" renewal-period="5" /></api></rate-limit>'), 'operation')).not.toThrow();
    expect(() => compile(inbound('<quota calls="5" bandwidth="10" renewal-period="0"><api id="x" bandwidth="1" renewal-period="3600" /></quota>'), 'product')).not.toThrow();
  });

  it('prints the load error with the element underlined', () => {
    const error = loadError(inbound('<quota calls="5" renewal-period="3600" />'), 'api');
    expect(error.message).toBe(
      "policy.xml(4,6): error POL3018: Policy 'quota' is not allowed at api scope; allowed scopes: product.\n    <quota calls=\"5\" renewal-period=\"3600\" />\n     ~~~~~",
    );
  });
});
