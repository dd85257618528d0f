import { describe, expect, it } from 'vitest';
import { compileExpression, expressionSource, ExpressionRuntimeError } from '../../../policy-engine/expressions/index.js';
import { fakeContext, NOW } from './fake-context.js';

/** [code, kind, .NET exception type, message]. */
const CASES: Array<[string, 'expression' | 'block', string, string]> = [
  ['context.User.Email', 'expression', 'System.NullReferenceException', 'Object reference not set to an instance of an object.'],
  ['((string)null).Length', 'expression', 'System.NullReferenceException', 'Object reference not set to an instance of an object.'],
  ['context.Variables["missing"]', 'expression', 'System.Collections.Generic.KeyNotFoundException', "The given key 'missing' was not present in the dictionary."],
  ['context.Request.Headers["missing"]', 'expression', 'System.Collections.Generic.KeyNotFoundException', "The given key 'missing' was not present in the dictionary."],
  ['context.Request.MatchedParameters["nope"]', 'expression', 'System.Collections.Generic.KeyNotFoundException', "The given key 'nope' was not present in the dictionary."],
  ['int.Parse("abc")', 'expression', 'System.FormatException', 'Input string was not in a correct format.'],
  ['Convert.ToInt32("1.5")', 'expression', 'System.FormatException', 'Input string was not in a correct format.'],
  ['int.Parse("99999999999")', 'expression', 'System.OverflowException', 'Value was either too large or too small for an Int32.'],
  ['(int)context.Variables["model"]', 'expression', 'System.InvalidCastException', "Unable to cast object of type 'System.String' to type 'System.Int32'."],
  ['(string)context.Variables["backendIndex"]', 'expression', 'System.InvalidCastException', "Unable to cast object of type 'System.Int32' to type 'System.String'."],
  ['(bool)context.Variables["generate_403_response"]', 'expression', 'System.InvalidCastException', "Unable to cast object of type 'System.String' to type 'System.Boolean'."],
  ['(JObject)context.Variables["listBackends"]', 'expression', 'System.InvalidCastException', "Unable to cast object of type 'Newtonsoft.Json.Linq.JArray' to type 'Newtonsoft.Json.Linq.JObject'."],
  ['context.Variables.GetValueOrDefault<bool>("generate_403_response")', 'expression', 'System.InvalidCastException', "Unable to cast object of type 'System.String' to type 'System.Boolean'."],
  ['(int)JObject.Parse("{\\"a\\":{}}")["a"]', 'expression', 'System.ArgumentException', 'Can not convert Object to Int32.'],
  ['1 / 0', 'expression', 'System.DivideByZeroException', 'Attempted to divide by zero.'],
  ['new[] { 1 }[3]', 'expression', 'System.IndexOutOfRangeException', 'Index was outside the bounds of the array.'],
  ['"abc".Substring(5)', 'expression', 'System.ArgumentOutOfRangeException', 'startIndex cannot be larger than length of string.\r\nParameter name: startIndex'],
  ['new List<int>()[0]', 'expression', 'System.ArgumentOutOfRangeException', 'Index was out of range. Must be non-negative and less than the size of the collection.\r\nParameter name: index'],
  ['new int[0].First()', 'expression', 'System.InvalidOperationException', 'Sequence contains no elements'],
  ['new[] { 1 }.First(x => x > 1)', 'expression', 'System.InvalidOperationException', 'Sequence contains no matching element'],
  ['JObject.Parse("not json")', 'expression', 'Newtonsoft.Json.JsonReaderException', "Unexpected character encountered while parsing value: n. Path '', line 1, position 1."],
  ['JObject.Parse("[1]")', 'expression', 'Newtonsoft.Json.JsonReaderException', "Error reading JObject from JsonReader. Current JsonReader item is not an object: StartArray. Path '', line 1, position 1."],
  ['JObject.Parse("{\\"a\\":1,}x")', 'expression', 'Newtonsoft.Json.JsonReaderException', "Additional text encountered after finished reading JSON content: x. Path 'a', line 1, position 9."],
  ['Convert.FromBase64String("***")', 'expression', 'System.FormatException', 'The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.'],
  ['new Dictionary<string, int> { { "a", 1 }, { "a", 2 } }', 'expression', 'System.ArgumentException', 'An item with the same key has already been added. Key: a'],
  ['context.Subscription.Key.Frob()', 'expression', 'System.MissingMemberException', "'System.String' does not contain a definition for 'Frob'."],
  ['context.Subscription.Id.Length.Foo', 'expression', 'System.MissingMemberException', "'System.Int32' does not contain a definition for 'Foo'."],
  ['context.Variables["x"] = 1', 'expression', 'System.InvalidOperationException', "Property or indexer 'System.Collections.Generic.IReadOnlyDictionary`2[System.String,System.Object].this[]' cannot be assigned to -- it is read only"],
  ['!context.Variables["model"]', 'expression', 'System.InvalidCastException', "Unable to cast object of type 'System.String' to type 'System.Boolean'."],
  ['throw new Exception("custom failure");', 'block', 'System.Exception', 'custom failure'],
  ['throw new ArgumentException("bad arg");', 'block', 'System.ArgumentException', 'bad arg'],
  ['try { throw new FormatException("f"); } catch (ArgumentException) { return 1; }', 'block', 'System.FormatException', 'f'],
  ['try { int.Parse("x"); return 0; } catch (FormatException) { throw; }', 'block', 'System.FormatException', 'Input string was not in a correct format.'],
  ['while (true) { }', 'block', 'System.InvalidOperationException', 'The emulator stopped a loop after 10000000 iterations.'],
  ['Regex.IsMatch("a", "(")', 'expression', 'System.ArgumentException', 'parsing "(" - Unterminated group'],
  ['if (context.Variables["model"]) { return 1; } return 2;', 'block', 'System.InvalidCastException', "Unable to cast object of type 'System.String' to type 'System.Boolean'."],
];

describe('runtime exceptions', () => {
  it.each(CASES)('%s', (code, kind, type, message) => {
    const { expression, diagnostics } = compileExpression(expressionSource(code, kind));
    expect(diagnostics).toEqual([]);
    let caught: unknown;
    try {
      expression!.evaluate({ context: fakeContext(), now: () => NOW });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ExpressionRuntimeError);
    const err = caught as ExpressionRuntimeError;
    expect(err.exceptionType).toBe(type);
    expect(err.message).toBe(message);
    expect(err.hasSpan).toBe(true);
  });

  it('unknown context members and unsupported body types fail at load time instead', () => {
    expect(compileExpression(expressionSource('context.Request.Foo')).diagnostics.map((d) => d.code)).toEqual(['EXPR2015']);
    expect(compileExpression(expressionSource('context.Request.Body.As<XNamespace>()')).diagnostics.map((d) => d.code)).toEqual(['EXPR2010']);
  });

  it('a missing member on a host object names the member at run time', () => {
    const { expression } = compileExpression(expressionSource('((IResponse)context.Variables["grp"]).StatusCod'));
    expect(() => expression!.evaluate({ context: fakeContext(), now: () => NOW })).toThrowError(
      expect.objectContaining({ exceptionType: 'System.MissingMemberException', message: "'System.Object' does not contain a definition for 'StatusCod'." }),
    );
  });
});
