import { CsDateTime, parseDateTime } from './datetime.js';
import { clrErrors } from './errors.js';
import { convertJToken, JToken } from './json.js';
import { parseFloating, parseInteger, roundHalfEven } from './numbers.js';
import { INTEGRAL_RANGES } from './types.js';
import { CsEnum, typeNameOf } from './values.js';

/**
 * `System.Convert` conversions beyond Base64 and `System.BitConverter` (little-endian, as on the x64 gateway).
 * Numbers are JS doubles: 64-bit values beyond 2^53 lose precision (README "Deviations").
 */

export type IntegralName = 'Int32' | 'Int64' | 'Int16' | 'Byte' | 'SByte' | 'UInt16' | 'UInt32' | 'UInt64';

/** .NET's wording in OverflowException messages ("…too large or too small for an unsigned byte."). */
const OVERFLOW_NAMES: Record<IntegralName, string> = {
  Int32: 'an Int32', Int64: 'an Int64', Int16: 'an Int16', Byte: 'an unsigned byte', SByte: 'a signed byte',
  UInt16: 'a UInt16', UInt32: 'a UInt32', UInt64: 'a UInt64',
};

export function bytesArg(v: unknown, name = 'value'): Uint8Array {
  if (v === null || v === undefined) throw clrErrors.argumentNull(name);
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return Uint8Array.from(v as number[]);
  throw clrErrors.invalidCast(typeNameOf(v), 'System.Byte[]');
}

function inRange(n: number, type: IntegralName): number {
  const [min, max] = INTEGRAL_RANGES[type]!;
  if (!(n >= min && n <= max)) throw clrErrors.overflow(OVERFLOW_NAMES[type]);
  return n;
}

/**
 * `Convert.ToInt32(value)` and its siblings: null → 0, strings parsed (invariant), doubles rounded half to even,
 * chars by code (only when the argument's static type is `char`: at run time a char is a one-character string),
 * with .NET's OverflowException.
 */
export function convertToIntegral(v: unknown, type: IntegralName, argType?: string): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string') {
    if (argType === 'Char') return inRange(v.charCodeAt(0), type);
    const n = parseInteger(v, 'Int64');
    return inRange(n, type);
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof CsEnum) return inRange(v.value, type);
  if (v instanceof JToken) return inRange(convertJToken(v, type === 'Int64' || type === 'UInt64' || type === 'UInt32' ? 'Int64' : 'Int32') as number, type);
  if (typeof v === 'number') return inRange(Number.isInteger(v) ? v : roundHalfEven(v), type);
  throw clrErrors.invalidCastMessage(`Unable to cast object of type '${typeNameOf(v)}' to type 'System.IConvertible'.`);
}

const BASES: Record<number, RegExp> = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[+-]?\d+$/, 16: /^(0[xX])?[0-9a-fA-F]+$/ };
const BITS: Partial<Record<IntegralName, number>> = { Byte: 8, SByte: 8, Int16: 16, UInt16: 16, Int32: 32, UInt32: 32, Int64: 64, UInt64: 64 };

/**
 * `Convert.ToInt32("ff", 16)`: bases 2, 8, 10 and 16. In bases other than 10 the digits are the two's complement
 * bit pattern (`Convert.ToInt32("ffffffff", 16)` is -1), as .NET reads them.
 */
export function convertFromBase(s: unknown, fromBase: unknown, type: IntegralName): number {
  if (fromBase !== 2 && fromBase !== 8 && fromBase !== 10 && fromBase !== 16) throw clrErrors.argument('Invalid Base.');
  if (s === null || s === undefined) return 0;
  const text = String(s);
  if (text === '') throw clrErrors.argumentOutOfRange('value', 'Index was out of range. Must be non-negative and less than the size of the collection.');
  if (fromBase === 10) return convertToIntegral(text, type);
  if (!BASES[fromBase]!.test(text)) throw clrErrors.format('Could not find any recognizable digits.');
  const bits = BITS[type]!;
  const big = BigInt.asUintN(bits, BigInt(`0${fromBase === 16 ? 'x' : fromBase === 8 ? 'o' : 'b'}${text.replace(/^0[xX]/, '')}`));
  if (big >= 1n << BigInt(bits)) throw clrErrors.overflow(OVERFLOW_NAMES[type]);
  const signed = type === 'Int16' || type === 'Int32' || type === 'Int64' || type === 'SByte';
  return Number(signed ? BigInt.asIntN(bits, big) : big);
}

/** `Convert.ToString(value, toBase)`: bases 2, 8, 10, 16; negative values print their two's complement bits. */
export function convertToBase(v: unknown, toBase: unknown, argType: string | undefined): string {
  if (toBase !== 2 && toBase !== 8 && toBase !== 10 && toBase !== 16) throw clrErrors.argument('Invalid Base.');
  const n = typeof v === 'number' ? v : convertToIntegral(v, 'Int64');
  if (toBase === 10) return String(n);
  const bits = argType === 'Int64' ? 64 : argType === 'Int16' ? 16 : argType === 'Byte' ? 8 : 32;
  return BigInt.asUintN(bits, BigInt(Math.trunc(n))).toString(toBase);
}

export function convertToChar(v: unknown): string {
  if (v === null || v === undefined) return '\0';
  if (typeof v === 'string') {
    if (v.length !== 1) throw clrErrors.format('String must be exactly one character long.');
    return v;
  }
  if (typeof v === 'number') return String.fromCharCode(inRange(v, 'UInt16'));
  throw clrErrors.invalidCastMessage(`Invalid cast from '${typeNameOf(v)}' to 'Char'.`);
}

export function convertToDateTime(v: unknown): CsDateTime {
  if (v === null || v === undefined) return new CsDateTime(-62135596800000, 'Unspecified');
  if (v instanceof CsDateTime) return v;
  if (typeof v === 'string') {
    const d = parseDateTime(v);
    if (!d) throw clrErrors.format('String was not recognized as a valid DateTime.');
    return d;
  }
  throw clrErrors.invalidCastMessage(`Invalid cast from '${typeNameOf(v)}' to 'DateTime'.`);
}

export function convertToFloating(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string') return parseFloating(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (v instanceof CsEnum) return v.value;
  if (v instanceof JToken) return convertJToken(v, 'Double') as number;
  throw clrErrors.invalidCastMessage(`Unable to cast object of type '${typeNameOf(v)}' to type 'System.IConvertible'.`);
}

/** `Convert.ToBase64String(bytes[, offset, length])`. */
export function toBase64(b: unknown, offset?: unknown, length?: unknown): string {
  let bytes = bytesArg(b, 'inArray');
  if (typeof offset === 'number') {
    const len = typeof length === 'number' ? length : bytes.length - offset;
    if (offset < 0 || len < 0) throw clrErrors.argumentOutOfRange(offset < 0 ? 'offset' : 'length', 'Value must be positive.');
    if (offset > bytes.length - len) throw clrErrors.argumentOutOfRange('offset', 'Offset and length must refer to a position in the string.');
    bytes = bytes.subarray(offset, offset + len);
  }
  return Buffer.from(bytes).toString('base64');
}

// ---- BitConverter ----

/** Byte sizes of `BitConverter.GetBytes(x)` by the argument's static type. */
const SIZES: Record<string, number> = { Boolean: 1, Char: 2, Int16: 2, UInt16: 2, Int32: 4, UInt32: 4, Int64: 8, UInt64: 8, Single: 4, Double: 8 };

/**
 * `BitConverter.GetBytes(value)`: the overload is the argument's static type (`GetBytes(1)` → 4 bytes, `1L` → 8);
 * an untyped integral number is an Int32 when it fits, else an Int64; a non-integral one a Double.
 */
export function getBytes(v: unknown, argType: string | undefined): Uint8Array {
  let type = argType && SIZES[argType] ? argType : undefined;
  if (!type) {
    if (typeof v === 'boolean') type = 'Boolean';
    else if (typeof v === 'string' && v.length === 1) type = 'Char';
    else if (typeof v === 'number') type = Number.isInteger(v) ? (v >= -2147483648 && v <= 2147483647 ? 'Int32' : 'Int64') : 'Double';
    else throw clrErrors.argument(`BitConverter.GetBytes has no overload for a value of type '${typeNameOf(v)}'.`);
  }
  const buf = Buffer.alloc(SIZES[type]!);
  const n = typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'string' ? v.charCodeAt(0) : NaN;
  switch (type) {
    case 'Boolean': buf.writeUInt8(n ? 1 : 0); break;
    case 'Char': case 'UInt16': buf.writeUInt16LE(n & 0xffff); break;
    case 'Int16': buf.writeInt16LE(((n << 16) >> 16)); break;
    case 'Int32': buf.writeInt32LE(n | 0); break;
    case 'UInt32': buf.writeUInt32LE(n >>> 0); break;
    case 'Int64': buf.writeBigInt64LE(BigInt.asIntN(64, BigInt(Math.trunc(n)))); break;
    case 'UInt64': buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(Math.trunc(n)))); break;
    case 'Single': buf.writeFloatLE(n); break;
    case 'Double': buf.writeDoubleLE(n); break;
  }
  return new Uint8Array(buf);
}

/** Reads `size` bytes at `startIndex` as .NET's `BitConverter.ToXxx(value, startIndex)` checks them. */
function slice(value: unknown, startIndex: unknown, size: number): Buffer {
  const bytes = bytesArg(value, 'value');
  const at = typeof startIndex === 'number' ? startIndex : 0;
  if (at < 0 || at >= bytes.length) throw clrErrors.argumentOutOfRange('startIndex', 'Index was out of range. Must be non-negative and less than the size of the collection.');
  if (at > bytes.length - size) throw clrErrors.argument('Destination array is not long enough to copy all the items in the collection. Check array index and length.');
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, size);
}

export const BIT_CONVERTER_READERS = {
  ToBoolean: (v: unknown, i: unknown) => slice(v, i, 1).readUInt8() !== 0,
  ToChar: (v: unknown, i: unknown) => String.fromCharCode(slice(v, i, 2).readUInt16LE()),
  ToInt16: (v: unknown, i: unknown) => slice(v, i, 2).readInt16LE(),
  ToUInt16: (v: unknown, i: unknown) => slice(v, i, 2).readUInt16LE(),
  ToInt32: (v: unknown, i: unknown) => slice(v, i, 4).readInt32LE(),
  ToUInt32: (v: unknown, i: unknown) => slice(v, i, 4).readUInt32LE(),
  ToInt64: (v: unknown, i: unknown) => Number(slice(v, i, 8).readBigInt64LE()),
  ToUInt64: (v: unknown, i: unknown) => Number(slice(v, i, 8).readBigUInt64LE()),
  ToSingle: (v: unknown, i: unknown) => slice(v, i, 4).readFloatLE(),
  ToDouble: (v: unknown, i: unknown) => slice(v, i, 8).readDoubleLE(),
} as const;

export const BIT_CONVERTER_RETURNS: Record<keyof typeof BIT_CONVERTER_READERS, string> = {
  ToBoolean: 'Boolean', ToChar: 'Char', ToInt16: 'Int16', ToUInt16: 'UInt16', ToInt32: 'Int32', ToUInt32: 'UInt32',
  ToInt64: 'Int64', ToUInt64: 'UInt64', ToSingle: 'Single', ToDouble: 'Double',
};

/** `BitConverter.ToString(bytes[, startIndex[, length]])` → `01-AB-FF`. */
export function bitConverterToString(value: unknown, startIndex?: unknown, length?: unknown): string {
  const bytes = bytesArg(value, 'value');
  const at = typeof startIndex === 'number' ? startIndex : 0;
  const len = typeof length === 'number' ? length : bytes.length - at;
  if (at < 0 || (at >= bytes.length && at > 0)) throw clrErrors.argumentOutOfRange('startIndex', 'Index was out of range. Must be non-negative and less than the size of the collection.');
  if (len < 0) throw clrErrors.argumentOutOfRange('length', 'Value must be positive.');
  if (at > bytes.length - len) throw clrErrors.argument('Destination array is not long enough to copy all the items in the collection. Check array index and length.');
  return Array.from(bytes.subarray(at, at + len), (x) => x.toString(16).toUpperCase().padStart(2, '0')).join('-');
}

export function doubleToInt64Bits(v: unknown): number {
  const buf = Buffer.alloc(8);
  buf.writeDoubleLE(Number(v));
  return Number(buf.readBigInt64LE());
}

export function int64BitsToDouble(v: unknown): number {
  const buf = Buffer.alloc(8);
  buf.writeBigInt64LE(BigInt(Math.trunc(Number(v))));
  return buf.readDoubleLE();
}
