/**
 * Recursive-descent KQL parser. Grammar (precedence lowest → highest, kept as data in BINARY_PRECEDENCE):
 *
 *   query      := statement (';' statement)* ';'?
 *   statement  := 'let' name '=' pipeline | pipeline
 *   pipeline   := source ('|' operator)*
 *   source     := 'print' items | 'datatable' '(' schema ')' '[' values ']' | 'range' name 'from' e 'to' e 'step' e
 *               | 'union' … | expr
 *   expr       := or ; or := and ('or' and)* ; and := cmp ('and' cmp)*
 *   cmp        := add (cmpop add | 'in' '(' list ')' | 'between' '(' add '..' add ')')*
 *   add        := mul (('+'|'-') mul)* ; mul := unary (('*'|'/'|'%') unary)*
 *   unary      := ('-'|'+') unary | postfix ; postfix := primary ('.' name | '.'? '[' expr ']' | '(' args ')')*
 *
 * The first syntax error throws a KqlError (SYN0002) naming the token, its line and column.
 */
import type {
  BinaryExpr, CallExpr, DatatableSource, Expr, JoinOp, LetStatement, MakeSeriesOp, MvExpandOp, NamedExpr, NameExpr, Operator, ParseElement, ParseOp, TopNestedLevel, TopNestedOp,
  Pipeline, PrintSource, QueryNode, RangeSource, RenderOp, SortTerm, Source, Statement, TabularExpr, UnionOp,
} from './ast.js';
import { createKqlError } from './errors.js';
import type { KqlError } from './errors.js';
import { createScanner } from './lexer.js';
import type { Scanner } from './lexer.js';
import { KQL_TYPE_ALIASES } from './types.js';
import type { KqlType } from './types.js';
import { parseDatetimeText, parseTimespanText } from './values.js';

/** Comparison-level operators that take a scalar right operand. */
const COMPARISON_OPERATORS = new Set([
  '==', '!=', '<>', '<', '<=', '>', '>=', '=~', '!~',
  'contains', '!contains', 'contains_cs', '!contains_cs', 'has', '!has', 'has_cs', '!has_cs',
  'hasprefix', '!hasprefix', 'hasprefix_cs', '!hasprefix_cs', 'hassuffix', '!hassuffix', 'hassuffix_cs', '!hassuffix_cs',
  'startswith', '!startswith', 'startswith_cs', '!startswith_cs', 'endswith', '!endswith', 'endswith_cs', '!endswith_cs',
  'like', 'notlike', 'matches',
]);

/** jsep-style precedence table for the binary operators parsed by precedence climbing. */
const BINARY_PRECEDENCE: Record<string, number> = { or: 1, and: 2, '+': 4, '-': 4, '*': 5, '/': 5, '%': 5 };
const COMPARISON_PRECEDENCE = 3;

/** Kusto operators this emulator recognises but does not run (semantic error, never a wrong answer). */
const UNSUPPORTED_OPERATORS = new Set([
  'parse-kv', 'mv-apply', 'lookup', 'facet', 'fork', 'sample', 'sample-distinct', 'search',
  'find', 'scan', 'invoke', 'top-hitters', 'make-graph', 'graph-match', 'graph-to-table', 'graph-merge',
  'graph-shortest-paths', 'partition', 'reduce', 'consume', 'project-smart', 'externaldata', 'execute-and-cache', 'assert-schema',
]);

/** Operator parameter names (`kind=…`, `hint.x=…`); anything else is an output column assignment. */
const OPERATOR_PARAMETERS = new Set(['kind', 'withsource', 'isfuzzy', 'bagexpansion', 'with_itemindex', 'with_match_id', 'decodeblocks']);

export interface ParseResult {
  query: QueryNode;
}

/** Deepest nesting of expressions, sub-pipelines and dynamic literals a query may have. */
export const MAX_NESTING_DEPTH = 256;
/** Most binary operators in one expression (each adds a level to the tree that translation recurses over). */
export const MAX_BINARY_CHAIN = 1000;

export function parseKql(text: string): QueryNode {
  const parser = createParser(text);
  return parser.parseQuery();
}

function createParser(text: string) {
  const scanner: Scanner = createScanner(text);
  scanner.scan();

  const tok = () => scanner.getToken();
  const tokText = () => scanner.getTokenText();
  const start = () => scanner.getTokenStart();
  let lastEnd = 0;

  function next(): void {
    lastEnd = scanner.getTokenEnd();
    scanner.scan();
  }

  function error(): KqlError {
    const offset = scanner.getTokenStart();
    const token = tok() === 'eof' ? '' : tokText();
    return createKqlError(text, 'ParseError', offset, [token], token);
  }

  function semanticUnsupported(name: string, offset: number, what: 'operator' | 'function' | 'feature' = 'operator'): KqlError {
    if (what === 'feature') return createKqlError(text, 'FeatureNotSupported', offset, [name], name);
    return createKqlError(text, what === 'operator' ? 'OperatorNotSupported' : 'FunctionNotSupported', offset, [name], name);
  }

  const isPunct = (p: string) => tok() === 'punct' && tokText() === p;
  const isWord = (w: string) => tok() === 'identifier' && tokText() === w;

  function expectPunct(p: string): number {
    if (!isPunct(p)) throw error();
    const s = start();
    next();
    return s;
  }
  // Nesting (parentheses, unary operators, sub-pipelines, dynamic literals) is bounded: the parser recurses, and a
  // query of 10,000 '(' would otherwise end in a RangeError instead of a KQL error with a position.
  let depth = 0;
  function nested<T>(parse: () => T): T {
    if (++depth > MAX_NESTING_DEPTH) {
      depth = 0;
      throw semanticUnsupported(`Nesting deeper than ${MAX_NESTING_DEPTH} levels`, start(), 'feature');
    }
    try {
      return parse();
    } finally {
      if (depth > 0) depth--;
    }
  }

  function expectWord(w: string): void {
    if (!isWord(w)) throw error();
    next();
  }
  function parseOptional(p: string): boolean {
    if (isPunct(p)) {
      next();
      return true;
    }
    return false;
  }

  /** Identifier or `['bracketed name']`. */
  function parseName(): { name: string; start: number; end: number; bracketed: boolean } {
    const s = start();
    if (tok() === 'identifier') {
      const name = tokText();
      next();
      return { name, start: s, end: lastEnd, bracketed: false };
    }
    if (isPunct('[')) {
      const nested = scanner.lookAhead(() => {
        scanner.scan();
        if (scanner.getToken() !== 'string') return undefined;
        const v = scanner.getTokenValue() as string;
        scanner.scan();
        return scanner.getToken() === 'punct' && scanner.getTokenText() === ']' ? v : undefined;
      });
      if (nested !== undefined) {
        next();
        next();
        next();
        return { name: nested, start: s, end: lastEnd, bracketed: true };
      }
    }
    throw error();
  }

  function isNameStart(): boolean {
    if (tok() === 'identifier') return true;
    if (isPunct('[')) {
      return scanner.lookAhead(() => {
        scanner.scan();
        if (scanner.getToken() !== 'string') return false;
        scanner.scan();
        return scanner.getToken() === 'punct' && scanner.getTokenText() === ']';
      });
    }
    return false;
  }

  // ----- query and statements -----

  function parseQuery(): QueryNode {
    const statements: Statement[] = [];
    const s = start();
    while (tok() !== 'eof') {
      if (parseOptional(';')) continue;
      statements.push(parseStatement());
      if (tok() !== 'eof') expectPunct(';');
    }
    if (statements.length === 0) throw error();
    return { statements, start: s, end: lastEnd };
  }

  function parseStatement(): Statement {
    const s = start();
    if (isWord('let')) {
      next();
      const nameStart = start();
      const { name } = parseName();
      expectPunct('=');
      if (isWord('view') || (isPunct('(') && looksLikeFunctionDefinition())) {
        throw semanticUnsupported('user-defined functions (let … = (…) { … })', start(), 'feature');
      }
      const value = parsePipeline();
      const stmt: LetStatement = { kind: 'let', name, nameStart, value, start: s, end: lastEnd };
      return stmt;
    }
    if (isWord('set') || isWord('declare') || isWord('alias') || isWord('restrict') || isWord('pattern')) {
      throw semanticUnsupported(`'${tokText()}' statement`, start(), 'feature');
    }
    const pipeline = parsePipeline();
    return { kind: 'query', pipeline, start: s, end: lastEnd };
  }

  function looksLikeFunctionDefinition(): boolean {
    return scanner.lookAhead(() => {
      let depth = 0;
      while (scanner.getToken() !== 'eof') {
        if (scanner.getToken() === 'punct') {
          const p = scanner.getTokenText();
          if (p === '(') depth++;
          else if (p === ')') {
            depth--;
            if (depth === 0) {
              scanner.scan();
              return scanner.getToken() === 'punct' && scanner.getTokenText() === '{';
            }
          }
        }
        scanner.scan();
      }
      return false;
    });
  }

  // ----- pipelines -----

  function parsePipeline(): Pipeline {
    return nested(parsePipelineInner);
  }
  function parsePipelineInner(): Pipeline {
    const s = start();
    const source = parseSource();
    const operators: Operator[] = [];
    while (isPunct('|')) {
      next();
      operators.push(parseOperator());
    }
    return { source, operators, start: s, end: lastEnd };
  }

  function parseSource(): Source {
    const s = start();
    if (isWord('print')) {
      next();
      const items = parseNamedExprList(() => false);
      const src: PrintSource = { kind: 'print', items, start: s, end: lastEnd };
      return src;
    }
    if (isWord('datatable') && scanner.lookAhead(() => (scanner.scan(), scanner.getToken() === 'punct' && scanner.getTokenText() === '('))) {
      return parseDatatable();
    }
    if (isWord('range') && scanner.lookAhead(() => (scanner.scan(), scanner.getToken() === 'identifier'))) {
      next();
      const { name } = parseName();
      expectWord('from');
      const from = parseExpression();
      expectWord('to');
      const to = parseExpression();
      expectWord('step');
      const step = parseExpression();
      const src: RangeSource = { kind: 'range', column: name, from, to, step, start: s, end: lastEnd };
      return src;
    }
    if (isWord('union')) {
      const op = parseUnion();
      return { kind: 'union-source', op, start: s, end: lastEnd };
    }
    if (tok() === 'identifier' && UNSUPPORTED_OPERATORS.has(tokText()) && scanner.lookAhead(() => (scanner.scan(), scanner.getToken() !== 'punct' || scanner.getTokenText() !== '('))) {
      throw semanticUnsupported(tokText(), s);
    }
    const expr = parseExpression();
    if (expr.kind === 'tabular') return { kind: 'paren', pipeline: expr.pipeline, start: s, end: lastEnd };
    return { kind: 'expr', expr, start: s, end: lastEnd };
  }

  function parseDatatable(): DatatableSource {
    const s = start();
    next();
    expectPunct('(');
    const columns: Array<{ name: string; type: KqlType }> = [];
    while (!isPunct(')')) {
      const { name } = parseName();
      expectPunct(':');
      columns.push({ name, type: parseTypeName() });
      if (!parseOptional(',')) break;
    }
    expectPunct(')');
    expectPunct('[');
    const values: Expr[] = [];
    while (!isPunct(']')) {
      values.push(parseExpression());
      if (!parseOptional(',')) break;
    }
    expectPunct(']');
    return { kind: 'datatable', columns, values, start: s, end: lastEnd };
  }

  function parseTypeName(): KqlType {
    if (tok() !== 'identifier') throw error();
    const t = KQL_TYPE_ALIASES[tokText()];
    if (!t) throw error();
    next();
    return t;
  }

  /** `name = value` operator parameters such as `kind=leftouter`, `hint.strategy=shuffle`, `withsource=T`. */
  function parseOperatorParameters(): Map<string, { value: string; start: number }> {
    const params = new Map<string, { value: string; start: number }>();
    for (;;) {
      const isParam = tok() === 'identifier' && (OPERATOR_PARAMETERS.has(tokText()) || tokText() === 'hint') && scanner.lookAhead(() => {
        scanner.scan();
        while (scanner.getToken() === 'punct' && scanner.getTokenText() === '.') {
          scanner.scan();
          if (scanner.getToken() !== 'identifier') return false;
          scanner.scan();
        }
        return scanner.getToken() === 'punct' && scanner.getTokenText() === '=';
      });
      if (!isParam) return params;
      let name = tokText();
      next();
      while (parseOptional('.')) {
        name += '.' + tokText();
        next();
      }
      expectPunct('=');
      const vStart = start();
      if (tok() === 'identifier' || tok() === 'string' || tok() === 'int' || tok() === 'real') {
        params.set(name, { value: String(scanner.getTokenValue() ?? tokText()), start: vStart });
        next();
      } else {
        throw error();
      }
    }
  }

  function parseOperator(): Operator {
    const s = start();
    if (tok() !== 'identifier') throw error();
    const word = tokText();
    switch (word) {
      case 'where':
      case 'filter': {
        next();
        const predicate = parseExpression();
        return { kind: 'where', predicate, start: s, end: lastEnd };
      }
      case 'project': {
        next();
        return { kind: 'project', items: parseNamedExprList(() => false), start: s, end: lastEnd };
      }
      case 'extend': {
        next();
        return { kind: 'extend', items: parseNamedExprList(() => false), start: s, end: lastEnd };
      }
      case 'project-away':
      case 'project-keep': {
        next();
        const names: NameExpr[] = [];
        do {
          const n = parseName();
          let name = n.name;
          if (isPunct('*') && !scanner.hasPrecedingTrivia()) {
            name += '*';
            next();
          }
          names.push({ kind: 'name', name, bracketed: n.bracketed, start: n.start, end: lastEnd });
        } while (parseOptional(','));
        return { kind: word, names, start: s, end: lastEnd };
      }
      case 'project-rename': {
        next();
        const items: Array<{ newName: string; old: NameExpr }> = [];
        do {
          const { name: newName } = parseName();
          expectPunct('=');
          const old = parseName();
          items.push({ newName, old: { kind: 'name', ...old } });
        } while (parseOptional(','));
        return { kind: 'project-rename', items, start: s, end: lastEnd };
      }
      case 'project-reorder': {
        next();
        const terms: Array<{ name: NameExpr; direction?: 'asc' | 'desc' }> = [];
        do {
          const n = parseName();
          const term: { name: NameExpr; direction?: 'asc' | 'desc' } = { name: { kind: 'name', ...n } };
          if (isWord('asc') || isWord('desc')) {
            term.direction = tokText() as 'asc' | 'desc';
            next();
          }
          terms.push(term);
        } while (parseOptional(','));
        return { kind: 'project-reorder', terms, start: s, end: lastEnd };
      }
      case 'summarize': {
        next();
        parseOperatorParameters();
        const aggregates = isWord('by') ? [] : parseNamedExprList(() => isWord('by'));
        let by: NamedExpr[] = [];
        if (isWord('by')) {
          next();
          by = parseNamedExprList(() => false);
        }
        return { kind: 'summarize', aggregates, by, start: s, end: lastEnd };
      }
      case 'sort':
      case 'order': {
        next();
        expectWord('by');
        const terms: SortTerm[] = [];
        do terms.push(parseSortTerm());
        while (parseOptional(','));
        return { kind: 'sort', terms, start: s, end: lastEnd };
      }
      case 'take':
      case 'limit': {
        next();
        parseOperatorParameters();
        return { kind: 'take', count: parseExpression(), start: s, end: lastEnd };
      }
      case 'top': {
        next();
        const count = parseExpression();
        expectWord('by');
        const term = parseSortTerm();
        return { kind: 'top', count, term, start: s, end: lastEnd };
      }
      case 'count': {
        next();
        return { kind: 'count', start: s, end: lastEnd };
      }
      case 'distinct': {
        next();
        if (isPunct('*')) {
          next();
          return { kind: 'distinct', items: [], star: true, start: s, end: lastEnd };
        }
        return { kind: 'distinct', items: parseNamedExprList(() => false), star: false, start: s, end: lastEnd };
      }
      case 'join':
        return parseJoin();
      case 'mv-expand':
      case 'mvexpand': // legacy spelling, still in App Insights workbooks
        return parseMvExpand();
      case 'render':
        return parseRender();
      case 'union':
        return parseUnion();
      case 'as': {
        next();
        parseOperatorParameters();
        const { name } = parseName();
        return { kind: 'as', name, start: s, end: lastEnd };
      }
      case 'serialize': {
        next();
        const items = tok() === 'eof' || isPunct('|') || isPunct(';') || isPunct(')') ? [] : parseNamedExprList(() => false);
        return { kind: 'serialize', items, start: s, end: lastEnd };
      }
      case 'getschema':
        next();
        return { kind: 'getschema', start: s, end: lastEnd };
      case 'make-series':
        return parseMakeSeries();
      case 'top-nested':
        return parseTopNested();
      case 'parse':
      case 'parse-where':
        return parseParse(word === 'parse-where');
      case 'evaluate': {
        next();
        const params = parseOperatorParameters();
        for (const [k, v] of params) if (!k.startsWith('hint.')) throw semanticUnsupported(`evaluate ${k}=${v.value}`, v.start, 'feature');
        const ps = start();
        if (tok() !== 'identifier') throw error();
        const plugin = tokText();
        next();
        expectPunct('(');
        const args: Expr[] = [];
        const named: Record<string, Expr> = {};
        while (!isPunct(')')) {
          if (tok() === 'identifier' && scanner.lookAhead(() => (scanner.scan(), scanner.getToken() === 'punct' && scanner.getTokenText() === '='))) {
            const argName = tokText();
            next();
            next();
            named[argName] = parseExpression();
          } else {
            args.push(parseExpression());
          }
          if (!parseOptional(',')) break;
        }
        expectPunct(')');
        if (isPunct(':')) throw semanticUnsupported(`evaluate ${plugin}(…) : (output schema)`, start(), 'feature');
        return { kind: 'evaluate', plugin, pluginStart: ps, args, named, start: s, end: lastEnd };
      }
      default:
        if (UNSUPPORTED_OPERATORS.has(word)) throw semanticUnsupported(word, s);
        throw error();
    }
  }

  function parseSortTerm(): SortTerm {
    const s = start();
    const expr = parseExpression();
    const term: SortTerm = { expr, start: s, end: lastEnd };
    if (isWord('asc') || isWord('desc')) {
      term.direction = tokText() as 'asc' | 'desc';
      next();
    }
    if (isWord('nulls')) {
      next();
      if (!isWord('first') && !isWord('last')) throw error();
      term.nulls = tokText() as 'first' | 'last';
      next();
    }
    term.end = lastEnd;
    return term;
  }

  function parseJoin(): JoinOp {
    const s = start();
    next();
    const params = parseOperatorParameters();
    const kindParam = params.get('kind');
    const joinKind = kindParam?.value ?? 'innerunique';
    const kindStart = kindParam?.start ?? s;
    const right = parseJoinRight();
    const on: JoinOp['on'] = [];
    if (isWord('on')) {
      next();
      do {
        const ks = start();
        const e = parseExpression();
        if (e.kind === 'binary' && e.op === '==') on.push({ left: e.left, right: e.right, start: ks, end: lastEnd });
        else on.push({ left: e, right: e, start: ks, end: lastEnd });
      } while (parseOptional(',') || (isWord('and') && (next(), true)));
    } else if (isWord('where')) {
      throw semanticUnsupported("'join … where' conditions", start(), 'feature');
    } else {
      throw error();
    }
    return { kind: 'join', joinKind, kindStart, right, on, start: s, end: lastEnd };
  }

  function parseJoinRight(): Pipeline {
    const s = start();
    if (isPunct('(')) {
      next();
      const p = parsePipeline();
      expectPunct(')');
      return p;
    }
    const n = parseName();
    return { source: { kind: 'expr', expr: { kind: 'name', ...n }, start: s, end: lastEnd }, operators: [], start: s, end: lastEnd };
  }

  function parseMvExpand(): MvExpandOp {
    const s = start();
    next();
    const params = parseOperatorParameters();
    let bagArray = false;
    let itemIndex: string | undefined;
    for (const [k, v] of params) {
      if ((k === 'bagexpansion' || k === 'kind') && (v.value === 'array' || v.value === 'bag')) bagArray = v.value === 'array';
      else if (k === 'with_itemindex') itemIndex = v.value;
      else if (!k.startsWith('hint.')) throw semanticUnsupported(`mv-expand ${k}=${v.value}`, v.start, 'feature');
    }
    const items: MvExpandOp['items'] = [];
    do {
      const item = parseNamedExpr(() => false) as NamedExpr & { toType?: KqlType };
      if (isWord('to')) {
        next();
        expectWord('typeof');
        expectPunct('(');
        item.toType = parseTypeName();
        expectPunct(')');
      }
      items.push(item);
    } while (parseOptional(','));
    const op: MvExpandOp = { kind: 'mv-expand', items, start: s, end: lastEnd };
    if (bagArray) op.bagArray = true;
    if (itemIndex !== undefined) op.itemIndex = itemIndex;
    if (isWord('limit')) {
      next();
      op.limit = parseExpression();
    }
    op.end = lastEnd;
    return op;
  }

  function parseRender(): RenderOp {
    const s = start();
    next();
    if (tok() !== 'identifier') throw error();
    const visualization = tokText();
    next();
    const properties: Record<string, unknown> = {};
    // Legacy form without parentheses: `render barchart title='…' kind=stacked`.
    const legacy = !isWord('with') && tok() === 'identifier' && scanner.lookAhead(() => (scanner.scan(), scanner.getToken() === 'punct' && scanner.getTokenText() === '='));
    if (isWord('with') || legacy) {
      if (!legacy) {
        next();
        expectPunct('(');
      }
      const atEnd = () => (legacy ? tok() === 'eof' || isPunct('|') || isPunct(';') || isPunct(')') : isPunct(')'));
      while (!atEnd()) {
        const { name } = parseName();
        expectPunct('=');
        if (tok() === 'string' || tok() === 'int' || tok() === 'real') {
          properties[name] = scanner.getTokenValue();
          next();
        } else if (tok() === 'identifier') {
          const first = tokText();
          next();
          if (isPunct(',') && (name === 'ycolumns' || name === 'series') ) {
            const list = [first];
            while (isPunct(',') && scanner.lookAhead(() => (scanner.scan(), scanner.getToken() === 'identifier' && (scanner.scan(), !(scanner.getToken() === 'punct' && scanner.getTokenText() === '='))))) {
              next();
              list.push(tokText());
              next();
            }
            properties[name] = list;
          } else {
            properties[name] = first === 'true' ? true : first === 'false' ? false : first;
          }
        } else {
          throw error();
        }
        if (!parseOptional(',') && !legacy) break;
      }
      if (!legacy) expectPunct(')');
    }
    return { kind: 'render', visualization, properties, start: s, end: lastEnd };
  }

  function parseUnion(): UnionOp {
    const s = start();
    next();
    const params = parseOperatorParameters();
    const tables: Pipeline[] = [];
    do {
      const ts = start();
      if (isPunct('(')) {
        next();
        tables.push(parsePipeline());
        expectPunct(')');
      } else {
        const n = parseName();
        let name = n.name;
        if (isPunct('*') && !scanner.hasPrecedingTrivia()) throw semanticUnsupported('union with wildcard table names', ts, 'feature');
        tables.push({ source: { kind: 'expr', expr: { kind: 'name', ...n, name }, start: ts, end: lastEnd }, operators: [], start: ts, end: lastEnd });
      }
    } while (parseOptional(','));
    const op: UnionOp = { kind: 'union', tables, start: s, end: lastEnd };
    const ws = params.get('withsource');
    if (ws) op.withSource = ws.value;
    const kind = params.get('kind');
    if (kind && kind.value !== 'outer') throw semanticUnsupported(`union kind=${kind.value}`, kind.start, 'feature');
    return op;
  }

  function parseMakeSeries(): MakeSeriesOp {
    const s = start();
    next();
    const params = parseOperatorParameters();
    for (const [k, v] of params) {
      if (k === 'kind' && v.value === 'nonempty') continue;
      if (!k.startsWith('hint.')) throw semanticUnsupported(`make-series ${k}=${v.value}`, v.start, 'feature');
    }
    const aggregates: MakeSeriesOp['aggregates'] = [];
    do {
      const item = parseNamedExpr(() => isWord('on')) as NamedExpr & { defaultValue?: Expr };
      if (isWord('default')) {
        next();
        expectPunct('=');
        item.defaultValue = parseExpression();
      }
      aggregates.push(item);
    } while (parseOptional(','));
    expectWord('on');
    // Above comparison precedence, so `on t in range(…)` keeps `in` for the range clause.
    const on = parseExpression(COMPARISON_PRECEDENCE + 1);
    const op: MakeSeriesOp = { kind: 'make-series', aggregates, on, step: on, by: [], start: s, end: lastEnd };
    if (params.get('kind')?.value === 'nonempty') op.nonempty = true;
    if (isWord('in')) {
      next();
      expectWord('range');
      expectPunct('(');
      op.from = parseExpression();
      expectPunct(',');
      op.to = parseExpression();
      expectPunct(',');
      op.step = parseExpression();
      expectPunct(')');
      op.inRange = true;
    } else {
      if (isWord('from')) {
        next();
        op.from = parseExpression();
      }
      if (isWord('to')) {
        next();
        op.to = parseExpression();
      }
      expectWord('step');
      op.step = parseExpression();
    }
    if (isWord('by')) {
      next();
      op.by = parseNamedExprList(() => false);
    }
    op.end = lastEnd;
    return op;
  }

  function parseTopNested(): TopNestedOp {
    const s = start();
    const levels: TopNestedLevel[] = [];
    for (;;) {
      const ls = start();
      expectWord('top-nested');
      const level = { start: ls } as TopNestedLevel;
      if (!isWord('of')) level.count = parseExpression(COMPARISON_PRECEDENCE + 1);
      expectWord('of');
      level.key = parseNamedExpr(() => false);
      if (isWord('with')) throw semanticUnsupported("top-nested 'with others'", start(), 'feature');
      expectWord('by');
      level.aggregate = parseNamedExpr(() => false);
      if (isWord('asc') || isWord('desc')) {
        level.direction = tokText() as 'asc' | 'desc';
        next();
      }
      level.end = lastEnd;
      levels.push(level);
      if (!(isPunct(',') && scanner.lookAhead(() => (scanner.scan(), scanner.getToken() === 'identifier' && scanner.getTokenText() === 'top-nested')))) break;
      next();
    }
    return { kind: 'top-nested', levels, start: s, end: lastEnd };
  }

  function parseParse(where: boolean): ParseOp {
    const s = start();
    next();
    const params = parseOperatorParameters();
    let parseKind: ParseOp['parseKind'] = 'simple';
    for (const [k, v] of params) {
      if (k === 'kind' && (v.value === 'simple' || v.value === 'regex' || v.value === 'relaxed')) parseKind = v.value;
      else if (!k.startsWith('hint.')) throw semanticUnsupported(`${where ? 'parse-where' : 'parse'} ${k}=${v.value}`, v.start, 'feature');
    }
    let flags: string | undefined;
    // `flags=` is read here only: as a general operator parameter it would shadow columns named `flags`.
    if (isWord('flags') && scanner.lookAhead(() => (scanner.scan(), scanner.getToken() === 'punct' && scanner.getTokenText() === '='))) {
      next();
      next();
      if (tok() !== 'identifier' && tok() !== 'string') throw error();
      flags = String(scanner.getTokenValue() ?? tokText());
      next();
    }
    const expr = parseExpression();
    expectWord('with');
    const elements: ParseElement[] = [];
    while (!(tok() === 'eof' || isPunct('|') || isPunct(';') || isPunct(')'))) {
      const es = start();
      if (isPunct('*')) {
        next();
        elements.push({ kind: 'star', start: es });
      } else if (tok() === 'string') {
        elements.push({ kind: 'text', value: String(scanner.getTokenValue()), start: es });
        next();
      } else if (isNameStart()) {
        const { name } = parseName();
        const el: ParseElement = { kind: 'column', name, start: es };
        if (parseOptional(':')) el.type = parseTypeName();
        elements.push(el);
      } else {
        throw error();
      }
    }
    if (elements.length === 0) throw error();
    const op: ParseOp = { kind: 'parse', where, parseKind, expr, elements, start: s, end: lastEnd };
    if (flags !== undefined) op.flags = flags;
    return op;
  }

  // ----- named expression lists -----

  function parseNamedExprList(stop: () => boolean): NamedExpr[] {
    const items: NamedExpr[] = [];
    do {
      if (stop()) break;
      items.push(parseNamedExpr(stop));
    } while (parseOptional(','));
    return items;
  }

  function parseNamedExpr(_stop: () => boolean): NamedExpr {
    const s = start();
    // name = expr | ['name'] = expr | (a, b) = expr
    if (isNameStart()) {
      const isAssignment = scanner.lookAhead(() => {
        try {
          parseName();
        } catch {
          return false;
        }
        return isPunct('=');
      });
      if (isAssignment) {
        const { name } = parseName();
        expectPunct('=');
        const expr = parseExpression();
        return { name, expr, start: s, end: lastEnd };
      }
    }
    if (isPunct('(')) {
      const names = scanner.lookAhead(() => {
        next();
        const list: string[] = [];
        try {
          do list.push(parseName().name);
          while (parseOptional(','));
        } catch {
          return undefined;
        }
        if (!isPunct(')')) return undefined;
        next();
        return isPunct('=') ? list : undefined;
      });
      if (names) {
        next();
        do parseName();
        while (parseOptional(','));
        expectPunct(')');
        expectPunct('=');
        const expr = parseExpression();
        return { names, expr, start: s, end: lastEnd };
      }
    }
    const expr = parseExpression();
    return { expr, start: s, end: lastEnd };
  }

  // ----- expressions -----

  function parseExpression(minPrecedence = 1): Expr {
    let left = parseUnary();
    for (let chain = 0; ; chain++) {
      if (chain > MAX_BINARY_CHAIN) throw semanticUnsupported(`An expression of more than ${MAX_BINARY_CHAIN} operators`, start(), 'feature');
      const opStart = start();
      let op: string | undefined;
      let precedence = 0;
      if (tok() === 'punct' && BINARY_PRECEDENCE[tokText()] !== undefined) {
        op = tokText();
        precedence = BINARY_PRECEDENCE[op]!;
      } else if ((tok() === 'identifier' && (tokText() === 'and' || tokText() === 'or'))) {
        op = tokText();
        precedence = BINARY_PRECEDENCE[op]!;
      } else if (isComparisonStart()) {
        op = tokText();
        precedence = COMPARISON_PRECEDENCE;
      }
      if (op === undefined || precedence < minPrecedence) return left;
      if (precedence === COMPARISON_PRECEDENCE) {
        left = parseComparisonRest(left, op, opStart);
        continue;
      }
      next();
      const right = parseExpression(precedence + 1);
      const node: BinaryExpr = { kind: 'binary', op, opStart, left, right, start: left.start, end: lastEnd };
      left = node;
    }
  }

  function isComparisonStart(): boolean {
    const t = tok();
    const x = tokText();
    if (t === 'punct') return COMPARISON_OPERATORS.has(x);
    if (t === 'identifier') return COMPARISON_OPERATORS.has(x) || x === 'in' || x === 'in~' || x === 'between' || x === 'has_any' || x === 'has_all';
    if (t === 'bangword') return COMPARISON_OPERATORS.has(x) || x === '!in' || x === '!in~' || x === '!between';
    return false;
  }

  function parseComparisonRest(left: Expr, op: string, opStart: number): Expr {
    next();
    if (op === 'in' || op === '!in' || op === 'in~' || op === '!in~' || op === 'has_any' || op === 'has_all') {
      expectPunct('(');
      const list: Expr[] = [];
      while (!isPunct(')')) {
        const ls = start();
        const p = parsePipeline();
        if (p.operators.length > 0) list.push({ kind: 'tabular', pipeline: p, start: ls, end: lastEnd });
        else if (p.source.kind === 'expr') list.push(p.source.expr);
        else if (p.source.kind === 'paren') list.push({ kind: 'tabular', pipeline: p.source.pipeline, start: ls, end: lastEnd });
        else list.push({ kind: 'tabular', pipeline: p, start: ls, end: lastEnd });
        if (!parseOptional(',')) break;
      }
      expectPunct(')');
      return { kind: 'in', op, left, list, start: left.start, end: lastEnd };
    }
    if (op === 'between' || op === '!between') {
      expectPunct('(');
      const low = parseExpression(4);
      expectPunct('..');
      const high = parseExpression(4);
      expectPunct(')');
      return { kind: 'between', negated: op === '!between', left, low, high, start: left.start, end: lastEnd };
    }
    let opName = op;
    if (op === 'matches') {
      expectWord('regex');
      opName = 'matches regex';
    }
    const right = parseExpression(COMPARISON_PRECEDENCE + 1);
    return { kind: 'binary', op: opName === '<>' ? '!=' : opName, opStart, left, right, start: left.start, end: lastEnd };
  }

  function parseUnary(): Expr {
    return nested(parseUnaryInner);
  }
  function parseUnaryInner(): Expr {
    const s = start();
    if (isPunct('-') || isPunct('+')) {
      const op = tokText() as '-' | '+';
      next();
      const operand = parseUnary();
      if (operand.kind === 'literal' && typeof operand.value === 'number' && op === '-') {
        return { ...operand, value: -operand.value, start: s };
      }
      return { kind: 'unary', op, operand, start: s, end: lastEnd };
    }
    return parsePostfix(parsePrimary());
  }

  function parsePostfix(target: Expr): Expr {
    for (;;) {
      if (isPunct('.')) {
        next();
        if (isPunct('[')) {
          next();
          const index = parseExpression();
          expectPunct(']');
          target = { kind: 'member', target, index, dotted: false, start: target.start, end: lastEnd };
          continue;
        }
        const ks = start();
        if (tok() !== 'identifier') throw error();
        const key = tokText();
        next();
        target = { kind: 'member', target, index: { kind: 'literal', type: 'string', value: key, start: ks, end: lastEnd }, dotted: true, start: target.start, end: lastEnd };
        continue;
      }
      if (isPunct('[')) {
        next();
        const index = parseExpression();
        expectPunct(']');
        target = { kind: 'member', target, index, dotted: false, start: target.start, end: lastEnd };
        continue;
      }
      return target;
    }
  }

  function parsePrimary(): Expr {
    const s = start();
    const t = tok();
    if (t === 'string') {
      const value = scanner.getTokenValue() as string;
      next();
      // Adjacent string literals concatenate.
      let v = value;
      while (tok() === 'string') {
        v += scanner.getTokenValue() as string;
        next();
      }
      return { kind: 'literal', type: 'string', value: v, start: s, end: lastEnd };
    }
    if (t === 'int' || t === 'real') {
      const value = scanner.getTokenValue() as number;
      next();
      return { kind: 'literal', type: t === 'int' ? 'long' : 'real', value, start: s, end: lastEnd };
    }
    if (t === 'timespan') {
      const value = scanner.getTokenValue() as number;
      next();
      return { kind: 'literal', type: 'timespan', value, start: s, end: lastEnd };
    }
    if (t === 'punct') {
      if (isPunct('(')) {
        next();
        const p = parsePipeline();
        expectPunct(')');
        if (p.operators.length === 0 && p.source.kind === 'expr') return p.source.expr;
        if (p.operators.length === 0 && p.source.kind === 'paren') return { kind: 'tabular', pipeline: p.source.pipeline, start: s, end: lastEnd };
        const tab: TabularExpr = { kind: 'tabular', pipeline: p, start: s, end: lastEnd };
        return tab;
      }
      if (isPunct('*')) {
        next();
        return { kind: 'star', start: s, end: lastEnd };
      }
      if (isNameStart()) {
        const n = parseName();
        return { kind: 'name', ...n };
      }
      throw error();
    }
    if (t === 'identifier') {
      const word = tokText();
      if (word === 'true' || word === 'false') {
        next();
        return { kind: 'literal', type: 'bool', value: word === 'true', start: s, end: lastEnd };
      }
      const isCall = scanner.lookAhead(() => (scanner.scan(), scanner.getToken() === 'punct' && scanner.getTokenText() === '('));
      if (isCall) return parseCallOrTypedLiteral(word, s);
      next();
      return { kind: 'name', name: word, bracketed: false, start: s, end: lastEnd };
    }
    throw error();
  }

  function parseCallOrTypedLiteral(word: string, s: number): Expr {
    const typed = KQL_TYPE_ALIASES[word];
    if (typed && word !== 'string') {
      next(); // name; current = '('
      if (typed === 'dynamic') {
        next();
        const json = parseDynamicValue();
        expectPunct(')');
        return { kind: 'literal', type: 'dynamic', value: json === 'null' ? null : json, start: s, end: lastEnd };
      }
      const raw = scanner.scanRawUntilCloseParen();
      if (!raw) throw error();
      next();
      return typedLiteral(typed, raw.text, raw.start, s);
    }
    next(); // name
    next(); // '('
    const args: Expr[] = [];
    while (!isPunct(')')) {
      const as = start();
      if (isPunct('*')) {
        next();
        args.push({ kind: 'star', start: as, end: lastEnd });
      } else {
        const p = parsePipeline();
        if (p.operators.length === 0 && p.source.kind === 'expr') args.push(p.source.expr);
        else args.push({ kind: 'tabular', pipeline: p.source.kind === 'paren' && p.operators.length === 0 ? p.source.pipeline : p, start: as, end: lastEnd });
      }
      if (!parseOptional(',')) break;
    }
    expectPunct(')');
    const call: CallExpr = { kind: 'call', name: word, nameStart: s, args, start: s, end: lastEnd };
    return call;
  }

  function typedLiteral(type: KqlType, raw: string, rawStart: number, s: number): Expr {
    const end = lastEnd;
    if (raw === 'null') return { kind: 'literal', type, value: null, start: s, end };
    const bad = () => createKqlError(text, 'InvalidLiteral', rawStart, [type, raw], raw);
    switch (type) {
      case 'datetime': {
        const ms = parseDatetimeText(raw);
        if (ms === undefined) throw bad();
        return { kind: 'literal', type, value: ms, start: s, end };
      }
      case 'timespan': {
        const ms = parseTimespanText(raw);
        if (ms === undefined) throw bad();
        return { kind: 'literal', type, value: ms, start: s, end };
      }
      case 'guid':
        if (!/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(raw)) throw bad();
        return { kind: 'literal', type, value: raw.toLowerCase(), start: s, end };
      case 'bool':
        if (!/^(true|false)$/i.test(raw)) throw bad();
        return { kind: 'literal', type, value: raw.toLowerCase() === 'true', start: s, end };
      case 'int':
      case 'long':
      case 'real':
      case 'decimal': {
        const n = Number(raw);
        if (raw === '' || Number.isNaN(n)) {
          if (type === 'real' && /^(nan|\+?inf|-inf)$/i.test(raw)) {
            return { kind: 'literal', type, value: /nan/i.test(raw) ? NaN : raw.startsWith('-') ? -Infinity : Infinity, start: s, end };
          }
          throw bad();
        }
        if ((type === 'int' || type === 'long') && !Number.isInteger(n)) throw bad();
        return { kind: 'literal', type, value: n, start: s, end };
      }
      default:
        throw bad();
    }
  }

  /** Parses the inside of `dynamic(…)` into canonical JSON text. */
  function parseDynamicValue(): string {
    return nested(parseDynamicValueInner);
  }
  function parseDynamicValueInner(): string {
    if (isPunct('[')) {
      next();
      const parts: string[] = [];
      while (!isPunct(']')) {
        parts.push(parseDynamicValue());
        if (!parseOptional(',')) break;
      }
      expectPunct(']');
      return `[${parts.join(',')}]`;
    }
    if (isPunct('{')) {
      next();
      const parts: string[] = [];
      while (!isPunct('}')) {
        if (tok() !== 'string' && tok() !== 'identifier') throw error();
        const key = String(scanner.getTokenValue());
        next();
        expectPunct(':');
        parts.push(`${JSON.stringify(key)}:${parseDynamicValue()}`);
        if (!parseOptional(',')) break;
      }
      expectPunct('}');
      return `{${parts.join(',')}}`;
    }
    const s = start();
    const e = parseUnary();
    if (e.kind === 'literal') {
      if (e.value === null) return 'null';
      if (e.type === 'datetime') return JSON.stringify(new Date(e.value as number).toISOString());
      if (e.type === 'dynamic') return String(e.value);
      if (typeof e.value === 'number' && !Number.isFinite(e.value)) throw createKqlError(text, 'InvalidLiteral', s, ['dynamic', text.slice(s, lastEnd)]);
      if (e.type === 'timespan') return JSON.stringify(e.value);
      return JSON.stringify(e.value);
    }
    if (e.kind === 'name' && e.name === 'null') return 'null';
    throw createKqlError(text, 'ParseError', s, [text.slice(s, lastEnd)], text.slice(s, lastEnd));
  }

  return { parseQuery };
}
