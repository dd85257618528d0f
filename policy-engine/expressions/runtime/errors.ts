import type { Span } from '../../diagnostics.js';

export const NULL_REFERENCE_MESSAGE = 'Object reference not set to an instance of an object.';
export const FORMAT_MESSAGE = 'Input string was not in a correct format.';
export const DIVIDE_BY_ZERO_MESSAGE = 'Attempted to divide by zero.';
export const NO_ELEMENTS_MESSAGE = 'Sequence contains no elements';
export const NO_MATCH_MESSAGE = 'Sequence contains no matching element';
export const MORE_THAN_ONE_MESSAGE = 'Sequence contains more than one element';
export const INDEX_OUTSIDE_MESSAGE = 'Index was outside the bounds of the array.';
export const INDEX_OUT_OF_RANGE_MESSAGE = 'Index was out of range. Must be non-negative and less than the size of the collection.';
export const DUPLICATE_KEY_MESSAGE = 'An item with the same key has already been added.';

const NO_SPAN: Span = { start: -1, end: -1 };

/**
 * A .NET exception raised while evaluating a policy expression. `exceptionType` is the .NET type name
 * (`System.NullReferenceException`), `message` is .NET's text, and `span` points at the expression part
 * that failed (an offset into the policy file; `{ -1, -1 }` until the evaluator attaches one).
 */
export class ExpressionRuntimeError extends Error {
  readonly exceptionType: string;
  span: Span;
  constructor(exceptionType: string, message: string, span: Span = NO_SPAN, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExpressionRuntimeError';
    this.exceptionType = exceptionType;
    this.span = span;
  }

  get hasSpan(): boolean {
    return this.span.start >= 0;
  }

  /** The short .NET type name, e.g. `NullReferenceException` (what `catch (X e)` and `e.GetType().Name` see). */
  get shortTypeName(): string {
    const dot = this.exceptionType.lastIndexOf('.');
    return this.exceptionType.slice(dot + 1);
  }
}

const err = (type: string, message: string): ExpressionRuntimeError => new ExpressionRuntimeError(type, message);
const param = (message: string, name: string): string => `${message}\r\nParameter name: ${name}`;

/** One factory per .NET exception the runtime raises, with .NET's messages. */
export const clrErrors = {
  nullReference: () => err('System.NullReferenceException', NULL_REFERENCE_MESSAGE),
  keyNotFound: (key: unknown) =>
    err('System.Collections.Generic.KeyNotFoundException', `The given key '${String(key)}' was not present in the dictionary.`),
  format: (message: string = FORMAT_MESSAGE) => err('System.FormatException', message),
  invalidCast: (from: string, to: string) =>
    err('System.InvalidCastException', `Unable to cast object of type '${from}' to type '${to}'.`),
  invalidCastMessage: (message: string) => err('System.InvalidCastException', message),
  divideByZero: () => err('System.DivideByZeroException', DIVIDE_BY_ZERO_MESSAGE),
  indexOutsideArray: () => err('System.IndexOutOfRangeException', INDEX_OUTSIDE_MESSAGE),
  argumentOutOfRange: (name: string, message: string = INDEX_OUT_OF_RANGE_MESSAGE) =>
    err('System.ArgumentOutOfRangeException', param(message, name)),
  argumentNull: (name: string) => err('System.ArgumentNullException', param('Value cannot be null.', name)),
  argument: (message: string) => err('System.ArgumentException', message),
  invalidOperation: (message: string) => err('System.InvalidOperationException', message),
  notSupported: (message: string) => err('System.NotSupportedException', message),
  overflow: (type: string) => err('System.OverflowException', `Value was either too large or too small for ${type}.`),
  missingMember: (type: string, name: string) =>
    err('System.MissingMemberException', `'${type}' does not contain a definition for '${name}'.`),
  jsonReader: (message: string) => err('Newtonsoft.Json.JsonReaderException', message),
  regexParse: (message: string) => err('System.ArgumentException', message),
  exception: (type: string, message: string) => err(type, message),
};
