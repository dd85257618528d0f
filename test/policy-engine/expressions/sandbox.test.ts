import { afterEach, describe, expect, it } from 'vitest';
import { compileExpression, expressionSource, ExpressionRuntimeError } from '../../../policy-engine/expressions/index.js';
import { fakeContext, NOW } from './fake-context.js';

/**
 * Sandbox-escape attempts: each must end in a C# compile diagnostic (with a position) or a C# runtime exception,
 * never in a JavaScript value (process, a Function, the environment) or a polluted prototype.
 */
const ESCAPES: Array<[string, string]> = [
  ['process', 'process.env'],
  ['require', 'require("fs")'],
  ['globalThis', 'globalThis.process'],
  ['global', 'global.process'],
  ['constructor on a context dictionary', 'context.Variables.constructor'],
  ['constructor.constructor Function', 'context.Request.Headers.constructor.constructor("return process.env")()'],
  ['constructor of a string', '"x".constructor.constructor("return process")()'],
  ['constructor of a number', '(1).constructor'],
  ['__proto__ of context', 'context.__proto__'],
  ['prototype', 'context.Request.prototype'],
  ['__defineGetter__', 'context.Variables.__defineGetter__("x", null)'],
  ['__lookupGetter__', 'context.Request.__lookupGetter__("Body")'],
  ['valueOf', 'context.valueOf()'],
  ['hasOwnProperty', 'context.Request.hasOwnProperty("Body")'],
  ['Function.prototype.call', '((Func<int>)(() => 1)).call(null)'],
  ['bind on a lambda', 'new Func<string>(() => "a").bind(null)'],
  ['apply on a delegate', 'new Func<string>(() => "a").apply(null, null)'],
  ['constructor of a lambda', 'new Func<string>(() => "a").constructor("return process")()'],
  ['constructor of a JObject', 'new JObject().constructor'],
  ['constructor through a JObject from the body', 'context.Request.Body.As<JObject>(preserveContent: true).constructor'],
  ['caller of a delegate', 'new Func<string>(() => "a").caller'],
  ['reflection GetType().GetMethod', '"x".GetType().GetMethod("ToString")'],
  ['reflection Assembly', 'System.Reflection.Assembly.GetExecutingAssembly()'],
  ['Activator', 'Activator.CreateInstance(typeof(string))'],
  ['Environment', 'Environment.GetEnvironmentVariable("PATH")'],
  ['System.IO.File', 'System.IO.File.ReadAllText("/etc/passwd")'],
  ['Process.Start', 'System.Diagnostics.Process.Start("sh")'],
  ['eval', 'eval("1")'],
  ['import', 'import("fs")'],
  ['this', 'this.constructor'],
  ['arguments', 'arguments'],
];

function attempt(code: string): { kind: 'diagnostic'; code: string; start: number } | { kind: 'runtime'; type: string } | { kind: 'value'; value: unknown } {
  const { expression, diagnostics } = compileExpression(expressionSource(code));
  if (diagnostics.some((d) => d.severity === 'error')) {
    const d = diagnostics.find((x) => x.severity === 'error')!;
    return { kind: 'diagnostic', code: d.code, start: d.span.start };
  }
  try {
    return { kind: 'value', value: expression!.evaluate({ context: fakeContext({ requestBody: '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}' }), now: () => NOW }) };
  } catch (e) {
    if (e instanceof ExpressionRuntimeError) return { kind: 'runtime', type: e.exceptionType };
    throw e;
  }
}

describe('expression sandbox: escape attempts fail as C# errors', () => {
  afterEach(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each(ESCAPES)('%s: %s', (_label, code) => {
    const r = attempt(code);
    if (r.kind === 'value') throw new Error(`escaped: ${code} returned ${String(r.value)}`);
    if (r.kind === 'diagnostic') {
      expect(r.code).toMatch(/^EXPR\d{4}$/);
      expect(r.start).toBeGreaterThanOrEqual(0);
    } else {
      expect(r.type).toMatch(/^System\./);
    }
  });

  it('JObject keys named __proto__ / constructor stay keys: no prototype pollution, read back as data', () => {
    const body = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}';
    const code = 'JObject o = context.Request.Body.As<JObject>(preserveContent: true); o["__proto__"]["x"] = "1"; o["constructor"]["prototype"]["y"] = "2"; return o["__proto__"]["polluted"].ToString() + o.Properties().Count() + o.ToString(Newtonsoft.Json.Formatting.None);';
    const { expression, diagnostics } = compileExpression(expressionSource(code, 'block'));
    expect(diagnostics).toEqual([]);
    const out = expression!.evaluate({ context: fakeContext({ requestBody: body }), now: () => NOW });
    expect(out).toBe('yes2{"__proto__":{"polluted":"yes","x":"1"},"constructor":{"prototype":{"polluted":"yes","y":"2"}}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('the constructor member is refused with a C# diagnostic naming the type (not a JavaScript TypeError)', () => {
    const { diagnostics } = compileExpression(expressionSource('context.Variables.constructor'));
    expect(diagnostics[0]).toMatchObject({ code: 'EXPR2015' });
    expect(diagnostics[0]!.message).toBe("'Variables' does not contain a definition for 'constructor'.");
    expect(diagnostics[0]!.span).toEqual({ start: 18, end: 29 });
  });
});
