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

/** .NET replacement syntax → JavaScript: `${name}` → `$<name>`, `$0` → `$&`. */
function toJsReplacement(r: string): string {
  return r.replace(/\$\{([A-Za-z_]\w*)\}/g, '$$<$1>').replace(/\$0/g, '$$&');
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
      const names = new Map<number, string>();
      // Named groups: JavaScript numbers them in order like .NET does when all groups are named or unnamed.
      if (m.groups) {
        const namedValues = Object.entries(m.groups);
        for (const [name, value] of namedValues) {
          for (let i = 1; i < m.length; i++) if (m[i] === value && !names.has(i)) {
            names.set(i, name);
            break;
          }
        }
      }
      for (let i = 0; i < m.length; i++) {
        const v = m[i];
        groups.push(new CsGroup(v !== undefined, v ?? '', v === undefined ? 0 : m.index, names.get(i) ?? String(i)));
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
    const re = new RegExp(this.re.source, this.re.flags);
    return new CsMatch(re.exec(text), re, text);
  }
  Matches(s: unknown): CsMatchCollection {
    const text = input(s);
    return new CsMatchCollection([...text.matchAll(this.fresh())].map((m) => new CsMatch(m as RegExpExecArray)));
  }
  Replace(s: unknown, replacement: unknown): string {
    const text = input(s);
    if (typeof replacement === 'function') {
      return text.replace(this.fresh(), (...args: unknown[]) => {
        const groups = typeof args[args.length - 1] === 'object' ? 1 : 0;
        const index = args[args.length - 2 - groups] as number;
        const arr = Object.assign(args.slice(0, args.length - 2 - groups) as string[], { index, input: text }) as unknown as RegExpExecArray;
        return toCSharpString((replacement as (m: CsMatch) => unknown)(new CsMatch(arr)));
      });
    }
    return text.replace(this.fresh(), toJsReplacement(toCSharpString(replacement)));
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
