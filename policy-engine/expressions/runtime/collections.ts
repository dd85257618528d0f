import { clrErrors, DUPLICATE_KEY_MESSAGE, INDEX_OUT_OF_RANGE_MESSAGE, MORE_THAN_ONE_MESSAGE, NO_ELEMENTS_MESSAGE, NO_MATCH_MESSAGE } from './errors.js';
import { checkCollectionSize, checkString } from './limits.js';
import { declareMethods, ENUMERATE, INDEXER, INDEXER_SET, OutRef, TYPE_NAME, type TypeArgument } from './protocol.js';
import { csCompare, csEquals, csObjectEquals, enumerate, KeyValuePair, toCSharpString, typeNameOf } from './values.js';

type Fn = (...args: unknown[]) => unknown;

/** `StringComparer.Ordinal`/`OrdinalIgnoreCase`…, accepted by Dictionary, HashSet, Contains and Distinct. */
export class CsStringComparer {
  readonly [TYPE_NAME] = 'System.StringComparer';
  constructor(readonly ignoreCase: boolean) {}
  Equals(a: unknown, b: unknown): boolean {
    return this.ignoreCase && typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : csEquals(a, b);
  }
  Compare(a: unknown, b: unknown): number {
    if (typeof a === 'string' && typeof b === 'string' && this.ignoreCase) return csCompare(a.toUpperCase(), b.toUpperCase());
    return typeof a === 'string' && typeof b === 'string' ? (a < b ? -1 : a > b ? 1 : 0) : csCompare(a, b);
  }
  keyOf(k: unknown): unknown {
    return this.ignoreCase && typeof k === 'string' ? k.toUpperCase() : k;
  }
}

export const STRING_COMPARERS = {
  Ordinal: new CsStringComparer(false),
  OrdinalIgnoreCase: new CsStringComparer(true),
  InvariantCulture: new CsStringComparer(false),
  InvariantCultureIgnoreCase: new CsStringComparer(true),
  CurrentCulture: new CsStringComparer(false),
  CurrentCultureIgnoreCase: new CsStringComparer(true),
};

function checkIndex(i: unknown, length: number): number {
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= length) throw clrErrors.argumentOutOfRange('index', INDEX_OUT_OF_RANGE_MESSAGE);
  return i;
}

/** `List<T>`. */
export class CsList {
  readonly [TYPE_NAME]: string;
  readonly items: unknown[];
  constructor(items: Iterable<unknown> = [], elementType = 'Object') {
    this.items = [...items];
    this[TYPE_NAME] = `System.Collections.Generic.List\`1[System.${elementType}]`;
  }
  get Count(): number { return this.items.length; }
  get Capacity(): number { return this.items.length; }
  Add(x: unknown): void {
    if ((this.items.length & 1023) === 1023) checkCollectionSize(this.items.length + 1);
    this.items.push(x);
  }
  AddRange(xs: unknown): void {
    const more = [...iterate(xs)];
    checkCollectionSize(this.items.length + more.length);
    for (const x of more) this.items.push(x);
  }
  Insert(i: number, x: unknown): void {
    if (i < 0 || i > this.items.length) throw clrErrors.argumentOutOfRange('index', 'Index must be within the bounds of the List.');
    this.items.splice(i, 0, x);
  }
  Remove(x: unknown): boolean {
    const i = this.items.findIndex((y) => csEquals(x, y));
    if (i >= 0) this.items.splice(i, 1);
    return i >= 0;
  }
  RemoveAt(i: number): void { this.items.splice(checkIndex(i, this.items.length), 1); }
  RemoveAll(pred: Fn): number {
    const before = this.items.length;
    const keep = this.items.filter((x) => !pred(x));
    this.items.splice(0, this.items.length, ...keep);
    return before - keep.length;
  }
  Contains(x: unknown): boolean { return this.items.some((y) => csEquals(x, y)); }
  IndexOf(x: unknown): number { return this.items.findIndex((y) => csEquals(x, y)); }
  Clear(): void { this.items.length = 0; }
  ToArray(): unknown[] { return this.items.slice(); }
  Sort(cmp?: Fn): void { this.items.sort(cmp ? (a, b) => Number(cmp(a, b)) : csCompare); }
  Reverse(): void { this.items.reverse(); }
  Exists(pred: Fn): boolean { return this.items.some((x) => pred(x) === true); }
  Find(pred: Fn): unknown { return this.items.find((x) => pred(x) === true) ?? null; }
  FindAll(pred: Fn): CsList { return new CsList(this.items.filter((x) => pred(x) === true)); }
  FindIndex(pred: Fn): number { return this.items.findIndex((x) => pred(x) === true); }
  ForEach(action: Fn): void { for (const x of this.items.slice()) action(x); }
  ConvertAll(f: Fn): CsList { return new CsList(this.items.map((x) => f(x))); }
  GetRange(index: number, count: number): CsList {
    if (index < 0 || count < 0 || index + count > this.items.length) throw clrErrors.argument('Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.');
    return new CsList(this.items.slice(index, index + count));
  }
  [INDEXER](i: unknown): unknown { return this.items[checkIndex(i, this.items.length)]; }
  [INDEXER_SET](i: unknown, v: unknown): void { this.items[checkIndex(i, this.items.length)] = v; }
  [ENUMERATE](): Iterable<unknown> { return this.items.slice(); }
}

/** `Dictionary<TKey,TValue>` (optionally with a StringComparer). */
export class CsDictionary {
  readonly [TYPE_NAME] = 'System.Collections.Generic.Dictionary`2';
  private readonly map = new Map<unknown, KeyValuePair>();
  constructor(readonly comparer?: CsStringComparer) {}
  private k(key: unknown): unknown {
    if (key === null || key === undefined) throw clrErrors.argumentNull('key');
    if (this.comparer) return this.comparer.keyOf(key);
    if (typeof key === 'object' && key !== null && 'hex' in key) return (key as { hex: string }).hex;
    return key;
  }
  get Count(): number { return this.map.size; }
  get Keys(): unknown[] { return [...this.map.values()].map((kv) => kv.Key); }
  get Values(): unknown[] { return [...this.map.values()].map((kv) => kv.Value); }
  Add(key: unknown, value: unknown): void {
    const k = this.k(key);
    if (this.map.has(k)) throw clrErrors.argument(`${DUPLICATE_KEY_MESSAGE} Key: ${toCSharpString(key)}`);
    if ((this.map.size & 1023) === 1023) checkCollectionSize(this.map.size + 1);
    this.map.set(k, new KeyValuePair(key, value));
  }
  TryAdd(key: unknown, value: unknown): boolean {
    const k = this.k(key);
    if (this.map.has(k)) return false;
    this.map.set(k, new KeyValuePair(key, value));
    return true;
  }
  ContainsKey(key: unknown): boolean { return this.map.has(this.k(key)); }
  ContainsValue(v: unknown): boolean { return [...this.map.values()].some((kv) => csEquals(kv.Value, v)); }
  TryGetValue(key: unknown, out: OutRef): boolean {
    const kv = this.map.get(this.k(key));
    out.value = kv ? kv.Value : null;
    return kv !== undefined;
  }
  GetValueOrDefault(key: unknown, def: unknown = null): unknown {
    const kv = this.map.get(this.k(key));
    return kv ? kv.Value : def;
  }
  Remove(key: unknown): boolean { return this.map.delete(this.k(key)); }
  Clear(): void { this.map.clear(); }
  [INDEXER](key: unknown): unknown {
    const kv = this.map.get(this.k(key));
    if (!kv) throw clrErrors.keyNotFound(toCSharpString(key));
    return kv.Value;
  }
  [INDEXER_SET](key: unknown, value: unknown): void {
    const k = this.k(key);
    const existing = this.map.get(k);
    this.map.set(k, new KeyValuePair(existing ? existing.Key : key, value));
  }
  [ENUMERATE](): Iterable<unknown> { return [...this.map.values()]; }
}

/** `HashSet<T>`. */
export class CsHashSet {
  readonly [TYPE_NAME] = 'System.Collections.Generic.HashSet`1';
  private readonly map = new Map<unknown, unknown>();
  constructor(items: Iterable<unknown> = [], readonly comparer?: CsStringComparer) {
    for (const x of items) this.Add(x);
  }
  private k(x: unknown): unknown { return this.comparer ? this.comparer.keyOf(x) : x; }
  get Count(): number { return this.map.size; }
  Add(x: unknown): boolean {
    const k = this.k(x);
    if (this.map.has(k)) return false;
    this.map.set(k, x);
    return true;
  }
  Contains(x: unknown): boolean { return this.map.has(this.k(x)); }
  Remove(x: unknown): boolean { return this.map.delete(this.k(x)); }
  Clear(): void { this.map.clear(); }
  UnionWith(xs: unknown): void { for (const x of iterate(xs)) this.Add(x); }
  [ENUMERATE](): Iterable<unknown> { return [...this.map.values()]; }
}

/** `StringBuilder`. */
export class CsStringBuilder {
  readonly [TYPE_NAME] = 'System.Text.StringBuilder';
  private text: string;
  constructor(initial: unknown = '') {
    this.text = typeof initial === 'string' ? initial : '';
  }
  get Length(): number { return this.text.length; }
  Append(x: unknown): CsStringBuilder { this.text = checkString(this.text + toCSharpString(x)); return this; }
  AppendLine(x: unknown = ''): CsStringBuilder { this.text = checkString(this.text + toCSharpString(x) + '\r\n'); return this; }
  Insert(i: number, x: unknown): CsStringBuilder { this.text = checkString(this.text.slice(0, i) + toCSharpString(x) + this.text.slice(i)); return this; }
  Replace(a: string, b: string | null): CsStringBuilder { this.text = checkString(this.text.split(a).join(b ?? '')); return this; }
  Clear(): CsStringBuilder { this.text = ''; return this; }
  ToString(): string { return this.text; }
}

declareMethods(CsDictionary.prototype, { TryGetValue: { out: [1], parameters: ['key', 'value'] } });

export function iterate(value: unknown): Iterable<unknown> {
  if (value === null || value === undefined) throw clrErrors.argumentNull('source');
  const items = enumerate(value);
  if (!items) throw clrErrors.invalidCast(typeNameOf(value), 'System.Collections.IEnumerable');
  return items;
}

/** A group from GroupBy: enumerable, with `Key`. */
export class CsGrouping {
  readonly [TYPE_NAME] = 'System.Linq.IGrouping`2';
  constructor(
    readonly Key: unknown,
    readonly items: unknown[],
  ) {}
  get Count(): number { return this.items.length; }
  [ENUMERATE](): Iterable<unknown> { return this.items; }
}

const call = (f: unknown, ...args: unknown[]): unknown => {
  if (typeof f !== 'function') throw clrErrors.argumentNull('predicate');
  return (f as Fn)(...args);
};
const truthy = (f: unknown) => (x: unknown, i: number) => call(f, x, i) === true;

function first(items: unknown[], pred: unknown, orDefault: boolean, def: unknown, last = false): unknown {
  const list = pred === undefined || typeof pred !== 'function' ? items : items.filter(truthy(pred));
  if (typeof pred !== 'function' && pred !== undefined) def = pred;
  if (list.length === 0) {
    if (orDefault) return def ?? null;
    throw clrErrors.invalidOperation(typeof pred === 'function' ? NO_MATCH_MESSAGE : NO_ELEMENTS_MESSAGE);
  }
  return last ? list[list.length - 1] : list[0];
}

function numbers(items: unknown[], selector: unknown): number[] {
  return items.map((x, i) => {
    const v = selector === undefined ? x : call(selector, x, i);
    if (typeof v !== 'number') throw clrErrors.invalidCast(typeNameOf(v), 'System.Double');
    return v;
  });
}

function distinctBy(items: unknown[], key: (x: unknown) => unknown): unknown[] {
  const seen: unknown[] = [];
  const out: unknown[] = [];
  for (const x of items) {
    const k = key(x);
    if (!seen.some((s) => csObjectEquals(s, k))) {
      seen.push(k);
      out.push(x);
    }
  }
  return out;
}

function comparerKey(c: unknown): (x: unknown) => unknown {
  return c instanceof CsStringComparer ? (x) => c.keyOf(x) : (x) => x;
}

/** An ordered sequence from OrderBy, so ThenBy can refine it. */
export class CsOrdered {
  readonly [TYPE_NAME] = 'System.Linq.IOrderedEnumerable`1';
  constructor(
    readonly source: unknown[],
    readonly keys: Array<{ f: unknown; desc: boolean }>,
  ) {}
  sorted(): unknown[] {
    const indexed = this.source.map((x, i) => ({ x, i, k: this.keys.map((key) => call(key.f, x)) }));
    indexed.sort((a, b) => {
      for (let j = 0; j < this.keys.length; j++) {
        const c = csCompare(a.k[j], b.k[j]);
        if (c !== 0) return this.keys[j]!.desc ? -c : c;
      }
      return a.i - b.i;
    });
    return indexed.map((e) => e.x);
  }
  [ENUMERATE](): Iterable<unknown> { return this.sorted(); }
}

type Linq = (items: unknown[], args: unknown[], typeArgs: TypeArgument[] | undefined, self: unknown) => unknown;

/** `System.Linq.Enumerable` extension methods, evaluated eagerly over arrays. */
export const LINQ: Record<string, Linq> = {
  Select: (xs, [f]) => xs.map((x, i) => call(f, x, i)),
  SelectMany: (xs, [f]) => xs.flatMap((x, i) => [...iterate(call(f, x, i))]),
  Where: (xs, [f]) => xs.filter(truthy(f)),
  Any: (xs, [f]) => (f === undefined ? xs.length > 0 : xs.some(truthy(f))),
  All: (xs, [f]) => xs.every(truthy(f)),
  First: (xs, [f]) => first(xs, f, false, null),
  FirstOrDefault: (xs, [f, d]) => first(xs, f, true, d),
  Last: (xs, [f]) => first(xs, f, false, null, true),
  LastOrDefault: (xs, [f, d]) => first(xs, f, true, d, true),
  Single: (xs, [f]) => {
    const list = f === undefined ? xs : xs.filter(truthy(f));
    if (list.length === 0) throw clrErrors.invalidOperation(f === undefined ? NO_ELEMENTS_MESSAGE : NO_MATCH_MESSAGE);
    if (list.length > 1) throw clrErrors.invalidOperation(f === undefined ? MORE_THAN_ONE_MESSAGE : 'Sequence contains more than one matching element');
    return list[0];
  },
  SingleOrDefault: (xs, [f]) => {
    const list = f === undefined ? xs : xs.filter(truthy(f));
    if (list.length > 1) throw clrErrors.invalidOperation(f === undefined ? MORE_THAN_ONE_MESSAGE : 'Sequence contains more than one matching element');
    return list[0] ?? null;
  },
  ElementAt: (xs, [i]) => xs[checkIndex(i, xs.length)],
  ElementAtOrDefault: (xs, [i]) => xs[i as number] ?? null,
  Count: (xs, [f]) => (f === undefined ? xs.length : xs.filter(truthy(f)).length),
  LongCount: (xs, [f]) => (f === undefined ? xs.length : xs.filter(truthy(f)).length),
  Sum: (xs, [f]) => numbers(xs, f).reduce((a, b) => a + b, 0),
  Average: (xs, [f]) => {
    const ns = numbers(xs, f);
    if (ns.length === 0) throw clrErrors.invalidOperation(NO_ELEMENTS_MESSAGE);
    return ns.reduce((a, b) => a + b, 0) / ns.length;
  },
  Min: (xs, [f]) => {
    const vs = f === undefined ? xs : xs.map((x, i) => call(f, x, i));
    if (vs.length === 0) throw clrErrors.invalidOperation(NO_ELEMENTS_MESSAGE);
    return vs.reduce((a, b) => (csCompare(b, a) < 0 ? b : a));
  },
  Max: (xs, [f]) => {
    const vs = f === undefined ? xs : xs.map((x, i) => call(f, x, i));
    if (vs.length === 0) throw clrErrors.invalidOperation(NO_ELEMENTS_MESSAGE);
    return vs.reduce((a, b) => (csCompare(b, a) > 0 ? b : a));
  },
  Contains: (xs, [v, c]) => xs.some((x) => (c instanceof CsStringComparer ? c.Equals(x, v) : csObjectEquals(x, v))),
  ToArray: (xs) => xs.slice(),
  ToList: (xs) => new CsList(xs),
  ToHashSet: (xs, [c]) => new CsHashSet(xs, c instanceof CsStringComparer ? c : undefined),
  ToDictionary: (xs, [kf, vf]) => {
    const d = new CsDictionary();
    xs.forEach((x) => d.Add(call(kf, x), vf === undefined ? x : call(vf, x)));
    return d;
  },
  OrderBy: (xs, [f]) => new CsOrdered(xs, [{ f, desc: false }]),
  OrderByDescending: (xs, [f]) => new CsOrdered(xs, [{ f, desc: true }]),
  ThenBy: (_xs, [f], _t, self) => thenBy(self, f, false),
  ThenByDescending: (_xs, [f], _t, self) => thenBy(self, f, true),
  Distinct: (xs, [c]) => distinctBy(xs, comparerKey(c)),
  Skip: (xs, [n]) => xs.slice(Math.max(0, n as number)),
  Take: (xs, [n]) => xs.slice(0, Math.max(0, n as number)),
  SkipWhile: (xs, [f]) => {
    const i = xs.findIndex((x, j) => !truthy(f)(x, j));
    return i < 0 ? [] : xs.slice(i);
  },
  TakeWhile: (xs, [f]) => {
    const i = xs.findIndex((x, j) => !truthy(f)(x, j));
    return i < 0 ? xs.slice() : xs.slice(0, i);
  },
  Concat: (xs, [ys]) => [...xs, ...iterate(ys)],
  Union: (xs, [ys, c]) => distinctBy([...xs, ...iterate(ys)], comparerKey(c)),
  Intersect: (xs, [ys]) => {
    const other = [...iterate(ys)];
    return distinctBy(xs.filter((x) => other.some((y) => csObjectEquals(x, y))), (x) => x);
  },
  Except: (xs, [ys]) => {
    const other = [...iterate(ys)];
    return distinctBy(xs.filter((x) => !other.some((y) => csObjectEquals(x, y))), (x) => x);
  },
  Reverse: (xs) => xs.slice().reverse(),
  Append: (xs, [x]) => [...xs, x],
  Prepend: (xs, [x]) => [x, ...xs],
  DefaultIfEmpty: (xs, [d]) => (xs.length ? xs.slice() : [d ?? null]),
  SequenceEqual: (xs, [ys]) => {
    const other = [...iterate(ys)];
    return other.length === xs.length && xs.every((x, i) => csObjectEquals(x, other[i]));
  },
  Zip: (xs, [ys, f]) => {
    const other = [...iterate(ys)];
    return xs.slice(0, Math.min(xs.length, other.length)).map((x, i) => call(f, x, other[i]));
  },
  Aggregate: (xs, args) => {
    if (args.length === 1) {
      if (xs.length === 0) throw clrErrors.invalidOperation(NO_ELEMENTS_MESSAGE);
      return xs.slice(1).reduce((acc, x) => call(args[0], acc, x), xs[0]);
    }
    const r = xs.reduce((acc, x) => call(args[1], acc, x), args[0]);
    return args.length >= 3 ? call(args[2], r) : r;
  },
  GroupBy: (xs, [kf, vf]) => {
    const groups: CsGrouping[] = [];
    for (const x of xs) {
      const k = call(kf, x);
      let g = groups.find((gr) => csObjectEquals(gr.Key, k));
      if (!g) groups.push((g = new CsGrouping(k, [])));
      g.items.push(vf === undefined ? x : call(vf, x));
    }
    return groups;
  },
  Cast: (xs) => xs.slice(),
  OfType: (xs, _a, typeArgs) => {
    const t = typeArgs?.[0]?.name;
    return xs.filter((x) => (t === 'String' ? typeof x === 'string' : x !== null && x !== undefined));
  },
};

function thenBy(self: unknown, f: unknown, desc: boolean): CsOrdered {
  if (!(self instanceof CsOrdered)) throw clrErrors.missingMember(typeNameOf(self), desc ? 'ThenByDescending' : 'ThenBy');
  return new CsOrdered(self.source, [...self.keys, { f, desc }]);
}

/** `Queue<T>`: FIFO; `Dequeue`/`Peek` on an empty queue throw InvalidOperationException "Queue empty." as .NET. */
export class CsQueue {
  readonly [TYPE_NAME] = 'System.Collections.Generic.Queue`1';
  /** JS-private: expressions see only the C# members. */
  #items: unknown[];
  constructor(init?: Iterable<unknown>) {
    this.#items = init ? [...init] : [];
  }
  get Count(): number { return this.#items.length; }
  Enqueue(x: unknown): void {
    if ((this.#items.length & 1023) === 1023) checkCollectionSize(this.#items.length + 1);
    this.#items.push(x);
  }
  Dequeue(): unknown {
    if (this.#items.length === 0) throw clrErrors.invalidOperation('Queue empty.');
    return this.#items.shift();
  }
  Peek(): unknown {
    if (this.#items.length === 0) throw clrErrors.invalidOperation('Queue empty.');
    return this.#items[0];
  }
  TryDequeue(out: OutRef): boolean {
    const ok = this.#items.length > 0;
    out.value = ok ? this.#items.shift() : null;
    return ok;
  }
  TryPeek(out: OutRef): boolean {
    out.value = this.#items.length ? this.#items[0] : null;
    return this.#items.length > 0;
  }
  Contains(x: unknown): boolean { return this.#items.some((y) => csObjectEquals(x, y)); }
  Clear(): void { this.#items = []; }
  ToArray(): unknown[] { return this.#items.slice(); }
  [ENUMERATE](): Iterable<unknown> { return this.#items.slice(); }
}
declareMethods(CsQueue.prototype, { TryDequeue: { out: [0], parameters: ['result'] }, TryPeek: { out: [0], parameters: ['result'] } });

/** `Stack<T>`: LIFO; enumerates from the top as .NET. */
export class CsStack {
  readonly [TYPE_NAME] = 'System.Collections.Generic.Stack`1';
  /** JS-private: expressions see only the C# members. */
  #items: unknown[];
  constructor(init?: Iterable<unknown>) {
    this.#items = init ? [...init] : [];
  }
  get Count(): number { return this.#items.length; }
  Push(x: unknown): void {
    if ((this.#items.length & 1023) === 1023) checkCollectionSize(this.#items.length + 1);
    this.#items.push(x);
  }
  Pop(): unknown {
    if (this.#items.length === 0) throw clrErrors.invalidOperation('Stack empty.');
    return this.#items.pop();
  }
  Peek(): unknown {
    if (this.#items.length === 0) throw clrErrors.invalidOperation('Stack empty.');
    return this.#items[this.#items.length - 1];
  }
  TryPop(out: OutRef): boolean {
    const ok = this.#items.length > 0;
    out.value = ok ? this.#items.pop() : null;
    return ok;
  }
  TryPeek(out: OutRef): boolean {
    const ok = this.#items.length > 0;
    out.value = ok ? this.#items[this.#items.length - 1] : null;
    return ok;
  }
  Contains(x: unknown): boolean { return this.#items.some((y) => csObjectEquals(x, y)); }
  Clear(): void { this.#items = []; }
  ToArray(): unknown[] { return this.#items.slice().reverse(); }
  [ENUMERATE](): Iterable<unknown> { return this.#items.slice().reverse(); }
}
declareMethods(CsStack.prototype, { TryPop: { out: [0], parameters: ['result'] }, TryPeek: { out: [0], parameters: ['result'] } });
