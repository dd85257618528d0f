import { clrErrors } from './errors.js';
import { declareMethods, ENUMERATE, INDEXER, TYPE_NAME } from './protocol.js';
import { CsEnum, toCSharpString } from './values.js';

export const RegexOptions = CsEnum.define('RegexOptions', {
  None: 0, IgnoreCase: 1, Multiline: 2, ExplicitCapture: 4, Compiled: 8, Singleline: 16, IgnorePatternWhitespace: 32,
  RightToLeft: 64, ECMAScript: 256, CultureInvariant: 512,
});

/** Translates a .NET pattern to a JavaScript RegExp (the common subset: classes, groups, named groups, anchors, lookarounds). */
export function toJsRegExp(pattern: string, options: unknown, global = true): RegExp {
  if (pattern === null || pattern === undefined) throw clrErrors.argumentNull('pattern');
  let flags = global ? 'g' : '';
  const opts = options instanceof CsEnum ? options.value : 0;
  let source = pattern;
  const inline = /^\(\?([imsx]+)\)/.exec(source);
  let inlineFlags = '';
  if (inline) {
    inlineFlags = inline[1]!;
    source = source.slice(inline[0].length);
  }
  if (opts & 1 || inlineFlags.includes('i')) flags += 'i';
  if (opts & 2 || inlineFlags.includes('m')) flags += 'm';
  if (opts & 16 || inlineFlags.includes('s')) flags += 's';
  if (opts & 32 || inlineFlags.includes('x')) source = source.replace(/\\#/g, '\u0000').replace(/#.*$/gm, '').replace(/\s+/g, '').replace(/\u0000/g, '\\#');
  source = source
    .replace(/\(\?'([A-Za-z_]\w*)'/g, '(?<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\[Zz]/g, '$(?![\\s\\S])');
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw clrErrors.regexParse(`parsing "${pattern}" - ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`);
  }
}

/**
 * .NET replacement syntax → JavaScript: `${name}` → `$<name>`, `$0` → `$&`, and `$n` / `${n}` renumbered from .NET's
 * group numbers (unnamed groups first, then named) to JavaScript's positional ones.
 */
function toJsReplacement(r: string, source: string): string {
  const layout = groupLayout(source);
  const order = [0, ...layout.flatMap((n, i) => (n === undefined ? [i + 1] : [])), ...layout.flatMap((n, i) => (n === undefined ? [] : [i + 1]))];
  return r.replace(/\$\$|\$\{(\d+)\}|\$(\d+)|\$\{([A-Za-z_]\w*)\}/g, (all, braced?: string, plain?: string, name?: string) => {
    if (all === '$$') return '$$';
    if (name !== undefined) return `$<${name}>`;
    const two = (js: number) => `$${String(js).padStart(2, '0')}`;
    if (braced !== undefined) {
      const k = Number(braced);
      return k === 0 ? '$&' : order[k] === undefined ? all.replace(/\$/g, '$$$$') : two(order[k]!);
    }
    // `$12` with fewer than 12 groups is group 1 then "2", as .NET reads the longest valid group number.
    for (let len = plain!.length; len > 0; len--) {
      const k = Number(plain!.slice(0, len));
      if (k === 0) return `$&${plain!.slice(len)}`;
      if (order[k] !== undefined) return two(order[k]!) + plain!.slice(len);
    }
    return all.replace(/\$/g, '$$$$');
  });
}

/** `Capture`: Index, Length, Value (the reference's members). */
export class CsCapture {
  readonly [TYPE_NAME]: string = 'System.Text.RegularExpressions.Capture';
  constructor(
    readonly Value: string,
    readonly Index: number,
  ) {}
  get Length(): number {
    return this.Value.length;
  }
  ToString(): string {
    return this.Value;
  }
}

/** `CaptureCollection`: Count and the indexer. */
export class CsCaptureCollection {
  readonly [TYPE_NAME] = 'System.Text.RegularExpressions.CaptureCollection';
  constructor(private readonly captures: CsCapture[]) {}
  get Count(): number {
    return this.captures.length;
  }
  [INDEXER](i: unknown): CsCapture {
    const c = typeof i === 'number' ? this.captures[i] : undefined;
    if (!c) throw clrErrors.argumentOutOfRange('i', 'Specified argument was out of the range of valid values.');
    return c;
  }
  [ENUMERATE](): Iterable<unknown> {
    return this.captures;
  }
}

/**
 * `Group`. `Captures` holds the group's last capture only: JavaScript's RegExp keeps one capture per group, where
 * .NET keeps every repetition of a quantified group (`(\d)+` on "123" has 3 captures in .NET, 1 here).
 */
export class CsGroup extends CsCapture {
  override readonly [TYPE_NAME] = 'System.Text.RegularExpressions.Group';
  constructor(
    readonly Success: boolean,
    Value: string,
    Index: number,
    readonly Name: string,
  ) {
    super(Value, Index);
  }
  get Captures(): CsCaptureCollection {
    return new CsCaptureCollection(this.Success ? [new CsCapture(this.Value, this.Index)] : []);
  }
}

export class CsGroupCollection {
  readonly [TYPE_NAME] = 'System.Text.RegularExpressions.GroupCollection';
  constructor(private readonly groups: CsGroup[]) {}
  get Count(): number {
    return this.groups.length;
  }
  [INDEXER](key: unknown): CsGroup {
    const g = typeof key === 'number' ? this.groups[key] : this.groups.find((x) => x.Name === key);
    return g ?? new CsGroup(false, '', 0, String(key));
  }
  [ENUMERATE](): Iterable<unknown> {
    return this.groups;
  }
}

const LAYOUTS = new Map<string, Array<string | undefined>>();

/** The capturing groups of a JavaScript pattern in positional order: their name, or undefined when unnamed. */
function groupLayout(source: string): Array<string | undefined> {
  let layout = LAYOUTS.get(source);
  if (layout) return layout;
  layout = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      if (source[i + 1] !== '?') layout.push(undefined);
      else {
        const named = /^\(\?<([A-Za-z_$][\w$]*)>/.exec(source.slice(i));
        if (named) layout.push(named[1]);
      }
    }
  }
  if (LAYOUTS.size > 1000) LAYOUTS.clear();
  LAYOUTS.set(source, layout);
  return layout;
}

export class CsMatch {
  readonly [TYPE_NAME] = 'System.Text.RegularExpressions.Match';
  readonly Success: boolean;
  readonly Value: string;
  readonly Index: number;
  readonly Groups: CsGroupCollection;
  constructor(
    m: RegExpExecArray | null,
    private readonly re?: RegExp,
    private readonly input?: string,
  ) {
    this.Success = m !== null;
    this.Value = m ? m[0] : '';
    this.Index = m ? m.index : 0;
    const groups: CsGroup[] = [];
    if (m) {
      // .NET numbers unnamed groups first (left to right), then named groups; JavaScript numbers all positionally.
      const layout = re ? groupLayout(re.source) : undefined;
      const indices = (m as RegExpExecArray & { indices?: Array<[number, number] | undefined> }).indices;
      const at = (i: number) => indices?.[i]?.[0] ?? m.index;
      groups.push(new CsGroup(true, m[0], m.index, '0'));
      if (layout && layout.length === m.length - 1) {
        const unnamed = layout.map((name, i) => ({ name, i: i + 1 })).filter((g) => g.name === undefined);
        const named = layout.map((name, i) => ({ name, i: i + 1 })).filter((g) => g.name !== undefined);
        for (const g of unnamed) {
          const v = m[g.i];
          groups.push(new CsGroup(v !== undefined, v ?? '', v === undefined ? 0 : at(g.i), String(groups.length)));
        }
        const seen = new Set<string>();
        for (const g of named) {
          if (seen.has(g.name!)) continue;
          seen.add(g.name!);
          const v = m.groups?.[g.name!];
          const i = named.filter((x) => x.name === g.name).map((x) => x.i).find((x) => m[x] !== undefined) ?? g.i;
          groups.push(new CsGroup(v !== undefined, v ?? '', v === undefined ? 0 : at(i), g.name!));
        }
      } else {
        for (let i = 1; i < m.length; i++) {
          const v = m[i];
          groups.push(new CsGroup(v !== undefined, v ?? '', v === undefined ? 0 : at(i), String(i)));
        }
      }
    }
    this.Groups = new CsGroupCollection(groups);
  }
  get Length(): number {
    return this.Value.length;
  }
  /** `Match.Result(replacement)`: the replacement pattern ($0, $1, ${name}, $$, $&, $`, $', $_) expanded for this match. */
  Result(replacement: unknown): string {
    if (replacement === null || replacement === undefined) throw clrErrors.argumentNull('replacement');
    if (!this.Success) throw clrErrors.notSupported('Result cannot be called on a failed Match.');
    const text = this.input ?? '';
    return String(replacement).replace(/\$(\$|&|`|'|_|\d+|\{([A-Za-z_]\w*|\d+)\})/g, (all, token: string, braced: string | undefined) => {
      if (token === '$') return '$';
      if (token === '&') return this.Value;
      if (token === '`') return text.slice(0, this.Index);
      if (token === "'") return text.slice(this.Index + this.Value.length);
      if (token === '_') return text;
      const key = braced ?? token;
      const g = /^\d+$/.test(key) ? this.Groups[INDEXER](Number(key)) : this.Groups[INDEXER](key);
      return g.Success || /^\d+$/.test(key) ? g.Value : all;
    });
  }
  NextMatch(): CsMatch {
    if (!this.Success || !this.re || this.input === undefined) return new CsMatch(null);
    const re = new RegExp(this.re.source, this.re.flags.includes('g') ? this.re.flags : this.re.flags + 'g');
    re.lastIndex = this.Index + Math.max(1, this.Value.length);
    return new CsMatch(re.exec(this.input), re, this.input);
  }
  ToString(): string {
    return this.Value;
  }
}

export class CsMatchCollection {
  readonly [TYPE_NAME] = 'System.Text.RegularExpressions.MatchCollection';
  constructor(readonly matches: CsMatch[]) {}
  get Count(): number {
    return this.matches.length;
  }
  [INDEXER](i: unknown): CsMatch {
    const m = this.matches[i as number];
    if (!m) throw clrErrors.argumentOutOfRange('i', 'Specified argument was out of the range of valid values.');
    return m;
  }
  [ENUMERATE](): Iterable<unknown> {
    return this.matches;
  }
}

function input(s: unknown): string {
  if (s === null || s === undefined) throw clrErrors.argumentNull('input');
  return toCSharpString(s);
}

/** `new Regex(pattern, options)` and the static `Regex.X(input, pattern, …)` methods. */
export class CsRegex {
  readonly [TYPE_NAME] = 'System.Text.RegularExpressions.Regex';
  private readonly re: RegExp;
  constructor(
    readonly pattern: string,
    readonly options?: unknown,
  ) {
    this.re = toJsRegExp(pattern, options);
  }
  private fresh(): RegExp {
    this.re.lastIndex = 0;
    return this.re;
  }
  IsMatch(s: unknown): boolean {
    return this.fresh().test(input(s));
  }
  Match(s: unknown): CsMatch {
    const text = input(s);
    const re = new RegExp(this.re.source, `${this.re.flags}d`);
    return new CsMatch(re.exec(text), re, text);
  }
  Matches(s: unknown): CsMatchCollection {
    const text = input(s);
    const re = new RegExp(this.re.source, `${this.re.flags}d`);
    return new CsMatchCollection([...text.matchAll(re)].map((m) => new CsMatch(m as RegExpExecArray, re, text)));
  }
  Replace(s: unknown, replacement: unknown): string {
    const text = input(s);
    if (typeof replacement === 'function') {
      return text.replace(this.fresh(), (...args: unknown[]) => {
        const groups = typeof args[args.length - 1] === 'object' ? 1 : 0;
        const index = args[args.length - 2 - groups] as number;
        const arr = Object.assign(args.slice(0, args.length - 2 - groups) as string[], { index, input: text, groups: groups ? args[args.length - 1] : undefined }) as unknown as RegExpExecArray;
        return toCSharpString((replacement as (m: CsMatch) => unknown)(new CsMatch(arr, this.re, text)));
      });
    }
    return text.replace(this.fresh(), toJsReplacement(toCSharpString(replacement), this.re.source));
  }
  Split(s: unknown): string[] {
    return input(s).split(this.fresh());
  }
  ToString(): string {
    return this.pattern;
  }
}
declareMethods(CsRegex.prototype, {});

export function regexEscape(s: string): string {
  return s.replace(/[\\*+?|{[()^$.# \t\n\r\f]/g, (c) => ({ '\t': '\\t', '\n': '\\n', '\r': '\\r', '\f': '\\f', ' ': '\\ ' })[c] ?? `\\${c}`);
}

export function regexUnescape(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[tnrf]|.)/g, (_, e: string) => {
    if (e[0] === 'u' || e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[e] ?? e;
  });
}
