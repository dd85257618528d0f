import { CsDictionary, CsHashSet, CsList } from './collections.js';
import { CsDateTime, CsGuid, CsTimeSpan } from './datetime.js';
import { clrErrors } from './errors.js';
import { convertJToken, JArray, JObject, JProperty, JToken, JValue } from './json.js';
import { TYPE_NAME, type TypeArgument } from './protocol.js';
import { displayType, FLOATING_TYPES, INTEGRAL_RANGES, INTEGRAL_TYPES, typeEntry } from './types.js';
import { CsEnum, defaultOf, enumerate, typeNameOf } from './values.js';
import { convertXml, XAttribute, XElement } from './xml.js';

/**
 * Casts, `is` and `as`. `from` is the evaluator's static type of the operand: a canonical type name, or
 * `Dynamic` when unknown (e.g. a host property). It decides between C#'s numeric conversion (`(int)3.7` → 3)
 * and unboxing (`(int)(object)3.7` → InvalidCastException).
 */

const JSON_TYPES: Record<string, (v: unknown) => boolean> = {
  JToken: (v) => v instanceof JToken,
  JObject: (v) => v instanceof JObject,
  JArray: (v) => v instanceof JArray,
  JValue: (v) => v instanceof JValue,
  JProperty: (v) => v instanceof JProperty,
  JContainer: (v) => v instanceof JObject || v instanceof JArray || v instanceof JProperty,
};

function wrapIntegral(n: number, type: string): number {
  const range = INTEGRAL_RANGES[type]!;
  if (n >= range[0] && n <= range[1]) return n;
  if (type === 'Int64' || type === 'UInt64') return n;
  const size = range[1] - range[0] + 1;
  return ((((n - range[0]) % size) + size) % size) + range[0];
}

function nullValue(t: TypeArgument): null {
  if (t.nullable) return null;
  throw clrErrors.nullReference();
}

/** Whether `value is T`. */
export function isInstanceOf(value: unknown, t: TypeArgument): boolean {
  if (value === null || value === undefined) return false;
  if (t.arrays > 0) {
    if (t.name === 'Byte' && t.arrays === 1) return value instanceof Uint8Array;
    if (!Array.isArray(value)) return false;
    if (t.arrays === 1 && t.name === 'String') return value.every((x) => x === null || typeof x === 'string');
    return true;
  }
  const name = t.name;
  const json = JSON_TYPES[name];
  if (json) return json(value);
  switch (name) {
    case 'Object':
    case 'Dynamic':
      return true;
    case 'String':
      return typeof value === 'string';
    case 'Boolean':
      return typeof value === 'boolean';
    case 'Char':
      return typeof value === 'string' && value.length === 1;
    case 'Double': case 'Single': case 'Decimal':
      return typeof value === 'number';
    case 'DateTime':
      return (value instanceof CsDateTime && !value.offset) || value instanceof Date;
    case 'DateTimeOffset':
      return value instanceof CsDateTime && value.offset;
    case 'TimeSpan':
      return value instanceof CsTimeSpan;
    case 'Guid':
      return value instanceof CsGuid;
    case 'List`1': case 'IList`1':
      return value instanceof CsList || (name === 'IList`1' && (Array.isArray(value) || value instanceof JArray));
    case 'Dictionary`2': case 'IDictionary`2': case 'IReadOnlyDictionary`2':
      return value instanceof CsDictionary || (name !== 'Dictionary`2' && value instanceof JObject);
    case 'HashSet`1':
      return value instanceof CsHashSet;
    case 'IEnumerable`1': case 'ICollection`1': case 'IReadOnlyList`1': case 'IReadOnlyCollection`1':
      return enumerate(value) !== undefined;
  }
  if (INTEGRAL_TYPES.has(name)) {
    const r = INTEGRAL_RANGES[name]!;
    return typeof value === 'number' && Number.isInteger(value) && value >= r[0] && value <= r[1];
  }
  if (CsEnum.isEnumType(name)) return value instanceof CsEnum && value.type === name;
  const entry = typeEntry(name);
  if (!entry || entry.kind === 'host') return typeof value === 'object';
  return (value as { [TYPE_NAME]?: string })[TYPE_NAME] === entry.full;
}

/** `value as T` (reference and nullable types). */
export function asType(value: unknown, t: TypeArgument): unknown {
  if (t.arrays === 0 && (typeEntry(t.name)?.kind === 'host')) return value ?? null;
  return isInstanceOf(value, t) ? value : null;
}

/** `(T)value`. */
export function castTo(value: unknown, t: TypeArgument, from = 'Dynamic'): unknown {
  if (value === undefined) value = null;
  const name = t.name;
  const fail = (): never => {
    throw clrErrors.invalidCast(typeNameOf(value), displayType(t));
  };
  if (t.arrays > 0) {
    if (value === null || isInstanceOf(value, t) || Array.isArray(value)) return value;
    return fail();
  }
  if (typeEntry(name)?.kind === 'host' || name === 'Object' || name === 'Dynamic') return value;
  if (JSON_TYPES[name]) {
    if (value === null) return null;
    if (JSON_TYPES[name]!(value)) return value;
    if (name === 'JToken' && value !== null) return fail();
    return fail();
  }
  if (value instanceof JToken && name !== 'Object') return convertJToken(value, name, t.nullable);
  if (value instanceof XElement || value instanceof XAttribute) {
    const converted = convertXml(value, name);
    if (converted !== undefined) return converted;
  }
  if (INTEGRAL_TYPES.has(name)) {
    if (value === null) return nullValue(t);
    if (typeof value === 'number') {
      if (Number.isInteger(value)) return from === 'Object' || from === 'Dynamic' || INTEGRAL_TYPES.has(from) ? (from === 'Object' && !isInstanceOf(value, t) && name !== 'Int64' ? fail() : wrapIntegral(value, name)) : wrapIntegral(value, name);
      if (from === 'Object') return fail();
      if (!Number.isFinite(value)) return name === 'Int64' ? Number.MIN_SAFE_INTEGER : -2147483648;
      return wrapIntegral(Math.trunc(value), name);
    }
    if (value instanceof CsEnum) return value.value;
    if (typeof value === 'string' && from === 'Char') return value.charCodeAt(0);
    return fail();
  }
  if (FLOATING_TYPES.has(name)) {
    if (value === null) return nullValue(t);
    if (typeof value === 'number') return name === 'Single' ? Math.fround(value) : value;
    if (typeof value === 'string' && from === 'Char') return value.charCodeAt(0);
    if (value instanceof CsEnum && from !== 'Object') return value.value;
    return fail();
  }
  switch (name) {
    case 'String':
      return value === null || typeof value === 'string' ? value : fail();
    case 'Boolean':
      if (value === null) return nullValue(t);
      return typeof value === 'boolean' ? value : fail();
    case 'Char':
      if (value === null) return nullValue(t);
      if (typeof value === 'string' && (from === 'Char' || (from !== 'String' && value.length === 1))) return value;
      if (typeof value === 'number' && from !== 'Object') return String.fromCharCode(value);
      return fail();
    case 'DateTime':
      if (value === null) return nullValue(t);
      if (value instanceof Date) return CsDateTime.fromDate(value);
      if (value instanceof CsDateTime && !value.offset) return value;
      return fail();
    case 'DateTimeOffset': case 'TimeSpan': case 'Guid':
      if (value === null) return nullValue(t);
      return isInstanceOf(value, t) ? value : fail();
  }
  if (CsEnum.isEnumType(name)) {
    if (value === null) return nullValue(t);
    if (value instanceof CsEnum && value.type === name) return value;
    if (typeof value === 'number' && from !== 'Object') return CsEnum.fromValue(name, value);
    return fail();
  }
  if (value === null) return null;
  return isInstanceOf(value, t) ? value : fail();
}

/**
 * C#'s `default(T)`: 0 / false / '\0' for the primitive value types, `DateTime.MinValue`, `TimeSpan.Zero`,
 * `Guid.Empty`, the zero member of an enum; null for reference and nullable types.
 */
export function defaultValueOf(typeName: string | undefined, nullable = false): unknown {
  if (nullable || typeName === undefined) return null;
  switch (typeName) {
    case 'DateTime':
      return new CsDateTime(-62135596800000, 'Unspecified');
    case 'DateTimeOffset':
      return new CsDateTime(-62135596800000, 'Utc', true);
    case 'TimeSpan':
      return new CsTimeSpan(0);
    case 'Guid':
      return new CsGuid('0'.repeat(32));
  }
  if (CsEnum.isEnumType(typeName)) return CsEnum.fromValue(typeName, 0);
  return defaultOf(typeName);
}
