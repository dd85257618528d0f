/**
 * KQL scanner in the TypeScript compiler's style: an object of accessors over shared state, not an
 * array of tokens. Positions are UTF-16 offsets into the whole query text. The scanner never throws:
 * a malformed token comes back as kind 'error' with `getTokenError()` saying why; the parser reports it.
 */

export type TokenKind =
  | 'eof'
  | 'identifier' // names and keywords (the parser decides), incl. `$left`, `project-away`, `in~`
  | 'bangword' // `!contains`, `!in~`, `!between`…
  | 'string'
  | 'int'
  | 'real'
  | 'timespan'
  | 'punct'
  | 'error';

export interface ScannerState {
  pos: number;
  tokenStart: number;
  kind: TokenKind;
  text: string;
  value: string | number | undefined;
  error: string | undefined;
}

export interface Scanner {
  scan(): TokenKind;
  getToken(): TokenKind;
  getTokenStart(): number;
  getTokenEnd(): number;
  /** Source text of the current token. */
  getTokenText(): string;
  /** Decoded value: string contents, number, or timespan in milliseconds. */
  getTokenValue(): string | number | undefined;
  getTokenError(): string | undefined;
  /** True when whitespace or a comment precedes the current token. */
  hasPrecedingTrivia(): boolean;
  /** Reads raw text up to the matching `)` (used by `datetime(…)`, `guid(…)`, `timespan(…)`). */
  scanRawUntilCloseParen(): { text: string; start: number; end: number } | undefined;
  getState(): ScannerState;
  setState(state: ScannerState): void;
  lookAhead<T>(callback: () => T): T;
  getText(): string;
}

/** Operator keywords that contain a hyphen; scanned as one identifier token. */
const HYPHENATED_KEYWORDS = new Set([
  'project-away', 'project-keep', 'project-rename', 'project-reorder', 'project-smart', 'mv-expand', 'mv-apply',
  'make-series', 'parse-where', 'parse-kv', 'top-nested', 'top-hitters', 'make-graph', 'graph-match', 'graph-to-table',
  'graph-merge', 'graph-shortest-paths', 'scan',
]);

/** Timespan unit suffix → milliseconds per unit. */
const TIMESPAN_UNITS: Record<string, number> = {
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000,
  s: 1000, sec: 1000, second: 1000, seconds: 1000,
  ms: 1, milli: 1, millis: 1, millisecond: 1, milliseconds: 1,
  microsecond: 0.001, microseconds: 0.001, micros: 0.001,
  tick: 0.0001, ticks: 0.0001,
};

const PUNCTUATION = ['..', '==', '!=', '=~', '!~', '<=', '>=', '<>', '=>', '|', '(', ')', '[', ']', '{', '}', ',', ';', '.', '=', '<', '>', '+', '-', '*', '/', '%', ':', '~', '?'];

function isIdentStart(ch: string): boolean {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_';
}
function isIdentPart(ch: string): boolean {
  return isIdentStart(ch) || (ch >= '0' && ch <= '9');
}
function isDigit(ch: string): boolean {
  return ch >= '0' && ch <= '9';
}

export function createScanner(text: string): Scanner {
  let pos = 0;
  let tokenStart = 0;
  let kind: TokenKind = 'eof';
  let tokenText = '';
  let value: string | number | undefined;
  let error: string | undefined;
  let trivia = false;

  function skipTrivia(): void {
    trivia = false;
    while (pos < text.length) {
      const ch = text[pos]!;
      if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n' || ch === '\u00a0' || ch === '\ufeff') {
        pos++;
        trivia = true;
      } else if (ch === '/' && text[pos + 1] === '/') {
        while (pos < text.length && text[pos] !== '\n') pos++;
        trivia = true;
      } else {
        break;
      }
    }
  }

  function finish(k: TokenKind, v?: string | number, err?: string): TokenKind {
    kind = k;
    tokenText = text.slice(tokenStart, pos);
    value = v;
    error = err;
    return k;
  }

  function readIdentifier(): string {
    const start = pos;
    while (pos < text.length && isIdentPart(text[pos]!)) pos++;
    return text.slice(start, pos);
  }

  function scanString(quote: string, verbatim: boolean): TokenKind {
    let out = '';
    while (pos < text.length) {
      const ch = text[pos]!;
      if (ch === '\n' || ch === '\r') break;
      if (ch === quote) {
        if (verbatim && text[pos + 1] === quote) {
          out += quote;
          pos += 2;
          continue;
        }
        pos++;
        return finish('string', out);
      }
      if (ch === '\\' && !verbatim) {
        const next = text[pos + 1];
        pos += 2;
        switch (next) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case '0': out += '\0'; break;
          case '\\': out += '\\'; break;
          case '\'': out += '\''; break;
          case '"': out += '"'; break;
          case 'u': {
            const hex = text.slice(pos, pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) return finish('error', undefined, 'Invalid escape sequence in string literal');
            out += String.fromCharCode(parseInt(hex, 16));
            pos += 4;
            break;
          }
          default:
            return finish('error', undefined, 'Invalid escape sequence in string literal');
        }
        continue;
      }
      out += ch;
      pos++;
    }
    return finish('error', undefined, 'Unterminated string literal');
  }

  function scanNumber(): TokenKind {
    if (text[pos] === '0' && (text[pos + 1] === 'x' || text[pos + 1] === 'X')) {
      pos += 2;
      const start = pos;
      while (pos < text.length && /[0-9a-fA-F]/.test(text[pos]!)) pos++;
      if (start === pos) return finish('error', undefined, 'Invalid hexadecimal literal');
      return finish('int', parseInt(text.slice(start, pos), 16));
    }
    const start = pos;
    let isReal = false;
    while (pos < text.length && isDigit(text[pos]!)) pos++;
    if (text[pos] === '.' && text[pos + 1] !== '.' && (isDigit(text[pos + 1] ?? '') || !isIdentStart(text[pos + 1] ?? ''))) {
      isReal = true;
      pos++;
      while (pos < text.length && isDigit(text[pos]!)) pos++;
    }
    if ((text[pos] === 'e' || text[pos] === 'E') && (isDigit(text[pos + 1] ?? '') || ((text[pos + 1] === '+' || text[pos + 1] === '-') && isDigit(text[pos + 2] ?? '')))) {
      isReal = true;
      pos += 2;
      while (pos < text.length && isDigit(text[pos]!)) pos++;
    }
    const numberText = text.slice(start, pos);
    if (pos < text.length && isIdentStart(text[pos]!)) {
      const unitStart = pos;
      const unit = readIdentifier();
      const perUnit = TIMESPAN_UNITS[unit.toLowerCase()];
      if (perUnit === undefined) {
        pos = unitStart + unit.length;
        return finish('error', undefined, `Invalid numeric literal '${text.slice(start, pos)}'`);
      }
      return finish('timespan', Number(numberText) * perUnit);
    }
    return isReal ? finish('real', Number(numberText)) : finish('int', Number(numberText));
  }

  function scan(): TokenKind {
    skipTrivia();
    tokenStart = pos;
    if (pos >= text.length) return finish('eof');
    const ch = text[pos]!;
    const next = text[pos + 1] ?? '';

    if ((ch === '@' || ch === 'h' || ch === 'H') && (next === '"' || next === '\'')) {
      pos += 2;
      return scanString(next, ch === '@');
    }
    if ((ch === 'h' || ch === 'H') && next === '@' && (text[pos + 2] === '"' || text[pos + 2] === '\'')) {
      pos += 3;
      return scanString(text[pos - 1]!, true);
    }
    if (ch === '`' && text.startsWith('```', pos)) {
      const end = text.indexOf('```', pos + 3);
      if (end < 0) {
        pos = text.length;
        return finish('error', undefined, 'Unterminated multi-line string literal');
      }
      const contents = text.slice(pos + 3, end);
      pos = end + 3;
      return finish('string', contents);
    }
    if (isIdentStart(ch) || (ch === '$' && isIdentStart(next))) {
      pos++;
      readIdentifier();
      let word = text.slice(tokenStart, pos);
      // project-away, mv-expand…: one token when written without spaces.
      if (text[pos] === '-' && isIdentStart(text[pos + 1] ?? '')) {
        const save = pos;
        pos++;
        readIdentifier();
        const combined = text.slice(tokenStart, pos);
        if (HYPHENATED_KEYWORDS.has(combined)) word = combined;
        else pos = save;
      }
      if (word === 'in' && text[pos] === '~') {
        pos++;
        word = 'in~';
      }
      return finish('identifier', word);
    }
    if (ch === '!' && isIdentStart(next)) {
      pos++;
      readIdentifier();
      if (text.slice(tokenStart, pos) === '!in' && text[pos] === '~') pos++;
      return finish('bangword', text.slice(tokenStart, pos));
    }
    if (ch === '\'' || ch === '"') {
      pos++;
      return scanString(ch, false);
    }
    if (isDigit(ch) || (ch === '.' && isDigit(next))) return scanNumber();
    for (const p of PUNCTUATION) {
      if (text.startsWith(p, pos)) {
        pos += p.length;
        return finish('punct', p);
      }
    }
    pos++;
    return finish('error', undefined, `Unexpected character '${ch}'`);
  }

  function scanRawUntilCloseParen(): { text: string; start: number; end: number } | undefined {
    // Called when the current token is '('; reads up to the matching ')'.
    const start = pos;
    let depth = 0;
    while (pos < text.length) {
      const ch = text[pos]!;
      if (ch === '(') depth++;
      else if (ch === ')') {
        if (depth === 0) {
          const raw = { text: text.slice(start, pos).trim(), start, end: pos };
          tokenStart = pos;
          pos++;
          finish('punct', ')');
          return raw;
        }
        depth--;
      }
      pos++;
    }
    pos = start;
    return undefined;
  }

  function getState(): ScannerState {
    return { pos, tokenStart, kind, text: tokenText, value, error };
  }
  function setState(state: ScannerState): void {
    pos = state.pos;
    tokenStart = state.tokenStart;
    kind = state.kind;
    tokenText = state.text;
    value = state.value;
    error = state.error;
  }

  return {
    scan,
    getToken: () => kind,
    getTokenStart: () => tokenStart,
    getTokenEnd: () => pos,
    getTokenText: () => tokenText,
    getTokenValue: () => value,
    getTokenError: () => error,
    hasPrecedingTrivia: () => trivia,
    scanRawUntilCloseParen,
    getState,
    setState,
    lookAhead<T>(callback: () => T): T {
      const saved = getState();
      const savedTrivia = trivia;
      try {
        return callback();
      } finally {
        setState(saved);
        trivia = savedTrivia;
      }
    },
    getText: () => text,
  };
}
