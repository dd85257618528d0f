import { clrErrors } from './errors.js';
import { csCompare, csObjectEquals, typeNameOf } from './values.js';

/**
 * `System.Array` statics over C# arrays (JS arrays, `Uint8Array` for byte[]): Copy, Exists, Find*, IndexOf,
 * LastIndexOf, TrueForAll, ConvertAll, ForEach, Reverse, Sort, Clear, Fill, with .NET's argument checks.
 * `Array.Resize` takes a `ref` argument, which the emulator does not support (EXPR2010 at load).
 */

type CsArray = unknown[] | Uint8Array;

function arrayArg(v: unknown, name = 'array'): CsArray {
  if (v === null || v === undefined) throw clrErrors.argumentNull(name);
  if (Array.isArray(v) || v instanceof Uint8Array) return v;
  throw clrErrors.invalidCast(typeNameOf(v), 'System.Array');
}

function predicateArg(v: unknown, name = 'match'): (x: unknown) => unknown {
  if (typeof v !== 'function') throw clrErrors.argumentNull(name);
  return v as (x: unknown) => unknown;
}

const OUT_OF_RANGE = 'Index was out of range. Must be non-negative and less than the size of the collection.';

/** `Array.Copy(src, dst, length)` / `Array.Copy(src, srcIndex, dst, dstIndex, length)`. */
export function arrayCopy(args: unknown[]): void {
  const [src, a, b, c, d] = args;
  const five = args.length >= 5;
  const source = arrayArg(src, 'sourceArray');
  const dest = arrayArg(five ? b : a, 'destinationArray');
  const srcIndex = five ? Number(a) : 0;
  const dstIndex = five ? Number(c) : 0;
  const length = Number(five ? d : b);
  if (srcIndex < 0) throw clrErrors.argumentOutOfRange('sourceIndex', 'Number was less than the array\'s lower bound in the first dimension.');
  if (dstIndex < 0) throw clrErrors.argumentOutOfRange('destinationIndex', 'Number was less than the array\'s lower bound in the first dimension.');
  if (length < 0) throw clrErrors.argumentOutOfRange('length', 'Non-negative number required.');
  if (srcIndex + length > source.length) throw clrErrors.argument('Source array was not long enough. Check the source index, length, and the array\'s lower bounds.');
  if (dstIndex + length > dest.length) throw clrErrors.argument('Destination array was not long enough. Check the destination index, length, and the array\'s lower bounds.');
  if (source instanceof Uint8Array !== dest instanceof Uint8Array) {
    throw clrErrors.exception('System.ArrayTypeMismatchException', 'Source array type cannot be assigned to destination array type.');
  }
  // Overlapping copies behave as if the source were copied first (.NET semantics), which slice() gives.
  const items = source.slice(srcIndex, srcIndex + length);
  for (let i = 0; i < length; i++) (dest as unknown[])[dstIndex + i] = (items as unknown[])[i];
}

function findIndex(a: CsArray, match: (x: unknown) => unknown, from = 0, to = a.length): number {
  for (let i = from; i < to; i++) if (match(a[i]) === true) return i;
  return -1;
}

export const ARRAY_STATICS = {
  Copy: (args: unknown[]) => arrayCopy(args),
  Exists: ([a, m]: unknown[]) => findIndex(arrayArg(a), predicateArg(m)) >= 0,
  TrueForAll: ([a, m]: unknown[]) => {
    const arr = arrayArg(a);
    const match = predicateArg(m);
    for (let i = 0; i < arr.length; i++) if (match(arr[i]) !== true) return false;
    return true;
  },
  Find: ([a, m]: unknown[]) => {
    const arr = arrayArg(a);
    const i = findIndex(arr, predicateArg(m));
    return i < 0 ? null : arr[i];
  },
  FindLast: ([a, m]: unknown[]) => {
    const arr = arrayArg(a);
    const match = predicateArg(m);
    for (let i = arr.length - 1; i >= 0; i--) if (match(arr[i]) === true) return arr[i];
    return null;
  },
  FindAll: ([a, m]: unknown[]) => {
    const arr = arrayArg(a);
    const match = predicateArg(m);
    const out: unknown[] = [];
    for (let i = 0; i < arr.length; i++) if (match(arr[i]) === true) out.push(arr[i]);
    return arr instanceof Uint8Array ? Uint8Array.from(out as number[]) : out;
  },
  FindIndex: (args: unknown[]) => {
    const arr = arrayArg(args[0]);
    const match = predicateArg(args[args.length - 1]);
    const start = args.length >= 3 ? Number(args[1]) : 0;
    if (start < 0 || start > arr.length) throw clrErrors.argumentOutOfRange('startIndex', OUT_OF_RANGE);
    return findIndex(arr, match, start, args.length >= 4 ? start + Number(args[2]) : arr.length);
  },
  FindLastIndex: ([a, m]: unknown[]) => {
    const arr = arrayArg(a);
    const match = predicateArg(m);
    for (let i = arr.length - 1; i >= 0; i--) if (match(arr[i]) === true) return i;
    return -1;
  },
  IndexOf: ([a, x, start]: unknown[]) => {
    const arr = arrayArg(a);
    const from = start === undefined ? 0 : Number(start);
    if (from < 0 || from > arr.length) throw clrErrors.argumentOutOfRange('startIndex', OUT_OF_RANGE);
    for (let i = from; i < arr.length; i++) if (csObjectEquals(x, arr[i])) return i;
    return -1;
  },
  LastIndexOf: ([a, x]: unknown[]) => {
    const arr = arrayArg(a);
    for (let i = arr.length - 1; i >= 0; i--) if (csObjectEquals(x, arr[i])) return i;
    return -1;
  },
  ConvertAll: ([a, f]: unknown[]) => Array.from(arrayArg(a) as ArrayLike<unknown>, predicateArg(f, 'converter')),
  ForEach: ([a, f]: unknown[]) => {
    const action = predicateArg(f, 'action');
    for (const x of arrayArg(a) as ArrayLike<unknown> & Iterable<unknown>) action(x);
  },
  Reverse: ([a, index, length]: unknown[]) => {
    const arr = arrayArg(a);
    const from = index === undefined ? 0 : Number(index);
    const to = length === undefined ? arr.length : from + Number(length);
    if (from < 0 || to > arr.length || to < from) throw clrErrors.argument('Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.');
    const part = arr.slice(from, to).reverse();
    for (let i = 0; i < part.length; i++) (arr as unknown[])[from + i] = (part as unknown[])[i];
  },
  /** `Array.Sort(a)` with the default comparer (numbers numerically, strings ordinal-ignoring-culture as csCompare), or a Comparison. */
  Sort: ([a, comparison]: unknown[]) => {
    const arr = arrayArg(a);
    const cmp = typeof comparison === 'function' ? (x: unknown, y: unknown) => Number((comparison as (p: unknown, q: unknown) => unknown)(x, y)) : csCompare;
    if (arr instanceof Uint8Array) arr.sort();
    else arr.sort(cmp);
  },
  Clear: ([a, index, length]: unknown[]) => {
    const arr = arrayArg(a);
    const from = index === undefined ? 0 : Number(index);
    const to = length === undefined ? arr.length : from + Number(length);
    if (from < 0 || to > arr.length || to < from) throw clrErrors.exception('System.IndexOutOfRangeException', 'Index was outside the bounds of the array.');
    const zero = arr instanceof Uint8Array ? 0 : (arr[0] === undefined || typeof arr[0] !== 'number' ? (typeof arr[0] === 'boolean' ? false : null) : 0);
    for (let i = from; i < to; i++) (arr as unknown[])[i] = zero;
  },
  Fill: ([a, value]: unknown[]) => {
    const arr = arrayArg(a);
    (arr as unknown[]).fill(value);
  },
  CreateInstance: () => {
    throw clrErrors.notSupported('Array.CreateInstance needs a System.Type, which policy expressions cannot name (typeof is not supported).');
  },
  Empty: () => [],
} as const;

export const ARRAY_RETURNS: Partial<Record<keyof typeof ARRAY_STATICS, string>> = {
  Exists: 'Boolean', TrueForAll: 'Boolean', FindIndex: 'Int32', FindLastIndex: 'Int32', IndexOf: 'Int32', LastIndexOf: 'Int32',
};
