import { CsDateTime, CsGuid, CsTimeSpan, formatDateTime } from './datetime.js';
import { clrErrors, INDEX_OUT_OF_RANGE_MESSAGE } from './errors.js';
import { checkCollectionSize } from './limits.js';
import { declareMethods, ENUMERATE, hostPropertiesOf, INDEXER, INDEXER_SET, OutRef, TYPE_NAME, type TypeArgument } from './protocol.js';
import { CsAnonymous, CsEnum, enumerate, formatDouble, KeyValuePair, toCSharpString } from './values.js';

/** Newtonsoft.Json.Linq shims: JToken, JObject, JArray, JValue, JProperty, plus parsing and writing. */

export const JTokenType = CsEnum.define('JTokenType', {
  None: 0, Object: 1, Array: 2, Constructor: 3, Property: 4, Comment: 5, Integer: 6, Float: 7, String: 8,
  Boolean: 9, Null: 10, Undefined: 11, Date: 12, Raw: 13, Bytes: 14, Guid: 15, Uri: 16, TimeSpan: 17,
});
export const Formatting = CsEnum.define('Formatting', { None: 0, Indented: 1 });

export type JValueKind = 'String' | 'Integer' | 'Float' | 'Boolean' | 'Null' | 'Date';

export abstract class JToken {
  /** JavaScript convenience: Newtonsoft's JToken.Parse. */
  static Parse(text: string): JToken {
    return parseJson(text);
  }
  parent: JContainer | null = null;
  abstract get Type(): CsEnum;
  abstract get HasValues(): boolean;
  /** Newtonsoft's explicit-conversion name of this token's kind ("Object", "Array", "Integer"…), for messages. */
  abstract get kindName(): string;
  abstract clone(): JToken;

  get Parent(): JContainer | null {
    return this.parent instanceof JProperty ? (this.parent.parent ?? null) : this.parent;
  }
  get Root(): JToken {
    let t: JToken = this;
    while (t.parent) t = t.parent;
    return t;
  }
  get First(): JToken | null {
    return this.childTokens()[0] ?? null;
  }
  get Last(): JToken | null {
    const c = this.childTokens();
    return c[c.length - 1] ?? null;
  }
  get Path(): string {
    const parts: string[] = [];
    let t: JToken = this;
    while (t.parent) {
      const p: JContainer = t.parent;
      if (p instanceof JProperty) parts.unshift(/^[A-Za-z_][\w]*$/.test(p.Name) ? p.Name : `['${p.Name}']`);
      else if (p instanceof JArray) parts.unshift(`[${p.items.indexOf(t)}]`);
      t = p;
    }
    return parts.join('.').replace(/\.\[/g, '[');
  }
  childTokens(): JToken[] {
    return [];
  }
  Children(): JToken[] {
    return this.childTokens();
  }
  DeepClone(): JToken {
    return this.clone();
  }
  /** Removes this token from its parent. */
  Remove(): void {
    const p = this.parent;
    if (!p) throw clrErrors.invalidOperation('The parent is missing.');
    if (p instanceof JArray) p.RemoveAt(p.items.indexOf(this));
    else if (p instanceof JProperty) p.remove();
    else if (p instanceof JObject && this instanceof JProperty) p.Remove(this.Name);
  }
  Replace(value: unknown): void {
    const p = this.parent;
    if (!p) throw clrErrors.invalidOperation('The parent is missing.');
    const token = toJToken(value);
    if (p instanceof JArray) p[INDEXER_SET](p.items.indexOf(this), token);
    else if (p instanceof JProperty) p.Value = token;
  }
  SelectToken(path: string, errorWhenNoMatch?: boolean): JToken | null {
    return selectToken(this, path, errorWhenNoMatch === true);
  }
  ToString(formatting?: CsEnum | null): string {
    return writeJson(this, formatting !== Formatting.None);
  }
  ToObject(typeArgs: TypeArgument[] | undefined): unknown {
    return convertJToken(this, typeArgs?.[0]?.name ?? 'Object');
  }
  [INDEXER](key: unknown): JToken | null {
    throw clrErrors.invalidOperation(`Cannot access child value on ${this[TYPE_NAME]}.`);
  }
  [INDEXER_SET](_key: unknown, _value: unknown): void {
    throw clrErrors.invalidOperation(`Cannot set child value on ${this[TYPE_NAME]}.`);
  }
  abstract readonly [TYPE_NAME]: string;
}

export type JContainer = JObject | JArray | JProperty;

export class JValue extends JToken {
  readonly [TYPE_NAME] = 'Newtonsoft.Json.Linq.JValue';
  constructor(
    readonly kind: JValueKind,
    /** string | number | boolean | null | CsDateTime */
    public value: unknown,
  ) {
    super();
  }

  static of(v: string | number | boolean | null): JValue {
    if (v === null) return new JValue('Null', null);
    if (typeof v === 'string') return new JValue('String', v);
    if (typeof v === 'boolean') return new JValue('Boolean', v);
    return new JValue(Number.isInteger(v) ? 'Integer' : 'Float', v);
  }

  get Type(): CsEnum {
    return JTokenType[this.kind]!;
  }
  get HasValues(): boolean {
    return false;
  }
  get kindName(): string {
    return this.kind;
  }
  get Value(): unknown {
    return this.value;
  }
  set Value(v: unknown) {
    const t = toJToken(v);
    if (!(t instanceof JValue)) throw clrErrors.argument('Can not set JValue to a container.');
    (this as { kind: JValueKind }).kind = t.kind;
    this.value = t.value;
  }
  clone(): JValue {
    return new JValue(this.kind, this.value);
  }
  override ToString(formatting?: CsEnum | null): string {
    if (formatting !== undefined && formatting !== null) return writeJson(this, formatting !== Formatting.None);
    return this.kind === 'Null' ? '' : toCSharpString(this.value);
  }
  Equals(o: unknown): boolean {
    return this.equalsValue(o);
  }
  equalsValue(o: unknown): boolean {
    return o instanceof JValue && o.kind === this.kind && (o.value === this.value || (o.value instanceof CsDateTime && o.value.equalsValue(this.value)));
  }
  compareValue(o: unknown): number {
    if (!(o instanceof JValue)) throw clrErrors.argument('Object must be of type JValue.');
    const a = this.value as number | string;
    const b = o.value as number | string;
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

export class JProperty extends JToken {
  readonly [TYPE_NAME] = 'Newtonsoft.Json.Linq.JProperty';
  private value: JToken;
  constructor(
    readonly Name: string,
    value: unknown,
  ) {
    super();
    this.value = adopt(this, toJToken(value));
  }
  get Type(): CsEnum {
    return JTokenType.Property!;
  }
  get HasValues(): boolean {
    return true;
  }
  get kindName(): string {
    return 'Property';
  }
  get Value(): JToken {
    return this.value;
  }
  set Value(v: unknown) {
    this.value = adopt(this, toJToken(v));
  }
  override childTokens(): JToken[] {
    return [this.value];
  }
  /** Detaches the value (used when the property itself is removed). */
  remove(): void {
    if (this.parent instanceof JObject) this.parent.Remove(this.Name);
  }
  clone(): JProperty {
    return new JProperty(this.Name, this.value.clone());
  }
}

/** Adding a token that already has a parent adds a copy, as Newtonsoft does. */
function adopt<T extends JToken>(parent: JContainer, token: T): T {
  const t = token.parent ? (token.clone() as T) : token;
  t.parent = parent;
  return t;
}

export class JObject extends JToken {
  readonly [TYPE_NAME] = 'Newtonsoft.Json.Linq.JObject';
  readonly props = new Map<string, JProperty>();

  static override Parse(text: string): JObject {
    return parseJson(text, 'Object') as JObject;
  }

  constructor(...content: unknown[]) {
    super();
    for (const c of content) this.addContent(c);
  }

  private addContent(c: unknown): void {
    if (c instanceof JProperty) this.addProperty(c);
    else if (c instanceof JObject) for (const p of c.props.values()) this.addProperty(p);
    else if (Array.isArray(c) || (c !== null && typeof c === 'object' && !(c instanceof JToken) && enumerate(c))) {
      for (const x of enumerate(c)!) this.addContent(x);
    } else {
      throw clrErrors.argument(`Can not add ${c instanceof JToken ? c[TYPE_NAME] : 'Newtonsoft.Json.Linq.JValue'} to Newtonsoft.Json.Linq.JObject.`);
    }
  }

  private addProperty(p: JProperty): void {
    if (this.props.has(p.Name)) {
      throw clrErrors.argument(`Can not add property ${p.Name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.`);
    }
    this.props.set(p.Name, adopt(this, p));
  }

  get Type(): CsEnum {
    return JTokenType.Object!;
  }
  get HasValues(): boolean {
    return this.props.size > 0;
  }
  get kindName(): string {
    return 'Object';
  }
  get Count(): number {
    return this.props.size;
  }
  override childTokens(): JToken[] {
    return [...this.props.values()];
  }
  clone(): JObject {
    const o = new JObject();
    for (const p of this.props.values()) o.props.set(p.Name, adopt(o, p.clone()));
    return o;
  }
  Properties(): JProperty[] {
    return [...this.props.values()];
  }
  Property(name: string): JProperty | null {
    return this.props.get(name) ?? null;
  }
  GetValue(name: string): JToken | null {
    return this.props.get(name)?.Value ?? null;
  }
  ContainsKey(name: string): boolean {
    return this.props.has(name);
  }
  TryGetValue(name: string, value: OutRef): boolean {
    const p = this.props.get(name);
    value.value = p ? p.Value : null;
    return p !== undefined;
  }
  Value(typeArgs: TypeArgument[] | undefined, key: unknown): unknown {
    const token = this[INDEXER](key);
    const type = typeArgs?.[0];
    if (token === null) return type && !type.nullable && ['Int32', 'Int64', 'Double', 'Boolean', 'Decimal', 'Single'].includes(type.name) ? 0 : null;
    return convertJToken(token, type?.name ?? 'JToken', type?.nullable);
  }
  Add(nameOrProperty: unknown, value?: unknown): void {
    if (nameOrProperty instanceof JProperty || nameOrProperty instanceof JObject) this.addContent(nameOrProperty);
    else if (typeof nameOrProperty === 'string') this.addProperty(new JProperty(nameOrProperty, value ?? null));
    else throw clrErrors.argument(`Can not add ${toJToken(nameOrProperty)[TYPE_NAME]} to Newtonsoft.Json.Linq.JObject.`);
  }
  override Remove(name?: string): boolean | undefined {
    if (name === undefined) {
      super.Remove();
      return undefined;
    }
    const p = this.props.get(name);
    if (!p) return false;
    p.parent = null;
    this.props.delete(name);
    return true;
  }
  RemoveAll(): void {
    this.props.clear();
  }
  Merge(other: unknown): void {
    if (!(other instanceof JObject)) return;
    for (const p of other.props.values()) {
      const mine = this.props.get(p.Name);
      if (mine && mine.Value instanceof JObject && p.Value instanceof JObject) mine.Value.Merge(p.Value);
      else this[INDEXER_SET](p.Name, p.Value.clone());
    }
  }
  get Keys(): string[] {
    return [...this.props.keys()];
  }
  override [INDEXER](key: unknown): JToken | null {
    if (typeof key !== 'string') throw clrErrors.argument(`Accessed JObject values with invalid key value: ${toCSharpString(key)}. Object property name expected.`);
    return this.props.get(key)?.Value ?? null;
  }
  override [INDEXER_SET](key: unknown, value: unknown): void {
    if (typeof key !== 'string') throw clrErrors.argument(`Set JObject values with invalid key value: ${toCSharpString(key)}. Object property name expected.`);
    const p = this.props.get(key);
    if (p) p.Value = value;
    else this.props.set(key, adopt(this, new JProperty(key, value)));
  }
  [ENUMERATE](): Iterable<unknown> {
    return [...this.props.values()].map((p) => new KeyValuePair(p.Name, p.Value));
  }
}

export class JArray extends JToken {
  readonly [TYPE_NAME] = 'Newtonsoft.Json.Linq.JArray';
  readonly items: JToken[] = [];

  static override Parse(text: string): JArray {
    return parseJson(text, 'Array') as JArray;
  }

  constructor(...content: unknown[]) {
    super();
    // `new JArray(other)` is Newtonsoft's copy constructor.
    if (content.length === 1 && content[0] instanceof JArray) {
      for (const x of content[0].items) this.items.push(adopt(this, x.clone()));
      return;
    }
    for (const c of content) this.addContent(c);
  }
  private addContent(c: unknown): void {
    if (c !== null && typeof c === 'object' && !(c instanceof JToken) && typeof c !== 'string' && enumerate(c) && !(c instanceof CsAnonymous)) {
      for (const x of enumerate(c)!) this.items.push(adopt(this, toJToken(x)));
    } else {
      this.items.push(adopt(this, toJToken(c)));
    }
  }
  get Type(): CsEnum {
    return JTokenType.Array!;
  }
  get HasValues(): boolean {
    return this.items.length > 0;
  }
  get kindName(): string {
    return 'Array';
  }
  get Count(): number {
    return this.items.length;
  }
  override childTokens(): JToken[] {
    return this.items.slice();
  }
  clone(): JArray {
    const a = new JArray();
    for (const t of this.items) a.items.push(adopt(a, t.clone()));
    return a;
  }
  Add(value: unknown): void {
    if ((this.items.length & 1023) === 1023) checkCollectionSize(this.items.length + 1);
    this.items.push(adopt(this, toJToken(value)));
  }
  Insert(index: number, value: unknown): void {
    if (index < 0 || index > this.items.length) throw clrErrors.argumentOutOfRange('index', 'Index must be within the bounds of the List.');
    this.items.splice(index, 0, adopt(this, toJToken(value)));
  }
  override Remove(item?: unknown): boolean | undefined {
    if (item === undefined) {
      super.Remove();
      return undefined;
    }
    const i = this.items.findIndex((t) => t === item);
    if (i < 0) return false;
    this.items[i]!.parent = null;
    this.items.splice(i, 1);
    return true;
  }
  RemoveAt(index: number): void {
    if (index < 0 || index >= this.items.length) throw clrErrors.argumentOutOfRange('index');
    this.items[index]!.parent = null;
    this.items.splice(index, 1);
  }
  Clear(): void {
    for (const t of this.items) t.parent = null;
    this.items.length = 0;
  }
  Contains(item: unknown): boolean {
    return this.items.some((t) => t === item || (t instanceof JValue && t.equalsValue(item)));
  }
  IndexOf(item: unknown): number {
    return this.items.findIndex((t) => t === item);
  }
  override [INDEXER](key: unknown): JToken | null {
    if (typeof key !== 'number') throw clrErrors.argument(`Accessed JArray values with invalid key value: "${toCSharpString(key)}". Int32 array index expected.`);
    const t = this.items[key];
    if (t === undefined) throw clrErrors.argumentOutOfRange('index', INDEX_OUT_OF_RANGE_MESSAGE);
    return t;
  }
  override [INDEXER_SET](key: unknown, value: unknown): void {
    if (typeof key !== 'number') throw clrErrors.argument(`Set JArray values with invalid key value: "${toCSharpString(key)}". Int32 array index expected.`);
    if (key < 0 || key >= this.items.length) throw clrErrors.argumentOutOfRange('index', INDEX_OUT_OF_RANGE_MESSAGE);
    this.items[key]!.parent = null;
    this.items[key] = adopt(this, toJToken(value));
  }
  [ENUMERATE](): Iterable<unknown> {
    return this.items.slice();
  }
}

declareMethods(JToken.prototype, {
  ToString: { parameters: ['formatting'] },
  SelectToken: { parameters: ['path', 'errorWhenNoMatch'] },
  ToObject: { generic: true },
});
declareMethods(JValue.prototype, { ToString: { parameters: ['formatting'] } });
declareMethods(JObject.prototype, {
  TryGetValue: { parameters: ['propertyName', 'value'], out: [1] },
  Value: { generic: true, parameters: ['key'] },
  Add: { parameters: ['propertyName', 'value'] },
  Property: { parameters: ['name'] },
});

/** Newtonsoft's implicit conversion / `JToken.FromObject`: C# values to tokens. */
export function toJToken(value: unknown): JToken {
  if (value instanceof JToken) return value;
  if (value === null || value === undefined) return new JValue('Null', null);
  switch (typeof value) {
    case 'string':
      return new JValue('String', value);
    case 'boolean':
      return new JValue('Boolean', value);
    case 'number':
      return new JValue(Number.isInteger(value) ? 'Integer' : 'Float', value);
  }
  if (value instanceof CsDateTime) return new JValue('Date', value);
  if (value instanceof Date) return new JValue('Date', CsDateTime.fromDate(value));
  if (value instanceof CsGuid) return new JValue('String', value.ToString());
  if (value instanceof CsTimeSpan) return new JValue('String', value.ToString());
  if (value instanceof CsEnum) return new JValue('Integer', value.value);
  if (value instanceof Uint8Array) return new JValue('String', Buffer.from(value).toString('base64'));
  if (value instanceof KeyValuePair) return new JObject(new JProperty('Key', value.Key), new JProperty('Value', value.Value));
  if (value instanceof CsAnonymous) return objectFromEntries(Object.entries(value));
  if (typeof value === 'object') {
    const items = enumerate(value);
    if (items) {
      const list = [...items];
      if (list.length > 0 && list.every((x) => x instanceof KeyValuePair)) {
        return objectFromEntries(list.map((kv) => [toCSharpString((kv as KeyValuePair).Key), (kv as KeyValuePair).Value]));
      }
      if (value instanceof Map) return objectFromEntries([...value].map(([k, v]) => [toCSharpString(k), v]));
      const a = new JArray();
      for (const x of list) a.Add(x);
      return a;
    }
    const hostProperties = hostPropertiesOf(value);
    const entries = hostProperties ? hostProperties.map((k): [string, unknown] => [k, (value as Record<string, unknown>)[k]]) : Object.entries(value);
    return objectFromEntries(entries.filter(([, v]) => typeof v !== 'function'));
  }
  throw clrErrors.argument(`Could not determine JSON object type for type ${typeof value}.`);
}

function objectFromEntries(entries: Array<[string, unknown]>): JObject {
  const o = new JObject();
  for (const [k, v] of entries) o[INDEXER_SET](k, v);
  return o;
}

/** Newtonsoft's explicit conversions `(string)token`, `(int)token`… and `Value<T>()`. */
export function convertJToken(token: JToken | null, type: string, nullable = false): unknown {
  if (token === null) return null;
  switch (type) {
    case 'JToken':
    case 'Object':
      return type === 'Object' && token instanceof JValue ? token.value : token;
    case 'JObject':
    case 'JArray':
    case 'JValue':
    case 'JProperty': {
      if (token[TYPE_NAME] === `Newtonsoft.Json.Linq.${type}`) return token;
      throw clrErrors.invalidCast(token[TYPE_NAME], `Newtonsoft.Json.Linq.${type}`);
    }
  }
  if (!(token instanceof JValue)) throw clrErrors.argument(`Can not convert ${token.kindName} to ${type}.`);
  const v = token.value;
  if (token.kind === 'Null') {
    if (type === 'String' || nullable) return null;
    throw clrErrors.argument(`Can not convert Null to ${type}.`);
  }
  switch (type) {
    case 'String':
      if (v instanceof CsDateTime) return v.ToString();
      return toCSharpString(v);
    case 'Boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v !== 0;
      if (typeof v === 'string') {
        const t = v.trim().toLowerCase();
        if (t === 'true' || t === 'false') return t === 'true';
        throw clrErrors.format('String was not recognized as a valid Boolean.');
      }
      break;
    case 'Int32': case 'Int64': case 'Int16': case 'Byte': case 'UInt32': case 'UInt64': case 'UInt16': case 'SByte':
      if (typeof v === 'number') return Number.isInteger(v) ? v : roundHalfEven(v);
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'string') {
        if (!/^\s*[+-]?\d+\s*$/.test(v)) throw clrErrors.format();
        return Number(v);
      }
      break;
    case 'Double': case 'Single': case 'Decimal':
      if (typeof v === 'number') return v;
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'string') {
        const n = Number(v.trim());
        if (v.trim() === '' || Number.isNaN(n)) throw clrErrors.format();
        return n;
      }
      break;
    case 'DateTime':
      if (v instanceof CsDateTime) return v;
      break;
    case 'Guid':
      if (typeof v === 'string') {
        const g = CsGuid.parse(v);
        if (g) return g;
        throw clrErrors.format('Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).');
      }
      break;
  }
  throw clrErrors.argument(`Can not convert ${token.kindName} to ${type}.`);
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// ---- writing ----

/** Newtonsoft indents with Environment.NewLine; the managed (Windows) gateway writes CRLF. */
export const JSON_NEWLINE = '\r\n';

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

export function quoteJson(s: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/["\\\u0000-\u001f\u0085\u2028\u2029]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

function writeFloat(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
  const s = formatDouble(v);
  return /[.E]/.test(s) ? s : `${s}.0`;
}

function writeValue(t: JValue): string {
  switch (t.kind) {
    case 'Null':
      return 'null';
    case 'String':
      return quoteJson(t.value as string);
    case 'Boolean':
      return t.value ? 'true' : 'false';
    case 'Integer':
      return formatDouble(t.value as number);
    case 'Float':
      return writeFloat(t.value as number);
    case 'Date':
      return quoteJson(formatDateTime(t.value as CsDateTime, "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK"));
  }
}

/** Newtonsoft's JSON text: two-space indentation when indented, compact otherwise. */
export function writeJson(token: JToken, indented: boolean): string {
  const nl = indented ? JSON_NEWLINE : '';
  const colon = indented ? ': ' : ':';
  const write = (t: JToken, indent: string): string => {
    if (t instanceof JValue) return writeValue(t);
    const inner = indented ? indent + '  ' : '';
    if (t instanceof JProperty) return `${quoteJson(t.Name)}${colon}${write(t.Value, indent)}`;
    if (t instanceof JObject) {
      if (t.props.size === 0) return '{}';
      const parts = [...t.props.values()].map((p) => `${inner}${quoteJson(p.Name)}${colon}${write(p.Value, inner)}`);
      return `{${nl}${parts.join(`,${nl}`)}${nl}${indented ? indent : ''}}`;
    }
    if (t instanceof JArray) {
      if (t.items.length === 0) return '[]';
      const parts = t.items.map((x) => `${inner}${write(x, inner)}`);
      return `[${nl}${parts.join(`,${nl}`)}${nl}${indented ? indent : ''}]`;
    }
    return '';
  };
  return write(token, '');
}

/** `JsonConvert.SerializeObject(value, formatting)`. */
export function serializeObject(value: unknown, indented = false): string {
  if (value === null || value === undefined) return 'null';
  return writeJson(toJToken(value), indented);
}

// ---- parsing ----

/** Parses JSON as Newtonsoft's JsonTextReader does (lenient: comments, single quotes, unquoted names, trailing commas). */
export function parseJson(text: string, expect?: 'Object' | 'Array'): JToken {
  const p = new JsonParser(text);
  p.skipWs();
  if (p.i >= text.length) {
    throw clrErrors.jsonReader(`Error reading ${expect ? `J${expect}` : 'JToken'} from JsonReader. Path '', line 0, position 0.`);
  }
  if (expect) {
    const c = text[p.i];
    const ok = expect === 'Object' ? c === '{' : c === '[';
    if (!ok) {
      const rest = text.slice(p.i);
      const what = c === '[' ? 'StartArray' : c === '{' ? 'StartObject' : c === '"' || c === "'" ? 'String' : /^-?\d/.test(rest) ? (/^-?\d+[.eE]/.test(rest) ? 'Float' : 'Integer') : /^(true|false)\b/.test(rest) ? 'Boolean' : /^null\b/.test(rest) ? 'Null' : undefined;
      if (what) {
        p.i++;
        throw clrErrors.jsonReader(`Error reading J${expect} from JsonReader. Current JsonReader item is not ${expect === 'Object' ? 'an object' : 'an array'}: ${what}. ${p.where()}`);
      }
    }
  }
  const value = p.value('');
  p.skipWs();
  if (p.i < text.length) {
    const c = text[p.i];
    p.i++;
    throw clrErrors.jsonReader(`Additional text encountered after finished reading JSON content: ${c}. ${p.where()}`);
  }
  return value;
}

class JsonParser {
  i = 0;
  private path = '';
  constructor(private readonly text: string) {}

  where(): string {
    let line = 1;
    let col = 0;
    for (let k = 0; k < this.i && k < this.text.length; k++) {
      if (this.text[k] === '\n') {
        line++;
        col = 0;
      } else col++;
    }
    return `Path '${this.path}', line ${line}, position ${col}.`;
  }

  private fail(message: string): never {
    throw clrErrors.jsonReader(`${message} ${this.where()}`);
  }

  skipWs(): void {
    const t = this.text;
    for (;;) {
      const c = t.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff) this.i++;
      else if (c === 47 /* / */ && t[this.i + 1] === '/') {
        const nl = t.indexOf('\n', this.i);
        this.i = nl < 0 ? t.length : nl + 1;
      } else if (c === 47 && t[this.i + 1] === '*') {
        const end = t.indexOf('*/', this.i + 2);
        if (end < 0) {
          this.i = t.length;
          this.fail('Unexpected end while parsing comment.');
        }
        this.i = end + 2;
      } else return;
    }
  }

  value(path: string): JToken {
    this.path = path;
    this.skipWs();
    const t = this.text;
    const c = t[this.i];
    if (c === undefined) this.fail('Unexpected end when reading JSON.');
    if (c === '{') return this.object(path);
    if (c === '[') return this.array(path);
    if (c === '"' || c === "'") return new JValue('String', this.string());
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, token] of [['true', () => JValue.of(true)], ['false', () => JValue.of(false)], ['null', () => JValue.of(null)], ['undefined', () => JValue.of(null)], ['NaN', () => new JValue('Float', NaN)], ['Infinity', () => new JValue('Float', Infinity)]] as const) {
      if (t.startsWith(word, this.i)) {
        this.i += word.length;
        return token();
      }
    }
    this.i++;
    this.fail(`Unexpected character encountered while parsing value: ${c}.`);
  }

  private object(path: string): JObject {
    const o = new JObject();
    this.i++;
    for (;;) {
      this.skipWs();
      const c = this.text[this.i];
      if (c === undefined) this.fail('Unexpected end of content while loading JObject.');
      if (c === '}') {
        this.i++;
        return o;
      }
      let name: string;
      if (c === '"' || c === "'") name = this.string();
      else {
        const m = /^[A-Za-z_$][\w$]*/.exec(this.text.slice(this.i));
        if (!m) {
          this.i++;
          this.fail(`Invalid property identifier character: ${c}.`);
        }
        name = m[0];
        this.i += name.length;
      }
      this.skipWs();
      if (this.text[this.i] !== ':') {
        this.i++;
        this.fail(`Invalid character after parsing property name. Expected ':' but got: ${this.text[this.i - 1] ?? 'end of text'}.`);
      }
      this.i++;
      const childPath = path ? `${path}.${name}` : name;
      const v = this.value(childPath);
      o[INDEXER_SET](name, v);
      this.path = childPath;
      this.skipWs();
      const d = this.text[this.i];
      if (d === ',') this.i++;
      else if (d !== '}') {
        if (d === undefined) this.fail('Unexpected end of content while loading JObject.');
        this.i++;
        this.fail(`After parsing a value an unexpected character was encountered: ${d}.`);
      }
    }
  }

  private array(path: string): JArray {
    const a = new JArray();
    this.i++;
    for (let k = 0; ; k++) {
      this.skipWs();
      const c = this.text[this.i];
      if (c === undefined) this.fail('Unexpected end of content while loading JArray.');
      if (c === ']') {
        this.i++;
        return a;
      }
      a.Add(this.value(`${path}[${k}]`));
      this.skipWs();
      const d = this.text[this.i];
      if (d === ',') this.i++;
      else if (d !== ']') {
        if (d === undefined) this.fail('Unexpected end of content while loading JArray.');
        this.i++;
        this.fail(`After parsing a value an unexpected character was encountered: ${d}.`);
      }
    }
  }

  private string(): string {
    const t = this.text;
    const q = t[this.i]!;
    this.i++;
    let out = '';
    for (;;) {
      const c = t[this.i];
      if (c === undefined) this.fail('Unterminated string. Expected delimiter: ' + q + '.');
      this.i++;
      if (c === q) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = t[this.i++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case '/': case '\\': case '"': case "'": out += e; break;
        case 'u': {
          const hex = t.slice(this.i, this.i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(`Invalid Unicode escape sequence: \\u${hex}.`);
          out += String.fromCharCode(parseInt(hex, 16));
          this.i += 4;
          break;
        }
        default:
          this.fail(`Bad JSON escape sequence: \\${e ?? ''}.`);
      }
    }
  }

  private number(): JValue {
    const m = /^-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.i));
    if (!m) {
      this.i++;
      this.fail(`Input string '${this.text[this.i - 1]}' is not a valid number.`);
    }
    this.i += m[0].length;
    const isFloat = /[.eE]/.test(m[0]);
    return new JValue(isFloat ? 'Float' : 'Integer', Number(m[0]));
  }
}

// ---- SelectToken ----

function selectToken(root: JToken, path: string, errorWhenNoMatch: boolean): JToken | null {
  const parts: Array<string | number> = [];
  let i = path.startsWith('$') ? 1 : 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      i++;
      continue;
    }
    if (c === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) throw clrErrors.jsonReader(`Path ended with open indexer.`);
      const inner = path.slice(i + 1, close).trim();
      const q = /^(['"])(.*)\1$/.exec(inner);
      if (q) parts.push(q[2]!);
      else if (/^\d+$/.test(inner)) parts.push(Number(inner));
      else throw clrErrors.jsonReader(`Unexpected character while parsing path indexer: ${inner[0] ?? ']'}`);
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
    parts.push(path.slice(i, j));
    i = j;
  }
  let t: JToken | null = root;
  for (const part of parts) {
    if (t === null) return null;
    if (typeof part === 'number') {
      if (t instanceof JArray && part < t.items.length) t = t.items[part]!;
      else if (errorWhenNoMatch) throw clrErrors.jsonReader(`Index ${part} outside the bounds of JArray.`);
      else return null;
    } else if (t instanceof JObject) {
      t = t.props.get(part)?.Value ?? null;
      if (t === null && errorWhenNoMatch) throw clrErrors.jsonReader(`Property '${part}' does not exist on JObject.`);
    } else {
      if (errorWhenNoMatch) throw clrErrors.jsonReader(`Property '${part}' not valid on ${t.kindName === 'Array' ? 'JArray' : 'JValue'}.`);
      return null;
    }
  }
  return t;
}
