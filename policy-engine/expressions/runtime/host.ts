import { castTo, defaultValueOf, isInstanceOf } from './conversions.js';
import { clrErrors } from './errors.js';
import { parseJson } from './json.js';
import { XDocument, XElement } from './xml.js';
import { declareMethods, ENUMERATE, INDEXER, OutRef, TYPE_NAME, type TypeArgument } from './protocol.js';
import { displayType } from './types.js';
import { KeyValuePair, typeNameOf } from './values.js';
import { FormUrlEncodedContent } from './form.js';

/**
 * Host classes the gateway builds `context` from. Each has a JavaScript API (camelCase, for the gateway)
 * and a C# view (PascalCase members, indexers via the protocol in protocol.ts) for expressions.
 */

type HeaderInit = Headers | Record<string, string | string[] | undefined> | Iterable<readonly [string, string | readonly string[]]>;

/**
 * A mutable, case-insensitive, order-preserving header collection. C# view: IReadOnlyDictionary<string, string[]>
 * with APIM's `GetValueOrDefault(name, default)` (values joined with ',').
 */
export class HeaderBag {
  readonly [TYPE_NAME] = 'System.Collections.Generic.IReadOnlyDictionary`2[System.String,System.String[]]';
  private readonly map = new Map<string, { name: string; values: string[] }>();

  constructor(init?: HeaderInit) {
    if (init) HeaderBag.fill(this, init);
  }

  static fromHeaders(init: HeaderInit): HeaderBag {
    return new HeaderBag(init);
  }

  static fromEntries(entries: Iterable<readonly [string, string | readonly string[]]>): HeaderBag {
    return new HeaderBag(entries);
  }

  private static fill(bag: HeaderBag, init: HeaderInit): void {
    if (typeof Headers !== 'undefined' && init instanceof Headers) {
      init.forEach((value, name) => {
        if (name.toLowerCase() !== 'set-cookie') bag.append(name, value);
      });
      for (const cookie of init.getSetCookie?.() ?? []) bag.append('Set-Cookie', cookie);
      return;
    }
    const entries: Iterable<readonly [string, unknown]> =
      Symbol.iterator in (init as object) ? (init as Iterable<readonly [string, unknown]>) : Object.entries(init);
    for (const [name, value] of entries) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) bag.append(name, String(v));
      else bag.append(name, String(value));
    }
  }

  // ---- JavaScript API ----
  get(name: string): string[] | undefined {
    return this.map.get(name.toLowerCase())?.values.slice();
  }
  set(name: string, values: readonly string[]): void {
    const key = name.toLowerCase();
    const existing = this.map.get(key);
    if (existing) existing.values = [...values];
    else this.map.set(key, { name, values: [...values] });
  }
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const existing = this.map.get(key);
    if (existing) existing.values.push(value);
    else this.map.set(key, { name, values: [value] });
  }
  delete(name: string): boolean {
    return this.map.delete(name.toLowerCase());
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  entries(): Array<[string, string[]]> {
    return [...this.map.values()].map((e) => [e.name, e.values.slice()]);
  }
  get size(): number {
    return this.map.size;
  }
  clone(): HeaderBag {
    return new HeaderBag(this.entries());
  }
  /** A WHATWG Headers object (multiple values appended). */
  toHeaders(): Headers {
    const h = new Headers();
    for (const e of this.map.values()) for (const v of e.values) h.append(e.name, v);
    return h;
  }

  // ---- C# view ----
  get Count(): number {
    return this.map.size;
  }
  get Keys(): string[] {
    return [...this.map.values()].map((e) => e.name);
  }
  get Values(): string[][] {
    return [...this.map.values()].map((e) => e.values.slice());
  }
  /** Values joined with ','; with a `string[]` default (the dictionary overload) the values array itself. */
  GetValueOrDefault(name: string, defaultValue: string | string[] | null = null): string | string[] | null {
    if (name === null || name === undefined) throw clrErrors.argumentNull('key');
    const e = this.map.get(String(name).toLowerCase());
    if (Array.isArray(defaultValue)) return e ? e.values.slice() : defaultValue;
    return e ? e.values.join(',') : defaultValue;
  }
  ContainsKey(name: string): boolean {
    if (name === null || name === undefined) throw clrErrors.argumentNull('key');
    return this.map.has(String(name).toLowerCase());
  }
  TryGetValue(name: string, value: OutRef): boolean {
    const e = this.map.get(String(name).toLowerCase());
    value.value = e ? e.values.slice() : null;
    return e !== undefined;
  }
  [INDEXER](name: unknown): string[] {
    if (name === null || name === undefined) throw clrErrors.argumentNull('key');
    const e = this.map.get(String(name).toLowerCase());
    if (!e) throw clrErrors.keyNotFound(name);
    return e.values.slice();
  }
  [ENUMERATE](): Iterable<unknown> {
    return [...this.map.values()].map((e) => new KeyValuePair(e.name, e.values.slice()));
  }
}
declareMethods(HeaderBag.prototype, {
  GetValueOrDefault: { parameters: ['headerName', 'defaultValue'] },
  TryGetValue: { parameters: ['key', 'value'], out: [1] },
});

/** `context.Variables`: IReadOnlyDictionary<string, object> over a Map the gateway owns. */
export class VariableBag {
  readonly [TYPE_NAME] = 'System.Collections.Generic.IReadOnlyDictionary`2[System.String,System.Object]';
  readonly map: Map<string, unknown>;
  constructor(map: Map<string, unknown> = new Map()) {
    this.map = map;
  }

  // ---- JavaScript API ----
  get(name: string): unknown {
    return this.map.get(name);
  }
  set(name: string, value: unknown): void {
    this.map.set(name, value);
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  delete(name: string): boolean {
    return this.map.delete(name);
  }
  entries(): Array<[string, unknown]> {
    return [...this.map.entries()];
  }
  get size(): number {
    return this.map.size;
  }

  // ---- C# view ----
  get Count(): number {
    return this.map.size;
  }
  get Keys(): string[] {
    return [...this.map.keys()];
  }
  get Values(): unknown[] {
    return [...this.map.values()];
  }
  ContainsKey(name: string): boolean {
    if (name === null || name === undefined) throw clrErrors.argumentNull('key');
    return this.map.has(name);
  }
  TryGetValue(name: string, value: OutRef): boolean {
    const has = this.map.has(name);
    value.value = has ? (this.map.get(name) ?? null) : null;
    return has;
  }
  /**
   * `GetValueOrDefault(name[, default])` → the value or default (null). With a type argument the stored value is
   * cast to T as APIM does: a missing variable yields the default (or default(T)); a value of another type throws
   * InvalidCastException (a literal `<set-variable value="5">` stores a string, so `GetValueOrDefault<int>` throws).
   */
  GetValueOrDefault(typeArgs: TypeArgument[] | undefined, name: string, ...rest: unknown[]): unknown {
    if (name === null || name === undefined) throw clrErrors.argumentNull('variableName');
    const t = typeArgs?.[0];
    if (!this.map.has(name)) return rest.length > 0 ? rest[0] : t ? defaultValueOf(t.arrays ? undefined : t.name, t.nullable) : null;
    const value = this.map.get(name) ?? null;
    if (!t || value === null) return value;
    if (!isInstanceOf(value, t)) throw clrErrors.invalidCast(typeNameOf(value), displayType(t));
    return castTo(value, t, 'Object');
  }
  [INDEXER](name: unknown): unknown {
    if (name === null || name === undefined) throw clrErrors.argumentNull('key');
    if (!this.map.has(name as string)) throw clrErrors.keyNotFound(name);
    return this.map.get(name as string) ?? null;
  }
  [ENUMERATE](): Iterable<unknown> {
    return [...this.map.entries()].map(([k, v]) => new KeyValuePair(k, v));
  }
}
declareMethods(VariableBag.prototype, {
  GetValueOrDefault: { generic: true, parameters: ['variableName', 'defaultValue'] },
  TryGetValue: { parameters: ['key', 'value'], out: [1] },
});

type StringDictionaryInit = Record<string, string | string[]> | Map<string, string | string[]> | Iterable<readonly [string, string | string[]]> | URLSearchParams;

/**
 * IReadOnlyDictionary<string, string> (`MatchedParameters`) or <string, string[]> (`Url.Query`).
 * `GetValueOrDefault` joins multiple values with ','.
 */
export class StringDictionary {
  readonly [TYPE_NAME]: string;
  private readonly map = new Map<string, { name: string; value: string | string[] }>();
  private readonly ignoreCase: boolean;

  constructor(init?: StringDictionaryInit, options: { ignoreCase?: boolean } = {}) {
    this.ignoreCase = options.ignoreCase ?? false;
    let multi = false;
    if (init instanceof URLSearchParams) {
      multi = true;
      for (const [k, v] of init) {
        const e = this.map.get(this.key(k));
        if (e) (e.value as string[]).push(v);
        else this.map.set(this.key(k), { name: k, value: [v] });
      }
    } else if (init) {
      const entries = init instanceof Map || Symbol.iterator in (init as object) ? [...(init as Iterable<readonly [string, string | string[]]>)] : Object.entries(init);
      for (const [k, v] of entries) {
        if (Array.isArray(v)) multi = true;
        this.map.set(this.key(k), { name: k, value: Array.isArray(v) ? [...v] : v });
      }
    }
    this[TYPE_NAME] = `System.Collections.Generic.IReadOnlyDictionary\`2[System.String,System.String${multi ? '[]' : ''}]`;
  }

  private key(k: string): string {
    return this.ignoreCase ? k.toLowerCase() : k;
  }

  // ---- JavaScript API ----
  get(name: string): string | string[] | undefined {
    return this.map.get(this.key(name))?.value;
  }
  has(name: string): boolean {
    return this.map.has(this.key(name));
  }
  entries(): Array<[string, string | string[]]> {
    return [...this.map.values()].map((e) => [e.name, e.value]);
  }

  // ---- C# view ----
  get Count(): number {
    return this.map.size;
  }
  get Keys(): string[] {
    return [...this.map.values()].map((e) => e.name);
  }
  get Values(): Array<string | string[]> {
    return [...this.map.values()].map((e) => e.value);
  }
  /** The value (multiple values joined with ','); with a `string[]` default, the values as an array. */
  GetValueOrDefault(name: string, defaultValue: string | string[] | null = null): string | string[] | null {
    if (name === null || name === undefined) throw clrErrors.argumentNull('key');
    const e = this.map.get(this.key(String(name)));
    if (!e) return defaultValue;
    if (Array.isArray(defaultValue)) return Array.isArray(e.value) ? e.value.slice() : [e.value];
    return Array.isArray(e.value) ? e.value.join(',') : e.value;
  }
  ContainsKey(name: string): boolean {
    if (name === null || name === undefined) throw clrErrors.argumentNull('key');
    return this.map.has(this.key(String(name)));
  }
  TryGetValue(name: string, value: OutRef): boolean {
    const e = this.map.get(this.key(String(name)));
    value.value = e ? e.value : null;
    return e !== undefined;
  }
  [INDEXER](name: unknown): string | string[] {
    if (name === null || name === undefined) throw clrErrors.argumentNull('key');
    const e = this.map.get(this.key(String(name)));
    if (!e) throw clrErrors.keyNotFound(name);
    return e.value;
  }
  [ENUMERATE](): Iterable<unknown> {
    return [...this.map.values()].map((e) => new KeyValuePair(e.name, e.value));
  }
}
declareMethods(StringDictionary.prototype, {
  GetValueOrDefault: { parameters: ['key', 'defaultValue'] },
  TryGetValue: { parameters: ['key', 'value'], out: [1] },
});

const EMPTY = new Uint8Array(0);

/**
 * IMessageBody. `As<T>(preserveContent: false)` reads the body as string, byte[], JObject, JToken or JArray;
 * without preserveContent the body is consumed (`consumed` becomes true, `onConsume` is called once) and later
 * reads see an empty body, so the gateway forwards an empty body as APIM does.
 */
export class MessageBody {
  readonly [TYPE_NAME] = 'IMessageBody';
  private content: Uint8Array | null;
  consumed = false;

  constructor(
    content: Uint8Array | null,
    readonly contentType?: string,
    private readonly onConsume?: () => void,
  ) {
    this.content = content;
  }

  /** The bytes as they are now (null once consumed or when there was no body). */
  bytes(): Uint8Array | null {
    return this.consumed ? null : this.content;
  }

  private read(preserve: boolean): Uint8Array {
    const bytes = this.consumed ? EMPTY : (this.content ?? EMPTY);
    if (!preserve && !this.consumed) {
      this.consumed = true;
      this.onConsume?.();
    }
    return bytes;
  }

  As(typeArgs: TypeArgument[] | undefined, preserveContent: unknown = false): unknown {
    const t = typeArgs?.[0];
    if (!t) throw clrErrors.argument('As<T>() needs a type argument.');
    const bytes = this.read(preserveContent === true);
    if (t.name === 'Byte' && t.arrays === 1) return bytes.slice();
    const text = new TextDecoder().decode(bytes);
    switch (t.arrays === 0 ? t.name : '') {
      case 'String':
        return text;
      case 'JObject':
        return text.trim() === '' ? null : parseJson(text, 'Object');
      case 'JArray':
        return text.trim() === '' ? null : parseJson(text, 'Array');
      case 'JToken':
        return text.trim() === '' ? null : parseJson(text);
      case 'XElement':
        return text.trim() === '' ? null : XElement.Parse(text);
      case 'XDocument':
        return text.trim() === '' ? null : XDocument.Parse(text);
      case 'XNode':
        throw clrErrors.notSupported('As<XNode>() is not supported by the emulator; use As<XElement>() or As<XDocument>().');
      default:
        throw clrErrors.invalidCast('IMessageBody', displayType(t));
    }
  }

  /** `IDictionary<string, IList<string>>` of the form fields (runtime/form.ts). */
  AsFormUrlEncodedContent(preserveContent: unknown = false): FormUrlEncodedContent {
    return new FormUrlEncodedContent(new TextDecoder().decode(this.read(preserveContent === true)));
  }
}
declareMethods(MessageBody.prototype, {
  As: { generic: true, parameters: ['preserveContent'] },
  AsFormUrlEncodedContent: { parameters: ['preserveContent'] },
});

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443 };

/** IUrl, from a WHATWG URL (also what `new Uri(s)` yields). */
export class UrlInfo {
  readonly [TYPE_NAME] = 'IUrl';
  readonly Scheme: string;
  readonly Host: string;
  readonly Port: number;
  readonly Path: string;
  readonly Query: StringDictionary;
  readonly QueryString: string;
  constructor(readonly url: URL) {
    this.Scheme = url.protocol.replace(/:$/, '');
    this.Host = url.hostname;
    this.Port = url.port ? Number(url.port) : (DEFAULT_PORTS[this.Scheme] ?? -1);
    this.Path = decodeURIComponent(url.pathname);
    this.Query = new StringDictionary(url.searchParams);
    this.QueryString = url.search;
  }
  // System.Uri members
  get AbsoluteUri(): string { return this.url.href; }
  get AbsolutePath(): string { return this.url.pathname; }
  get PathAndQuery(): string { return this.url.pathname + this.url.search; }
  get Authority(): string { return this.url.host; }
  get Fragment(): string { return this.url.hash; }
  get Segments(): string[] {
    return this.url.pathname.split(/(?<=\/)/);
  }
  ToString(): string {
    return this.url.href;
  }
}

