import { clrErrors } from './errors.js';
import { ENUMERATE, TYPE_NAME } from './protocol.js';
import { typeEntry } from './types.js';

/** A .NET enum value. Values are interned per (type, value), so `==` is identity. */
export class CsEnum {
  private static readonly registry = new Map<string, Map<number, CsEnum>>();
  private static readonly names = new Map<string, Record<string, number>>();
  readonly [TYPE_NAME]: string;
  private constructor(
    readonly type: string,
    readonly name: string,
    readonly value: number,
  ) {
    this[TYPE_NAME] = typeEntry(type)?.full ?? type;
  }

  /** Declares an enum type; returns its members by name. */
  static define(type: string, members: Record<string, number>): Record<string, CsEnum> {
    CsEnum.names.set(type, members);
    const byValue = new Map<number, CsEnum>();
    CsEnum.registry.set(type, byValue);
    const out: Record<string, CsEnum> = {};
    for (const [name, value] of Object.entries(members)) {
      const e = byValue.get(value) ?? new CsEnum(type, name, value);
      byValue.set(value, e);
      out[name] = e;
    }
    return out;
  }

  /** The enum value for a number (flags combinations get a comma-separated name, as .NET prints them). */
  static fromValue(type: string, value: number): CsEnum {
    const byValue = CsEnum.registry.get(type);
    if (!byValue) throw new TypeError(`Unknown enum ${type}`);
    let e = byValue.get(value);
    if (!e) {
      const names = Object.entries(CsEnum.names.get(type)!)
        .filter(([, v]) => v !== 0 && (value & v) === v)
        .map(([n]) => n);
      e = new CsEnum(type, names.length ? names.join(', ') : String(value), value);
      byValue.set(value, e);
    }
    return e;
  }

  static isEnumType(type: string): boolean {
    return CsEnum.registry.has(type);
  }

  /** `Enum.Parse`/`TryParse` text: a member name, a number, or comma-separated flag names; undefined when invalid. */
  static parse(type: string, text: string, ignoreCase = false): CsEnum | undefined {
    const names = CsEnum.names.get(type);
    if (!names) return undefined;
    let value = 0;
    for (const raw of text.split(',')) {
      const part = raw.trim();
      if (/^[+-]?\d+$/.test(part)) {
        value |= Number(part);
        continue;
      }
      const hit = Object.entries(names).find(([n]) => (ignoreCase ? n.toLowerCase() === part.toLowerCase() : n === part));
      if (!hit) return undefined;
      value |= hit[1];
    }
    return CsEnum.fromValue(type, value);
  }

  ToString(): string {
    return this.name;
  }

  HasFlag(flag: CsEnum): boolean {
    return (this.value & flag.value) === flag.value;
  }
}

/** An instance of an anonymous type `new { a = 1, b = "x" }`: read-only properties, value equality, C#'s ToString. */
export class CsAnonymous {
  readonly [TYPE_NAME] = '<>f__AnonymousType';
  constructor(members: Array<[string, unknown]>) {
    for (const [k, v] of members) Object.defineProperty(this, k, { value: v, enumerable: true, writable: false });
  }

  ToString(): string {
    const parts = Object.entries(this).map(([k, v]) => `${k} = ${toCSharpString(v)}`);
    return parts.length ? `{ ${parts.join(', ')} }` : '{ }';
  }
}

/** The .NET type name of a runtime value (for messages such as InvalidCastException's). */
export function typeNameOf(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return 'System.String';
    case 'boolean':
      return 'System.Boolean';
    case 'number':
      return Number.isInteger(value) ? (value >= -2147483648 && value <= 2147483647 ? 'System.Int32' : 'System.Int64') : 'System.Double';
    case 'function':
      return 'System.Delegate';
    case 'undefined':
      return 'null';
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof Uint8Array) return 'System.Byte[]';
      if (Array.isArray(value)) return arrayTypeName(value);
      if (value instanceof Date) return 'System.DateTime';
      const named = (value as { [TYPE_NAME]?: unknown })[TYPE_NAME];
      if (typeof named === 'string') return named;
      return 'System.Object';
    }
    default:
      return 'System.Object';
  }
}

function arrayTypeName(items: unknown[]): string {
  if (items.length > 0 && items.every((x) => typeof x === 'string')) return 'System.String[]';
  if (items.length > 0 && items.every((x) => typeof x === 'number' && Number.isInteger(x))) return 'System.Int32[]';
  return 'System.Object[]';
}

/** C#'s `ToString()` of a runtime value (null → ""), as string concatenation and interpolation use it. */
export function toCSharpString(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
      return formatDouble(value);
    case 'undefined':
      return '';
    case 'function':
      return 'System.Func`2';
    case 'object': {
      if (value === null) return '';
      const toString = (value as { ToString?: unknown }).ToString;
      if (typeof toString === 'function') return String(toString.call(value));
      return typeNameOf(value);
    }
    default:
      return String(value);
  }
}

/** .NET Core 3.0+ `double.ToString()`: shortest round-trip digits; scientific notation from 1E-05 down and from 1E+15 up. */
export function formatDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '∞';
  if (n === -Infinity) return '-∞';
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
  const [mantissa, exp] = n.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 15) return `${mantissa}E${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(n);
}

/** C# `==` on runtime values: value equality for primitives and value types, reference equality for objects. */
export function csEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || a === null) return b === undefined || b === null;
  if (b === undefined || b === null) return false;
  if (typeof a === 'object' && typeof b === 'object') {
    const eq = (a as { equalsValue?: (o: unknown) => boolean }).equalsValue;
    if (typeof eq === 'function') return eq.call(a, b);
  }
  return false;
}

/** `a.Equals(b)`: like `==`, plus structural equality for anonymous objects. */
export function csObjectEquals(a: unknown, b: unknown): boolean {
  if (csEquals(a, b)) return true;
  if (a instanceof CsAnonymous && b instanceof CsAnonymous) {
    const ea = Object.entries(a);
    const eb = Object.entries(b);
    return ea.length === eb.length && ea.every(([k, v], i) => eb[i]![0] === k && csObjectEquals(v, eb[i]![1]));
  }
  return false;
}

/** Ordering for `<`, OrderBy, Min/Max: numbers, strings (ordinal), value types with `compareValue`. */
export function csCompare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return compareStringsCulture(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof CsEnum && b instanceof CsEnum) return a.value - b.value;
  const cmp = (a as { compareValue?: (o: unknown) => number }).compareValue;
  if (typeof cmp === 'function') return cmp.call(a, b);
  throw clrErrors.argument('At least one object must implement IComparable.');
}

/** Invariant-culture string comparison (as `string.Compare` and OrderBy on strings use): case-insensitive first, lower before upper. */
export function compareStringsCulture(a: string, b: string): number {
  const c = a.localeCompare(b, 'en-US');
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

export function compareOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The C# values a `foreach`/LINQ sees for a runtime value, or undefined when it is not enumerable. */
export function enumerate(value: unknown): Iterable<unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return undefined;
  if (Array.isArray(value)) return value;
  if (value instanceof Uint8Array) return value;
  const custom = (value as { [ENUMERATE]?: () => Iterable<unknown> })[ENUMERATE];
  if (typeof custom === 'function') return custom.call(value);
  if (value instanceof Map) return [...value].map(([k, v]) => new KeyValuePair(k, v));
  const it = (value as { [Symbol.iterator]?: () => Iterator<unknown> })[Symbol.iterator];
  if (typeof it === 'function') return value as Iterable<unknown>;
  return undefined;
}

export class KeyValuePair {
  readonly [TYPE_NAME] = 'System.Collections.Generic.KeyValuePair`2';
  constructor(
    readonly Key: unknown,
    readonly Value: unknown,
  ) {}

  ToString(): string {
    return `[${toCSharpString(this.Key)}, ${toCSharpString(this.Value)}]`;
  }

  equalsValue(o: unknown): boolean {
    return o instanceof KeyValuePair && csEquals(this.Key, o.Key) && csEquals(this.Value, o.Value);
  }
}

/** `default(T)` for a canonical type name. */
export function defaultOf(typeName: string | undefined, nullable = false): unknown {
  if (nullable || typeName === undefined) return null;
  switch (typeName) {
    case 'Int32': case 'Int64': case 'Int16': case 'Byte': case 'SByte': case 'UInt32': case 'UInt64': case 'UInt16':
    case 'Double': case 'Single': case 'Decimal':
      return 0;
    case 'Boolean':
      return false;
    case 'Char':
      return '\0';
    default:
      return null;
  }
}
