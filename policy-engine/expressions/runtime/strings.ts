import { clrErrors } from './errors.js';
import { checkString, checkStringLength } from './limits.js';
import { formatComposite, formatNumber } from './numbers.js';
import { CsEnum, compareOrdinal, compareStringsCulture, enumerate, toCSharpString, typeNameOf } from './values.js';

export const StringComparison = CsEnum.define('StringComparison', {
  CurrentCulture: 0, CurrentCultureIgnoreCase: 1, InvariantCulture: 2, InvariantCultureIgnoreCase: 3, Ordinal: 4, OrdinalIgnoreCase: 5,
});
export const StringSplitOptions = CsEnum.define('StringSplitOptions', { None: 0, RemoveEmptyEntries: 1, TrimEntries: 2 });

type StringMethod = (s: string, args: unknown[]) => unknown;

function str(v: unknown, name: string): string {
  if (v === null || v === undefined) throw clrErrors.argumentNull(name);
  if (typeof v !== 'string') throw clrErrors.invalidCast(typeNameOf(v), 'System.String');
  return v;
}

function ignoreCaseOf(c: unknown): boolean {
  if (c instanceof CsEnum && c.type === 'StringComparison') return c.name.endsWith('IgnoreCase');
  if (typeof c === 'boolean') return c;
  return false;
}

function fold(s: string, ignoreCase: boolean): string {
  return ignoreCase ? s.toUpperCase() : s;
}

const WHITESPACE = /^[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

function trimChars(s: string, chars: unknown[], start: boolean, end: boolean): string {
  const set = chars.flatMap((c) => (Array.isArray(c) ? c : [c])).filter((c): c is string => typeof c === 'string');
  if (set.length === 0) {
    if (start && end) return s.replace(WHITESPACE, '');
    if (start) return s.replace(/^[\s\u00a0\u2000-\u200a\u3000]+/, '');
    return s.replace(/[\s\u00a0\u2000-\u200a\u3000]+$/, '');
  }
  let a = 0;
  let b = s.length;
  if (start) while (a < b && set.includes(s[a]!)) a++;
  if (end) while (b > a && set.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

function split(s: string, args: unknown[]): string[] {
  const separators: string[] = [];
  let count = Infinity;
  let options = 0;
  for (const a of args) {
    if (a instanceof CsEnum) options = a.value;
    else if (typeof a === 'number') count = a;
    else if (typeof a === 'string') separators.push(a);
    else if (Array.isArray(a)) separators.push(...a.filter((x): x is string => typeof x === 'string'));
    else if (a === null) continue;
    else throw clrErrors.argument(`Unsupported separator of type '${typeNameOf(a)}'.`);
  }
  let parts: string[];
  const seps = separators.filter((x) => x.length > 0);
  if (separators.length === 0) parts = s.split(/[\s\u00a0\u2000-\u200a\u3000]/);
  else if (seps.length === 0) parts = [s];
  else {
    parts = [];
    let last = 0;
    let i = 0;
    while (i < s.length) {
      const sep = seps.find((x) => s.startsWith(x, i));
      if (sep !== undefined) {
        parts.push(s.slice(last, i));
        i += sep.length;
        last = i;
      } else i++;
    }
    parts.push(s.slice(last));
  }
  if (options & 2) parts = parts.map((p) => p.trim());
  if (options & 1) parts = parts.filter((p) => p.length > 0);
  if (count < parts.length) {
    if (count <= 0) return [];
    // The last element holds the rest of the string (approximate: re-joined with the first separator).
    const joiner = seps[0] ?? ' ';
    parts = [...parts.slice(0, count - 1), parts.slice(count - 1).join(joiner)];
  }
  return parts;
}

function substringArgs(s: string, start: unknown, length: unknown): [number, number] {
  const a = start as number;
  if (a < 0) throw clrErrors.argumentOutOfRange('startIndex', 'StartIndex cannot be less than zero.');
  if (a > s.length) throw clrErrors.argumentOutOfRange('startIndex', 'startIndex cannot be larger than length of string.');
  const n = length === undefined ? s.length - a : (length as number);
  if (n < 0) throw clrErrors.argumentOutOfRange('length', 'Length cannot be less than zero.');
  if (a + n > s.length) throw clrErrors.argumentOutOfRange('length', 'Index and length must refer to a location within the string.');
  return [a, n];
}

function indexOf(s: string, args: unknown[], last: boolean): number {
  const [v, ...rest] = args;
  const needle = str(v, 'value');
  let start: number | undefined;
  let ignoreCase = false;
  for (const r of rest) {
    if (typeof r === 'number' && start === undefined) start = r;
    else if (r instanceof CsEnum) ignoreCase = ignoreCaseOf(r);
  }
  if (start !== undefined && (start < 0 || start > s.length)) throw clrErrors.argumentOutOfRange('startIndex', 'Index was out of range. Must be non-negative and less than the size of the collection.');
  const h = fold(s, ignoreCase);
  const n = fold(needle, ignoreCase);
  return last ? h.lastIndexOf(n, start) : h.indexOf(n, start);
}

/** C# `string` instance members (ordinal or invariant-culture behaviour; the emulator has no culture data). */
export const STRING_METHODS: Record<string, StringMethod> = {
  StartsWith: (s, [v, c]) => fold(s, ignoreCaseOf(c)).startsWith(fold(str(v, 'value'), ignoreCaseOf(c))),
  EndsWith: (s, [v, c]) => fold(s, ignoreCaseOf(c)).endsWith(fold(str(v, 'value'), ignoreCaseOf(c))),
  Contains: (s, [v, c]) => fold(s, ignoreCaseOf(c)).includes(fold(str(v, 'value'), ignoreCaseOf(c))),
  IndexOf: (s, args) => indexOf(s, args, false),
  LastIndexOf: (s, args) => indexOf(s, args, true),
  IndexOfAny: (s, [chars]) => {
    const set = (chars as string[]) ?? [];
    for (let i = 0; i < s.length; i++) if (set.includes(s[i]!)) return i;
    return -1;
  },
  Substring: (s, [start, length]) => {
    const [a, n] = substringArgs(s, start, length);
    return s.slice(a, a + n);
  },
  Remove: (s, [start, length]) => {
    if (length === undefined) {
      if ((start as number) < 0 || (start as number) >= s.length) throw clrErrors.argumentOutOfRange('startIndex', 'startIndex must be less than length of string.');
      return s.slice(0, start as number);
    }
    const [a, n] = substringArgs(s, start, length);
    return s.slice(0, a) + s.slice(a + n);
  },
  Insert: (s, [i, v]) => {
    if ((i as number) < 0 || (i as number) > s.length) throw clrErrors.argumentOutOfRange('startIndex', 'Index was out of range.');
    return s.slice(0, i as number) + str(v, 'value') + s.slice(i as number);
  },
  ToLower: (s) => s.toLowerCase(),
  ToUpper: (s) => s.toUpperCase(),
  ToLowerInvariant: (s) => s.toLowerCase(),
  ToUpperInvariant: (s) => s.toUpperCase(),
  Trim: (s, args) => trimChars(s, args, true, true),
  TrimStart: (s, args) => trimChars(s, args, true, false),
  TrimEnd: (s, args) => trimChars(s, args, false, true),
  Split: (s, args) => split(s, args),
  Replace: (s, [a, b, c]) => {
    const from = str(a, 'oldValue');
    if (from === '') throw clrErrors.argument('String cannot be of zero length.\r\nParameter name: oldValue');
    const to = b === null || b === undefined ? '' : str(b, 'newValue');
    if (!ignoreCaseOf(c)) return checkString(s.split(from).join(to));
    return checkString(s.replace(new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), () => to));
  },
  PadLeft: (s, [n, c]) => (checkStringLength(n as number), s.padStart(n as number, (c as string) ?? ' ')),
  PadRight: (s, [n, c]) => (checkStringLength(n as number), s.padEnd(n as number, (c as string) ?? ' ')),
  Equals: (s, [v, c]) => typeof v === 'string' && fold(s, ignoreCaseOf(c)) === fold(v, ignoreCaseOf(c)),
  CompareTo: (s, [v]) => (v === null ? 1 : compareStringsCulture(s, str(v, 'strB'))),
  ToString: (s) => s,
  ToCharArray: (s) => [...s],
  Clone: (s) => s,
  Normalize: (s) => s.normalize('NFC'),
  GetHashCode: (s) => {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
    return h;
  },
};

/** Static return types of string members, for the evaluator's numeric typing. */
export const STRING_METHOD_TYPES: Record<string, string> = {
  StartsWith: 'Boolean', EndsWith: 'Boolean', Contains: 'Boolean', Equals: 'Boolean',
  IndexOf: 'Int32', LastIndexOf: 'Int32', IndexOfAny: 'Int32', CompareTo: 'Int32', GetHashCode: 'Int32',
  Substring: 'String', Remove: 'String', Insert: 'String', ToLower: 'String', ToUpper: 'String', ToLowerInvariant: 'String',
  ToUpperInvariant: 'String', Trim: 'String', TrimStart: 'String', TrimEnd: 'String', Replace: 'String', PadLeft: 'String',
  PadRight: 'String', ToString: 'String', Normalize: 'String',
};

function joinValues(args: unknown[]): unknown[] {
  if (args.length === 1) {
    const only = args[0];
    if (only !== null && typeof only === 'object') {
      const items = enumerate(only);
      if (items) return [...items];
    }
  }
  return args;
}

function compare(a: unknown, b: unknown, c: unknown): number {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  const ic = ignoreCaseOf(c);
  const ordinal = c instanceof CsEnum && c.name.startsWith('Ordinal');
  const x = fold(a as string, ic);
  const y = fold(b as string, ic);
  return ordinal ? compareOrdinal(x, y) : compareStringsCulture(x, y);
}

/** `string.X(...)` statics. */
export const STRING_STATICS: Record<string, (args: unknown[]) => unknown> = {
  IsNullOrEmpty: ([s]) => s === null || s === undefined || s === '',
  IsNullOrWhiteSpace: ([s]) => s === null || s === undefined || (typeof s === 'string' && s.trim() === ''),
  Join: ([sep, ...rest]) => checkString(joinValues(rest).map(toCSharpString).join(toCSharpString(sep))),
  Concat: (args) => checkString(joinValues(args).map(toCSharpString).join('')),
  Format: ([f, ...rest]) => formatComposite(str(f, 'format'), rest.length === 1 && Array.isArray(rest[0]) ? (rest[0] as unknown[]) : rest),
  Compare: ([a, b, c]) => compare(a, b, c),
  CompareOrdinal: ([a, b]) => compare(a, b, StringComparison.Ordinal),
  Equals: ([a, b, c]) => (a === null || a === undefined || b === null || b === undefined ? (a ?? null) === (b ?? null) : fold(a as string, ignoreCaseOf(c)) === fold(b as string, ignoreCaseOf(c))),
  Copy: ([s]) => s,
};

export { formatNumber };
