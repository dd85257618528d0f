import { decodeEntityAt } from './entities.js';

/**
 * Finds the end of a policy expression `@( … )` / `@{ … }` without parsing C#: it balances ( ) { } [ ]
 * and skips what may legally contain an unbalanced delimiter — string literals (regular "…" with
 * backslash escapes, verbatim @"…" with "" escapes, interpolated $"…{hole}…" and $@"…" with nested holes),
 * char literals ('x', '\''), // line comments and block comments.
 *
 * When `decode` is set the scan reads XML character references as the characters they stand for, so
 * `&quot;)&quot;` is a string literal holding ')'. A regular string or char literal that reaches a line
 * break cannot be C# (CS1010), so the scan gives up there instead of swallowing the rest of the file.
 */
export interface ExpressionScan {
  /** Offset just past the closing delimiter, or -1 when the expression is unterminated. */
  end: number;
  /** True when at least one XML character reference was read inside the expression. */
  decoded: boolean;
}

const CLOSER: Record<string, string> = { '(': ')', '{': '}', '[': ']' };

/** `text[at]` must be '@' followed by '(' or '{'. `limit` bounds the scan (e.g. the end of a CDATA section). */
export function scanExpression(text: string, at: number, decode: boolean, limit: number = text.length): ExpressionScan {
  const scanner = new CSharpScanner(text, decode, limit);
  const opener = text[at + 1]!;
  const end = scanner.code(at + 2, CLOSER[opener]!);
  return { end, decoded: scanner.decoded };
}

class CSharpScanner {
  /** The character read by the last `read` (after entity decoding) and its length in the source. */
  private ch = '';
  private len = 0;
  decoded = false;

  constructor(
    private readonly text: string,
    private readonly decode: boolean,
    private readonly limit: number,
  ) {}

  /** Reads the logical character at `i` into `ch`/`len`; returns false at the limit. */
  private read(i: number): boolean {
    if (i >= this.limit) return false;
    const c = this.text[i]!;
    if (c === '&' && this.decode) {
      const entity = decodeEntityAt(this.text, i, this.limit);
      if (entity) {
        this.ch = entity.value;
        this.len = entity.length;
        this.decoded = true;
        return true;
      }
    }
    this.ch = c;
    this.len = 1;
    return true;
  }

  private peek(i: number): string {
    return this.read(i) ? this.ch : '';
  }

  /** Code up to and including `closer` at nesting depth 0; returns the offset after it or -1. */
  code(start: number, closer: string): number {
    const stack: string[] = [closer];
    let i = start;
    while (this.read(i)) {
      const c = this.ch;
      const next = i + this.len;
      switch (c) {
        case '"':
          i = this.regularString(next, false);
          break;
        case '@': {
          const n = this.peek(next);
          if (n === '"') i = this.verbatimString(next + this.len, false);
          else if (n === '$' && this.peek(next + this.len) === '"') i = this.verbatimString(next + 1 + this.len, true);
          else i = next;
          break;
        }
        case '$': {
          const n = this.peek(next);
          if (n === '"') i = this.regularString(next + this.len, true);
          else if (n === '@' && this.peek(next + this.len) === '"') i = this.verbatimString(next + 1 + this.len, true);
          else i = next;
          break;
        }
        case "'":
          i = this.charLiteral(next);
          break;
        case '/': {
          const n = this.peek(next);
          if (n === '/') i = this.lineComment(next + this.len);
          else if (n === '*') i = this.blockComment(next + this.len);
          else i = next;
          break;
        }
        case '(':
        case '{':
        case '[':
          stack.push(CLOSER[c]!);
          i = next;
          break;
        case ')':
        case '}':
        case ']':
          // A stray closer of the wrong kind is left for the expression parser to report.
          if (stack[stack.length - 1] === c) {
            stack.pop();
            if (stack.length === 0) return next;
          }
          i = next;
          break;
        default:
          i = next;
      }
      if (i < 0) return -1;
    }
    return -1;
  }

  /** After the opening quote of "…" or $"…"; returns the offset after the closing quote or -1. */
  private regularString(start: number, interpolated: boolean): number {
    let i = start;
    while (this.read(i)) {
      const c = this.ch;
      const next = i + this.len;
      if (c === '"') return next;
      if (c === '\n' || c === '\r') return -1;
      if (c === '\\') {
        if (!this.read(next) || this.ch === '\n' || this.ch === '\r') return -1;
        i = next + this.len;
      } else if (interpolated && c === '{') {
        if (this.peek(next) === '{') i = next + this.len;
        else i = this.code(next, '}');
      } else {
        i = next;
      }
      if (i < 0) return -1;
    }
    return -1;
  }

  /** After the opening quote of @"…" or $@"…": "" is an escaped quote and line breaks are allowed. */
  private verbatimString(start: number, interpolated: boolean): number {
    let i = start;
    while (this.read(i)) {
      const c = this.ch;
      const next = i + this.len;
      if (c === '"') {
        if (this.peek(next) !== '"') return next;
        i = next + this.len;
      } else if (interpolated && c === '{') {
        if (this.peek(next) === '{') i = next + this.len;
        else i = this.code(next, '}');
      } else {
        i = next;
      }
      if (i < 0) return -1;
    }
    return -1;
  }

  /** After an opening '. A quote that does not start a valid char literal is ordinary text. */
  private charLiteral(start: number): number {
    if (!this.read(start)) return start;
    let i: number;
    if (this.ch === '\\') {
      const afterSlash = start + this.len;
      if (!this.read(afterSlash)) return start;
      i = afterSlash + this.len;
      const kind: string = this.ch as string;
      if (kind === 'u' || kind === 'x' || kind === 'U') {
        const max = kind === 'U' ? 8 : 4;
        for (let k = 0; k < max && this.read(i) && /[0-9a-fA-F]/.test(this.ch); k++) i += this.len;
      }
    } else if (this.ch === "'" || this.ch === '\n' || this.ch === '\r') {
      return start;
    } else {
      i = start + this.len;
    }
    return this.read(i) && this.ch === "'" ? i + this.len : start;
  }

  private lineComment(start: number): number {
    let i = start;
    while (this.read(i) && this.ch !== '\n' && this.ch !== '\r') i += this.len;
    return i;
  }

  private blockComment(start: number): number {
    let i = start;
    while (this.read(i)) {
      const next = i + this.len;
      if (this.ch === '*' && this.peek(next) === '/') return next + this.len;
      i = next;
    }
    return -1;
  }
}
