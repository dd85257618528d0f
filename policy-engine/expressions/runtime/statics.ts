import { createHash, createHmac } from 'node:crypto';
import { CsDictionary, CsHashSet, CsList, CsQueue, CsStack, CsStringBuilder, CsStringComparer, STRING_COMPARERS } from './collections.js';
import { AddressFamily, CsIPAddress, IP_CONSTANTS, ipIsLoopback, ipParse, ipTryParse } from './net.js';
import { castTo } from './conversions.js';
import {
  CsDateTime, CsGuid, CsTimeSpan, dateTimeFromParts, DateTimeKind, DayOfWeek, parseDateTime, parseTimeSpan, type DateTimeKindName,
} from './datetime.js';
import { clrErrors } from './errors.js';
import { checkCollectionSize, checkStringLength } from './limits.js';
import { convertJToken, Formatting, JArray, JObject, JProperty, JToken, JTokenType, JValue, parseJson, serializeObject, toJToken, writeJson } from './json.js';
import { parseBoolean, parseFloating, parseInteger, roundAwayFromZero, roundHalfEven } from './numbers.js';
import { OutRef, TYPE_NAME, type MethodInfo, type TypeArgument } from './protocol.js';
import { CsMatch, CsRegex, regexEscape, RegexOptions, regexUnescape } from './regex.js';

const EMPTY_MATCH = new CsMatch(null);
import { XDocument, XElement, XName } from './xml.js';
import { STRING_STATICS, StringComparison, StringSplitOptions } from './strings.js';
import { INTEGRAL_RANGES, typeEntry } from './types.js';
import { CsEnum, csObjectEquals, enumerate, KeyValuePair, toCSharpString, typeNameOf } from './values.js';
import {
  BIT_CONVERTER_READERS, BIT_CONVERTER_RETURNS, bitConverterToString, convertFromBase, convertToBase, convertToChar, convertToDateTime,
  convertToFloating, convertToIntegral, doubleToInt64Bits, getBytes, int64BitsToDouble, toBase64,
} from './binary.js';
import { ARRAY_RETURNS, ARRAY_STATICS } from './arrays.js';
import { constructUri, isWellFormedUriString, tryCreateUri, UriKind, UriPartial, URI_SCHEMES } from './uri.js';

/** What static members and constructors see of the evaluation: the injected clock and random source. */
export interface RuntimeContext {
  now(): number;
  random(): number;
}

export interface StaticMember {
  /** A property (`DateTime.UtcNow`) when `get` is set, else a method. */
  get?: (rt: RuntimeContext) => unknown;
  /** `argTypes`: the arguments' static types (canonical names, `Dynamic` when unknown) for overloads by type. */
  call?: (rt: RuntimeContext, args: unknown[], typeArgs: TypeArgument[] | undefined, argTypes?: readonly string[]) => unknown;
  info?: MethodInfo;
  /** Static result type (canonical name), used for numeric typing; `Dynamic` when it depends on arguments. */
  returns?: string;
}

export interface StaticType {
  members: Record<string, StaticMember>;
  construct?: (rt: RuntimeContext, args: unknown[], typeArgs: TypeArgument[] | undefined) => unknown;
  /** Static type of `new T(...)`. */
  constructs?: string;
}

const NO_TYPES: readonly string[] = [];
const prop = (get: (rt: RuntimeContext) => unknown, returns?: string): StaticMember => (returns ? { get, returns } : { get });
const fn = (call: (args: unknown[], rt: RuntimeContext, typeArgs: TypeArgument[] | undefined, argTypes: readonly string[]) => unknown, returns?: string, info?: MethodInfo): StaticMember => {
  const m: StaticMember = { call: (rt, args, typeArgs, argTypes = NO_TYPES) => call(args, rt, typeArgs, argTypes) };
  if (returns) m.returns = returns;
  if (info) m.info = info;
  return m;
};

function num(v: unknown, name = 'value'): number {
  if (typeof v === 'number') return v;
  if (v instanceof CsEnum) return v.value;
  throw clrErrors.argument(`Argument '${name}' must be a number, got ${typeNameOf(v)}.`);
}

function bytesOf(v: unknown, name = 'inArray'): Uint8Array {
  if (v === null || v === undefined) throw clrErrors.argumentNull(name);
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return Uint8Array.from(v as number[]);
  throw clrErrors.invalidCast(typeNameOf(v), 'System.Byte[]');
}

function enumMembers(e: Record<string, CsEnum>, type: string): Record<string, StaticMember> {
  const out: Record<string, StaticMember> = {};
  for (const [k, v] of Object.entries(e)) out[k] = prop(() => v, type);
  return out;
}

function tryParse(parse: (s: unknown) => unknown, fallback: unknown): StaticMember {
  return fn(([s, out]) => {
    const ref = out as OutRef;
    try {
      if (s === null || s === undefined) throw clrErrors.argumentNull('s');
      ref.value = parse(s);
      return true;
    } catch {
      ref.value = fallback;
      return false;
    }
  }, 'Boolean', { out: [1], parameters: ['s', 'result'] });
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
function fromBase64(s: unknown): Uint8Array {
  if (s === null || s === undefined) throw clrErrors.argumentNull('s');
  const clean = String(s).replace(/[\s]/g, '');
  if (clean.length % 4 !== 0 || !BASE64.test(clean)) {
    throw clrErrors.format('The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.');
  }
  return new Uint8Array(Buffer.from(clean, 'base64'));
}

function newGuid(rt: RuntimeContext): CsGuid {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Math.floor(rt.random() * 256) & 0xff;
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return CsGuid.fromBytes(bytes);
}

/** `System.Random`: seeded instances use mulberry32 (not .NET's sequence); unseeded ones use the scope's random source. */
export class CsRandom {
  readonly [TYPE_NAME] = 'System.Random';
  private readonly source: () => number;
  constructor(rt: RuntimeContext, seed?: number) {
    if (seed === undefined) this.source = () => rt.random();
    else {
      let a = seed >>> 0;
      this.source = () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }
  }
  Next(a?: number, b?: number): number {
    if (a === undefined) return Math.floor(this.source() * 2147483647);
    const [min, max] = b === undefined ? [0, a] : [a, b];
    if (max < min) throw clrErrors.argumentOutOfRange(b === undefined ? 'maxValue' : 'minValue', `'${b === undefined ? 'maxValue' : 'minValue'}' must be greater than zero.`);
    return min + Math.floor(this.source() * (max - min));
  }
  NextDouble(): number {
    return this.source();
  }
  NextBytes(buffer: Uint8Array): void {
    for (let i = 0; i < buffer.length; i++) buffer[i] = Math.floor(this.source() * 256);
  }
}

/** An exception object created by `new Exception("…")`, thrown by `throw` and seen by `catch (Exception e)`. */
export class CsExceptionValue {
  readonly [TYPE_NAME]: string;
  constructor(
    readonly type: string,
    readonly Message: string,
    readonly InnerException: unknown = null,
  ) {
    this[TYPE_NAME] = type;
  }
  ToString(): string {
    return `${this.type}: ${this.Message}`;
  }
}

/** Hash algorithm instances (`SHA256.Create()`, `new HMACSHA256(key)`, `new SHA256Managed()`), backed by node:crypto. */
export class CsHashAlgorithm {
  readonly [TYPE_NAME]: string;
  private lastHash: Uint8Array | null = null;
  constructor(
    readonly algorithm: string,
    private key?: Uint8Array,
    typeName?: string,
  ) {
    this[TYPE_NAME] = `System.Security.Cryptography.${typeName ?? (key ? 'HMAC' : '') + algorithm.toUpperCase()}`;
  }
  get Key(): Uint8Array | undefined {
    return this.key?.slice();
  }
  set Key(value: unknown) {
    if (!this.key) throw clrErrors.exception('System.MissingMemberException', `'${this[TYPE_NAME]}' does not contain a definition for 'Key'.`);
    this.key = bytesOf(value, 'value').slice();
  }
  get HashSize(): number {
    return HASH_BITS[this.algorithm]!;
  }
  get HashName(): string {
    return this.algorithm.toUpperCase();
  }
  /** The hash computed last (`Hash` after `ComputeHash`); .NET throws until one was computed. */
  get Hash(): Uint8Array {
    if (!this.lastHash) throw clrErrors.exception('System.Security.Cryptography.CryptographicUnexpectedOperationException', 'Hash must be finalized before the hash value is retrieved.');
    return this.lastHash.slice();
  }
  ComputeHash(data: unknown, offset?: number, count?: number): Uint8Array {
    let bytes = bytesOf(data, 'buffer');
    if (offset !== undefined) {
      const n = count ?? bytes.length - offset;
      if (offset < 0 || n < 0 || offset + n > bytes.length) throw clrErrors.argument('Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.');
      bytes = bytes.subarray(offset, offset + n);
    }
    const h = this.key ? createHmac(this.algorithm, this.key) : createHash(this.algorithm);
    this.lastHash = new Uint8Array(h.update(bytes).digest());
    return this.lastHash.slice();
  }
  Initialize(): void {}
  Clear(): void {}
  Dispose(): void {}
}

const HASH_BITS: Record<string, number> = { md5: 128, sha1: 160, sha256: 256, sha384: 384, sha512: 512 };

/** Names `HashAlgorithm.Create(name)` / `HMAC.Create(name)` accept (.NET Framework's CryptoConfig), lower-cased. */
const HASH_NAMES: Record<string, string> = {
  md5: 'md5', 'system.security.cryptography.md5': 'md5', sha: 'sha1', sha1: 'sha1', 'system.security.cryptography.sha1': 'sha1',
  'sha-256': 'sha256', sha256: 'sha256', 'system.security.cryptography.sha256': 'sha256', 'sha-384': 'sha384', sha384: 'sha384',
  'system.security.cryptography.sha384': 'sha384', 'sha-512': 'sha512', sha512: 'sha512', 'system.security.cryptography.sha512': 'sha512',
};

function namedHash(name: unknown, keyed: boolean, rt: RuntimeContext): CsHashAlgorithm | null {
  if (name === undefined) return keyed ? new CsHashAlgorithm('sha1', randomKey(rt)) : new CsHashAlgorithm('sha1');
  const n = String(name ?? '').toLowerCase().replace(/^(system\.security\.cryptography\.)?hmac/, keyed ? '$1' : 'x-not-a-hash-');
  const algorithm = HASH_NAMES[n];
  if (!algorithm) return null;
  return keyed ? new CsHashAlgorithm(algorithm, randomKey(rt)) : new CsHashAlgorithm(algorithm);
}

/** A new HMAC's random 64-byte key, from the scope's random source (deterministic under a seeded one). */
function randomKey(rt: RuntimeContext): Uint8Array {
  return Uint8Array.from({ length: 64 }, () => Math.floor(rt.random() * 256) & 0xff);
}

function hashType(algorithm: string, typeName: string): StaticType {
  return {
    members: {
      Create: fn(() => new CsHashAlgorithm(algorithm)),
      HashData: fn(([data]) => new CsHashAlgorithm(algorithm).ComputeHash(data), 'Byte[]'),
    },
    construct: () => new CsHashAlgorithm(algorithm, undefined, typeName),
    constructs: typeName,
  };
}

function hmacType(algorithm: string, typeName: string): StaticType {
  return {
    members: { HashData: fn(([key, data]) => new CsHashAlgorithm(algorithm, bytesOf(key, 'key')).ComputeHash(data), 'Byte[]') },
    construct: (rt, [key]) => new CsHashAlgorithm(algorithm, key === undefined ? randomKey(rt) : bytesOf(key, 'key').slice(), typeName),
    constructs: typeName,
  };
}

/** `HashAlgorithmName.SHA256` … (a struct with `Name`). */
export class CsHashAlgorithmName {
  readonly [TYPE_NAME] = 'System.Security.Cryptography.HashAlgorithmName';
  constructor(readonly Name: string | null) {}
  ToString(): string {
    return this.Name ?? '';
  }
  Equals(other: unknown): boolean {
    return other instanceof CsHashAlgorithmName && other.Name === this.Name;
  }
}

/** `new RNGCryptoServiceProvider().GetBytes(buffer)`: fills from the scope's random source (as `Guid.NewGuid()`). */
export class CsRngCryptoServiceProvider {
  readonly [TYPE_NAME] = 'System.Security.Cryptography.RNGCryptoServiceProvider';
  constructor(private readonly rt: RuntimeContext) {}
  GetBytes(buffer: unknown): void {
    const b = bytesOf(buffer, 'data');
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(this.rt.random() * 256) & 0xff;
  }
  GetNonZeroBytes(buffer: unknown): void {
    const b = bytesOf(buffer, 'data');
    for (let i = 0; i < b.length; i++) b[i] = 1 + (Math.floor(this.rt.random() * 255) % 255);
  }
  Dispose(): void {}
}

/** `Encoding.UTF8` and friends. */
export class CsEncoding {
  readonly [TYPE_NAME] = 'System.Text.Encoding';
  constructor(readonly name: 'utf-8' | 'ascii' | 'utf-16le') {}
  GetBytes(s: unknown): Uint8Array {
    if (s === null || s === undefined) throw clrErrors.argumentNull('s');
    const text = Array.isArray(s) ? s.join('') : String(s);
    if (this.name === 'ascii') return Uint8Array.from(text, (c) => (c.charCodeAt(0) < 128 ? c.charCodeAt(0) : 63));
    return new Uint8Array(Buffer.from(text, this.name === 'utf-8' ? 'utf8' : 'utf16le'));
  }
  GetString(bytes: unknown, index?: number, count?: number): string {
    let b = bytesOf(bytes, 'bytes');
    if (index !== undefined) b = b.subarray(index, index + (count ?? b.length - index));
    if (this.name === 'ascii') return String.fromCharCode(...Array.from(b, (x) => (x < 128 ? x : 63)));
    return Buffer.from(b).toString(this.name === 'utf-8' ? 'utf8' : 'utf16le');
  }
  GetByteCount(s: unknown): number {
    return this.GetBytes(s).length;
  }
  get WebName(): string {
    return this.name;
  }
}
const ENCODINGS = { UTF8: new CsEncoding('utf-8'), ASCII: new CsEncoding('ascii'), Unicode: new CsEncoding('utf-16le'), Default: new CsEncoding('utf-8') };

function integralType(type: 'Int32' | 'Int64' | 'Int16' | 'Byte' | 'UInt32' | 'UInt64'): StaticType {
  const [min, max] = INTEGRAL_RANGES[type]!;
  return {
    members: {
      Parse: fn(([s]) => parseInteger(s, type), type),
      TryParse: tryParse((s) => parseInteger(s, type), 0),
      MaxValue: prop(() => max, type),
      MinValue: prop(() => min, type),
    },
  };
}

function floatingType(type: 'Double' | 'Single' | 'Decimal'): StaticType {
  const members: Record<string, StaticMember> = {
    Parse: fn(([s]) => parseFloating(s), type),
    TryParse: tryParse(parseFloating, 0),
    MaxValue: prop(() => (type === 'Decimal' ? 7.922816251426434e28 : type === 'Single' ? 3.4028234663852886e38 : Number.MAX_VALUE), type),
    MinValue: prop(() => (type === 'Decimal' ? -7.922816251426434e28 : type === 'Single' ? -3.4028234663852886e38 : -Number.MAX_VALUE), type),
  };
  if (type !== 'Decimal') {
    Object.assign(members, {
      NaN: prop(() => NaN, type),
      PositiveInfinity: prop(() => Infinity, type),
      NegativeInfinity: prop(() => -Infinity, type),
      Epsilon: prop(() => 5e-324, type),
      IsNaN: fn(([x]) => Number.isNaN(x), 'Boolean'),
      IsInfinity: fn(([x]) => x === Infinity || x === -Infinity, 'Boolean'),
    });
  } else {
    Object.assign(members, {
      Round: fn(([x, d]) => roundHalfEven(num(x), (d as number) ?? 0), 'Decimal'),
      Truncate: fn(([x]) => Math.trunc(num(x)), 'Decimal'),
    });
  }
  return { members };
}

function charTest(re: RegExp): StaticMember {
  return fn(([c, i]) => {
    const ch = typeof c === 'string' && i !== undefined ? c[i as number] : c;
    return typeof ch === 'string' && re.test(ch);
  }, 'Boolean');
}

function exceptionType(type: string): StaticType {
  return {
    members: {},
    construct: (_rt, [message, inner]) => new CsExceptionValue(type, message === undefined || message === null ? defaultExceptionMessage(type) : toCSharpString(message), inner ?? null),
  };
}

function defaultExceptionMessage(type: string): string {
  return `Exception of type '${type}' was thrown.`;
}

const MIN_DATE = new CsDateTime(-62135596800000, 'Unspecified');
const MAX_DATE = new CsDateTime(253402300799999, 'Unspecified');

function parseExact(s: unknown, format: unknown): CsDateTime {
  const text = String(s ?? '');
  const fmts = Array.isArray(format) ? (format as string[]) : [String(format)];
  for (const f of fmts) {
    const names: string[] = [];
    let re = '';
    for (let i = 0; i < f.length; ) {
      const c = f[i]!;
      let n = 1;
      while (f[i + n] === c) n++;
      if (c === "'" || c === '"') {
        const close = f.indexOf(c, i + 1);
        re += f.slice(i + 1, close < 0 ? f.length : close).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        i = close < 0 ? f.length : close + 1;
        continue;
      }
      const token = c + String(n);
      const part: Record<string, string> = { y4: '(\\d{4})', y2: '(\\d{2})', M2: '(\\d{2})', M1: '(\\d{1,2})', d2: '(\\d{2})', d1: '(\\d{1,2})', H2: '(\\d{2})', H1: '(\\d{1,2})', h2: '(\\d{2})', m2: '(\\d{2})', m1: '(\\d{1,2})', s2: '(\\d{2})', s1: '(\\d{1,2})', f3: '(\\d{3})', f7: '(\\d{7})', f1: '(\\d)', f2: '(\\d{2})', f6: '(\\d{6})', tt2: '(AM|PM)' };
      const key = c === 'f' ? token : token;
      if (part[key]) {
        re += part[key];
        names.push(c);
      } else if (c === 'K' || c === 'z') {
        re += '(Z|[+-]\\d{2}:?\\d{2})?';
        names.push('K');
      } else re += c.repeat(n).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i += n;
    }
    const m = new RegExp(`^${re}$`).exec(text.trim());
    if (!m) continue;
    const v: Record<string, number> = { y: 1, M: 1, d: 1, H: 0, h: 0, m: 0, s: 0, f: 0 };
    let zone: string | undefined;
    names.forEach((name, k) => {
      const g = m[k + 1];
      if (name === 'K') zone = g;
      else if (name === 'f') v.f = Math.round(Number(`0.${g}`) * 1000);
      else v[name] = Number(g);
    });
    const dt = dateTimeFromParts([v.y!, v.M!, v.d!, v.H! || v.h!, v.m!, v.s!, v.f!], zone ? 'Local' : 'Unspecified');
    if (zone && zone !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      return new CsDateTime(dt.ms - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60000, 'Local');
    }
    return dt;
  }
  throw clrErrors.format('String was not recognized as a valid DateTime.');
}

function jsonDeserialize(s: unknown, typeArgs: TypeArgument[] | undefined): unknown {
  if (s === null || s === undefined) throw clrErrors.argumentNull('value');
  const token = parseJson(String(s));
  const t = typeArgs?.[0];
  if (!t) return token instanceof JValue ? token.value : token;
  if (['JObject', 'JArray', 'JToken', 'JValue'].includes(t.name) && t.arrays === 0) return castTo(token, t, 'Object');
  return fromJson(token, t);
}

/** Materializes JSON as a C# value of type `t` (Dictionary, List, arrays, primitives). */
function fromJson(token: JToken, t: TypeArgument): unknown {
  if (token instanceof JValue && token.kind === 'Null') return null;
  if (t.arrays > 0) {
    if (!(token instanceof JArray)) throw clrErrors.jsonReader(`Cannot deserialize the current JSON object into type '${t.name}[]'.`);
    const inner = { ...t, arrays: t.arrays - 1 };
    return token.items.map((x) => fromJson(x, inner));
  }
  switch (t.name) {
    case 'List`1': case 'IList`1': case 'IEnumerable`1':
      if (!(token instanceof JArray)) throw clrErrors.jsonReader(`Cannot deserialize the current JSON object into type 'List'.`);
      return new CsList(token.items.map((x) => fromJson(x, t.args[0] ?? { name: 'Object', args: [], arrays: 0, nullable: false })));
    case 'Dictionary`2': case 'IDictionary`2': {
      if (!(token instanceof JObject)) throw clrErrors.jsonReader(`Cannot deserialize the current JSON array into type 'Dictionary'.`);
      const d = new CsDictionary();
      for (const p of token.props.values()) d.Add(p.Name, fromJson(p.Value, t.args[1] ?? { name: 'Object', args: [], arrays: 0, nullable: false }));
      return d;
    }
    case 'Object':
      return token instanceof JValue ? token.value : token;
    default:
      return convertJToken(token, t.name, t.nullable);
  }
}

const webUnreserved = /[A-Za-z0-9\-_.!*()]/;
function urlEncode(s: unknown): string | null {
  if (s === null || s === undefined) return null;
  const bytes = Buffer.from(String(s), 'utf8');
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (b < 128 && webUnreserved.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function urlDecode(s: unknown): string | null {
  if (s === null || s === undefined) return null;
  const str = String(s).replace(/\+/g, ' ');
  try {
    return decodeURIComponent(str);
  } catch {
    return str.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

function escapeDataString(s: unknown): string {
  if (s === null || s === undefined) throw clrErrors.argumentNull('stringToEscape');
  return encodeURIComponent(String(s)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const HTML_ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' };

function mathMinMax(pick: (a: number, b: number) => number): StaticMember {
  return fn(([a, b]) => pick(num(a), num(b)), 'Dynamic');
}

function round([x, a, b]: unknown[]): number {
  const digits = typeof a === 'number' ? a : 0;
  const mode = a instanceof CsEnum ? a : b instanceof CsEnum ? b : undefined;
  if (digits < 0 || digits > 15) throw clrErrors.argumentOutOfRange('digits', 'Rounding digits must be between 0 and 15, inclusive.');
  return mode?.name === 'AwayFromZero' ? roundAwayFromZero(num(x), digits) : roundHalfEven(num(x), digits);
}

const stringType: StaticType = {
  members: {
    Empty: prop(() => '', 'String'),
    ...Object.fromEntries(Object.entries(STRING_STATICS).map(([k, f]) => [k, fn((args) => f(args), k.startsWith('Is') || k === 'Equals' ? 'Boolean' : k.startsWith('Compare') ? 'Int32' : 'String')])),
  },
  construct: (_rt, [c, n]) => {
    if (Array.isArray(c)) return c.join('');
    checkStringLength(String(c).length * num(n, 'count'));
    return String(c).repeat(num(n, 'count'));
  },
  constructs: 'String',
};

const dateTimeType: StaticType = {
  members: {
    UtcNow: prop((rt) => new CsDateTime(rt.now(), 'Utc'), 'DateTime'),
    Now: prop((rt) => new CsDateTime(rt.now(), 'Local'), 'DateTime'),
    Today: prop((rt) => new CsDateTime(Math.floor(rt.now() / 86400000) * 86400000, 'Local'), 'DateTime'),
    MinValue: prop(() => MIN_DATE, 'DateTime'),
    MaxValue: prop(() => MAX_DATE, 'DateTime'),
    UnixEpoch: prop(() => new CsDateTime(0, 'Utc'), 'DateTime'),
    Parse: fn(([s]) => {
      if (s === null || s === undefined) throw clrErrors.argumentNull('s');
      const d = parseDateTime(String(s));
      if (!d) throw clrErrors.format('String was not recognized as a valid DateTime.');
      return d;
    }, 'DateTime'),
    TryParse: tryParse((s) => {
      const d = parseDateTime(String(s));
      if (!d) throw clrErrors.format();
      return d;
    }, MIN_DATE),
    ParseExact: fn(([s, f]) => parseExact(s, f), 'DateTime'),
    TryParseExact: fn(([s, f, , , out]) => {
      const ref = (out instanceof OutRef ? out : undefined) ?? new OutRef();
      try {
        ref.value = parseExact(s, f);
        return true;
      } catch {
        ref.value = MIN_DATE;
        return false;
      }
    }, 'Boolean', { out: [4] }),
    SpecifyKind: fn(([d, k]) => new CsDateTime((d as CsDateTime).ms, (k as CsEnum).name as DateTimeKindName), 'DateTime'),
    DaysInMonth: fn(([y, m]) => new Date(Date.UTC(num(y), num(m), 0)).getUTCDate(), 'Int32'),
    IsLeapYear: fn(([y]) => {
      const n = num(y);
      return (n % 4 === 0 && n % 100 !== 0) || n % 400 === 0;
    }, 'Boolean'),
    Compare: fn(([a, b]) => (a as CsDateTime).compareValue(b), 'Int32'),
  },
  construct: (_rt, args) => {
    if (args.length === 1) return new CsDateTime(num(args[0]) / 10000 - 62135596800000, 'Unspecified');
    const kind = args.find((a) => a instanceof CsEnum) as CsEnum | undefined;
    const parts = args.filter((a): a is number => typeof a === 'number');
    return dateTimeFromParts(parts, (kind?.name as DateTimeKindName) ?? 'Unspecified');
  },
  constructs: 'DateTime',
};

const dateTimeOffsetType: StaticType = {
  members: {
    UtcNow: prop((rt) => new CsDateTime(rt.now(), 'Utc', true), 'DateTimeOffset'),
    Now: prop((rt) => new CsDateTime(rt.now(), 'Utc', true), 'DateTimeOffset'),
    MinValue: prop(() => new CsDateTime(MIN_DATE.ms, 'Utc', true), 'DateTimeOffset'),
    MaxValue: prop(() => new CsDateTime(MAX_DATE.ms, 'Utc', true), 'DateTimeOffset'),
    UnixEpoch: prop(() => new CsDateTime(0, 'Utc', true), 'DateTimeOffset'),
    FromUnixTimeSeconds: fn(([s]) => new CsDateTime(num(s) * 1000, 'Utc', true), 'DateTimeOffset'),
    FromUnixTimeMilliseconds: fn(([s]) => new CsDateTime(num(s), 'Utc', true), 'DateTimeOffset'),
    Parse: fn(([s]) => {
      const d = parseDateTime(String(s ?? ''), true);
      if (!d) throw clrErrors.format('String was not recognized as a valid DateTime.');
      return d;
    }, 'DateTimeOffset'),
  },
  construct: (_rt, [d]) => {
    if (d instanceof CsDateTime) return new CsDateTime(d.ms, 'Utc', true);
    throw clrErrors.argument('DateTimeOffset(…) expects a DateTime.');
  },
  constructs: 'DateTimeOffset',
};

const timeSpanType: StaticType = {
  members: {
    Zero: prop(() => new CsTimeSpan(0), 'TimeSpan'),
    MaxValue: prop(() => new CsTimeSpan(Number.MAX_SAFE_INTEGER / 10000), 'TimeSpan'),
    MinValue: prop(() => new CsTimeSpan(-Number.MAX_SAFE_INTEGER / 10000), 'TimeSpan'),
    FromMilliseconds: fn(([v]) => new CsTimeSpan(num(v)), 'TimeSpan'),
    FromSeconds: fn(([v]) => new CsTimeSpan(num(v) * 1000), 'TimeSpan'),
    FromMinutes: fn(([v]) => new CsTimeSpan(num(v) * 60000), 'TimeSpan'),
    FromHours: fn(([v]) => new CsTimeSpan(num(v) * 3600000), 'TimeSpan'),
    FromDays: fn(([v]) => new CsTimeSpan(num(v) * 86400000), 'TimeSpan'),
    FromTicks: fn(([v]) => new CsTimeSpan(num(v) / 10000), 'TimeSpan'),
    Parse: fn(([s]) => {
      const t = parseTimeSpan(String(s ?? ''));
      if (!t) throw clrErrors.format('String was not recognized as a valid TimeSpan.');
      return t;
    }, 'TimeSpan'),
    TryParse: tryParse((s) => {
      const t = parseTimeSpan(String(s));
      if (!t) throw clrErrors.format();
      return t;
    }, new CsTimeSpan(0)),
  },
  construct: (_rt, args) => {
    const n = args.map((a) => num(a));
    if (n.length === 1) return new CsTimeSpan(n[0]! / 10000);
    const [d, h, m, s, ms] = n.length === 3 ? [0, ...n, 0] : [...n, 0];
    return new CsTimeSpan((((d! * 24 + h!) * 60 + m!) * 60 + s!) * 1000 + (ms ?? 0));
  },
  constructs: 'TimeSpan',
};

const guidType: StaticType = {
  members: {
    NewGuid: fn((_a, rt) => newGuid(rt), 'Guid'),
    Empty: prop(() => new CsGuid('0'.repeat(32)), 'Guid'),
    Parse: fn(([s]) => {
      if (s === null || s === undefined) throw clrErrors.argumentNull('input');
      const g = CsGuid.parse(String(s));
      if (!g) throw clrErrors.format('Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).');
      return g;
    }, 'Guid'),
    TryParse: tryParse((s) => {
      const g = CsGuid.parse(String(s));
      if (!g) throw clrErrors.format();
      return g;
    }, new CsGuid('0'.repeat(32))),
  },
  construct: (_rt, [s]) => {
    if (s instanceof Uint8Array && s.length !== 16) throw clrErrors.argument("Byte array for Guid must be exactly 16 bytes long.");
    const g = typeof s === 'string' ? CsGuid.parse(s) : s instanceof Uint8Array ? CsGuid.fromDotNetBytes(s) : undefined;
    if (!g) throw clrErrors.format('Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).');
    return g;
  },
  constructs: 'Guid',
};

function jsonContainer(kind: 'JObject' | 'JArray' | 'JToken'): StaticType {
  const members: Record<string, StaticMember> = {
    Parse: fn(([s]) => {
      if (s === null || s === undefined) throw clrErrors.argumentNull('json');
      return parseJson(String(s), kind === 'JToken' ? undefined : kind === 'JObject' ? 'Object' : 'Array');
    }, kind),
    FromObject: fn(([o]) => {
      const t = toJToken(o);
      if (kind !== 'JToken' && t[TYPE_NAME] !== `Newtonsoft.Json.Linq.${kind}`) {
        throw clrErrors.argument(`Object serialized to ${t.kindName}. ${kind} instance expected.`);
      }
      return t.parent ? t.clone() : t;
    }, kind),
  };
  if (kind === 'JToken') members.DeepEquals = fn(([a, b]) => (a === null || a === undefined ? b === null || b === undefined : b instanceof JToken && writeJson(a as JToken, false) === writeJson(b, false)), 'Boolean');
  const type: StaticType = { members };
  if (kind === 'JObject') {
    type.construct = (_rt, args) => new JObject(...args);
    type.constructs = 'JObject';
  } else if (kind === 'JArray') {
    type.construct = (_rt, args) => new JArray(...args);
    type.constructs = 'JArray';
  }
  return type;
}

function listType(): StaticType {
  return {
    members: {},
    construct: (_rt, [init], typeArgs) => new CsList(init === undefined || typeof init === 'number' ? [] : enumerate(init) ?? [], typeArgs?.[0]?.name ?? 'Object'),
    constructs: 'List`1',
  };
}

/** Static types by canonical name: their static members and constructors. */
export const STATIC_TYPES: Record<string, StaticType> = {
  String: stringType,
  Int32: integralType('Int32'),
  Int64: integralType('Int64'),
  Int16: integralType('Int16'),
  Byte: integralType('Byte'),
  UInt32: integralType('UInt32'),
  UInt64: integralType('UInt64'),
  Double: floatingType('Double'),
  Single: floatingType('Single'),
  Decimal: floatingType('Decimal'),
  Boolean: {
    members: {
      Parse: fn(([s]) => parseBoolean(s), 'Boolean'),
      TryParse: tryParse(parseBoolean, false),
      TrueString: prop(() => 'True', 'String'),
      FalseString: prop(() => 'False', 'String'),
    },
  },
  Char: {
    members: {
      IsDigit: charTest(/^[0-9]$/),
      IsNumber: charTest(/^\p{N}$/u),
      IsLetter: charTest(/^\p{L}$/u),
      IsLetterOrDigit: charTest(/^[\p{L}\p{Nd}]$/u),
      IsWhiteSpace: charTest(/^\s$/),
      IsUpper: charTest(/^\p{Lu}$/u),
      IsLower: charTest(/^\p{Ll}$/u),
      IsPunctuation: charTest(/^\p{P}$/u),
      ToUpper: fn(([c]) => String(c).toUpperCase(), 'Char'),
      ToLower: fn(([c]) => String(c).toLowerCase(), 'Char'),
      ToUpperInvariant: fn(([c]) => String(c).toUpperCase(), 'Char'),
      ToLowerInvariant: fn(([c]) => String(c).toLowerCase(), 'Char'),
    },
  },
  Object: {
    members: {
      Equals: fn(([a, b]) => csObjectEquals(a, b), 'Boolean'),
      ReferenceEquals: fn(([a, b]) => a === b || ((a ?? null) === null && (b ?? null) === null), 'Boolean'),
    },
    construct: () => ({}),
    constructs: 'Object',
  },
  Math: {
    members: {
      PI: prop(() => Math.PI, 'Double'),
      E: prop(() => Math.E, 'Double'),
      Min: mathMinMax(Math.min),
      Max: mathMinMax(Math.max),
      Abs: fn(([x]) => Math.abs(num(x)), 'Dynamic'),
      Sign: fn(([x]) => Math.sign(num(x)), 'Int32'),
      Round: fn(round, 'Double'),
      Floor: fn(([x]) => Math.floor(num(x)), 'Double'),
      Ceiling: fn(([x]) => Math.ceil(num(x)), 'Double'),
      Truncate: fn(([x]) => Math.trunc(num(x)), 'Double'),
      Pow: fn(([x, y]) => Math.pow(num(x), num(y)), 'Double'),
      Sqrt: fn(([x]) => Math.sqrt(num(x)), 'Double'),
      Exp: fn(([x]) => Math.exp(num(x)), 'Double'),
      Log: fn(([x, b]) => (b === undefined ? Math.log(num(x)) : Math.log(num(x)) / Math.log(num(b))), 'Double'),
      Log10: fn(([x]) => Math.log10(num(x)), 'Double'),
      Log2: fn(([x]) => Math.log2(num(x)), 'Double'),
      Clamp: fn(([x, lo, hi]) => {
        if (num(lo) > num(hi)) throw clrErrors.argument(`'${toCSharpString(lo)}' cannot be greater than ${toCSharpString(hi)}.`);
        return Math.min(Math.max(num(x), num(lo)), num(hi));
      }, 'Dynamic'),
    },
  },
  Convert: {
    members: {
      ToInt32: fn(([v, b], _rt, _t, types) => (b === undefined ? convertToIntegral(v, 'Int32', types[0]) : convertFromBase(v, b, 'Int32')), 'Int32'),
      ToInt64: fn(([v, b], _rt, _t, types) => (b === undefined ? convertToIntegral(v, 'Int64', types[0]) : convertFromBase(v, b, 'Int64')), 'Int64'),
      ToInt16: fn(([v, b], _rt, _t, types) => (b === undefined ? convertToIntegral(v, 'Int16', types[0]) : convertFromBase(v, b, 'Int16')), 'Int16'),
      ToByte: fn(([v, b], _rt, _t, types) => (b === undefined ? convertToIntegral(v, 'Byte', types[0]) : convertFromBase(v, b, 'Byte')), 'Byte'),
      ToSByte: fn(([v, b], _rt, _t, types) => (b === undefined ? convertToIntegral(v, 'SByte', types[0]) : convertFromBase(v, b, 'SByte')), 'SByte'),
      ToUInt16: fn(([v, b], _rt, _t, types) => (b === undefined ? convertToIntegral(v, 'UInt16', types[0]) : convertFromBase(v, b, 'UInt16')), 'UInt16'),
      ToUInt32: fn(([v, b], _rt, _t, types) => (b === undefined ? convertToIntegral(v, 'UInt32', types[0]) : convertFromBase(v, b, 'UInt32')), 'UInt32'),
      ToUInt64: fn(([v, b], _rt, _t, types) => (b === undefined ? convertToIntegral(v, 'UInt64', types[0]) : convertFromBase(v, b, 'UInt64')), 'UInt64'),
      ToChar: fn(([v]) => convertToChar(v), 'Char'),
      ToDateTime: fn(([v]) => convertToDateTime(v), 'DateTime'),
      ToDouble: fn(([v]) => convertToFloating(v), 'Double'),
      ToSingle: fn(([v]) => convertToFloating(v), 'Single'),
      ToDecimal: fn(([v]) => convertToFloating(v), 'Decimal'),
      ToBoolean: fn(([v]) => {
        if (v === null || v === undefined) return false;
        if (typeof v === 'string') return parseBoolean(v);
        if (typeof v === 'number') return v !== 0;
        if (typeof v === 'boolean') return v;
        if (v instanceof JToken) return convertJToken(v, 'Boolean');
        throw clrErrors.invalidCastMessage(`Unable to cast object of type '${typeNameOf(v)}' to type 'System.IConvertible'.`);
      }, 'Boolean'),
      ToString: fn(([v, f], _rt, _t, types) => (typeof f === 'number' ? convertToBase(v, f, types[0]) : v === null || v === undefined ? '' : toCSharpString(v)), 'String'),
      ToBase64String: fn(([b, offset, length]) => toBase64(b, offset, length), 'String'),
      IsDBNull: fn(() => false, 'Boolean'),
      FromBase64String: fn(([s]) => fromBase64(s), 'Byte[]'),
      ToHexString: fn(([b]) => Buffer.from(bytesOf(b)).toString('hex').toUpperCase(), 'String'),
      FromHexString: fn(([s]) => {
        const str = String(s ?? '');
        if (str.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(str)) throw clrErrors.format('The input is not a valid hex string as it contains a non-hex character.');
        return new Uint8Array(Buffer.from(str, 'hex'));
      }, 'Byte[]'),
    },
  },
  DateTime: dateTimeType,
  DateTimeOffset: dateTimeOffsetType,
  TimeSpan: timeSpanType,
  Guid: guidType,
  Encoding: {
    members: {
      ...Object.fromEntries(Object.entries(ENCODINGS).map(([k, v]) => [k, prop(() => v, 'Encoding')])),
      GetEncoding: fn(([name]) => {
        const n = String(name ?? '').toLowerCase();
        const e = n === 'utf-8' || n === 'utf8' || n === '65001' ? ENCODINGS.UTF8 : n === 'us-ascii' || n === 'ascii' || n === '20127' ? ENCODINGS.ASCII : n === 'utf-16' || n === 'unicode' || n === '1200' ? ENCODINGS.Unicode : undefined;
        if (!e) throw clrErrors.argument(`'${toCSharpString(name)}' is not a supported encoding name.`);
        return e;
      }, 'Encoding'),
    },
  },
  StringBuilder: { members: {}, construct: (_rt, [s]) => new CsStringBuilder(s), constructs: 'StringBuilder' },
  Regex: {
    members: {
      IsMatch: fn(([s, p, o]) => new CsRegex(String(p), o).IsMatch(s), 'Boolean'),
      Match: fn(([s, p, o]) => new CsRegex(String(p), o).Match(s), 'Match'),
      Matches: fn(([s, p, o]) => new CsRegex(String(p), o).Matches(s), 'MatchCollection'),
      Replace: fn(([s, p, r, o]) => new CsRegex(String(p), o).Replace(s, r), 'String'),
      Split: fn(([s, p, o]) => new CsRegex(String(p), o).Split(s), 'String[]'),
      Escape: fn(([s]) => regexEscape(String(s)), 'String'),
      Unescape: fn(([s]) => regexUnescape(String(s)), 'String'),
    },
    construct: (_rt, [p, o]) => new CsRegex(String(p), o),
    constructs: 'Regex',
  },
  RegexOptions: { members: enumMembers(RegexOptions, 'RegexOptions') },
  Match: { members: { Empty: prop(() => EMPTY_MATCH, 'Match') } },
  StringComparison: { members: enumMembers(StringComparison, 'StringComparison') },
  StringSplitOptions: { members: enumMembers(StringSplitOptions, 'StringSplitOptions') },
  StringComparer: { members: Object.fromEntries(Object.entries(STRING_COMPARERS).map(([k, v]) => [k, prop(() => v, 'StringComparer')])) },
  MidpointRounding: { members: enumMembers(CsEnum.define('MidpointRounding', { ToEven: 0, AwayFromZero: 1, ToZero: 2, ToNegativeInfinity: 3, ToPositiveInfinity: 4 }), 'MidpointRounding') },
  DateTimeKind: { members: enumMembers(DateTimeKind, 'DateTimeKind') },
  DayOfWeek: { members: enumMembers(DayOfWeek, 'DayOfWeek') },
  Formatting: { members: enumMembers(Formatting, 'Formatting') },
  JTokenType: { members: enumMembers(JTokenType, 'JTokenType') },
  XDocument: { members: { Parse: fn(([s]) => XDocument.Parse(s), 'XDocument') } },
  XElement: { members: { Parse: fn(([s]) => XElement.Parse(s), 'XElement') } },
  XName: { members: { Get: fn(([local, ns]) => (ns === undefined ? XName.parse(local) : new XName(String(local), String(ns ?? ''))), 'XName') } },
  JObject: jsonContainer('JObject'),
  JArray: jsonContainer('JArray'),
  JToken: jsonContainer('JToken'),
  JValue: {
    members: {
      CreateNull: fn(() => new JValue('Null', null), 'JValue'),
      CreateString: fn(([s]) => (s === null || s === undefined ? new JValue('Null', null) : new JValue('String', String(s))), 'JValue'),
    },
    construct: (_rt, [v]) => {
      const t = toJToken(v);
      if (!(t instanceof JValue)) throw clrErrors.argument(`Could not determine JSON object type for type ${typeNameOf(v)}.`);
      return t;
    },
    constructs: 'JValue',
  },
  JProperty: {
    members: {},
    construct: (_rt, [name, ...content]) => new JProperty(toCSharpString(name), content.length === 1 ? content[0] : content.length === 0 ? null : new JArray(...content)),
    constructs: 'JProperty',
  },
  JsonConvert: {
    members: {
      SerializeObject: fn(([o, f]) => serializeObject(o, f === Formatting.Indented), 'String'),
      DeserializeObject: fn((args, _rt, typeArgs) => jsonDeserialize(args[0], typeArgs), 'Dynamic', { generic: false }),
    },
  },
  Enumerable: {
    members: {
      Range: fn(([start, count]) => {
        if (num(count) < 0) throw clrErrors.argumentOutOfRange('count', 'Specified argument was out of the range of valid values.');
        checkCollectionSize(num(count));
        return Array.from({ length: num(count) }, (_, i) => num(start) + i);
      }),
      Repeat: fn(([x, count]) => (checkCollectionSize(num(count)), Array.from({ length: num(count) }, () => x))),
      Empty: fn(() => []),
    },
  },
  Array: {
    members: Object.fromEntries(
      Object.entries(ARRAY_STATICS).map(([name, call]) => [name, fn((args) => call(args), ARRAY_RETURNS[name as keyof typeof ARRAY_STATICS])]),
    ),
  },
  WebUtility: {
    members: {
      UrlEncode: fn(([s]) => urlEncode(s), 'String'),
      UrlDecode: fn(([s]) => urlDecode(s), 'String'),
      HtmlEncode: fn(([s]) => (s === null || s === undefined ? null : String(s).replace(/[<>&"']/g, (c) => HTML_ESCAPES[c]!)), 'String'),
      HtmlDecode: fn(([s]) => (s === null || s === undefined ? null : String(s).replace(/&(lt|gt|amp|quot|#39|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', '#39': "'", apos: "'" })[e]!)), 'String'),
    },
  },
  Uri: {
    members: {
      EscapeDataString: fn(([s]) => escapeDataString(s), 'String'),
      UnescapeDataString: fn(([s]) => urlDecode(String(s ?? '').replace(/\+/g, '%2B')), 'String'),
      EscapeUriString: fn(([s]) => encodeURI(String(s ?? '')), 'String'),
      IsWellFormedUriString: fn(([s, kind]) => isWellFormedUriString(s, kind), 'Boolean'),
      TryCreate: fn((args) => tryCreateUri(args), 'Boolean', { out: [2] }),
      CheckSchemeName: fn(([s]) => typeof s === 'string' && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(s), 'Boolean'),
      ...Object.fromEntries(Object.entries(URI_SCHEMES).map(([k, v]) => [k, prop(() => v, 'String')])),
    },
    construct: (_rt, args) => constructUri(args),
    constructs: 'Uri',
  },
  UriKind: { members: enumMembers(UriKind, 'UriKind') },
  UriPartial: { members: enumMembers(UriPartial, 'UriPartial') },
  BitConverter: {
    members: {
      IsLittleEndian: prop(() => true, 'Boolean'),
      GetBytes: fn(([v], _rt, _t, types) => getBytes(v, types[0]), 'Byte[]'),
      ToString: fn(([b, start, length]) => bitConverterToString(b, start, length), 'String'),
      DoubleToInt64Bits: fn(([v]) => doubleToInt64Bits(v), 'Int64'),
      Int64BitsToDouble: fn(([v]) => int64BitsToDouble(v), 'Double'),
      ...Object.fromEntries(Object.entries(BIT_CONVERTER_READERS).map(([name, read]) => [name, fn(([v, i]) => read(v, i), BIT_CONVERTER_RETURNS[name as keyof typeof BIT_CONVERTER_READERS])])),
    },
  },
  Random: { members: {}, construct: (rt, [seed]) => new CsRandom(rt, seed as number | undefined), constructs: 'Random' },
  Enum: {
    members: {
      // Enum.TryParse<TEnum>(value[, ignoreCase], out result); Enum.Parse(typeof(T), …) needs typeof (not supported).
      TryParse: fn((args, _rt, typeArgs) => {
        const t = typeArgs?.[0];
        if (!t || !CsEnum.isEnumType(t.name)) throw clrErrors.argument('Type provided must be an Enum.');
        const out = args[args.length - 1] as OutRef;
        const parsed = typeof args[0] === 'string' ? CsEnum.parse(t.name, args[0], args.length === 3 && args[1] === true) : undefined;
        out.value = parsed ?? CsEnum.fromValue(t.name, 0);
        return parsed !== undefined;
      }, 'Boolean', { generic: true }),
    },
  },
  'Queue`1': { members: {}, construct: (_rt, [init]) => new CsQueue(init === undefined || typeof init === 'number' ? undefined : (enumerate(init) ?? [])), constructs: 'Queue`1' },
  'Stack`1': { members: {}, construct: (_rt, [init]) => new CsStack(init === undefined || typeof init === 'number' ? undefined : (enumerate(init) ?? [])), constructs: 'Stack`1' },
  IPAddress: {
    members: {
      Parse: fn(([s]) => ipParse(s), 'IPAddress'),
      TryParse: fn((args) => ipTryParse(args), 'Boolean', { out: [1], parameters: ['ipString', 'address'] }),
      IsLoopback: fn(([ip]) => ipIsLoopback(ip), 'Boolean'),
      ...Object.fromEntries(Object.entries(IP_CONSTANTS).map(([k, v]) => [k, prop(() => v, 'IPAddress')])),
    },
    construct: (_rt, [bytes]) => {
      const b = bytesOf(bytes, 'address');
      if (b.length !== 4 && b.length !== 16) throw clrErrors.argument('An invalid IP address was specified.');
      return new CsIPAddress(b.slice());
    },
    constructs: 'IPAddress',
  },
  AddressFamily: { members: enumMembers(AddressFamily, 'AddressFamily') },
  'List`1': listType(),
  'HashSet`1': {
    members: {},
    construct: (_rt, args) => {
      const comparer = args.find((a) => a instanceof CsStringComparer) as CsStringComparer | undefined;
      const init = args.find((a) => a !== comparer && typeof a !== 'number');
      return new CsHashSet(init === undefined ? [] : enumerate(init) ?? [], comparer);
    },
    constructs: 'HashSet`1',
  },
  'Dictionary`2': {
    members: {},
    construct: (_rt, args) => {
      const comparer = args.find((a) => a instanceof CsStringComparer) as CsStringComparer | undefined;
      const d = new CsDictionary(comparer);
      const init = args.find((a) => a instanceof CsDictionary);
      if (init) for (const kv of enumerate(init)!) d.Add((kv as { Key: unknown }).Key, (kv as { Value: unknown }).Value);
      return d;
    },
    constructs: 'Dictionary`2',
  },
  'KeyValuePair`2': { members: {}, construct: (_rt, [k, v]) => new KeyValuePair(k, v), constructs: 'KeyValuePair`2' },
  SHA256: hashType('sha256', 'SHA256'),
  SHA1: hashType('sha1', 'SHA1'),
  SHA384: hashType('sha384', 'SHA384'),
  SHA512: hashType('sha512', 'SHA512'),
  MD5: hashType('md5', 'MD5'),
  SHA256Managed: hashType('sha256', 'SHA256Managed'),
  SHA1Managed: hashType('sha1', 'SHA1Managed'),
  SHA384Managed: hashType('sha384', 'SHA384Managed'),
  SHA512Managed: hashType('sha512', 'SHA512Managed'),
  HMACSHA256: hmacType('sha256', 'HMACSHA256'),
  HMACSHA1: hmacType('sha1', 'HMACSHA1'),
  HMACSHA384: hmacType('sha384', 'HMACSHA384'),
  HMACSHA512: hmacType('sha512', 'HMACSHA512'),
  HMACMD5: hmacType('md5', 'HMACMD5'),
  HashAlgorithm: { members: { Create: fn(([name], rt) => namedHash(name, false, rt), 'HashAlgorithm') } },
  HMAC: { members: { Create: fn(([name], rt) => namedHash(name, true, rt), 'HMAC') } },
  KeyedHashAlgorithm: { members: { Create: fn(([name], rt) => namedHash(name, true, rt), 'KeyedHashAlgorithm') } },
  HashAlgorithmName: {
    members: {
      ...Object.fromEntries(['MD5', 'SHA1', 'SHA256', 'SHA384', 'SHA512'].map((n) => [n, prop(() => new CsHashAlgorithmName(n), 'HashAlgorithmName')])),
    },
    construct: (_rt, [name]) => new CsHashAlgorithmName(name === null || name === undefined ? null : String(name)),
    constructs: 'HashAlgorithmName',
  },
  RNGCryptoServiceProvider: { members: {}, construct: (rt) => new CsRngCryptoServiceProvider(rt), constructs: 'RNGCryptoServiceProvider' },
};

for (const name of ['Exception', 'ArgumentException', 'ArgumentNullException', 'ArgumentOutOfRangeException', 'InvalidOperationException', 'NotSupportedException', 'NotImplementedException', 'FormatException', 'InvalidCastException', 'NullReferenceException', 'KeyNotFoundException', 'IndexOutOfRangeException', 'DivideByZeroException', 'OverflowException', 'UnauthorizedAccessException', 'TimeoutException']) {
  STATIC_TYPES[name] = exceptionType(typeEntry(name)!.full);
}

