import { describe, expect, it } from 'vitest';
import { compileExpression, expressionSource } from '../../../policy-engine/expressions/index.js';
import {
  EXPRESSION_REFERENCE_TYPES, EXPRESSION_TYPE_SUPPORT, expressionTypeCounts, expressionTypesMatrix, writtenName,
} from '../../../policy-engine/expressions/reference-types.js';
import { lookupType } from '../../../policy-engine/expressions/runtime/types.js';
import { policySupportMatrix } from '../../../policy-engine/policies/support-matrix.js';

/** `CODE start message` for each load-time diagnostic of an expression. */
function diagnostics(code: string, kind: 'expression' | 'block' = 'expression'): string[] {
  return compileExpression(expressionSource(code, kind)).diagnostics.map((d) => `${d.code} ${d.span.start} ${d.message}`);
}

const REFERENCE = EXPRESSION_REFERENCE_TYPES.map(([type]) => type);
const generic = (type: string) => (/<TKey, TValue>$/.test(type) ? '<string, string>' : /<T>$/.test(type) ? '<string>' : '');

describe('allowed .NET types of the expression reference', () => {
  it('every type of the reference has a status in the table, and the table has nothing else', () => {
    expect(REFERENCE.length).toBeGreaterThanOrEqual(120);
    expect(new Set(REFERENCE).size).toBe(REFERENCE.length);
    const missing = REFERENCE.filter((t) => !EXPRESSION_TYPE_SUPPORT[t]);
    expect(missing, 'add these reference types to EXPRESSION_TYPE_SUPPORT in policy-engine/expressions/reference-types.ts').toEqual([]);
    const extra = Object.keys(EXPRESSION_TYPE_SUPPORT).filter((t) => !REFERENCE.includes(t));
    expect(extra, 'not in the reference list').toEqual([]);
    for (const type of REFERENCE) {
      const s = EXPRESSION_TYPE_SUPPORT[type]!;
      if (s.status !== 'supported') expect(s.note, `${type}: a ${s.status} type says what is emulated or why not`).toBeTruthy();
    }
    const c = expressionTypeCounts();
    expect(c.supported + c.partial + c['not emulated']).toBe(c.total);
  });

  it('types marked supported or partial are known to the compiler by the name code writes', () => {
    const unknown = REFERENCE.filter((t) => EXPRESSION_TYPE_SUPPORT[t]!.status !== 'not emulated' && writtenName(t) !== undefined)
      .filter((t) => {
        const entry = lookupType(writtenName(t)!);
        return !entry || entry.kind === 'unsupported';
      });
    expect(unknown).toEqual([]);
  });

  it('every type marked not emulated is refused at load with EXPR2010 naming it, at its position (short and qualified names)', () => {
    const notEmulated = REFERENCE.filter((t) => EXPRESSION_TYPE_SUPPORT[t]!.status === 'not emulated' && writtenName(t) !== undefined);
    expect(notEmulated.length).toBeGreaterThan(20);
    for (const type of notEmulated) {
      const short = writtenName(type)!;
      expect(diagnostics(`(${short}${generic(type)})context.Variables["x"]`), type).toEqual([`EXPR2010 1 The type '${short}' is not supported by the emulator in policy expressions.`]);
      const qualified = type.replace(/<.*$/, '');
      if (!generic(type)) {
        expect(diagnostics(`${qualified}.Create()`), type).toEqual([`EXPR2010 0 The type '${qualified}' is not supported by the emulator in policy expressions.`]);
      }
    }
  });

  it('members the emulator lacks on emulated types are refused at load with the type, member and position', () => {
    expect(diagnostics('Regex.CacheSize')).toEqual(["EXPR2015 6 'Regex' does not contain a definition for 'CacheSize'."]);
    expect(diagnostics('Regex.CompileToAssembly(null, null)')).toEqual(["EXPR2015 6 'Regex' does not contain a definition for 'CompileToAssembly'."]);
    expect(diagnostics('System.Convert.ToBase64CharArray(null, 0, 0, null, 0)')).toEqual(["EXPR2015 15 'System.Convert' does not contain a definition for 'ToBase64CharArray'."]);
    expect(diagnostics('var a = new int[1]; Array.Resize(ref a, 2); return a.Length;', 'block')).toEqual([
      "EXPR2015 26 'Array' does not contain a definition for 'Resize'.",
      "EXPR2010 33 'ref' arguments is not supported by the emulator in policy expressions.",
    ]);
    expect(diagnostics('Enum.Parse(typeof(DayOfWeek), "Monday")')).toEqual([
      "EXPR2015 5 'Enum' does not contain a definition for 'Parse'.",
      "EXPR2010 11 'typeof' is not supported by the emulator in policy expressions.",
    ]);
    expect(diagnostics('new XElement("a")')).toEqual(["EXPR2010 4 Creating instances of 'XElement' is not supported by the emulator in policy expressions."]);
    expect(diagnostics('context.Request.Certificate.VerifyNoRevocation()')).toEqual(["EXPR2010 28 The APIM extension method 'VerifyNoRevocation' is not supported by the emulator in policy expressions."]);
  });

  it('types outside the reference list are unknown (EXPR2014), as APIM refuses them', () => {
    expect(diagnostics('XmlDocument d = null; return 1;', 'block')).toEqual(["EXPR2014 0 The type or namespace name 'XmlDocument' could not be found."]);
    expect(diagnostics('new System.Net.Http.HttpClient()')).toEqual(["EXPR2014 4 The type or namespace name 'System.Net.Http.HttpClient' could not be found."]);
  });

  it('the generated support matrix lists every reference type with its status', () => {
    const table = expressionTypesMatrix().join('\n');
    const matrix = policySupportMatrix();
    for (const [type] of EXPRESSION_REFERENCE_TYPES) {
      expect(table).toContain(`| \`${type}\` |`);
      expect(matrix).toContain(`| \`${type}\` |`);
    }
  });
});
