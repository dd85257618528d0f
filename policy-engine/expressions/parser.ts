import type { DiagnosticKey } from '../diagnostics.js';
import type {
  Argument, Block, Expression, Initializer, Lambda, LocalDecl, LocalFunction, Statement, TypeNode,
} from './ast.js';
import { createScanner, PREDEFINED_TYPES, type Scanner, type TokenKind } from './lexer.js';

/**
 * Recursive-descent parser for the C# subset of APIM policy expressions.
 *
 * ```
 * expression  := lambda | assignment
 * assignment  := conditional (ASSIGN_OP assignment)?
 * conditional := binary ('?' expression ':' expression)?
 * binary      := unary (BINARY_OP unary)*          precedence climbing over BINARY_PRECEDENCE
 * unary       := ('!' | '-' | '+' | '~' | '++' | '--') unary | '(' type ')' unary | postfix
 * postfix     := primary ('.' name typeArgs? | '?.' … | '?[' … | '(' args ')' | '[' args ']' | '++' | '--')*
 * primary     := literal | interpolated | name typeArgs? | predefinedType | 'new' … | '(' expression ')'
 * ```
 * Errors are collected (one per position) and the tree is completed with Missing nodes, so a single parse
 * reports every problem. Positions are offsets into the expression code.
 */

export interface RawDiagnostic {
  key: DiagnosticKey;
  start: number;
  end: number;
  args: Array<string | number>;
  related?: Array<{ message: string; start: number; end: number }>;
}

export interface ParseResult {
  root: Expression | Block;
  diagnostics: RawDiagnostic[];
}

/** Binary operator precedence (higher binds tighter); `??` is right-associative. */
export const BINARY_PRECEDENCE: Readonly<Record<string, number>> = {
  '??': 1,
  '||': 2,
  '&&': 3,
  '|': 4,
  '^': 5,
  '&': 6,
  '==': 7, '!=': 7,
  '<': 8, '>': 8, '<=': 8, '>=': 8, is: 8, as: 8,
  '<<': 9, '>>': 9,
  '+': 10, '-': 10,
  '*': 11, '/': 11, '%': 11,
};
export const RIGHT_ASSOCIATIVE: ReadonlySet<string> = new Set(['??']);
const ASSIGNMENT_OPS: ReadonlySet<string> = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '??=']);

/** Tokens after `(T)` that make it a cast of a non-keyword type (C# spec §12.9.7). */
const CAST_FOLLOWERS: ReadonlySet<TokenKind> = new Set(['Identifier', 'Number', 'String', 'Char', 'Interpolated', '(', '!', '~']);
/** Tokens after `name<…>` that make the angle brackets type arguments (C# spec §6.2.5). */
const TYPE_ARG_FOLLOWERS: ReadonlySet<TokenKind> = new Set(['(', ')', ']', '}', ':', ';', ',', '.', '?', '==', '!=', '|', '^', '&&', '||', '&', '[', 'EOF', '?.', '??']);

const STATEMENT_KEYWORDS_UNSUPPORTED: Record<string, string> = {
  goto: "The 'goto' statement",
  lock: "The 'lock' statement",
  checked: "The 'checked' statement (integer arithmetic in the emulator always wraps, as unchecked)",
  unsafe: 'Unsafe code',
  fixed: "The 'fixed' statement",
  class: 'Type declarations',
  struct: 'Type declarations',
  interface: 'Type declarations',
  enum: 'Type declarations',
  namespace: 'Namespace declarations',
  delegate: 'Anonymous methods',
};

/** Deepest nesting of sub-expressions and statements, and most binary operators in one expression. */
export const MAX_EXPRESSION_NESTING = 100;
export const MAX_BINARY_CHAIN = 1000;

/** Ends the parse when an expression nests too deep (the parser, compiler and evaluator recurse). */
class NestingLimitReached extends Error {}

class Parser {
  private readonly s: Scanner;
  private depth = 0;
  private readonly diagnostics: RawDiagnostic[];
  private lastErrorStart = -1;
  /** End of the previous token (for zero-width "expected" errors after it). */
  private prevEnd = 0;

  constructor(code: string, diagnostics: RawDiagnostic[], start = 0, end = code.length) {
    this.diagnostics = diagnostics;
    this.s = createScanner(code, (key, s, e, args) => this.error(key, s, e, args ?? []));
    this.s.setText(code, start, end);
    this.prevEnd = start;
    this.next();
  }

  // ---- token helpers ----
  private next(): TokenKind {
    this.prevEnd = this.s.tokenEnd();
    return this.s.scan();
  }
  private tok(): TokenKind {
    return this.s.token();
  }
  private val(): string {
    return this.s.tokenValue();
  }
  private start(): number {
    return this.s.tokenStart();
  }
  private isKeyword(k: string): boolean {
    return this.tok() === 'Keyword' && this.val() === k;
  }
  private isIdent(name?: string): boolean {
    return this.tok() === 'Identifier' && (name === undefined || this.val() === name);
  }
  private tokenText(): string {
    const t = this.tok();
    if (t === 'EOF') return 'end of expression';
    return this.s.text().slice(this.start(), this.s.tokenEnd());
  }

  error(key: DiagnosticKey, start: number, end: number, args: Array<string | number> = [], related?: RawDiagnostic['related']): void {
    if (start === this.lastErrorStart) return;
    this.lastErrorStart = start;
    const d: RawDiagnostic = { key, start, end: Math.max(end, start), args };
    if (related) d.related = related;
    this.diagnostics.push(d);
  }

  private errorHere(key: DiagnosticKey, args: Array<string | number> = []): void {
    if (this.tok() === 'EOF') this.error(key, this.prevEnd, this.prevEnd, args);
    else this.error(key, this.start(), this.s.tokenEnd(), args);
  }

  private expect(kind: TokenKind, openedAt?: { start: number; text: string }): boolean {
    if (this.tok() === kind) {
      this.next();
      return true;
    }
    const related = openedAt
      ? [{ message: `The parser expected to find a '${kind}' to match the '${openedAt.text}' token here.`, start: openedAt.start, end: openedAt.start + openedAt.text.length }]
      : undefined;
    const at = this.tok() === 'EOF' ? this.prevEnd : this.start();
    this.error('ExprExpected', at, this.tok() === 'EOF' ? at : this.s.tokenEnd(), [kind], related);
    return false;
  }

  private unsupported(feature: string, start: number, end: number): void {
    this.error('ExprUnsupported', start, end, [feature]);
  }

  // ---- entry points ----
  parseExpressionRoot(): Expression {
    if (this.tok() === 'EOF') {
      this.error('ExprSyntax', this.start(), this.start(), ['Expression expected.']);
      return this.missing();
    }
    if (this.tok() === 'Keyword' && ['return', 'if', 'foreach', 'for', 'while', 'throw'].includes(this.val())) {
      this.error('ExprStatementInExpression', this.start(), this.s.tokenEnd());
      return this.missing();
    }
    const e = this.parseExpression();
    if (this.tok() === ';') this.error('ExprStatementInExpression', this.start(), this.s.tokenEnd());
    else if (this.tok() !== 'EOF') this.errorHere('ExprUnexpectedToken', [this.tokenText()]);
    return e;
  }

  parseBlockRoot(): Block {
    const pos = this.start();
    const statements: Statement[] = [];
    while (this.tok() !== 'EOF') {
      const before = this.start();
      statements.push(this.parseStatement());
      if (this.start() === before && this.tok() !== 'EOF') this.next();
    }
    return { kind: 'Block', statements, pos, end: this.prevEnd };
  }

  /** Parses `[start, end)` of the code as one expression (interpolation holes). */
  parseSlice(): Expression {
    if (this.tok() === 'EOF') {
      this.error('ExprSyntax', this.prevEnd, this.prevEnd, ['Expression expected.']);
      return this.missing();
    }
    const e = this.parseExpression();
    if (this.tok() !== 'EOF') this.errorHere('ExprUnexpectedToken', [this.tokenText()]);
    return e;
  }

  private missing(pos = this.start()): Expression {
    return { kind: 'Missing', pos, end: pos };
  }

  // ---- expressions ----
  parseExpression(): Expression {
    if (this.isLambdaStart()) return this.parseLambda();
    const pos = this.start();
    const left = this.parseConditional();
    let op: string | undefined = ASSIGNMENT_OPS.has(this.tok()) ? this.tok() : undefined;
    if (!op && this.tok() === '>' && this.s.lookAhead(() => {
      const at = this.s.tokenEnd();
      return this.s.scan() === '>=' && this.s.tokenStart() === at;
    })) {
      this.next();
      op = '>>=';
    }
    if (op) {
      this.next();
      const value = this.parseExpression();
      return { kind: 'Assign', op, target: left, value, pos, end: this.prevEnd };
    }
    return left;
  }

  private isLambdaStart(): boolean {
    if (this.tok() === 'Identifier') return this.s.lookAhead(() => this.s.scan() === '=>');
    if (this.tok() !== '(') return false;
    return this.s.lookAhead(() => {
      let depth = 0;
      for (let t: TokenKind = this.tok(); t !== 'EOF'; t = this.s.scan()) {
        if (t === '(') depth++;
        else if (t === ')') {
          depth--;
          if (depth === 0) return this.s.scan() === '=>';
        } else if (!(t === 'Identifier' || t === ',' || t === 'Keyword' || t === '<' || t === '>' || t === '[' || t === ']' || t === '.' || t === '?')) return false;
      }
      return false;
    });
  }

  private parseLambda(): Lambda {
    const pos = this.start();
    const params: Lambda['params'] = [];
    if (this.tok() === 'Identifier') {
      params.push({ name: this.val(), pos: this.start() });
      this.next();
    } else {
      this.next(); // (
      while (this.tok() !== ')' && this.tok() !== 'EOF') {
        const ppos = this.start();
        const typed = this.s.lookAhead(() => this.parseTypeQuiet() !== undefined && this.tok() === 'Identifier');
        const type = typed ? this.parseType() : undefined;
        if (this.tok() === 'Identifier') {
          params.push(type ? { name: this.val(), type, pos: ppos } : { name: this.val(), pos: ppos });
          this.next();
        } else {
          this.errorHere('ExprExpected', ['identifier']);
          break;
        }
        if (this.tok() !== ',') break;
        this.next();
      }
      this.expect(')');
    }
    this.expect('=>');
    const body: Expression | Block = this.tok() === '{' ? this.parseBlock() : this.parseExpression();
    return { kind: 'Lambda', params, body, pos, end: this.prevEnd };
  }

  private parseConditional(): Expression {
    const pos = this.start();
    const test = this.parseBinary(0);
    if (this.tok() !== '?') return test;
    this.next();
    const whenTrue = this.parseExpression();
    this.expect(':');
    const whenFalse = this.parseExpression();
    return { kind: 'Conditional', test, whenTrue, whenFalse, pos, end: this.prevEnd };
  }

  /** The binary operator at the current token (combining `>` `>` into `>>`), or undefined. */
  private peekBinaryOp(): string | undefined {
    const t = this.tok();
    if (t === 'Keyword' && (this.val() === 'is' || this.val() === 'as')) return this.val();
    if (t === '>') {
      const shift = this.s.lookAhead(() => {
        const at = this.s.tokenEnd();
        const n = this.s.scan();
        return n === '>' && this.s.tokenStart() === at;
      });
      return shift ? '>>' : '>';
    }
    return BINARY_PRECEDENCE[t] !== undefined ? t : undefined;
  }

  /** A parser for an interpolation hole, at this parser's nesting depth. */
  private child(text: string, start: number, end: number): Parser {
    const parser = new Parser(text, this.diagnostics, start, end);
    parser.depth = this.depth;
    return parser;
  }

  /** Reports the limit at the current token and ends the parse (a RangeError, or seconds of work, otherwise). */
  private tooDeep(what: string): never {
    this.error('ExprUnsupported', this.start(), this.s.tokenEnd(), [what]);
    throw new NestingLimitReached();
  }

  private parseBinary(minPrec: number): Expression {
    const pos = this.start();
    let left = this.parseUnary();
    for (let chain = 0; ; chain++) {
      if (chain > MAX_BINARY_CHAIN) this.tooDeep(`An expression of more than ${MAX_BINARY_CHAIN} operators`);
      const op = this.peekBinaryOp();
      if (op === undefined) break;
      const prec = BINARY_PRECEDENCE[op]!;
      if (prec <= minPrec) break;
      if (op === '>>') this.next();
      this.next();
      if (op === 'is') {
        left = this.parseIs(left, pos);
        continue;
      }
      if (op === 'as') {
        const type = this.parseType();
        left = { kind: 'As', operand: left, type, pos, end: this.prevEnd };
        continue;
      }
      const right = this.parseBinary(RIGHT_ASSOCIATIVE.has(op) ? prec - 1 : prec);
      left = { kind: 'Binary', op, left, right, pos, end: this.prevEnd };
    }
    return left;
  }

  private parseIs(operand: Expression, pos: number): Expression {
    let negated = false;
    if (this.isIdent('not')) {
      negated = true;
      this.next();
    }
    if (this.isKeyword('null') || this.tok() === 'Number' || this.tok() === 'String' || this.tok() === 'Char' || this.isKeyword('true') || this.isKeyword('false')) {
      const constant = this.parsePrimary();
      return { kind: 'Is', operand, constant, negated, pos, end: this.prevEnd };
    }
    const type = this.parseType(false);
    let designation: string | undefined;
    if (this.tok() === 'Identifier') {
      designation = this.val();
      this.next();
    }
    return designation === undefined
      ? { kind: 'Is', operand, type, negated, pos, end: this.prevEnd }
      : { kind: 'Is', operand, type, designation, negated, pos, end: this.prevEnd };
  }

  private parseUnary(): Expression {
    if (this.depth >= MAX_EXPRESSION_NESTING) this.tooDeep(`Nesting deeper than ${MAX_EXPRESSION_NESTING} levels`);
    this.depth++;
    try {
      return this.parseUnaryInner();
    } finally {
      this.depth--;
    }
  }

  private parseUnaryInner(): Expression {
    const pos = this.start();
    const t = this.tok();
    if (t === '!' || t === '-' || t === '+' || t === '~' || t === '++' || t === '--') {
      this.next();
      const operand = this.parseUnary();
      return { kind: 'Unary', op: t, operand, pos, end: this.prevEnd };
    }
    if (t === '(') {
      const cast = this.tryParseCast();
      if (cast) return cast;
    }
    if (this.isIdent('await')) {
      const isAwait = this.s.lookAhead(() => {
        const n = this.s.scan();
        return n === 'Identifier' || n === 'Keyword' || n === '(';
      });
      if (isAwait) {
        this.unsupported("'await'", pos, this.s.tokenEnd());
        this.next();
        return this.parseUnary();
      }
    }
    if (t === '&' || t === '*') {
      this.unsupported('Pointer operations', pos, this.s.tokenEnd());
      this.next();
      return this.parseUnary();
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private tryParseCast(): Expression | undefined {
    const pos = this.start();
    const isCast = this.s.lookAhead(() => {
      this.s.scan();
      const predefined = this.tok() === 'Keyword' && PREDEFINED_TYPES.has(this.val());
      const type = this.parseTypeQuiet();
      if (!type || this.tok() !== ')') return false;
      this.s.scan();
      const next = this.tok();
      if (predefined || type.nullable || type.arrays > 0) {
        return next !== ')' && next !== ';' && next !== ',' && next !== 'EOF' && next !== '.' && next !== '?' && next !== ':' && next !== ']' && next !== '}' && !(next === 'Keyword' && (this.val() === 'is' || this.val() === 'as'));
      }
      if (CAST_FOLLOWERS.has(next)) return true;
      return next === 'Keyword' && this.val() !== 'is' && this.val() !== 'as';
    });
    if (!isCast) return undefined;
    this.next();
    const type = this.parseType();
    this.expect(')');
    const operand = this.parseUnary();
    return { kind: 'Cast', type, operand, pos, end: this.prevEnd };
  }

  private parseArguments(close: ')' | ']'): Argument[] {
    const open = { start: this.start(), text: close === ')' ? '(' : '[' };
    this.next();
    const args: Argument[] = [];
    while (this.tok() !== close && this.tok() !== 'EOF') {
      args.push(this.parseArgument());
      if (this.tok() === ',') {
        this.next();
        if (this.tok() === close) this.errorHere('ExprSyntax', ['Argument expected.']);
        continue;
      }
      break;
    }
    this.expect(close, open);
    return args;
  }

  private parseArgument(): Argument {
    const pos = this.start();
    let name: string | undefined;
    if (this.tok() === 'Identifier' && this.s.lookAhead(() => this.s.scan() === ':')) {
      name = this.val();
      this.next();
      this.next();
    }
    if (this.isKeyword('out')) {
      this.next();
      const declPos = this.start();
      let declare: TypeNode | 'var' | undefined;
      if (this.isIdent('var') && this.s.lookAhead(() => this.s.scan() === 'Identifier')) {
        this.next();
        declare = 'var';
      } else if (this.s.lookAhead(() => this.parseTypeQuiet() !== undefined && this.tok() === 'Identifier')) {
        declare = this.parseType();
      }
      let varName = '_';
      if (this.tok() === 'Identifier') {
        varName = this.val();
        this.next();
      } else this.errorHere('ExprExpected', ['identifier']);
      const value: Expression = { kind: 'Identifier', name: varName, pos: declPos, end: this.prevEnd };
      const out = declare === undefined ? { name: varName } : { declare, name: varName };
      return name === undefined ? { value, out, pos, end: this.prevEnd } : { name, value, out, pos, end: this.prevEnd };
    }
    let refKind: 'ref' | 'in' | undefined;
    if (this.isKeyword('ref') || this.isKeyword('in')) {
      refKind = this.val() as 'ref' | 'in';
      this.unsupported(`'${refKind}' arguments`, this.start(), this.s.tokenEnd());
      this.next();
    }
    const value = this.parseExpression();
    const arg: Argument = { value, pos, end: this.prevEnd };
    if (name !== undefined) arg.name = name;
    if (refKind) arg.refKind = refKind;
    return arg;
  }

  private parseTypeArgumentsIfAny(): TypeNode[] | undefined {
    if (this.tok() !== '<') return undefined;
    const ok = this.s.lookAhead(() => this.parseTypeArgumentListQuiet() !== undefined && TYPE_ARG_FOLLOWERS.has(this.tok()));
    if (!ok) return undefined;
    return this.parseTypeArgumentList();
  }

  private parsePostfix(expr: Expression): Expression {
    for (;;) {
      const t = this.tok();
      if (t === '.') {
        this.next();
        expr = this.parseMemberName(expr);
      } else if (t === '(') {
        const args = this.parseArguments(')');
        expr = { kind: 'Call', callee: expr, args, pos: expr.pos, end: this.prevEnd };
      } else if (t === '[') {
        const args = this.parseArguments(']');
        expr = { kind: 'Index', object: expr, args: args.map((a) => a.value), pos: expr.pos, end: this.prevEnd };
      } else if (t === '++' || t === '--') {
        this.next();
        expr = { kind: 'Postfix', op: t, operand: expr, pos: expr.pos, end: this.prevEnd };
      } else if (t === '?.' || t === '?[') {
        const receiverEnd = this.prevEnd;
        const here = this.start();
        const binding: Expression = { kind: 'ConditionalReceiver', pos: here, end: here };
        let body: Expression;
        if (t === '?.') {
          this.next();
          body = this.parseMemberName(binding);
        } else {
          const args = this.parseArguments(']');
          body = { kind: 'Index', object: binding, args: args.map((a) => a.value), pos: here, end: this.prevEnd };
        }
        body = this.parsePostfix(body);
        void receiverEnd;
        return { kind: 'ConditionalAccess', receiver: expr, body, pos: expr.pos, end: this.prevEnd };
      } else if (t === '::') {
        this.unsupported("The namespace alias qualifier '::'", this.start(), this.s.tokenEnd());
        this.next();
      } else return expr;
    }
  }

  private parseMemberName(object: Expression): Expression {
    const namePos = this.start();
    if (this.tok() !== 'Identifier' && this.tok() !== 'Keyword') {
      this.errorHere('ExprExpected', ['identifier']);
      return { kind: 'Member', object, name: '', namePos, pos: object.pos, end: this.prevEnd };
    }
    const name = this.val();
    this.next();
    const typeArgs = this.parseTypeArgumentsIfAny();
    return typeArgs
      ? { kind: 'Member', object, name, namePos, typeArgs, pos: object.pos, end: this.prevEnd }
      : { kind: 'Member', object, name, namePos, pos: object.pos, end: this.prevEnd };
  }

  private parsePrimary(): Expression {
    const pos = this.start();
    const t = this.tok();
    const end = () => this.prevEnd;
    switch (t) {
      case 'Number': {
        const text = this.val();
        const type = this.s.numberType();
        this.next();
        return { kind: 'Literal', value: Number(text), type, pos, end: end() };
      }
      case 'String': {
        const value = this.val();
        this.next();
        return { kind: 'Literal', value, type: 'String', pos, end: end() };
      }
      case 'Char': {
        const value = this.val();
        this.next();
        return { kind: 'Literal', value, type: 'Char', pos, end: end() };
      }
      case 'Interpolated':
        return this.parseInterpolated();
      case 'Identifier': {
        const name = this.val();
        if (name === 'nameof' && this.s.lookAhead(() => this.s.scan() === '(')) {
          this.unsupported("'nameof'", pos, this.s.tokenEnd());
        }
        this.next();
        const typeArgs = this.parseTypeArgumentsIfAny();
        return typeArgs ? { kind: 'Identifier', name, typeArgs, pos, end: end() } : { kind: 'Identifier', name, pos, end: end() };
      }
      case '(': {
        const open = { start: pos, text: '(' };
        this.next();
        const inner = this.parseExpression();
        if (this.tok() === ',') {
          this.unsupported('Tuples', pos, this.s.tokenEnd());
          while (this.tok() !== ')' && this.tok() !== 'EOF') this.next();
        }
        this.expect(')', open);
        return { ...inner, pos: inner.pos, end: inner.end };
      }
      case 'Keyword':
        return this.parseKeywordPrimary();
      case '[':
        this.unsupported('Collection expressions', pos, this.s.tokenEnd());
        this.parseArguments(']');
        return this.missing(pos);
    }
    this.error('ExprSyntax', t === 'EOF' ? this.prevEnd : pos, t === 'EOF' ? this.prevEnd : this.s.tokenEnd(), [t === 'EOF' ? 'Expression expected.' : `Expression expected, found '${this.tokenText()}'.`]);
    if (t !== 'EOF' && t !== ')' && t !== ']' && t !== '}' && t !== ';' && t !== ',') this.next();
    return this.missing(pos);
  }

  private parseKeywordPrimary(): Expression {
    const pos = this.start();
    const k = this.val();
    const end = () => this.prevEnd;
    if (PREDEFINED_TYPES.has(k)) {
      this.next();
      return { kind: 'PredefinedType', name: k, pos, end: end() };
    }
    switch (k) {
      case 'true':
      case 'false':
        this.next();
        return { kind: 'Literal', value: k === 'true', type: 'Boolean', pos, end: end() };
      case 'null':
        this.next();
        return { kind: 'Literal', value: null, type: 'Null', pos, end: end() };
      case 'new':
        return this.parseNew();
      case 'typeof': {
        this.next();
        this.expect('(');
        const type = this.parseType();
        this.expect(')');
        return { kind: 'Typeof', type, pos, end: end() };
      }
      case 'default': {
        this.next();
        if (this.tok() === '(') {
          this.next();
          const type = this.parseType();
          this.expect(')');
          return { kind: 'Default', type, pos, end: end() };
        }
        return { kind: 'Default', pos, end: end() };
      }
      case 'this':
      case 'base':
        this.unsupported(`'${k}'`, pos, this.s.tokenEnd());
        this.next();
        return this.missing(pos);
      case 'unchecked': {
        // `unchecked(e)`: integer arithmetic in the emulator wraps already (C#'s default, unchecked context).
        this.next();
        const open = { start: this.start(), text: '(' };
        this.expect('(');
        const inner = this.parseExpression();
        this.expect(')', open);
        return inner;
      }
      case 'checked':
      case 'sizeof':
      case 'stackalloc':
      case 'delegate':
        this.unsupported(`'${k}' expressions`, pos, this.s.tokenEnd());
        this.next();
        if (this.tok() === '(') this.parseArguments(')');
        else if (this.tok() === '{') this.parseBlock();
        return this.missing(pos);
      case 'switch':
        this.unsupported("'switch' expressions", pos, this.s.tokenEnd());
        this.next();
        return this.missing(pos);
    }
    this.error('ExprSyntax', pos, this.s.tokenEnd(), [`Expression expected, found keyword '${k}'.`]);
    this.next();
    return this.missing(pos);
  }

  private parseInterpolated(): Expression {
    const pos = this.start();
    const parts = this.s.interpolationParts();
    const text = this.s.text();
    const out: Array<string | { expr: Expression; alignment?: Expression; format?: string }> = [];
    for (const p of parts) {
      if (p.kind === 'text') out.push(p.value);
      else {
        const expr = this.child(text, p.start, p.end).parseSlice();
        const hole: { expr: Expression; alignment?: Expression; format?: string } = { expr };
        if (p.alignment) hole.alignment = this.child(text, p.alignment.start, p.alignment.end).parseSlice();
        if (p.format !== undefined) hole.format = p.format;
        out.push(hole);
      }
    }
    this.next();
    return { kind: 'Interpolated', parts: out, pos, end: this.prevEnd };
  }

  private parseNew(): Expression {
    const pos = this.start();
    this.next();
    if (this.tok() === '[') {
      this.next();
      while (this.tok() === ',') this.next();
      this.expect(']');
      const items = this.parseArrayInitializer();
      return { kind: 'NewArray', items, pos, end: this.prevEnd };
    }
    if (this.tok() === '{') return this.parseAnonymous(pos);
    const type = this.parseType(false, true);
    if (this.tok() === '[') {
      // new T[size] or new T[size] { … }
      this.next();
      const size = this.tok() === ']' ? undefined : this.parseExpression();
      this.expect(']');
      while (this.tok() === '[') {
        this.next();
        this.expect(']');
      }
      const items = this.tok() === '{' ? this.parseArrayInitializer() : undefined;
      const node: Expression = { kind: 'NewArray', elementType: type, pos, end: this.prevEnd };
      if (size) node.size = size;
      if (items) node.items = items;
      if (!size && !items) this.error('ExprSyntax', pos, this.prevEnd, ['Array creation must have array size or array initializer.']);
      return node;
    }
    if (type.arrays > 0) {
      const elementType = { ...type, arrays: type.arrays - 1 };
      if (this.tok() !== '{') {
        this.errorHere('ExprExpected', ['{']);
        return { kind: 'NewArray', elementType, items: [], pos, end: this.prevEnd };
      }
      return { kind: 'NewArray', elementType, items: this.parseArrayInitializer(), pos, end: this.prevEnd };
    }
    let args: Argument[] = [];
    if (this.tok() === '(') args = this.parseArguments(')');
    else if (this.tok() !== '{') this.errorHere('ExprExpected', ['(']);
    const node: Expression = { kind: 'New', type, args, pos, end: this.prevEnd };
    if (this.tok() === '{') {
      node.initializer = this.parseObjectOrCollectionInitializer();
      node.end = this.prevEnd;
    }
    return node;
  }

  private parseArrayInitializer(): Expression[] {
    const items: Expression[] = [];
    const open = { start: this.start(), text: '{' };
    if (!this.expect('{')) return items;
    while (this.tok() !== '}' && this.tok() !== 'EOF') {
      if (this.tok() === '{') {
        this.unsupported('Nested array initializers', this.start(), this.s.tokenEnd());
        this.parseArrayInitializer();
      } else items.push(this.parseExpression());
      if (this.tok() !== ',') break;
      this.next();
    }
    this.expect('}', open);
    return items;
  }

  private parseAnonymous(pos: number): Expression {
    const open = { start: this.start(), text: '{' };
    this.next();
    const members: Array<{ name: string; value: Expression }> = [];
    while (this.tok() !== '}' && this.tok() !== 'EOF') {
      if (this.tok() === 'Identifier' && this.s.lookAhead(() => this.s.scan() === '=')) {
        const name = this.val();
        this.next();
        this.next();
        members.push({ name, value: this.parseExpression() });
      } else {
        const value = this.parseExpression();
        const name = value.kind === 'Identifier' ? value.name : value.kind === 'Member' ? value.name : '';
        if (!name) this.error('ExprSyntax', value.pos, value.end, ['Invalid anonymous type member declarator.']);
        members.push({ name, value });
      }
      if (this.tok() !== ',') break;
      this.next();
    }
    this.expect('}', open);
    return { kind: 'NewAnonymous', members, pos, end: this.prevEnd };
  }

  private parseObjectOrCollectionInitializer(): Initializer {
    const open = { start: this.start(), text: '{' };
    this.next();
    const isObject = this.tok() === '[' || (this.tok() === 'Identifier' && this.s.lookAhead(() => this.s.scan() === '='));
    if (isObject) {
      const members: Extract<Initializer, { kind: 'object' }>['members'] = [];
      while (this.tok() !== '}' && this.tok() !== 'EOF') {
        const mpos = this.start();
        if (this.tok() === '[') {
          const index = this.parseArguments(']').map((a) => a.value);
          this.expect('=');
          members.push({ index, value: this.parseExpression(), pos: mpos, end: this.prevEnd });
        } else if (this.tok() === 'Identifier') {
          const name = this.val();
          this.next();
          this.expect('=');
          const value = this.tok() === '{' ? this.nestedInitializerUnsupported() : this.parseExpression();
          members.push({ name, value, pos: mpos, end: this.prevEnd });
        } else {
          this.errorHere('ExprExpected', ['identifier']);
          break;
        }
        if (this.tok() !== ',') break;
        this.next();
      }
      this.expect('}', open);
      return { kind: 'object', members };
    }
    const items: Expression[][] = [];
    while (this.tok() !== '}' && this.tok() !== 'EOF') {
      if (this.tok() === '{') {
        const inner = { start: this.start(), text: '{' };
        this.next();
        const group: Expression[] = [];
        while (this.tok() !== '}' && this.tok() !== 'EOF') {
          group.push(this.parseExpression());
          if (this.tok() !== ',') break;
          this.next();
        }
        this.expect('}', inner);
        items.push(group);
      } else items.push([this.parseExpression()]);
      if (this.tok() !== ',') break;
      this.next();
    }
    this.expect('}', open);
    return { kind: 'collection', items };
  }

  private nestedInitializerUnsupported(): Expression {
    const pos = this.start();
    this.unsupported('Nested object initializers', pos, this.s.tokenEnd());
    this.parseObjectOrCollectionInitializer();
    return this.missing(pos);
  }

  // ---- types ----
  /** Parses a type; in quiet mode returns undefined instead of reporting. */
  private parseTypeQuiet(): TypeNode | undefined {
    return this.parseTypeCore(true, true, false);
  }

  private parseType(allowNullable = true, stopBeforeSizedArray = false): TypeNode {
    return this.parseTypeCore(false, allowNullable, stopBeforeSizedArray)!;
  }

  private parseTypeArgumentListQuiet(): TypeNode[] | undefined {
    if (this.tok() !== '<') return undefined;
    this.s.scan();
    const args: TypeNode[] = [];
    for (;;) {
      const t = this.parseTypeCore(true, true, false);
      if (!t) return undefined;
      args.push(t);
      if (this.tok() === ',') {
        this.s.scan();
        continue;
      }
      break;
    }
    if (this.tok() !== '>') return undefined;
    this.s.scan();
    return args;
  }

  private parseTypeArgumentList(): TypeNode[] {
    this.next(); // <
    const args: TypeNode[] = [];
    for (;;) {
      args.push(this.parseType());
      if (this.tok() === ',') {
        this.next();
        continue;
      }
      break;
    }
    this.expect('>');
    return args;
  }

  private parseTypeCore(quiet: boolean, allowNullable: boolean, stopBeforeSizedArray: boolean): TypeNode | undefined {
    const pos = this.start();
    const adv = () => (quiet ? this.s.scan() : this.next());
    let name: string;
    if (this.tok() === 'Keyword' && (PREDEFINED_TYPES.has(this.val()) || this.val() === 'void')) {
      name = this.val();
      adv();
    } else if (this.tok() === 'Identifier') {
      name = this.val();
      adv();
      while (this.tok() === '.' && this.s.lookAhead(() => this.s.scan() === 'Identifier')) {
        adv();
        name += '.' + this.val();
        adv();
      }
    } else {
      if (!quiet) this.errorHere('ExprExpected', ['type']);
      return quiet ? undefined : { kind: 'Type', name: '', args: [], arrays: 0, nullable: false, pos, end: pos };
    }
    let args: TypeNode[] = [];
    if (this.tok() === '<') {
      if (quiet) {
        const a = this.parseTypeArgumentListQuiet();
        if (!a) return undefined;
        args = a;
      } else args = this.parseTypeArgumentList();
    }
    let nullable = false;
    if (allowNullable && this.tok() === '?' ) {
      // `T?` only when what follows can't start an expression (avoid `a is T ? x : y`).
      const isNullable = quiet || this.s.lookAhead(() => {
        const n = this.s.scan();
        return n === ')' || n === '>' || n === ',' || n === 'Identifier' || n === '[' || n === ']';
      });
      if (isNullable) {
        nullable = true;
        adv();
      }
    }
    let arrays = 0;
    while (this.tok() === '[') {
      const emptyRank = this.s.lookAhead(() => this.s.scan() === ']');
      if (!emptyRank) {
        if (stopBeforeSizedArray || quiet) break;
        break;
      }
      adv();
      adv();
      arrays++;
    }
    return { kind: 'Type', name, args, arrays, nullable, pos, end: quiet ? this.s.tokenStart() : this.prevEnd };
  }

  // ---- statements ----
  private parseBlock(): Block {
    const pos = this.start();
    const open = { start: pos, text: '{' };
    this.expect('{');
    const statements: Statement[] = [];
    while (this.tok() !== '}' && this.tok() !== 'EOF') {
      const before = this.start();
      statements.push(this.parseStatement());
      if (this.start() === before && this.tok() !== '}' && this.tok() !== 'EOF') this.next();
    }
    this.expect('}', open);
    return { kind: 'Block', statements, pos, end: this.prevEnd };
  }

  private expectSemicolon(): void {
    if (this.tok() === ';') {
      this.next();
      return;
    }
    this.error('ExprExpected', this.prevEnd, this.prevEnd, [';']);
    // Recover: skip to the next statement boundary.
    while (this.tok() !== ';' && this.tok() !== '}' && this.tok() !== 'EOF') {
      if (this.tok() === 'Keyword' && ['return', 'if', 'var', 'foreach', 'for', 'while'].includes(this.val())) return;
      this.next();
    }
    if (this.tok() === ';') this.next();
  }

  private isLocalDeclaration(): boolean {
    if (this.isIdent('var')) return this.s.lookAhead(() => this.s.scan() === 'Identifier');
    if (this.tok() !== 'Identifier' && !(this.tok() === 'Keyword' && PREDEFINED_TYPES.has(this.val()))) return false;
    return this.s.lookAhead(() => {
      const t = this.parseTypeQuiet();
      if (!t || this.tok() !== 'Identifier') return false;
      const n = this.s.scan();
      return n === '=' || n === ';' || n === ',' || n === '(' || (n === 'Keyword' && this.val() === 'in');
    });
  }

  /** `void F(` or `Type F(` at a statement start: a local function declaration. */
  private isLocalFunction(): boolean {
    if (this.isKeyword('void')) return this.s.lookAhead(() => this.s.scan() === 'Identifier' && this.s.scan() === '(');
    if (this.tok() !== 'Identifier' && !(this.tok() === 'Keyword' && PREDEFINED_TYPES.has(this.val()))) return false;
    return this.s.lookAhead(() => {
      const t = this.parseTypeQuiet();
      return t !== undefined && this.tok() === 'Identifier' && this.s.scan() === '(';
    });
  }

  private parseLocalFunction(): LocalFunction {
    const pos = this.start();
    let returnType: TypeNode | undefined;
    if (this.isKeyword('void')) this.next();
    else returnType = this.parseType();
    const name = this.val();
    const namePos = this.start();
    this.next();
    const open = { start: this.start(), text: '(' };
    this.expect('(');
    const params: LocalFunction['params'] = [];
    while (this.tok() !== ')' && this.tok() !== 'EOF') {
      const ppos = this.start();
      if (this.isKeyword('ref') || this.isKeyword('out') || this.isKeyword('in') || this.isKeyword('params') || this.isKeyword('this')) {
        this.unsupported(`'${this.val()}' parameters of local functions`, ppos, this.s.tokenEnd());
        this.next();
      }
      const type = this.parseType();
      if (this.tok() !== 'Identifier') {
        this.errorHere('ExprExpected', ['identifier']);
        break;
      }
      params.push({ name: this.val(), type, pos: this.start() });
      this.next();
      if (this.tok() === '=') {
        this.unsupported('Optional parameters of local functions', this.start(), this.s.tokenEnd());
        this.next();
        this.parseExpression();
      }
      if (this.tok() !== ',') break;
      this.next();
    }
    this.expect(')', open);
    let body: Block | Expression;
    if (this.tok() === '=>') {
      this.next();
      body = this.parseExpression();
      this.expectSemicolon();
    } else body = this.parseBlock();
    const node: LocalFunction = { kind: 'LocalFunction', name, namePos, params, body, pos, end: this.prevEnd };
    if (returnType) node.returnType = returnType;
    return node;
  }

  private parseLocalDeclaration(isConst = false): LocalDecl {
    const pos = this.start();
    let type: TypeNode | 'var';
    if (this.isIdent('var')) {
      type = 'var';
      this.next();
    } else type = this.parseType();
    const declarators: LocalDecl['declarators'] = [];
    for (;;) {
      const dpos = this.start();
      if (this.tok() !== 'Identifier') {
        this.errorHere('ExprExpected', ['identifier']);
        break;
      }
      const name = this.val();
      this.next();
      if (this.tok() === '(') {
        this.unsupported('Local functions', dpos, this.s.tokenEnd());
        this.parseArguments(')');
        if (this.tok() === '{') this.parseBlock();
        else if (this.tok() === '=>') {
          this.next();
          this.parseExpression();
        }
        break;
      }
      let init: Expression | undefined;
      if (this.tok() === '=') {
        this.next();
        if (this.tok() === '{') {
          this.unsupported('Array initializers without new', this.start(), this.s.tokenEnd());
          const items = this.parseArrayInitializer();
          init = { kind: 'NewArray', items, pos: dpos, end: this.prevEnd };
        } else init = this.parseExpression();
      }
      declarators.push(init ? { name, init, pos: dpos, end: this.prevEnd } : { name, pos: dpos, end: this.prevEnd });
      if (this.tok() !== ',') break;
      this.next();
    }
    const decl: LocalDecl = { kind: 'LocalDecl', type, declarators, pos, end: this.prevEnd };
    if (isConst) decl.isConst = true;
    return decl;
  }

  private parseEmbedded(): Statement {
    return this.parseStatement();
  }

  parseStatement(): Statement {
    if (this.depth >= MAX_EXPRESSION_NESTING) this.tooDeep(`Nesting deeper than ${MAX_EXPRESSION_NESTING} levels`);
    this.depth++;
    try {
      return this.parseStatementInner();
    } finally {
      this.depth--;
    }
  }

  private parseStatementInner(): Statement {
    const pos = this.start();
    const t = this.tok();
    if (t === '{') return this.parseBlock();
    if (t === ';') {
      this.next();
      return { kind: 'Empty', pos, end: this.prevEnd };
    }
    if (t === 'Keyword') {
      const k = this.val();
      // `unchecked { … }` is its block: integer arithmetic in the emulator wraps already (C#'s default context).
      if (k === 'unchecked' && this.s.lookAhead(() => this.s.scan() === '{')) {
        this.next();
        return this.parseBlock();
      }
      const unsupported = STATEMENT_KEYWORDS_UNSUPPORTED[k];
      if (unsupported) {
        this.unsupported(unsupported, pos, this.s.tokenEnd());
        this.skipStatement();
        return { kind: 'Empty', pos, end: this.prevEnd };
      }
      switch (k) {
        case 'if': {
          this.next();
          const open = { start: this.start(), text: '(' };
          this.expect('(');
          const test = this.parseExpression();
          this.expect(')', open);
          const then = this.parseEmbedded();
          if (this.isKeyword('else')) {
            this.next();
            const otherwise = this.parseEmbedded();
            return { kind: 'If', test, then, else: otherwise, pos, end: this.prevEnd };
          }
          return { kind: 'If', test, then, pos, end: this.prevEnd };
        }
        case 'return': {
          this.next();
          if (this.tok() === ';') {
            this.next();
            return { kind: 'Return', pos, end: this.prevEnd };
          }
          const expr = this.parseExpression();
          this.expectSemicolon();
          return { kind: 'Return', expr, pos, end: this.prevEnd };
        }
        case 'foreach': {
          this.next();
          const open = { start: this.start(), text: '(' };
          this.expect('(');
          let varType: TypeNode | 'var' = 'var';
          if (this.isIdent('var')) this.next();
          else varType = this.parseType();
          let name = '';
          if (this.tok() === 'Identifier') {
            name = this.val();
            this.next();
          } else this.errorHere('ExprExpected', ['identifier']);
          if (this.isKeyword('in')) this.next();
          else this.errorHere('ExprExpected', ['in']);
          const iterable = this.parseExpression();
          this.expect(')', open);
          const body = this.parseEmbedded();
          return { kind: 'Foreach', varType, name, iterable, body, pos, end: this.prevEnd };
        }
        case 'for': {
          this.next();
          const open = { start: this.start(), text: '(' };
          this.expect('(');
          let init: LocalDecl | Expression[] | undefined;
          if (this.tok() !== ';') {
            if (this.isLocalDeclaration()) init = this.parseLocalDeclaration();
            else init = this.parseExpressionList(';');
          }
          this.expect(';');
          const test = this.tok() === ';' ? undefined : this.parseExpression();
          this.expect(';');
          const update = this.tok() === ')' ? [] : this.parseExpressionList(')');
          this.expect(')', open);
          const body = this.parseEmbedded();
          const node: Statement = { kind: 'For', update, body, pos, end: this.prevEnd };
          if (init) node.init = init;
          if (test) node.test = test;
          return node;
        }
        case 'while': {
          this.next();
          const open = { start: this.start(), text: '(' };
          this.expect('(');
          const test = this.parseExpression();
          this.expect(')', open);
          const body = this.parseEmbedded();
          return { kind: 'While', test, body, pos, end: this.prevEnd };
        }
        case 'do': {
          this.next();
          const body = this.parseEmbedded();
          if (this.isKeyword('while')) this.next();
          else this.errorHere('ExprExpected', ['while']);
          this.expect('(');
          const test = this.parseExpression();
          this.expect(')');
          this.expectSemicolon();
          return { kind: 'DoWhile', body, test, pos, end: this.prevEnd };
        }
        case 'break':
        case 'continue':
          this.next();
          this.expectSemicolon();
          return { kind: k === 'break' ? 'Break' : 'Continue', pos, end: this.prevEnd };
        case 'throw': {
          this.next();
          if (this.tok() === ';') {
            this.next();
            return { kind: 'Throw', pos, end: this.prevEnd };
          }
          const expr = this.parseExpression();
          this.expectSemicolon();
          return { kind: 'Throw', expr, pos, end: this.prevEnd };
        }
        case 'try':
          return this.parseTry();
        case 'switch':
          return this.parseSwitch();
        case 'using': {
          this.next();
          if (this.tok() !== '(') {
            this.unsupported("'using' directives and declarations", pos, this.prevEnd);
            this.skipStatement();
            return { kind: 'Empty', pos, end: this.prevEnd };
          }
          const open = { start: this.start(), text: '(' };
          this.next();
          const node: Statement = { kind: 'Using', pos, end: pos };
          if (this.isLocalDeclaration()) node.decl = this.parseLocalDeclaration();
          else node.expr = this.parseExpression();
          this.expect(')', open);
          node.body = this.parseEmbedded();
          node.end = this.prevEnd;
          return node;
        }
        case 'const': {
          this.next();
          const decl = this.parseLocalDeclaration(true);
          this.expectSemicolon();
          return { ...decl, end: this.prevEnd };
        }
        case 'else':
          this.error('ExprSyntax', pos, this.s.tokenEnd(), ["'else' without a matching 'if'."]);
          this.next();
          return { kind: 'Empty', pos, end: this.prevEnd };
      }
    }
    if (this.isIdent('yield') && this.s.lookAhead(() => {
      const n = this.s.scan();
      return (n === 'Keyword' && (this.val() === 'return' || this.val() === 'break'));
    })) {
      this.unsupported("'yield'", pos, this.s.tokenEnd());
      this.skipStatement();
      return { kind: 'Empty', pos, end: this.prevEnd };
    }
    if (this.isLocalFunction()) return this.parseLocalFunction();
    if (this.isLocalDeclaration()) {
      const decl = this.parseLocalDeclaration();
      this.expectSemicolon();
      return { ...decl, end: this.prevEnd };
    }
    const expr = this.parseExpression();
    this.expectSemicolon();
    return { kind: 'ExpressionStatement', expr, pos, end: this.prevEnd };
  }

  private parseExpressionList(until: TokenKind): Expression[] {
    const list: Expression[] = [];
    while (this.tok() !== until && this.tok() !== 'EOF') {
      list.push(this.parseExpression());
      if (this.tok() !== ',') break;
      this.next();
    }
    return list;
  }

  private skipStatement(): void {
    let depth = 0;
    while (this.tok() !== 'EOF') {
      const t = this.tok();
      this.next();
      if (t === '{') depth++;
      else if (t === '}') {
        depth--;
        if (depth <= 0) return;
      } else if (t === ';' && depth === 0) return;
    }
  }

  private parseTry(): Statement {
    const pos = this.start();
    this.next();
    const block = this.parseBlock();
    const catches: Extract<Statement, { kind: 'Try' }>['catches'] = [];
    let fin: Block | undefined;
    while (this.isKeyword('catch')) {
      const cpos = this.start();
      this.next();
      const clause: (typeof catches)[number] = { block: undefined as unknown as Block, pos: cpos };
      if (this.tok() === '(') {
        this.next();
        clause.type = this.parseType();
        if (this.tok() === 'Identifier') {
          clause.name = this.val();
          this.next();
        }
        this.expect(')');
      }
      if (this.isIdent('when')) {
        this.next();
        this.expect('(');
        clause.filter = this.parseExpression();
        this.expect(')');
      }
      clause.block = this.parseBlock();
      catches.push(clause);
    }
    if (this.isKeyword('finally')) {
      this.next();
      fin = this.parseBlock();
    }
    if (catches.length === 0 && !fin) this.errorHere('ExprExpected', ['catch']);
    const node: Statement = { kind: 'Try', block, catches, pos, end: this.prevEnd };
    if (fin) node.finally = fin;
    return node;
  }

  private parseSwitch(): Statement {
    const pos = this.start();
    this.next();
    const open = { start: this.start(), text: '(' };
    this.expect('(');
    const expr = this.parseExpression();
    this.expect(')', open);
    const brace = { start: this.start(), text: '{' };
    this.expect('{');
    const sections: Extract<Statement, { kind: 'Switch' }>['sections'] = [];
    while (this.tok() !== '}' && this.tok() !== 'EOF') {
      const spos = this.start();
      const labels: Array<Expression | 'default'> = [];
      while (this.isKeyword('case') || this.isKeyword('default')) {
        if (this.isKeyword('default')) {
          this.next();
          labels.push('default');
        } else {
          this.next();
          const label = this.parseExpression();
          if (this.isIdent('when')) this.unsupported("'case … when' guards", this.start(), this.s.tokenEnd());
          labels.push(label);
        }
        this.expect(':');
      }
      if (labels.length === 0) {
        this.errorHere('ExprExpected', ['case']);
        this.next();
        continue;
      }
      const statements: Statement[] = [];
      while (!this.isKeyword('case') && !this.isKeyword('default') && this.tok() !== '}' && this.tok() !== 'EOF') {
        const before = this.start();
        statements.push(this.parseStatement());
        if (this.start() === before) this.next();
      }
      sections.push({ labels, statements, pos: spos });
    }
    this.expect('}', brace);
    return { kind: 'Switch', expr, sections, pos, end: this.prevEnd };
  }
}

/** Parses a lifted expression's code: one expression for `@( … )`, statements for `@{ … }`. */
export function parse(code: string, kind: 'expression' | 'block'): ParseResult {
  const diagnostics: RawDiagnostic[] = [];
  const parser = new Parser(code, diagnostics);
  let root: Expression | Block;
  try {
    root = kind === 'expression' ? parser.parseExpressionRoot() : parser.parseBlockRoot();
  } catch (error) {
    if (!(error instanceof NestingLimitReached)) throw error;
    root = kind === 'expression' ? { kind: 'Missing', pos: 0, end: 0 } : { kind: 'Block', statements: [], pos: 0, end: code.length };
  }
  diagnostics.sort((a, b) => a.start - b.start);
  return { root, diagnostics };
}
