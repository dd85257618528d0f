import type { DiagnosticKey } from '../diagnostics.js';

/**
 * The C# scanner for policy expressions, in the TypeScript compiler's style: an object of accessors over
 * shared state (`scan()`, `token()`, `tokenStart()`…), never an array of tokens, and it never throws — it
 * reports through `onError` and keeps going. Positions are offsets into `code`.
 */

export type TokenKind =
  | 'EOF' | 'Identifier' | 'Keyword' | 'Number' | 'String' | 'Char' | 'Interpolated' | 'Unknown'
  | '(' | ')' | '{' | '}' | '[' | ']' | '.' | ',' | ';' | ':' | '?' | '??' | '?.' | '?[' | '??='
  | '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '!' | '~' | '=' | '<' | '>' | '<<'
  | '==' | '!=' | '<=' | '>=' | '&&' | '||' | '++' | '--' | '=>'
  | '+=' | '-=' | '*=' | '/=' | '%=' | '&=' | '|=' | '^=' | '<<=' | '::';

export const KEYWORDS: ReadonlySet<string> = new Set([
  'abstract', 'as', 'base', 'bool', 'break', 'byte', 'case', 'catch', 'char', 'checked', 'class', 'const', 'continue',
  'decimal', 'default', 'delegate', 'do', 'double', 'else', 'enum', 'event', 'explicit', 'extern', 'false', 'finally',
  'fixed', 'float', 'for', 'foreach', 'goto', 'if', 'implicit', 'in', 'int', 'interface', 'internal', 'is', 'lock',
  'long', 'namespace', 'new', 'null', 'object', 'operator', 'out', 'override', 'params', 'private', 'protected',
  'public', 'readonly', 'ref', 'return', 'sbyte', 'sealed', 'short', 'sizeof', 'stackalloc', 'static', 'string',
  'struct', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'uint', 'ulong', 'unchecked', 'unsafe', 'ushort',
  'using', 'virtual', 'void', 'volatile', 'while',
]);

export const PREDEFINED_TYPES: ReadonlySet<string> = new Set([
  'bool', 'byte', 'char', 'decimal', 'double', 'float', 'int', 'long', 'object', 'sbyte', 'short', 'string', 'uint', 'ulong', 'ushort',
]);

/** Numeric literal type from its form and suffix. */
export type NumberType = 'Int32' | 'Int64' | 'UInt32' | 'UInt64' | 'Double' | 'Single' | 'Decimal';

/** One piece of an interpolated string: literal text, or a hole `{expr[,alignment][:format]}` by offsets into the code. */
export type InterpolationPart =
  | { kind: 'text'; value: string }
  | { kind: 'hole'; start: number; end: number; alignment?: { start: number; end: number }; format?: string };

export type ScanErrorHandler = (key: DiagnosticKey, start: number, end: number, args?: Array<string | number>) => void;

interface ScannerState {
  pos: number;
  token: TokenKind;
  tokenStart: number;
  value: string;
  numberType: NumberType;
  parts: InterpolationPart[];
}

export interface Scanner {
  scan(): TokenKind;
  token(): TokenKind;
  tokenStart(): number;
  /** Offset just past the current token. */
  tokenEnd(): number;
  /** Identifier/keyword text, decoded string/char value, or number text (without suffix and separators). */
  tokenValue(): string;
  numberType(): NumberType;
  interpolationParts(): InterpolationPart[];
  /** Runs `cb` and restores the scanner state afterwards. */
  lookAhead<T>(cb: () => T): T;
  /** Runs `cb`; keeps the new state when it returns a truthy value, else restores. */
  tryScan<T>(cb: () => T): T;
  /** Scans `text[start, end)` with positions relative to the whole text. */
  setText(text: string, start: number, end: number): void;
  text(): string;
}

const isIdentStart = (c: string): boolean => /[\p{L}\p{Nl}_]/u.test(c);
const isIdentPart = (c: string): boolean => /[\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]/u.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

const PUNCTUATION: ReadonlyArray<TokenKind> = [
  '<<=', '??=', '?.', '??', '=>', '==', '!=', '<=', '>=', '&&', '||', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=',
  '|=', '^=', '<<', '::', '(', ')', '{', '}', '[', ']', '.', ',', ';', ':', '?', '+', '-', '*', '/', '%', '&', '|', '^', '!',
  '~', '=', '<', '>',
];

const SIMPLE_ESCAPES: Record<string, string> = {
  "'": "'", '"': '"', '\\': '\\', '0': '\0', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

export function createScanner(code: string, onError: ScanErrorHandler): Scanner {
  let text = code;
  let end = code.length;
  const s: ScannerState = { pos: 0, token: 'EOF', tokenStart: 0, value: '', numberType: 'Int32', parts: [] };

  const error = (key: DiagnosticKey, start: number, stop: number, args?: Array<string | number>) => onError(key, start, stop, args);

  function skipTrivia(): void {
    while (s.pos < end) {
      const c = text[s.pos]!;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
        s.pos++;
      } else if (c === '/' && text[s.pos + 1] === '/') {
        while (s.pos < end && text[s.pos] !== '\n' && text[s.pos] !== '\r') s.pos++;
      } else if (c === '/' && text[s.pos + 1] === '*') {
        const close = text.indexOf('*/', s.pos + 2);
        if (close < 0 || close + 2 > end) {
          error('ExprExpected', s.pos, s.pos + 2, ['*/']);
          s.pos = end;
        } else s.pos = close + 2;
      } else return;
    }
  }

  /** Reads one escape sequence after a backslash at `s.pos - 1`; returns the decoded text. */
  function escape(): string {
    const start = s.pos - 1;
    const c = text[s.pos];
    if (c === undefined || s.pos >= end) return '';
    s.pos++;
    const simple = SIMPLE_ESCAPES[c];
    if (simple !== undefined) return simple;
    if (c === 'u' || c === 'x' || c === 'U') {
      const max = c === 'U' ? 8 : 4;
      let hex = '';
      while (hex.length < max && s.pos < end && /[0-9a-fA-F]/.test(text[s.pos]!)) hex += text[s.pos++];
      if ((c !== 'x' && hex.length !== max) || hex.length === 0) {
        error('ExprInvalidEscape', start, s.pos, [text.slice(start, s.pos)]);
        return '';
      }
      return String.fromCodePoint(parseInt(hex, 16));
    }
    error('ExprInvalidEscape', start, s.pos, [`\\${c}`]);
    return c;
  }

  function regularString(quote: '"' | "'"): string {
    let value = '';
    for (;;) {
      if (s.pos >= end || text[s.pos] === '\n' || text[s.pos] === '\r') {
        error(quote === '"' ? 'ExprUnterminatedString' : 'ExprInvalidCharLiteral', s.tokenStart, s.pos);
        return value;
      }
      const c = text[s.pos++]!;
      if (c === quote) return value;
      value += c === '\\' ? escape() : c;
    }
  }

  function verbatimString(): string {
    let value = '';
    for (;;) {
      if (s.pos >= end) {
        error('ExprUnterminatedString', s.tokenStart, s.pos);
        return value;
      }
      const c = text[s.pos++]!;
      if (c === '"') {
        if (text[s.pos] === '"' && s.pos < end) {
          value += '"';
          s.pos++;
        } else return value;
      } else value += c;
    }
  }

  /** Skips a nested string or char literal inside an interpolation hole. */
  function skipNestedLiteral(): void {
    const c = text[s.pos]!;
    const save = s.tokenStart;
    s.tokenStart = s.pos;
    if (c === '"' || c === "'") {
      s.pos++;
      regularString(c);
    } else if (c === '@' && text[s.pos + 1] === '"') {
      s.pos += 2;
      verbatimString();
    } else if ((c === '$' && (text[s.pos + 1] === '"' || (text[s.pos + 1] === '@' && text[s.pos + 2] === '"'))) || (c === '@' && text[s.pos + 1] === '$')) {
      const verbatim = text[s.pos + 1] === '@' || c === '@';
      s.pos += verbatim ? 3 : 2;
      interpolated(verbatim);
    }
    s.tokenStart = save;
  }

  /** Scans an interpolated string body after the opening quote. */
  function interpolated(verbatim: boolean): InterpolationPart[] {
    const parts: InterpolationPart[] = [];
    let literal = '';
    const flush = () => {
      if (literal) parts.push({ kind: 'text', value: literal });
      literal = '';
    };
    const start = s.tokenStart;
    for (;;) {
      if (s.pos >= end || (!verbatim && (text[s.pos] === '\n' || text[s.pos] === '\r'))) {
        error('ExprUnterminatedString', start, s.pos);
        flush();
        return parts;
      }
      const c = text[s.pos]!;
      if (c === '"') {
        if (verbatim && text[s.pos + 1] === '"') {
          literal += '"';
          s.pos += 2;
          continue;
        }
        s.pos++;
        flush();
        return parts;
      }
      if (c === '\\' && !verbatim) {
        s.pos++;
        literal += escape();
        continue;
      }
      if (c === '{') {
        if (text[s.pos + 1] === '{') {
          literal += '{';
          s.pos += 2;
          continue;
        }
        flush();
        parts.push(hole());
        continue;
      }
      if (c === '}') {
        if (text[s.pos + 1] === '}') {
          literal += '}';
          s.pos += 2;
          continue;
        }
        error('ExprSyntax', s.pos, s.pos + 1, ["A '}' character must be escaped (by doubling) in an interpolated string."]);
        s.pos++;
        continue;
      }
      literal += c;
      s.pos++;
    }
  }

  /** `{ expr [, alignment] [: format] }` — balances brackets and skips nested literals. */
  function hole(): InterpolationPart {
    const open = s.pos;
    s.pos++;
    const exprStart = s.pos;
    let depth = 0;
    let exprEnd = -1;
    let alignStart = -1;
    let alignEnd = -1;
    let format: string | undefined;
    while (s.pos < end) {
      const c = text[s.pos]!;
      if (c === '"' || c === "'" || ((c === '@' || c === '$') && /["@$]/.test(text[s.pos + 1] ?? ''))) {
        skipNestedLiteral();
        continue;
      }
      if (c === '(' || c === '[' || c === '{') depth++;
      else if ((c === ')' || c === ']') && depth > 0) depth--;
      else if (c === '}' && depth > 0) depth--;
      else if (depth === 0 && c === '}') break;
      else if (depth === 0 && c === ',' && alignStart < 0 && exprEnd < 0) {
        exprEnd = s.pos;
        alignStart = s.pos + 1;
      } else if (depth === 0 && c === ':' && text[s.pos + 1] !== ':') {
        if (exprEnd < 0) exprEnd = s.pos;
        else if (alignStart >= 0 && alignEnd < 0) alignEnd = s.pos;
        const fStart = s.pos + 1;
        while (s.pos < end && text[s.pos] !== '}' && text[s.pos] !== '"') s.pos++;
        format = text.slice(fStart, s.pos);
        break;
      } else if (c === '\n' || c === '\r') {
        break;
      }
      s.pos++;
    }
    if (text[s.pos] !== '}') {
      error('ExprExpected', open, s.pos, ['}']);
    } else s.pos++;
    const closeAt = text[s.pos - 1] === '}' ? s.pos - 1 : s.pos;
    if (exprEnd < 0) exprEnd = closeAt;
    if (alignStart >= 0 && alignEnd < 0) alignEnd = format === undefined ? closeAt : exprEnd;
    const part: InterpolationPart = { kind: 'hole', start: exprStart, end: exprEnd };
    if (alignStart >= 0) part.alignment = { start: alignStart, end: alignEnd };
    if (format !== undefined) part.format = format;
    return part;
  }

  function number(): void {
    const start = s.pos;
    let digits = '';
    let isReal = false;
    const take = (pred: (c: string) => boolean) => {
      while (s.pos < end && (pred(text[s.pos]!) || (text[s.pos] === '_' && pred(text[s.pos + 1] ?? '')))) {
        if (text[s.pos] !== '_') digits += text[s.pos];
        s.pos++;
      }
    };
    if (text[s.pos] === '0' && (text[s.pos + 1] === 'x' || text[s.pos + 1] === 'X' || text[s.pos + 1] === 'b' || text[s.pos + 1] === 'B')) {
      const hex = text[s.pos + 1]!.toLowerCase() === 'x';
      s.pos += 2;
      take(hex ? (c) => /[0-9a-fA-F]/.test(c) : (c) => c === '0' || c === '1');
      if (!digits) error('ExprInvalidNumber', start, s.pos, [text.slice(start, s.pos)]);
      digits = String(parseInt(digits || '0', hex ? 16 : 2));
    } else {
      take(isDigit);
      if (text[s.pos] === '.' && isDigit(text[s.pos + 1])) {
        isReal = true;
        digits += '.';
        s.pos++;
        take(isDigit);
      }
      if ((text[s.pos] === 'e' || text[s.pos] === 'E') && (isDigit(text[s.pos + 1]) || ((text[s.pos + 1] === '+' || text[s.pos + 1] === '-') && isDigit(text[s.pos + 2])))) {
        isReal = true;
        digits += 'e';
        s.pos++;
        if (text[s.pos] === '+' || text[s.pos] === '-') digits += text[s.pos++];
        take(isDigit);
      }
    }
    let type: NumberType = isReal ? 'Double' : 'Int32';
    const suffix = /^(ul|lu|u|l|m|d|f)/i.exec(text.slice(s.pos, Math.min(end, s.pos + 2)))?.[0]?.toLowerCase();
    if (suffix) {
      s.pos += suffix.length;
      if (suffix === 'm') type = 'Decimal';
      else if (suffix === 'd') type = 'Double';
      else if (suffix === 'f') type = 'Single';
      else if (isReal) error('ExprInvalidNumber', start, s.pos, [text.slice(start, s.pos)]);
      else type = suffix === 'l' ? 'Int64' : suffix === 'u' ? 'UInt32' : 'UInt64';
    }
    if (type === 'Int32' && Number(digits) > 2147483647) type = Number(digits) > 4294967295 ? 'Int64' : 'UInt32';
    if (s.pos < end && isIdentPart(text[s.pos]!)) {
      while (s.pos < end && isIdentPart(text[s.pos]!)) s.pos++;
      error('ExprInvalidNumber', start, s.pos, [text.slice(start, s.pos)]);
    }
    s.value = digits;
    s.numberType = type;
    s.token = 'Number';
  }

  function identifier(): void {
    const start = s.pos;
    s.pos++;
    while (s.pos < end && isIdentPart(text[s.pos]!)) s.pos++;
    s.value = text.slice(start, s.pos);
    s.token = KEYWORDS.has(s.value) ? 'Keyword' : 'Identifier';
  }

  function scan(): TokenKind {
    skipTrivia();
    s.tokenStart = s.pos;
    s.value = '';
    s.parts = [];
    if (s.pos >= end) return (s.token = 'EOF');
    const c = text[s.pos]!;
    const n = text[s.pos + 1];
    if (c === '"') {
      s.pos++;
      s.value = regularString('"');
      return (s.token = 'String');
    }
    if (c === "'") {
      s.pos++;
      const v = regularString("'");
      if ([...v].length !== 1) error('ExprInvalidCharLiteral', s.tokenStart, s.pos);
      s.value = v;
      return (s.token = 'Char');
    }
    if (c === '@' && n === '"') {
      s.pos += 2;
      s.value = verbatimString();
      return (s.token = 'String');
    }
    if ((c === '$' && n === '"') || (c === '$' && n === '@' && text[s.pos + 2] === '"') || (c === '@' && n === '$' && text[s.pos + 2] === '"')) {
      const verbatim = n === '@' || c === '@';
      s.pos += verbatim ? 3 : 2;
      s.parts = interpolated(verbatim);
      return (s.token = 'Interpolated');
    }
    if (c === '@' && n !== undefined && isIdentStart(n)) {
      s.pos++;
      identifier();
      s.token = 'Identifier';
      return s.token;
    }
    if (isDigit(c) || (c === '.' && isDigit(n))) {
      number();
      return s.token;
    }
    if (isIdentStart(c) || c === '\\') {
      if (c === '\\') {
        s.pos++;
        error('ExprInvalidCharacter', s.tokenStart, s.pos, [c]);
        return (s.token = 'Unknown');
      }
      identifier();
      return s.token;
    }
    for (const p of PUNCTUATION) {
      if (text.startsWith(p, s.pos) && s.pos + p.length <= end) {
        // `?[` is the null-conditional indexer; `?.` before a digit is `? .5` (a conditional and a number).
        if (p === '?.' && isDigit(text[s.pos + 2])) continue;
        s.pos += p.length;
        if (p === '?' && text[s.pos] === '[') {
          s.pos++;
          return (s.token = '?[');
        }
        return (s.token = p);
      }
    }
    s.pos++;
    error('ExprInvalidCharacter', s.tokenStart, s.pos, [c]);
    return (s.token = 'Unknown');
  }

  function save(): ScannerState {
    return { ...s };
  }
  function restore(st: ScannerState): void {
    Object.assign(s, st);
  }

  return {
    scan,
    token: () => s.token,
    tokenStart: () => s.tokenStart,
    tokenEnd: () => s.pos,
    tokenValue: () => s.value,
    numberType: () => s.numberType,
    interpolationParts: () => s.parts,
    lookAhead<T>(cb: () => T): T {
      const st = save();
      const muted = onError;
      onError = () => {};
      try {
        return cb();
      } finally {
        onError = muted;
        restore(st);
      }
    },
    tryScan<T>(cb: () => T): T {
      const st = save();
      const r = cb();
      if (!r) restore(st);
      return r;
    },
    setText(t: string, start: number, stop: number) {
      text = t;
      s.pos = start;
      end = stop;
      s.token = 'EOF';
    },
    text: () => text,
  };
}
