import { encryptBytes, STRING_EXTENSIONS } from './apim-extensions.js';
import { LINQ } from './collections.js';
import { CsDateTime, CsTimeSpan } from './datetime.js';
import { clrErrors } from './errors.js';
import { convertJToken, JToken } from './json.js';
import { formatNumber } from './numbers.js';
import { ENUMERATE, INDEXER, INDEXER_SET, methodInfoOf, OutRef, TYPE_NAME, type MethodInfo, type TypeArgument } from './protocol.js';
import { STRING_METHODS } from './strings.js';
import { XDocument, XElement } from './xml.js';
import { csCompare, csObjectEquals, enumerate, toCSharpString, typeNameOf } from './values.js';

/**
 * Member resolution on runtime values: built-in tables for strings, numbers, booleans and arrays, the host
 * protocol (protocol.ts) for objects, then extension methods (LINQ on anything enumerable, JToken.Value<T>()).
 */

export interface CallSite {
  typeArgs: TypeArgument[] | undefined;
  /** Argument names for named arguments (`preserveContent: true`); undefined entries are positional. */
  names: Array<string | undefined> | undefined;
}

const OBJECT_PROTO_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/** A System.Type stand-in for `x.GetType().Name`. */
class CsTypeInfo {
  readonly [TYPE_NAME] = 'System.RuntimeType';
  constructor(readonly FullName: string) {}
  get Name(): string {
    const i = this.FullName.lastIndexOf('.');
    return this.FullName.slice(i + 1);
  }
  ToString(): string {
    return this.FullName;
  }
}

function readableName(target: unknown): string {
  return typeNameOf(target);
}

function isHostObject(v: unknown): v is Record<string | symbol, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Places named arguments by the method's declared parameter names. */
export function arrangeArguments(info: MethodInfo | undefined, args: unknown[], names: Array<string | undefined> | undefined, method: string): unknown[] {
  if (!names || names.every((n) => n === undefined)) return args;
  const params = info?.parameters;
  if (!params) throw clrErrors.argument(`The best overload for '${method}' does not have a parameter named '${names.find((n) => n)!}'`);
  const out: unknown[] = [];
  names.forEach((n, i) => {
    if (n === undefined) out[i] = args[i];
    else {
      const at = params.indexOf(n);
      if (at < 0) throw clrErrors.argument(`The best overload for '${method}' does not have a parameter named '${n}'`);
      out[at] = args[i];
    }
  });
  return out;
}

function checkOut(info: MethodInfo | undefined, args: unknown[], method: string): void {
  args.forEach((a, i) => {
    if (a instanceof OutRef && !info?.out?.includes(i)) {
      throw clrErrors.argument(`Argument ${i + 1} of '${method}' may not be passed with the 'out' keyword`);
    }
  });
}

/** Calls a host function with the protocol's conventions (named arguments, generics, out parameters). */
export function callHostFunction(fn: (...a: unknown[]) => unknown, self: unknown, name: string, args: unknown[], site: CallSite): unknown {
  const info = methodInfoOf(fn);
  const a = arrangeArguments(info, args, site.names, name);
  checkOut(info, a, name);
  if (info?.generic) return fn.call(self, site.typeArgs, ...a);
  if (site.typeArgs) throw clrErrors.argument(`The non-generic method '${name}' cannot be used with type arguments`);
  return fn.apply(self, a);
}

/**
 * System.Xml.Linq.Extensions over a sequence of elements (`doc.Descendants("a").Elements("b")`): the member applied
 * to each element (or document) in order, flattened, as .NET yields them.
 */
const XML_SEQUENCE_EXTENSIONS: ReadonlySet<string> = new Set(['Elements', 'Descendants', 'DescendantsAndSelf', 'Ancestors', 'AncestorsAndSelf', 'Attributes']);

function xmlSequence(items: unknown[], name: string, args: unknown[]): { found: boolean; value?: unknown } {
  if (!items.every((x) => x instanceof XElement || x instanceof XDocument)) return { found: false };
  const out: unknown[] = [];
  for (const x of items as Array<XElement | XDocument>) {
    const member = (x as unknown as Record<string, ((...a: unknown[]) => unknown[]) | undefined>)[name];
    if (typeof member !== 'function') return { found: false };
    out.push(...member.apply(x, args));
  }
  return { found: true, value: out };
}

function linq(target: unknown, name: string, args: unknown[], site: CallSite): { found: boolean; value?: unknown } {
  const f = LINQ[name];
  if (!f && !XML_SEQUENCE_EXTENSIONS.has(name)) return { found: false };
  const items = enumerate(target);
  if (!items) return { found: false };
  if (!f) return xmlSequence([...items], name, args);
  return { found: true, value: f([...items], args, site.typeArgs, target) };
}

function universal(target: unknown, name: string, args: unknown[]): { found: boolean; value?: unknown } {
  switch (name) {
    case 'ToString':
      if (args.length === 0) return { found: true, value: toCSharpString(target) };
      return { found: false };
    case 'Equals':
      return { found: true, value: csObjectEquals(target, args[0]) };
    case 'GetType':
      return { found: true, value: new CsTypeInfo(readableName(target)) };
    case 'CompareTo':
      return { found: true, value: csCompare(target, args[0]) };
    case 'GetHashCode':
      return { found: true, value: 0 };
  }
  return { found: false };
}

/** `target.name(args)`. */
export function invokeMember(target: unknown, name: string, args: unknown[], site: CallSite): unknown {
  if (target === null || target === undefined) throw clrErrors.nullReference();
  if (target instanceof Date) target = CsDateTime.fromDate(target);
  switch (typeof target) {
    case 'string': {
      const m = STRING_METHODS[name];
      if (m) {
        checkOut(undefined, args, name);
        return m(target, args);
      }
      const extension = STRING_EXTENSIONS[name];
      if (extension) {
        checkOut({ out: extension.out ?? [] }, args, name);
        return extension.call(target, args);
      }
      break;
    }
    case 'number':
      if (name === 'ToString' && args.length > 0) return formatNumber(target, args[0] as string | null);
      break;
    case 'boolean':
      break;
    case 'function':
      if (name === 'Invoke') return (target as (...a: unknown[]) => unknown)(...args);
      break;
    case 'object': {
      if (target instanceof Uint8Array && (name === 'Encrypt' || name === 'Decrypt')) return encryptBytes(target, args, name === 'Decrypt');
      if (!Array.isArray(target) && !(target instanceof Uint8Array) && !OBJECT_PROTO_NAMES.has(name)) {
        const member = (target as Record<string, unknown>)[name];
        if (typeof member === 'function') return callHostFunction(member as (...a: unknown[]) => unknown, target, name, args, site);
        if (member !== undefined && !(target instanceof JToken && name === 'Value') && !(LINQ[name] && enumerate(target))) {
          throw clrErrors.invalidOperation(`Non-invocable member '${name}' of '${readableName(target)}' cannot be used like a method.`);
        }
      }
      if (target instanceof JToken && name === 'Value' && args.length === 0) {
        return convertJToken(target, site.typeArgs?.[0]?.name ?? 'Object', site.typeArgs?.[0]?.nullable);
      }
      if (target instanceof JToken && name === 'Values') {
        return target.childTokens().map((t) => convertJToken(t instanceof JToken && 'Value' in t && t.kindName === 'Property' ? (t as unknown as { Value: JToken }).Value : t, site.typeArgs?.[0]?.name ?? 'JToken'));
      }
      break;
    }
  }
  const l = linq(target, name, args, site);
  if (l.found) return l.value;
  const u = universal(target, name, args);
  if (u.found) return u.value;
  throw clrErrors.missingMember(readableName(target), name);
}

/** `target.name`. */
export function getMember(target: unknown, name: string): unknown {
  if (target === null || target === undefined) {
    if (name === 'HasValue') return false;
    throw clrErrors.nullReference();
  }
  if (target instanceof Date) target = CsDateTime.fromDate(target);
  switch (typeof target) {
    case 'string':
      if (name === 'Length') return target.length;
      break;
    case 'number':
    case 'boolean':
      if (name === 'HasValue') return true;
      if (name === 'Value') return target;
      break;
    case 'object':
      if (Array.isArray(target) || target instanceof Uint8Array) {
        if (name === 'Length' || name === 'LongLength') return target.length;
        if (name === 'Rank') return 1;
        break;
      }
      if (!OBJECT_PROTO_NAMES.has(name) && name in (target as object)) {
        const v = (target as Record<string, unknown>)[name];
        if (typeof v === 'function' && !Object.prototype.hasOwnProperty.call(target, name)) return (v as (...a: unknown[]) => unknown).bind(target);
        return v === undefined ? null : v;
      }
      if (name === 'HasValue') return true;
      // Nullable<DateTime> / Nullable<TimeSpan>: `.Value` of a non-null value is the value.
      if (name === 'Value' && (target instanceof CsDateTime || target instanceof CsTimeSpan)) return target;
      break;
  }
  throw clrErrors.missingMember(readableName(target), name);
}

/** `target.name = value`. */
export function setMember(target: unknown, name: string, value: unknown): void {
  if (target === null || target === undefined) throw clrErrors.nullReference();
  if (isHostObject(target) && !OBJECT_PROTO_NAMES.has(name) && name in target) {
    if (!Reflect.set(target, name, value)) {
      throw clrErrors.invalidOperation(`Property or indexer '${readableName(target)}.${name}' cannot be assigned to -- it is read only`);
    }
    return;
  }
  throw clrErrors.missingMember(readableName(target), name);
}

function checkArrayIndex(i: unknown, length: number): number {
  if (typeof i !== 'number' || !Number.isInteger(i)) throw clrErrors.invalidCast(typeNameOf(i), 'System.Int32');
  if (i < 0 || i >= length) throw clrErrors.indexOutsideArray();
  return i;
}

/** `target[key]`. */
export function getIndex(target: unknown, key: unknown): unknown {
  if (target === null || target === undefined) throw clrErrors.nullReference();
  if (typeof target === 'string') return target[checkArrayIndex(key, target.length)];
  if (Array.isArray(target) || target instanceof Uint8Array) return target[checkArrayIndex(key, target.length)] ?? null;
  if (isHostObject(target)) {
    const indexer = target[INDEXER];
    if (typeof indexer === 'function') return indexer.call(target, key);
    if (target instanceof Map) {
      if (!target.has(key)) throw clrErrors.keyNotFound(toCSharpString(key));
      return target.get(key) ?? null;
    }
    const proto = Object.getPrototypeOf(target);
    if (proto === Object.prototype || proto === null) {
      const k = toCSharpString(key);
      if (!Object.prototype.hasOwnProperty.call(target, k)) throw clrErrors.keyNotFound(k);
      return target[k] ?? null;
    }
  }
  throw clrErrors.invalidOperation(`Cannot apply indexing with [] to an expression of type '${readableName(target)}'`);
}

/** `target[key] = value`. */
export function setIndex(target: unknown, key: unknown, value: unknown): void {
  if (target === null || target === undefined) throw clrErrors.nullReference();
  if (Array.isArray(target) || target instanceof Uint8Array) {
    target[checkArrayIndex(key, target.length)] = value as number;
    return;
  }
  if (isHostObject(target)) {
    const indexer = target[INDEXER_SET];
    if (typeof indexer === 'function') {
      indexer.call(target, key, value);
      return;
    }
    if (target instanceof Map) {
      target.set(key, value);
      return;
    }
    if (typeof target[INDEXER] === 'function') {
      throw clrErrors.invalidOperation(`Property or indexer '${readableName(target)}.this[]' cannot be assigned to -- it is read only`);
    }
  }
  throw clrErrors.invalidOperation(`Cannot apply indexing with [] to an expression of type '${readableName(target)}'`);
}

export function isEnumerable(v: unknown): boolean {
  return v !== null && v !== undefined && (typeof v === 'string' || enumerate(v) !== undefined || (isHostObject(v) && typeof v[ENUMERATE] === 'function'));
}
