/**
 * Binder + lowering: walks the syntax tree with the table schemas, resolves names, infers Kusto result
 * names and types, and emits one SQLite statement as a chain of CTEs (one per pipeline stage).
 *
 * Every CTE exposes generated aliases `c0…cn` (plus `_o`, a serial row order, once the rows are
 * ordered); Kusto names live only in the binder, so no query text ever reaches the SQL as an identifier.
 */
import type {
  BetweenExpr, BinaryExpr, CallExpr, DatatableSource, Expr, InExpr, JoinOp, MakeSeriesOp, MemberExpr, MvExpandOp, NamedExpr, NameExpr,
  Operator, ParseOp, EvaluateOp, TopNestedOp, Pipeline, QueryNode, RangeSource, SortTerm, Source, SummarizeOp, UnionOp,
} from './ast.js';
import { createKqlError } from './errors.js';
import type { KqlDiagnosticName, KqlError } from './errors.js';
import { AGGREGATE_FUNCTIONS, MULTI_COLUMN_AGGREGATES, SCALAR_FUNCTIONS, UNSUPPORTED_FUNCTIONS } from './functions.js';
import type { FunctionContext } from './functions.js';
import { RENDER_PROPERTIES, RENDER_VISUALIZATIONS } from './render.js';
import { dynamicScalarSql, finalizeSql, INTEGER_TYPES, isNumeric, param, quoteIdent, toJsonSql, toStringSql } from './sql.js';
import type { Bound, ParamSink } from './sql.js';
import type { CompiledKql, KqlColumn, KqlCompileOptions, KqlTable, KqlType } from './types.js';

interface Col {
  name: string;
  type: KqlType;
  /** Alias inside its CTE (`c3`). */
  sql: string;
}

interface Rel {
  cte: string;
  cols: Col[];
  /** Rows carry `_o` (serial order). */
  ordered: boolean;
  /**
   * A query's final sort, left to the statement's own ORDER BY (SQL over `cte`'s columns) instead of a
   * ROW_NUMBER column: the planner can then take the order from an index and sorts at most once.
   */
  finalOrder?: string;
}

interface Scope {
  cols: Col[];
  qualifier?: string;
  ordered: boolean;
}

interface ExprContext {
  op: string;
  aggregates: boolean;
}

type LetBinding = { kind: 'scalar'; expr: Expr } | { kind: 'tabular'; rel: Rel };

const EMPTY_SCOPE: Scope = { cols: [], ordered: false };
/** Column patterns of typed `parse` captures (others match lazily and must convert). */
const PARSE_TYPE_PATTERNS: Partial<Record<KqlType, string>> = {
  int: '-?\\d+', long: '-?\\d+', real: '-?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?', decimal: '-?(?:\\d+(?:\\.\\d*)?|\\.\\d+)',
};
const PARSE_CONVERSIONS: Partial<Record<KqlType, string>> = {
  int: 'toint', long: 'tolong', real: 'toreal', decimal: 'todecimal', datetime: 'todatetime', timespan: 'totimespan', bool: 'tobool', guid: 'toguid',
};
/** Aggregates make-series accepts (Kusto: numeric results only). */
const MAKE_SERIES_AGGREGATES = new Set([
  'avg', 'avgif', 'count', 'countif', 'dcount', 'dcountif', 'max', 'maxif', 'min', 'minif', 'percentile', 'stdev', 'stdevif', 'stdevp',
  'sum', 'sumif', 'take_any', 'variance', 'varianceif', 'variancep',
]);
const RANGE_ROW_LIMIT = 10_000_000;
const BAG_UNPACK_MAX_COLUMNS = 1500;

/** Kusto column names and types of each comparison-level string operator → SQL builder. */
const STRING_OPERATORS: Record<string, { udf: string; negated: boolean }> = {};
for (const base of ['contains', 'has', 'hasprefix', 'hassuffix', 'startswith', 'endswith']) {
  STRING_OPERATORS[base] = { udf: base, negated: false };
  STRING_OPERATORS[`!${base}`] = { udf: base, negated: true };
  STRING_OPERATORS[`${base}_cs`] = { udf: `${base}_cs`, negated: false };
  STRING_OPERATORS[`!${base}_cs`] = { udf: `${base}_cs`, negated: true };
}

export function translateQuery(text: string, query: QueryNode, options: KqlCompileOptions): CompiledKql {
  const t = new Translator(text, options);
  return t.translate(query);
}

class Translator {
  private readonly sink: ParamSink = { params: [] };
  private readonly ctes: string[] = [];
  private readonly tables = new Map<string, KqlTable>();
  private readonly tableRels = new Map<string, Rel>();
  private readonly lets = new Map<string, LetBinding>();
  private render: Record<string, unknown> | undefined;
  private recursive = false;

  constructor(private readonly text: string, private readonly options: KqlCompileOptions) {
    for (const table of options.tables) this.tables.set(table.name, table);
  }

  // ----- errors and params -----

  private fail(name: KqlDiagnosticName, offset: number, args: ReadonlyArray<string | number>, token?: string): never {
    throw createKqlError(this.text, name, offset, args, token) as KqlError;
  }

  private param(value: unknown, type?: KqlType): string {
    return param(this.sink, value, type);
  }

  private emit(select: string): string {
    const name = `s${this.ctes.length + 1}`;
    this.ctes.push(`${name} AS (${select})`);
    return name;
  }

  /** Emits `SELECT items… [, _o] FROM from …` and returns the new relation. */
  private emitRel(items: Array<{ name: string; type: KqlType; sql: string }>, from: string, opts: { where?: string; groupBy?: string; orderBy?: string; limit?: string; order?: string; distinct?: boolean } = {}): Rel {
    const cols: Col[] = items.map((it, i) => ({ name: it.name, type: it.type, sql: `c${i}` }));
    const list = items.map((it, i) => `${it.sql} AS c${i}`);
    if (opts.order !== undefined) list.push(`${opts.order} AS _o`);
    let sql = `SELECT ${opts.distinct ? 'DISTINCT ' : ''}${list.length ? list.join(', ') : 'NULL AS _empty'} FROM ${from}`;
    if (opts.where) sql += ` WHERE ${opts.where}`;
    if (opts.groupBy) sql += ` GROUP BY ${opts.groupBy}`;
    if (opts.orderBy) sql += ` ORDER BY ${opts.orderBy}`;
    if (opts.limit) sql += ` LIMIT ${opts.limit}`;
    return { cte: this.emit(sql), cols, ordered: opts.order !== undefined };
  }

  private scopeOf(rel: Rel, qualifier?: string): Scope {
    const scope: Scope = { cols: rel.cols, ordered: rel.ordered };
    if (qualifier) scope.qualifier = qualifier;
    return scope;
  }

  private ref(scope: Scope, col: Col): string {
    return scope.qualifier ? `${scope.qualifier}.${col.sql}` : col.sql;
  }

  // ----- query -----

  translate(query: QueryNode): CompiledKql {
    let result: Rel | undefined;
    for (const stmt of query.statements) {
      if (stmt.kind === 'let') {
        const binding = this.bindLet(stmt.value);
        this.lets.set(stmt.name, binding);
        continue;
      }
      if (result) this.fail('Query', stmt.start, ['Only one tabular expression statement per query is supported by this emulator']);
      result = this.pipeline(stmt.pipeline, true);
    }
    if (!result) this.fail('NotTabular', query.end, []);
    const columns: KqlColumn[] = result.cols.map((c) => ({ name: c.name, type: c.type }));
    const orderBy = result.finalOrder ?? (result.ordered ? '_o' : undefined);
    const select = `SELECT ${result.cols.length ? result.cols.map((c) => c.sql).join(', ') : 'NULL'} FROM ${result.cte}${orderBy ? ` ORDER BY ${orderBy}` : ''}`;
    const raw = `${this.ctes.length ? `WITH ${this.recursive ? 'RECURSIVE ' : ''}${this.ctes.join(', ')} ` : ''}${select}`;
    const { sql, params } = finalizeSql(raw, this.sink);
    const compiled: CompiledKql = { sql, params, columns };
    if (this.render) compiled.render = this.render;
    return compiled;
  }

  private bindLet(value: Pipeline): LetBinding {
    if (value.operators.length === 0 && value.source.kind === 'expr') {
      const expr = value.source.expr;
      if (expr.kind === 'name') {
        const existing = this.lets.get(expr.name);
        if (existing) return existing;
        if (this.tables.has(expr.name)) return { kind: 'tabular', rel: this.tableRel(expr) };
      }
      if (expr.kind === 'tabular') return { kind: 'tabular', rel: this.pipeline(expr.pipeline, false) };
      if (expr.kind !== 'call' || !(expr.name === 'datatable')) return { kind: 'scalar', expr };
    }
    return { kind: 'tabular', rel: this.pipeline(value, false) };
  }

  private pipeline(p: Pipeline, topLevel: boolean): Rel {
    let rel = this.source(p.source, topLevel && p.operators.length === 0);
    // The query's last row-producing operator (a trailing render changes no rows).
    const last = p.operators.length - (p.operators.at(-1)?.kind === 'render' ? 2 : 1);
    for (let i = 0; i < p.operators.length; i++) {
      const op = p.operators[i]!;
      if (op.kind === 'render' && topLevel && i !== p.operators.length - 1) {
        this.fail('Query', op.start, ["'render' operator must be the last operator in the query"]);
      }
      rel = topLevel && i === last && op.kind === 'sort' ? this.finalSort(rel, op.terms) : this.operator(rel, op, topLevel);
      // A render right after sort/top: the service reports the rows as sorted (isQuerySorted).
      const before = p.operators[i - 1];
      if (op.kind === 'render' && topLevel && this.render && (before?.kind === 'sort' || before?.kind === 'top')) this.render.isQuerySorted = true;
    }
    return rel;
  }

  private source(src: Source, _alone: boolean): Rel {
    switch (src.kind) {
      case 'expr': {
        const e = src.expr;
        if (e.kind === 'name') {
          const binding = this.lets.get(e.name);
          if (binding?.kind === 'tabular') return binding.rel;
          if (binding?.kind === 'scalar') this.fail('NotTabular', e.start, []);
          if (this.tables.has(e.name)) return this.tableRel(e);
          return this.fail('UnresolvedTable', e.start, ['', e.name], e.name);
        }
        if (e.kind === 'tabular') return this.pipeline(e.pipeline, false);
        if (e.kind === 'call' && (e.name === 'table' || e.name === 'view')) {
          const arg = e.args[0];
          if (e.name === 'table' && arg?.kind === 'literal' && typeof arg.value === 'string') {
            return this.source({ kind: 'expr', expr: { kind: 'name', name: arg.value, bracketed: true, start: arg.start, end: arg.end }, start: src.start, end: src.end }, _alone);
          }
        }
        if (e.kind === 'call' && !SCALAR_FUNCTIONS[e.name] && !AGGREGATE_FUNCTIONS[e.name]) {
          if (UNSUPPORTED_FUNCTIONS.has(e.name) || e.name === 'app' || e.name === 'workspace' || e.name === 'resource' || e.name === 'cluster' || e.name === 'database' || e.name === 'externaldata') {
            this.fail('FunctionNotSupported', e.start, [e.name], e.name);
          }
          this.fail('UnresolvedTable', e.start, ['', e.name], e.name);
        }
        return this.fail('NotTabular', e.start, []);
      }
      case 'paren':
        return this.pipeline(src.pipeline, false);
      case 'print': {
        const items = src.items.map((it, i) => {
          const b = this.bind(it.expr, EMPTY_SCOPE, { op: 'print', aggregates: false });
          return { name: it.name ?? `print_${i}`, type: b.type, sql: b.sql };
        });
        return this.emitRel(uniqueNames(items), '(SELECT 1)');
      }
      case 'datatable':
        return this.datatable(src);
      case 'range':
        return this.range(src);
      case 'union-source':
        return this.union(undefined, src.op);
    }
  }

  private tableRel(e: NameExpr): Rel {
    const cached = this.tableRels.get(e.name);
    if (cached) return cached;
    const table = this.tables.get(e.name)!;
    const items = table.columns.map((c) => ({ name: c.name, type: c.type, sql: quoteIdent(c.name) }));
    let where: string | undefined;
    if (this.options.timespan && table.timeColumn) {
      const tc = quoteIdent(table.timeColumn);
      where = `${tc} >= ${this.param(this.options.timespan.startMs, 'datetime')} AND ${tc} < ${this.param(this.options.timespan.endMs, 'datetime')}`;
    }
    const rel = this.emitRel(items, quoteIdent(table.sqlName), where ? { where } : {});
    this.tableRels.set(e.name, rel);
    return rel;
  }

  private datatable(src: DatatableSource): Rel {
    const n = src.columns.length;
    if (n === 0 || src.values.length % n !== 0) this.fail('Query', src.start, [`datatable: expected a multiple of ${n} values, got ${src.values.length}`]);
    const rows: string[] = [];
    for (let r = 0; r < src.values.length / n; r++) {
      const cells = src.columns.map((col, c) => {
        const e = src.values[r * n + c]!;
        const b = this.bind(e, EMPTY_SCOPE, { op: 'datatable', aggregates: false });
        if (!b.constant) this.fail('ExpectedConstant', e.start, ['datatable', 'value']);
        return this.convertLiteral(b, col.type, e.start);
      });
      rows.push(`SELECT ${r} AS _o, ${cells.map((s, i) => `${s} AS c${i}`).join(', ')}`);
    }
    const cte = this.emit(rows.length ? rows.join(' UNION ALL ') : `SELECT 0 AS _o, ${src.columns.map((_, i) => `NULL AS c${i}`).join(', ')} WHERE 0`);
    return { cte, cols: src.columns.map((c, i) => ({ name: c.name, type: c.type, sql: `c${i}` })), ordered: true };
  }

  /** Brings a literal to a declared column type (datatable). */
  private convertLiteral(b: Bound, type: KqlType, offset: number): string {
    if (b.constant?.value === null) return 'NULL';
    if (b.type === type) return b.sql;
    if (isNumeric(type) && isNumeric(b.type)) return type === 'real' ? `CAST(${b.sql} AS REAL)` : b.sql;
    if (type === 'dynamic') return toJsonSql(b);
    if (type === 'string') return toStringSql(b);
    return this.fail('ArgumentType', offset, ['datatable', 1, type, b.type]);
  }

  private range(src: RangeSource): Rel {
    const ctx = { op: 'range', aggregates: false };
    const from = this.bind(src.from, EMPTY_SCOPE, ctx);
    const to = this.bind(src.to, EMPTY_SCOPE, ctx);
    const step = this.bind(src.step, EMPTY_SCOPE, ctx);
    this.recursive = true;
    const name = `s${this.ctes.length + 1}`;
    this.ctes.push(
      `${name}(c0, _o) AS (SELECT ${from.sql}, 1 WHERE ${from.sql} <= ${to.sql} UNION ALL SELECT c0 + ${step.sql}, _o + 1 FROM ${name} WHERE c0 + ${step.sql} <= ${to.sql} AND _o < ${RANGE_ROW_LIMIT})`,
    );
    const type: KqlType = from.type === 'int' ? 'long' : from.type;
    return { cte: name, cols: [{ name: src.column, type, sql: 'c0' }], ordered: true };
  }

  // ----- operators -----

  private operator(rel: Rel, op: Operator, topLevel: boolean): Rel {
    switch (op.kind) {
      case 'where': {
        const b = this.bind(op.predicate, this.scopeOf(rel), { op: 'where', aggregates: false });
        if (b.type !== 'bool') this.fail('Query', op.predicate.start, [`'where' operator: the predicate must be a Boolean expression, got '${b.type}'`]);
        return this.emitRel(passThrough(rel), rel.cte, { where: b.sql, ...keepOrder(rel) });
      }
      case 'project': {
        const scope = this.scopeOf(rel);
        const named = this.namedItems(op.items, scope, 'project');
        return this.emitRel(uniqueNames(named), rel.cte, keepOrder(rel));
      }
      case 'extend':
        return this.extend(rel, op.items, 'extend');
      case 'project-away':
      case 'project-keep': {
        const matchers = op.names.map((n) => {
          const m = wildcard(n.name);
          if (!n.name.includes('*') && !rel.cols.some((c) => c.name === n.name)) this.fail('UnresolvedName', n.start, [op.kind, n.name], n.name);
          return m;
        });
        const keep = rel.cols.filter((c) => matchers.some((m) => m(c.name)) === (op.kind === 'project-keep'));
        return this.emitRel(keep.map((c) => ({ name: c.name, type: c.type, sql: c.sql })), rel.cte, keepOrder(rel));
      }
      case 'project-rename': {
        const cols = rel.cols.map((c) => ({ name: c.name, type: c.type, sql: c.sql }));
        for (const it of op.items) {
          const col = cols.find((c) => c.name === it.old.name);
          if (!col) this.fail('UnresolvedName', it.old.start, ['project-rename', it.old.name], it.old.name);
          col.name = it.newName;
        }
        return this.emitRel(cols, rel.cte, keepOrder(rel));
      }
      case 'project-reorder': {
        const first: Col[] = [];
        for (const term of op.terms) {
          const m = wildcard(term.name.name);
          const hits = rel.cols.filter((c) => m(c.name) && !first.includes(c));
          if (hits.length === 0 && !term.name.name.includes('*')) this.fail('UnresolvedName', term.name.start, ['project-reorder', term.name.name], term.name.name);
          if (term.direction) hits.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) * (term.direction === 'desc' ? -1 : 1));
          first.push(...hits);
        }
        const cols = [...first, ...rel.cols.filter((c) => !first.includes(c))];
        return this.emitRel(cols.map((c) => ({ name: c.name, type: c.type, sql: c.sql })), rel.cte, keepOrder(rel));
      }
      case 'summarize':
        return this.summarize(rel, op);
      case 'sort':
        return this.sort(rel, op.terms, 'sort');
      case 'take': {
        const n = this.bind(op.count, EMPTY_SCOPE, { op: 'take', aggregates: false });
        if (!INTEGER_TYPES.has(n.type)) this.fail('ArgumentType', op.count.start, ['take', 1, 'an integer', n.type]);
        return this.emitRel(passThrough(rel), rel.cte, { limit: n.sql, ...keepOrder(rel), ...(rel.ordered ? { orderBy: '_o' } : {}) });
      }
      case 'top': {
        const n = this.bind(op.count, EMPTY_SCOPE, { op: 'top', aggregates: false });
        if (!INTEGER_TYPES.has(n.type)) this.fail('ArgumentType', op.count.start, ['top', 1, 'an integer', n.type]);
        const sorted = this.sort(rel, [op.term], 'top');
        return this.emitRel(passThrough(sorted), sorted.cte, { limit: n.sql, order: '_o', orderBy: '_o' });
      }
      case 'count':
        return this.emitRel([{ name: 'Count', type: 'long', sql: 'count(*)' }], rel.cte);
      case 'distinct': {
        if (op.star) return this.emitRel(passThrough(rel), rel.cte, { distinct: true });
        const named = this.namedItems(op.items, this.scopeOf(rel), 'distinct');
        return this.emitRel(uniqueNames(named), rel.cte, { distinct: true });
      }
      case 'join':
        return this.join(rel, op);
      case 'mv-expand':
        return this.mvExpand(rel, op);
      case 'render':
        if (!RENDER_VISUALIZATIONS.has(op.visualization)) this.fail('Query', op.start, [`'render' operator: unknown visualization '${op.visualization}'`]);
        for (const name of Object.keys(op.properties)) {
          if (!RENDER_PROPERTIES.has(name.toLowerCase())) this.fail('Query', op.start, [`'render' operator: unknown property '${name}'`]);
        }
        if (!topLevel) return rel;
        this.render = { visualization: op.visualization, ...op.properties };
        return rel;
      case 'union':
        return this.union(rel, op);
      case 'as':
        this.lets.set(op.name, { kind: 'tabular', rel });
        return rel;
      case 'serialize': {
        const ordered = rel.ordered ? rel : this.emitRel(passThrough(rel), rel.cte, { order: 'ROW_NUMBER() OVER ()' });
        return op.items.length ? this.extend(ordered, op.items, 'serialize') : ordered;
      }
      case 'getschema': {
        const rows = rel.cols.map((c, i) => `SELECT ${this.param(c.name)} AS c0, ${i} AS c1, ${this.param(DATA_TYPES[c.type])} AS c2, '${c.type}' AS c3, ${i} AS _o`);
        const cte = this.emit(rows.length ? rows.join(' UNION ALL ') : `SELECT NULL AS c0, NULL AS c1, NULL AS c2, NULL AS c3, 0 AS _o WHERE 0`);
        return {
          cte,
          cols: [
            { name: 'ColumnName', type: 'string', sql: 'c0' },
            { name: 'ColumnOrdinal', type: 'long', sql: 'c1' },
            { name: 'DataType', type: 'string', sql: 'c2' },
            { name: 'ColumnType', type: 'string', sql: 'c3' },
          ],
          ordered: true,
        };
      }
      case 'make-series':
        return this.makeSeries(rel, op);
      case 'parse':
        return this.parseOp(rel, op);
      case 'evaluate':
        return this.evaluate(rel, op);
      case 'top-nested':
        return this.topNested(rel, op);
    }
  }

  /**
   * top-nested: level i groups the rows kept by level i-1 by (k1…ki), ranks each group's aggregate
   * within its parent (ROW_NUMBER, desc by default) and keeps the first N. Output: k1, aggregated_k1, k2, …
   */
  private topNested(rel: Rel, op: TopNestedOp): Rel {
    const scope = this.scopeOf(rel);
    const ctx = { op: 'top-nested', aggregates: false };
    let counter = 1;
    const levels = op.levels.map((level) => {
      if (level.key.names || level.aggregate.names) this.fail('FeatureNotSupported', level.start, ['Tuple assignment (a, b) = …']);
      const key = this.bind(level.key.expr, scope, ctx);
      const keyName = level.key.name ?? deriveName(level.key.expr) ?? `Column${counter++}`;
      const agg = this.bind(level.aggregate.expr, scope, { op: 'top-nested', aggregates: true });
      if (!agg.aggregate) this.fail('NotAggregate', level.aggregate.expr.start, [this.text.slice(level.aggregate.expr.start, level.aggregate.expr.end)]);
      let count: string | undefined;
      if (level.count) {
        const n = this.bind(level.count, EMPTY_SCOPE, ctx);
        if (!INTEGER_TYPES.has(n.type)) this.fail('ArgumentType', level.count.start, ['top-nested', 1, 'an integer', n.type]);
        count = n.sql;
      }
      return { key, keyName, agg, aggName: level.aggregate.name ?? `aggregated_${keyName}`, count, direction: level.direction ?? 'desc' };
    });
    const base = this.emit(`SELECT ${[...rel.cols.map((c) => c.sql), ...levels.map((l, i) => `${l.key.sql} AS _k${i}`)].join(', ')} FROM ${rel.cte}`);
    let prev: string | undefined;
    levels.forEach((l, i) => {
      const keys = Array.from({ length: i + 1 }, (_, j) => `b._k${j}`);
      const parentAggs = Array.from({ length: i }, (_, j) => `p._a${j}`);
      const join = prev ? ` JOIN ${prev} p ON ${Array.from({ length: i }, (_, j) => `b._k${j} IS p._k${j}`).join(' AND ')}` : '';
      // The aggregate's column references are unqualified: only base (b) has c0…cn.
      const grouped = this.emit(
        `SELECT ${[...keys.map((k, j) => `${k} AS _k${j}`), ...parentAggs.map((a, j) => `${a} AS _a${j}`), `${l.agg.sql} AS _a${i}`].join(', ')} FROM ${base} b${join} GROUP BY ${[...keys, ...parentAggs].join(', ')}`,
      );
      const partition = i ? `PARTITION BY ${Array.from({ length: i }, (_, j) => `_k${j}`).join(', ')} ` : '';
      const ranked = this.emit(`SELECT *, ROW_NUMBER() OVER (${partition}ORDER BY _a${i} ${l.direction.toUpperCase()} NULLS LAST) AS _r FROM ${grouped}`);
      prev = this.emit(`SELECT ${[...Array.from({ length: i + 1 }, (_, j) => `_k${j}`), ...Array.from({ length: i + 1 }, (_, j) => `_a${j}`)].join(', ')} FROM ${ranked}${l.count ? ` WHERE _r <= ${l.count}` : ''}`);
    });
    const items = uniqueNames(levels.flatMap((l, i) => [
      { name: l.keyName, type: l.key.type, sql: `_k${i}` },
      { name: l.aggName, type: l.agg.type, sql: `_a${i}` },
    ]));
    return this.emitRel(items, prev!);
  }

  /**
   * parse / parse-where: the pattern becomes one JS regex (anchored at the start; `*` and string
   * columns are `.*?`, a trailing column takes the rest; typed columns use a digit pattern for numbers),
   * run once per row by kql_parse (captures as a JSON array). simple/regex are strict (one failed
   * conversion → every column null / ''); relaxed converts each column alone.
   */
  private parseOp(rel: Rel, op: ParseOp): Rel {
    const opName = op.where ? 'parse-where' : 'parse';
    const scope = this.scopeOf(rel);
    const source = toStr(this.bind(op.expr, scope, { op: opName, aggregates: false }));
    if (op.flags !== undefined && op.parseKind !== 'regex') this.fail('Query', op.start, [`'${opName}' operator: flags= needs kind=regex`]);
    const flags = op.flags ?? '';
    if (/[^imsU]/.test(flags)) this.fail('Query', op.start, [`'${opName}' operator: unknown regex flag in '${flags}'`]);
    if (flags.includes('U')) this.fail('FeatureNotSupported', op.start, [`'${opName}' flags=U (ungreedy)`]);
    let pattern = '^';
    const columns: Array<{ name: string; type: KqlType; start: number }> = [];
    op.elements.forEach((el, i) => {
      const last = i === op.elements.length - 1;
      const prev = op.elements[i - 1];
      if (el.kind === 'star') {
        if (prev?.kind === 'column' && (prev.type ?? 'string') === 'string') this.fail('Query', el.start, [`'${opName}' operator: '*' cannot follow the string column '${prev.name}'`]);
        pattern += '.*?';
      } else if (el.kind === 'text') {
        pattern += op.parseKind === 'regex' ? el.value.replace(/\(\?P</g, '(?<') : el.value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      } else {
        const type = el.type ?? 'string';
        if (type === 'dynamic') this.fail('FeatureNotSupported', el.start, [`'${opName}' into a dynamic column`]);
        const typed = op.parseKind === 'relaxed' ? '.*?' : PARSE_TYPE_PATTERNS[type] ?? '.*?';
        pattern += `(?<kqlp${columns.length}>${last && typed === '.*?' ? '.*' : typed})`;
        columns.push({ name: el.name, type, start: el.start });
      }
    });
    if (columns.length === 0) this.fail('Query', op.start, [`'${opName}' operator: the pattern extracts no column`]);
    try {
      new RegExp(pattern, `${flags}u`);
    } catch (err) {
      this.fail('Query', op.elements[0]!.start, [`'${opName}' operator: invalid regular expression: ${err instanceof Error ? err.message : String(err)}`]);
    }
    const matched = this.emitRel(
      [...passThrough(rel), { name: '_p', type: 'dynamic', sql: `kql_parse(${source}, ${this.param(pattern)}, ${this.param(flags)})` }],
      rel.cte,
      keepOrder(rel),
    );
    const p = matched.cols[matched.cols.length - 1]!.sql;
    const values = columns.map((c, i) => {
      const raw: Bound = { sql: `(${p} ->> '$[${i}]')`, type: 'string' };
      if (c.type === 'string') return raw.sql;
      const conv = PARSE_CONVERSIONS[c.type]!;
      return SCALAR_FUNCTIONS[conv]!.bind([raw], this.fnContext(conv, op.expr, EMPTY_SCOPE)).sql;
    });
    const strict = op.parseKind !== 'relaxed';
    const ok = [`${p} IS NOT NULL`, ...(strict ? values.filter((_, i) => columns[i]!.type !== 'string').map((v) => `${v} IS NOT NULL`) : [])].join(' AND ');
    const out = rel.cols.map((c) => ({ name: c.name, type: c.type, sql: c.sql }));
    columns.forEach((c, i) => {
      const sql = c.type === 'string' ? `(CASE WHEN ${ok} THEN coalesce(${values[i]}, '') ELSE '' END)` : `(CASE WHEN ${ok} THEN ${values[i]} END)`;
      const existing = out.find((o) => o.name === c.name);
      if (existing) Object.assign(existing, { type: c.type, sql });
      else out.push({ name: c.name, type: c.type, sql });
    });
    return this.emitRel(out, matched.cte, { ...keepOrder(rel), ...(op.where ? { where: ok } : {}) });
  }

  private evaluate(rel: Rel, op: EvaluateOp): Rel {
    if (op.plugin !== 'bag_unpack') return this.fail('OperatorNotSupported', op.pluginStart, [`evaluate ${op.plugin}`], op.plugin);
    return this.bagUnpack(rel, op);
  }

  /**
   * evaluate bag_unpack(col [, prefix] [, columnsConflict] [, ignoredProperties]). Its columns depend
   * on the data, so compiling runs a first pass: the query so far, reduced to the distinct keys of
   * `col` and the JSON types seen per key (options.probe). New columns are sorted by name; a key whose
   * values are all strings / integers / numbers / booleans gets that type, otherwise dynamic.
   */
  private bagUnpack(rel: Rel, op: EvaluateOp): Rel {
    const ctx = { op: 'bag_unpack', aggregates: false };
    const named = { ...op.named };
    const take = (name: string, positional: Expr | undefined) => {
      const e = named[name];
      delete named[name];
      return e ?? positional;
    };
    const colArg = op.args[0];
    const prefixArg = take('OutputColumnPrefix', op.args[1]);
    const conflictArg = take('columnsConflict', op.args[2]);
    const ignoredArg = take('ignoredProperties', op.args[3]);
    const unknown = Object.keys(named)[0];
    if (unknown !== undefined) this.fail('Query', named[unknown]!.start, [`bag_unpack: unknown argument '${unknown}'`]);
    if (!colArg || op.args.length > 4) this.fail('ArgumentCount', op.pluginStart, ['bag_unpack', '1..4'], 'bag_unpack');
    const scope = this.scopeOf(rel);
    const bag = this.bind(colArg, scope, ctx);
    if (bag.type !== 'dynamic') this.fail('ArgumentType', colArg.start, ['bag_unpack', 1, 'a dynamic column', bag.type]);
    const constantString = (e: Expr | undefined, what: string): string | undefined => {
      if (!e) return undefined;
      const b = this.bind(e, EMPTY_SCOPE, ctx);
      if (b.type !== 'string' || typeof b.constant?.value !== 'string') return this.fail('ExpectedConstant', e.start, ['bag_unpack', `string ${what}`]);
      return b.constant.value;
    };
    const prefix = constantString(prefixArg, 'prefix') ?? '';
    const conflict = constantString(conflictArg, 'columnsConflict') ?? 'error';
    if (!['error', 'replace_source', 'keep_source'].includes(conflict)) this.fail('Query', conflictArg!.start, [`bag_unpack: columnsConflict must be 'error', 'replace_source' or 'keep_source', got '${conflict}'`]);
    let ignored: string[] = [];
    if (ignoredArg) {
      const b = this.bind(ignoredArg, EMPTY_SCOPE, ctx);
      const list = b.type === 'dynamic' && typeof b.constant?.value === 'string' ? safeJson(b.constant.value) : undefined;
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) return this.fail('ExpectedConstant', ignoredArg.start, ['bag_unpack', 'dynamic array of strings (ignoredProperties)']);
      ignored = list as string[];
    }
    if (!this.options.probe) {
      return this.fail('Query', op.pluginStart, ['bag_unpack: its columns depend on the data; run the query with executeKql (a database) to discover them']);
    }
    // First pass: keys and the JSON types of their values, over the rows reaching this operator.
    const probe = finalizeSql(
      `${this.ctes.length ? `WITH ${this.recursive ? 'RECURSIVE ' : ''}${this.ctes.join(', ')} ` : ''}SELECT je.key, group_concat(DISTINCT je.type) FROM (SELECT ${bag.sql} AS b FROM ${rel.cte}) t, json_each(CASE WHEN json_type(t.b) = 'object' THEN t.b END) je GROUP BY je.key`,
      this.sink,
    );
    const found = this.options.probe(probe.sql, probe.params) as Array<[string, string | null]>;
    const keys = found.filter(([k]) => !ignored.includes(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    // SQLite's column limit is 2000 per SELECT.
    if (keys.length + rel.cols.length > BAG_UNPACK_MAX_COLUMNS) this.fail('Query', op.pluginStart, [`bag_unpack: ${keys.length} distinct properties exceed this emulator's ${BAG_UNPACK_MAX_COLUMNS}-column limit; project the keys you need`]);
    const bagColName = colArg.kind === 'name' ? colArg.name : undefined;
    const out = rel.cols.filter((c) => c.name !== bagColName).map((c) => ({ name: c.name, type: c.type, sql: c.sql }));
    const path = (key: string) => this.param(`$."${key.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
    for (const [key, typesText] of keys) {
      const types = new Set((typesText ?? '').split(',').filter((t) => t !== 'null'));
      const value = `(${bag.sql} -> ${path(key)})`;
      let col: { type: KqlType; sql: string };
      if (types.size === 1 && types.has('text')) col = { type: 'string', sql: `coalesce(${bag.sql} ->> ${path(key)}, '')` };
      else if (types.size === 1 && types.has('integer')) col = { type: 'long', sql: `(${bag.sql} ->> ${path(key)})` };
      else if (types.size > 0 && [...types].every((t) => t === 'integer' || t === 'real')) col = { type: 'real', sql: `CAST(${bag.sql} ->> ${path(key)} AS REAL)` };
      else if (types.size > 0 && [...types].every((t) => t === 'true' || t === 'false')) col = { type: 'bool', sql: `(${bag.sql} ->> ${path(key)})` };
      else col = { type: 'dynamic', sql: `(CASE WHEN ${value} IS NULL OR json_type(${bag.sql}, ${path(key)}) = 'null' THEN NULL ELSE ${value} END)` };
      const name = prefix + key;
      const clash = out.findIndex((c) => c.name === name);
      if (clash >= 0) {
        if (conflict === 'error') this.fail('Query', op.pluginStart, [`bag_unpack: the property '${key}' clashes with the existing column '${name}' (columnsConflict='error')`]);
        if (conflict === 'keep_source') continue;
        out.splice(clash, 1);
      }
      out.push({ name, ...col });
    }
    return this.emitRel(out, rel.cte, keepOrder(rel));
  }

  /**
   * make-series: one CTE of bounds (start, step, bin count), one of per-(keys, bin) aggregates, a
   * recursive CTE of bin indexes, then keys × bins LEFT JOIN aggregates folded with json_group_array.
   * `from`: bins start + k·step (bin_at); no `from`: bin(min(axis), step); no `to`: through the bin of
   * max(axis); `in range(a, b, s)`: bin(a, s) … bin(b, s) inclusive. Groups come from the rows in range,
   * so empty input gives no row (Kusto), unless `kind=nonempty` without a by-clause.
   */
  private makeSeries(rel: Rel, op: MakeSeriesOp): Rel {
    const scope = this.scopeOf(rel);
    const ctx = { op: 'make-series', aggregates: false };
    const axis = this.bind(op.on, scope, ctx);
    const temporal = axis.type === 'datetime' || axis.type === 'timespan';
    if (!temporal && !isNumeric(axis.type)) this.fail('ArgumentType', op.on.start, ['make-series', 'on', 'a datetime, timespan or numeric column', axis.type]);
    const step = this.bind(op.step, EMPTY_SCOPE, ctx);
    const stepOk = temporal ? step.type === 'timespan' : isNumeric(step.type);
    if (!stepOk) this.fail('ArgumentType', op.step.start, ['make-series', 'step', temporal ? 'a timespan' : 'a number', step.type]);
    if (typeof step.constant?.value === 'number' && step.constant.value <= 0) this.fail('Query', op.step.start, ["'make-series' operator: step must be positive"]);
    const bound = (e: Expr | undefined, what: string) => {
      if (!e) return undefined;
      const b = this.bind(e, EMPTY_SCOPE, ctx);
      const ok = b.type === axis.type || (isNumeric(b.type) && isNumeric(axis.type));
      if (!ok) this.fail('ArgumentType', e.start, ['make-series', what, axis.type, b.type]);
      return b;
    };
    const from = bound(op.from, 'from');
    const to = bound(op.to, 'to');

    let counter = 1;
    const keys = op.by.map((it) => {
      if (it.names) this.fail('FeatureNotSupported', it.start, ['Tuple assignment (a, b) = …']);
      const b = this.bind(it.expr, scope, ctx);
      return { name: it.name ?? deriveName(it.expr) ?? `Column${counter++}`, type: b.type, sql: b.sql };
    });
    this.checkDuplicateNames([...op.by, ...op.aggregates.filter((a) => a.name !== undefined)], 'make-series');
    const aggs = op.aggregates.map((it) => {
      const e = it.expr;
      if (e.kind !== 'call' || !MAKE_SERIES_AGGREGATES.has(e.name)) {
        const name = e.kind === 'call' ? e.name : this.text.slice(e.start, e.end);
        return this.fail('Query', e.start, [`'make-series' operator: '${name}' is not an aggregation function make-series accepts (${[...MAKE_SERIES_AGGREGATES].join(', ')})`]);
      }
      const b = this.bind(e, scope, { op: 'make-series', aggregates: true });
      if (!isNumeric(b.type)) this.fail('Query', e.start, [`'make-series' operator: aggregates must return numbers; '${e.name}' returns '${b.type}'`]);
      let def: Bound = { sql: '0', type: 'long', constant: { value: 0 } };
      if (it.defaultValue) {
        def = this.bind(it.defaultValue, EMPTY_SCOPE, ctx);
        if (!def.constant) this.fail('ExpectedConstant', it.defaultValue.start, ['make-series default', 'value']);
      }
      return { name: it.name ?? deriveName(e) ?? `Column${counter++}`, value: b, def };
    });
    const axisName = deriveName(op.on) ?? `Column${counter++}`;

    // Bounds: lo (first bin), st (step), n (bin count).
    const integral = axis.type !== 'real' && axis.type !== 'decimal' && step.type !== 'real' && step.type !== 'decimal';
    const binOf = (x: string) => SCALAR_FUNCTIONS['bin']!.bind([{ sql: x, type: axis.type }, step], this.fnContext('bin', op.on, EMPTY_SCOPE)).sql;
    const ax = axis.sql;
    const mm = this.emit(`SELECT min(${ax}) AS mn, max(${ax}) AS mx FROM ${rel.cte}`);
    const lo = op.inRange ? binOf(from!.sql) : from ? from.sql : binOf('mn');
    // hi: exclusive upper bound.
    const hi = op.inRange ? `(${binOf(to!.sql)} + ${step.sql})` : to ? to.sql : `(lo + (${integral ? '(mx - lo) / st' : 'floor((mx - lo) * 1.0 / st)'} + 1) * st)`;
    const inner = this.emit(`SELECT ${lo} AS lo, ${step.sql} AS st, mn, mx FROM ${mm}`);
    const bounds = this.emit(
      `SELECT lo, st, (CASE WHEN st > 0 AND ${hi} > lo THEN CAST(ceil((${hi} - lo) * 1.0 / st) AS INTEGER) ELSE 0 END) AS n FROM ${inner}`,
    );
    const binIndex = integral ? `((${ax} - bd.lo) / bd.st)` : `CAST(floor((${ax} - bd.lo) * 1.0 / bd.st) AS INTEGER)`;
    const groupList = [...keys.map((k, i) => `${k.sql} AS k${i}`), `${binIndex} AS _b`, ...aggs.map((a, i) => `${a.value.sql} AS a${i}`)];
    const grouped = this.emit(
      `SELECT ${groupList.join(', ')} FROM ${rel.cte}, ${bounds} bd WHERE ${ax} >= bd.lo AND ${ax} < bd.lo + bd.n * bd.st GROUP BY ${[...keys.map((_, i) => `k${i}`), '_b'].join(', ')}`,
    );
    this.recursive = true;
    const bins = `s${this.ctes.length + 1}`;
    this.ctes.push(`${bins}(k) AS (SELECT 0 FROM ${bounds} WHERE n > 0 UNION ALL SELECT k + 1 FROM ${bins}, ${bounds} WHERE k + 1 < n AND k < ${RANGE_ROW_LIMIT})`);
    const series = keys.length
      ? this.emit(`SELECT DISTINCT ${keys.map((_, i) => `k${i}`).join(', ')} FROM ${grouped}`)
      : this.emit(op.nonempty ? 'SELECT 1 AS k' : `SELECT 1 AS k FROM ${grouped} LIMIT 1`);
    const on = keys.map((_, i) => `g.k${i} IS ks.k${i}`).concat('g._b = b.k').join(' AND ');
    const element = (a: (typeof aggs)[number], i: number) =>
      `json_group_array(json(CASE WHEN g._b IS NULL THEN ${toJsonSql(a.def)} ELSE ${toJsonSql({ sql: `g.a${i}`, type: a.value.type })} END) ORDER BY b.k)`;
    const axisValue = `bd.lo + b.k * bd.st`;
    const axisJson = axis.type === 'datetime' ? `json_quote(kql_datetime_json(${axisValue}))` : axis.type === 'timespan' ? `json_quote(kql_timespan_tostring(${axisValue}))` : `json_quote(${axisValue})`;
    const items = uniqueNames([
      ...keys.map((k, i) => ({ name: k.name, type: k.type, sql: `ks.k${i}` })),
      ...aggs.map((a, i) => ({ name: a.name, type: 'dynamic' as KqlType, sql: element(a, i) })),
      { name: axisName, type: 'dynamic' as KqlType, sql: `json_group_array(json(${axisJson}) ORDER BY b.k)` },
    ]);
    const groupBy = keys.length ? keys.map((_, i) => `ks.k${i}`).join(', ') : 'ks.k';
    return this.emitRel(items, `${series} ks CROSS JOIN ${bins} b CROSS JOIN ${bounds} bd LEFT JOIN ${grouped} g ON ${on}`, { groupBy });
  }

  private namedItems(items: NamedExpr[], scope: Scope, opName: string): Array<{ name: string; type: KqlType; sql: string }> {
    let counter = 1;
    this.checkDuplicateNames(items, opName);
    return items.map((it) => {
      if (it.names) this.fail('FeatureNotSupported', it.start, ['Tuple assignment (a, b) = …']);
      if (it.expr.kind === 'star') this.fail('FeatureNotSupported', it.start, [`'*' in '${opName}'`]);
      const b = this.bind(it.expr, scope, { op: opName, aggregates: false });
      const name = it.name ?? deriveName(it.expr) ?? `Column${counter++}`;
      return { name, type: b.type, sql: b.sql };
    });
  }

  /** Explicit names (`x = …`) and plain column references may not repeat (Kusto KS171). */
  private checkDuplicateNames(items: NamedExpr[], opName: string, taken: Set<string> = new Set()): void {
    for (const it of items) {
      const name = it.name ?? (it.expr.kind === 'name' ? it.expr.name : undefined);
      if (name === undefined) continue;
      if (taken.has(name)) this.fail('DuplicateColumn', it.start, [opName, name], name);
      taken.add(name);
    }
  }

  private extend(rel: Rel, items: NamedExpr[], opName: string): Rel {
    const scope = this.scopeOf(rel);
    const out = rel.cols.map((c) => ({ name: c.name, type: c.type, sql: c.sql }));
    let counter = 1;
    for (const it of items) {
      if (it.names) this.fail('FeatureNotSupported', it.start, ['Tuple assignment (a, b) = …']);
      const b = this.bind(it.expr, scope, { op: opName, aggregates: false });
      const explicit = it.name ?? deriveName(it.expr);
      if (explicit !== undefined) {
        const existing = out.find((c) => c.name === explicit);
        if (existing) {
          existing.type = b.type;
          existing.sql = b.sql;
        } else {
          out.push({ name: explicit, type: b.type, sql: b.sql });
        }
      } else {
        out.push({ name: makeUnique(`Column${counter++}`, new Set(out.map((c) => c.name))), type: b.type, sql: b.sql });
      }
    }
    return this.emitRel(out, rel.cte, keepOrder(rel));
  }

  private sort(rel: Rel, terms: SortTerm[], opName: string): Rel {
    return this.numbered(rel, this.sortTerms(rel, terms, opName));
  }

  /** `rel` with its serial order (`_o`) numbered by ORDER BY `parts`. */
  private numbered(rel: Rel, parts: string[]): Rel {
    return this.emitRel(passThrough(rel), rel.cte, { order: `ROW_NUMBER() OVER (ORDER BY ${parts.join(', ')})` });
  }

  /** The ORDER BY terms of a sort over `rel` (its earlier order breaks ties: Kusto's sort is stable). */
  private sortTerms(rel: Rel, terms: SortTerm[], opName: string): string[] {
    const scope = this.scopeOf(rel);
    const parts = terms.map((t) => {
      const b = this.bind(t.expr, scope, { op: opName, aggregates: false });
      const dir = t.direction ?? 'desc';
      const nulls = t.nulls ?? (dir === 'asc' ? 'first' : 'last');
      const key = b.type === 'dynamic' ? dynamicScalarSql(b.sql) : b.sql;
      return `${key} ${dir.toUpperCase()} NULLS ${nulls.toUpperCase()}`;
    });
    if (rel.ordered) parts.push('_o');
    return parts;
  }

  /**
   * The query's last sort: same rows and columns, ordered by the statement's ORDER BY. A key whose SQL is
   * an integer literal would name a result column there, so such a sort keeps the ROW_NUMBER form.
   */
  private finalSort(rel: Rel, terms: SortTerm[]): Rel {
    const parts = this.sortTerms(rel, terms, 'sort');
    if (parts.some((p) => /^[(\s]*[-+]?\d/.test(p))) return this.numbered(rel, parts);
    return { ...rel, finalOrder: parts.join(', ') };
  }

  private summarize(rel: Rel, op: SummarizeOp): Rel {
    const scope = this.scopeOf(rel);
    let counter = 1;
    const keys = op.by.map((it) => {
      if (it.names) this.fail('FeatureNotSupported', it.start, ['Tuple assignment (a, b) = …']);
      const b = this.bind(it.expr, scope, { op: 'summarize', aggregates: false });
      return { name: it.name ?? deriveName(it.expr) ?? `Column${counter++}`, type: b.type, sql: b.sql };
    });
    const keyNames = new Set(keys.map((k) => k.name));
    this.checkDuplicateNames([...op.by, ...op.aggregates.filter((a) => a.name !== undefined)], 'summarize');
    const aggs: Array<{ name: string; type: KqlType; sql: string }> = [];
    let from = rel.cte;
    let argIndex = 0;
    for (const it of op.aggregates) {
      const e = it.expr;
      if (e.kind === 'call' && MULTI_COLUMN_AGGREGATES.has(e.name)) {
        if (e.name === 'percentiles') {
          if (e.args.length < 2) this.fail('ArgumentCount', e.start, ['percentiles', 'at least 2']);
          const x = this.bind(e.args[0]!, scope, { op: 'summarize', aggregates: false });
          const xName = deriveName(e.args[0]!) ?? '';
          e.args.slice(1).forEach((pe, i) => {
            const p = this.bind(pe, EMPTY_SCOPE, { op: 'summarize', aggregates: false });
            const def = AGGREGATE_FUNCTIONS['percentile']!;
            const res = def.bind([x, p], this.fnContext('percentiles', e, scope));
            const pv = p.constant?.value as number;
            aggs.push({ name: it.names?.[i] ?? `percentile_${xName}_${formatPercentileName(pv)}`, type: res.type, sql: res.sql });
          });
          continue;
        }
        // arg_max / arg_min: rank rows per group in a window stage, then pick the top-ranked row's values.
        if (e.args.length < 2) this.fail('ArgumentCount', e.start, [e.name, 'at least 2']);
        const by = this.bind(e.args[0]!, scope, { op: 'summarize', aggregates: false });
        if (by.type === 'dynamic' || by.type === 'guid') this.fail('ArgumentType', e.args[0]!.start, [e.name, 1, 'an orderable value', by.type]);
        const rank = `_r${argIndex++}`;
        const partition = keys.length ? `PARTITION BY ${keys.map((k) => k.sql).join(', ')} ` : '';
        const dir = e.name === 'arg_max' ? 'DESC' : 'ASC';
        const list = [...rel.cols.map((c) => c.sql), ...(rel.ordered ? ['_o'] : []), ...Array.from({ length: argIndex - 1 }, (_, i) => `_r${i}`)];
        from = this.emit(`SELECT ${list.join(', ')}, ROW_NUMBER() OVER (${partition}ORDER BY ${by.sql} ${dir} NULLS LAST) AS ${rank} FROM ${from}`);
        const outs: Array<{ name: string; type: KqlType; sql: string }> = [];
        const byName = deriveName(e.args[0]!) ?? `${e.name === 'arg_max' ? 'max' : 'min'}_`;
        outs.push({ name: byName, type: by.type, sql: by.sql });
        for (const a of e.args.slice(1)) {
          if (a.kind === 'star') {
            for (const c of rel.cols) {
              if (c.name === byName || keyNames.has(c.name) || (e.args[0]!.kind === 'name' && c.sql === by.sql)) continue;
              outs.push({ name: c.name, type: c.type, sql: c.sql });
            }
          } else {
            const b = this.bind(a, scope, { op: 'summarize', aggregates: false });
            outs.push({ name: deriveName(a) ?? `Column${counter++}`, type: b.type, sql: b.sql });
          }
        }
        outs.forEach((o, i) => aggs.push({ name: it.names?.[i] ?? (i === 0 && it.name ? it.name : o.name), type: o.type, sql: `max(CASE WHEN ${rank} = 1 THEN ${o.sql} END)` }));
        continue;
      }
      if (it.names) this.fail('FeatureNotSupported', it.start, ['Tuple assignment (a, b) = …']);
      const b = this.bind(e, scope, { op: 'summarize', aggregates: true });
      if (!b.aggregate) this.fail('NotAggregate', e.start, [this.text.slice(e.start, e.end)]);
      aggs.push({ name: it.name ?? deriveName(e) ?? `Column${counter++}`, type: b.type, sql: b.sql });
    }
    const items = uniqueNames([...keys, ...aggs]);
    const groupBy = keys.length ? keys.map((_, i) => String(i + 1)).join(', ') : undefined;
    return this.emitRel(items, from, groupBy ? { groupBy } : {});
  }

  private join(left: Rel, op: JoinOp): Rel {
    const kind = op.joinKind;
    const kinds = ['inner', 'innerunique', 'leftouter', 'rightouter', 'fullouter', 'leftanti', 'leftsemi', 'rightanti', 'rightsemi', 'leftantisemi', 'rightantisemi', 'anti', 'semi'];
    if (!kinds.includes(kind)) this.fail('JoinKey', op.kindStart, [`unknown join kind '${kind}'`], kind);
    const right = this.pipeline(op.right, false);
    const ls = this.scopeOf(left, 'l');
    const rs = this.scopeOf(right, 'r');
    const conds: string[] = [];
    const leftKeys: string[] = [];
    for (const k of op.on) {
      const lb = this.joinSide(k.left, ls, rs, 'left', k.start);
      const rb = this.joinSide(k.right, ls, rs, 'right', k.start);
      const lsql = lb.type === 'dynamic' && rb.type !== 'dynamic' ? dynamicScalarSql(lb.sql) : lb.sql;
      const rsql = rb.type === 'dynamic' && lb.type !== 'dynamic' ? dynamicScalarSql(rb.sql) : rb.sql;
      conds.push(`${lsql} = ${rsql}`);
      leftKeys.push(lsql.replace(/^l\./, ''));
    }
    const on = conds.join(' AND ');
    const pick = (scope: Scope, rel: Rel) => rel.cols.map((c) => ({ name: c.name, type: c.type, sql: this.ref(scope, c) }));
    const normalized = kind === 'anti' || kind === 'leftantisemi' ? 'leftanti' : kind === 'semi' ? 'leftsemi' : kind === 'rightantisemi' ? 'rightanti' : kind;
    switch (normalized) {
      case 'leftanti':
      case 'leftsemi':
        return this.emitRel(pick(ls, left), `${left.cte} l`, { where: `${normalized === 'leftanti' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${right.cte} r WHERE ${on})` });
      case 'rightanti':
      case 'rightsemi':
        return this.emitRel(pick(rs, right), `${right.cte} r`, { where: `${normalized === 'rightanti' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${left.cte} l WHERE ${on})` });
    }
    let leftFrom = left.cte;
    if (normalized === 'innerunique') {
      // Kusto keeps one left row per join key before joining.
      const list = [...left.cols.map((c) => c.sql)];
      const ranked = this.emit(`SELECT ${list.join(', ')}, ROW_NUMBER() OVER (PARTITION BY ${leftKeys.join(', ')}) AS _u FROM ${left.cte}`);
      leftFrom = this.emit(`SELECT ${list.join(', ')} FROM ${ranked} WHERE _u = 1`);
    }
    const sqlKind = normalized === 'leftouter' ? 'LEFT JOIN' : normalized === 'rightouter' ? 'RIGHT JOIN' : normalized === 'fullouter' ? 'FULL JOIN' : 'JOIN';
    // Kusto strings are never null: the padded side of an outer join gets ''.
    const pad = (items: Array<{ name: string; type: KqlType; sql: string }>, padded: boolean) =>
      padded ? items.map((it) => (it.type === 'string' ? { ...it, sql: `coalesce(${it.sql}, '')` } : it)) : items;
    const items = [
      ...pad(pick(ls, left), normalized === 'rightouter' || normalized === 'fullouter'),
      ...pad(pick(rs, right), normalized === 'leftouter' || normalized === 'fullouter'),
    ];
    return this.emitRel(uniqueNames(items), `${leftFrom} l ${sqlKind} ${right.cte} r ON ${on}`);
  }

  private joinSide(e: Expr, ls: Scope, rs: Scope, side: 'left' | 'right', keyStart: number): Bound {
    const ctx = { op: 'join', aggregates: false };
    if (e.kind === 'member' && e.dotted && e.target.kind === 'name' && (e.target.name === '$left' || e.target.name === '$right')) {
      const key = e.index.kind === 'literal' ? String(e.index.value) : '';
      const scope = e.target.name === '$left' ? ls : rs;
      return this.bind({ kind: 'name', name: key, bracketed: false, start: e.index.start, end: e.index.end }, scope, ctx);
    }
    if (e.kind === 'name') return this.bind(e, side === 'left' ? ls : rs, ctx);
    return this.fail('JoinKey', keyStart, ["join attributes must be column names or '$left.A == $right.B' equalities"]);
  }

  /** JSON text of the json_each row `je` of `x` (bags: single-key bags, or [key, value] with kind=array). */
  private mvElementSql(x: string, bagArray: boolean, je = 'je'): string {
    const elemJson = `(CASE ${je}.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN NULL WHEN 'object' THEN ${je}.value WHEN 'array' THEN ${je}.value WHEN 'text' THEN json_quote(${je}.value) ELSE CAST(${je}.value AS TEXT) END)`;
    const bagElem = bagArray ? `json_array(${je}.key, json(coalesce(${elemJson}, 'null')))` : `json_object(${je}.key, json(coalesce(${elemJson}, 'null')))`;
    return `(CASE WHEN json_type(${x}) = 'object' THEN ${bagElem} ELSE ${elemJson} END)`;
  }

  /** `to typeof(T)` of an expanded element (casts only: elements of another JSON type become null, '' for strings). */
  private mvCast(value: Bound, x: string, toType: KqlType | undefined, expr: Expr, scope: Scope, je = 'je'): Bound {
    if (!toType || toType === 'dynamic') return value;
    const cast: Partial<Record<KqlType, string>> = {
      string: `(CASE WHEN ${je}.type = 'text' THEN ${je}.value ELSE '' END)`,
      long: `(CASE WHEN ${je}.type = 'integer' THEN ${je}.value END)`,
      int: `(CASE WHEN ${je}.type = 'integer' THEN ${je}.value END)`,
      real: `(CASE WHEN ${je}.type IN ('integer', 'real') THEN CAST(${je}.value AS REAL) END)`,
      bool: `(CASE ${je}.type WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)`,
    };
    const direct = cast[toType];
    if (direct) return { sql: `(CASE WHEN json_type(${x}) = 'object' THEN NULL ELSE ${direct} END)`, type: toType };
    const conv = { datetime: 'todatetime', timespan: 'totimespan', guid: 'toguid', decimal: 'todouble' }[toType as 'datetime'] ?? 'tostring';
    const res = SCALAR_FUNCTIONS[conv]!.bind([value], this.fnContext(conv, expr, scope));
    return { sql: res.sql, type: toType };
  }

  private mvExpand(rel: Rel, op: MvExpandOp): Rel {
    // Expressions refer to the input row through alias t.
    const scope = this.scopeOf(rel, 't');
    const bound = op.items.map((item) => {
      const b = this.bind(item.expr, scope, { op: 'mv-expand', aggregates: false });
      if (b.type !== 'dynamic') this.fail('ArgumentType', item.expr.start, ['mv-expand', 1, 'a dynamic value', b.type]);
      return { item, b, name: item.name ?? deriveName(item.expr) ?? 'Column1' };
    });
    this.checkDuplicateNames(op.items, 'mv-expand');
    // null → one row (null); [] / {} → no row; a scalar → one row.
    const normalized = (x: string) => `(CASE WHEN ${x} IS NULL THEN '[null]' WHEN json_type(${x}) IN ('array', 'object') THEN ${x} ELSE json_array(json(${x})) END)`;
    const place = (out: Array<{ name: string; type: KqlType; sql: string }>, name: string, value: Bound) => {
      const existing = out.find((c) => c.name === name);
      if (existing) Object.assign(existing, { sql: value.sql, type: value.type });
      else out.push({ name, type: value.type, sql: value.sql });
    };
    if (bound.length === 1 && !op.limit && op.itemIndex === undefined) {
      const { item, b, name } = bound[0]!;
      const x = b.sql;
      const value = this.mvCast({ sql: this.mvElementSql(x, op.bagArray === true), type: 'dynamic' }, x, item.toType, item.expr, scope);
      const out = rel.cols.map((c) => ({ name: c.name, type: c.type, sql: `t.${c.sql}` }));
      place(out, name, value);
      const from = `${rel.cte} t, json_each(${normalized(x)}) je`;
      return this.emitRel(out, from, rel.ordered ? { order: 'ROW_NUMBER() OVER (ORDER BY t._o, je.id)' } : {});
    }
    // Several columns expand in parallel (zip; shorter ones are padded with null): number the rows
    // 0…n-1 per input row, then pick element k of each source.
    const length = (x: string) => `(CASE WHEN json_type(${x}) = 'array' THEN json_array_length(${x}) ELSE (SELECT count(*) FROM json_each(${x})) END)`;
    const srcs = bound.map(({ b }) => normalized(b.sql));
    let n = srcs.length === 1 ? length('_x0') : `max(${srcs.map((_, i) => length(`_x${i}`)).join(', ')})`;
    if (op.limit) {
      const lim = this.bind(op.limit, EMPTY_SCOPE, { op: 'mv-expand', aggregates: false });
      if (!INTEGER_TYPES.has(lim.type)) this.fail('ArgumentType', op.limit.start, ['mv-expand limit', 1, 'an integer', lim.type]);
      n = `min(${n}, ${lim.sql})`;
    }
    const keep = [...rel.cols.map((c) => `t.${c.sql} AS ${c.sql}`), ...(rel.ordered ? ['t._o AS _o'] : [])];
    const sources = this.emit(`SELECT ${[...keep, ...srcs.map((sql, i) => `${sql} AS _x${i}`)].join(', ')} FROM ${rel.cte} t`);
    const lengths = this.emit(`SELECT *, ${n} AS _n FROM ${sources}`);
    this.recursive = true;
    const nums = `s${this.ctes.length + 1}`;
    this.ctes.push(`${nums}(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM ${nums} WHERE k + 1 < (SELECT coalesce(max(_n), 0) FROM ${lengths}) AND k < ${RANGE_ROW_LIMIT})`);
    const out = rel.cols.map((c) => ({ name: c.name, type: c.type, sql: `t.${c.sql}` }));
    bound.forEach(({ item, name }, i) => {
      const x = `t._x${i}`;
      // Element k (SQLite refuses correlated LIMIT/OFFSET; arrays are keyed by index, bags numbered in order).
      const pick = (sql: string) =>
        `(CASE WHEN json_type(${x}) = 'array' THEN (SELECT ${sql} FROM json_each(${x}) je WHERE je.key = n.k) ELSE (SELECT ${sql} FROM (SELECT key, value, type, ROW_NUMBER() OVER () - 1 AS pos FROM json_each(${x})) je WHERE je.pos = n.k) END)`;
      const elem = this.mvElementSql(x, op.bagArray === true);
      let value: Bound = { sql: pick(elem), type: 'dynamic' };
      if (item.toType && item.toType !== 'dynamic') {
        const cast = this.mvCast({ sql: elem, type: 'dynamic' }, x, item.toType, item.expr, scope);
        value = { sql: pick(cast.sql), type: cast.type };
        if (cast.type === 'string') value.sql = `coalesce(${value.sql}, '')`;
      }
      place(out, name, value);
    });
    if (op.itemIndex !== undefined) place(out, op.itemIndex, { sql: 'n.k', type: 'long' });
    return this.emitRel(out, `${lengths} t JOIN ${nums} n ON n.k < t._n`, rel.ordered ? { order: 'ROW_NUMBER() OVER (ORDER BY t._o, n.k)' } : {});
  }

  private union(first: Rel | undefined, op: UnionOp): Rel {
    const inputs: Array<{ rel: Rel; label: string }> = [];
    if (first) inputs.push({ rel: first, label: 'union_arg0' });
    op.tables.forEach((p, i) => {
      const label = p.operators.length === 0 && p.source.kind === 'expr' && p.source.expr.kind === 'name' ? p.source.expr.name : `union_arg${inputs.length + i - (first ? 0 : 0)}`;
      inputs.push({ rel: this.pipeline(p, false), label });
    });
    // Outer union by name; same name with different types → name_type columns.
    const typesByName = new Map<string, Set<KqlType>>();
    for (const { rel } of inputs) for (const c of rel.cols) (typesByName.get(c.name) ?? typesByName.set(c.name, new Set()).get(c.name)!).add(c.type);
    const outCols: Array<{ name: string; type: KqlType; src: string }> = [];
    for (const { rel } of inputs) {
      for (const c of rel.cols) {
        const name = typesByName.get(c.name)!.size > 1 ? `${c.name}_${c.type}` : c.name;
        if (!outCols.some((o) => o.name === name)) outCols.push({ name, type: c.type, src: c.name });
      }
    }
    const header = op.withSource ? [{ name: op.withSource, type: 'string' as KqlType, src: '' }] : [];
    const all = [...header, ...outCols];
    const selects = inputs.map(({ rel, label }) => {
      const list = all.map((o, i) => {
        if (i < header.length) return `${this.param(label)} AS c${i}`;
        const c = rel.cols.find((x) => x.name === o.src && x.type === o.type);
        return `${c ? c.sql : o.type === 'string' ? "''" : 'NULL'} AS c${i}`;
      });
      return `SELECT ${list.join(', ')} FROM ${rel.cte}`;
    });
    const cte = this.emit(selects.join(' UNION ALL '));
    return { cte, cols: all.map((o, i) => ({ name: o.name, type: o.type, sql: `c${i}` })), ordered: false };
  }

  // ----- expressions -----

  private fnContext(fnName: string, call: Expr, scope: Scope): FunctionContext {
    const args = call.kind === 'call' ? call.args : [];
    return {
      param: (v, t) => this.param(v, t),
      fail: (name, a, argIndex) => this.fail(name, argIndex !== undefined && args[argIndex] ? args[argIndex]!.start : call.start, a),
      nowMs: this.options.nowMs,
      orderSql: scope.ordered ? (scope.qualifier ? `${scope.qualifier}._o` : '_o') : undefined,
      fnName,
    };
  }

  bind(e: Expr, scope: Scope, ctx: ExprContext): Bound {
    switch (e.kind) {
      case 'literal':
        return this.literal(e.type, e.value);
      case 'name':
        return this.name(e, scope, ctx);
      case 'unary': {
        const b = this.bind(e.operand, scope, ctx);
        if (!isNumeric(b.type) && b.type !== 'timespan') this.fail('OperandTypes', e.start, [e.op, b.type, b.type]);
        const type: KqlType = b.type === 'int' ? 'long' : b.type;
        return withAgg({ sql: e.op === '-' ? `(- ${b.sql})` : b.sql, type }, b);
      }
      case 'binary':
        return this.binary(e, scope, ctx);
      case 'in':
        return this.inExpr(e, scope, ctx);
      case 'between':
        return this.between(e, scope, ctx);
      case 'member':
        return this.member(e, scope, ctx);
      case 'call':
        return this.call(e, scope, ctx);
      case 'star':
        return this.fail('Query', e.start, ["'*' is not allowed here"]);
      case 'tabular':
        return this.fail('Query', e.start, ['A tabular expression is not allowed here; use toscalar()']);
    }
  }

  private literal(type: KqlType, value: string | number | boolean | null): Bound {
    if (value === null) return { sql: 'NULL', type, constant: { value: null } };
    return { sql: this.param(value, type), type, constant: { value } };
  }

  private name(e: NameExpr, scope: Scope, ctx: ExprContext): Bound {
    const col = scope.cols.find((c) => c.name === e.name);
    if (col) return { sql: this.ref(scope, col), type: col.type };
    const binding = this.lets.get(e.name);
    if (binding?.kind === 'scalar') return this.bind(binding.expr, EMPTY_SCOPE, ctx);
    if (binding?.kind === 'tabular' || this.tables.has(e.name)) this.fail('Query', e.start, [`'${ctx.op}' operator: '${e.name}' is a tabular expression and cannot be used as a scalar value`]);
    return this.fail('UnresolvedName', e.start, [ctx.op, e.name], e.name);
  }

  private binary(e: BinaryExpr, scope: Scope, ctx: ExprContext): Bound {
    const l = this.bind(e.left, scope, ctx);
    const r = this.bind(e.right, scope, ctx);
    const agg = (b: Bound) => withAgg(withAgg(b, l), r);
    const op = e.op;
    if (op === 'and' || op === 'or') {
      for (const [b, x] of [[l, e.left], [r, e.right]] as const) if (b.type !== 'bool') this.fail('OperandTypes', x.start, [op, l.type, r.type]);
      return agg({ sql: `(${l.sql} ${op.toUpperCase()} ${r.sql})`, type: 'bool' });
    }
    if (op === '+' || op === '-' || op === '*' || op === '/' || op === '%') return agg(this.arithmetic(op, l, r, e));
    if (op === '==' || op === '!=' || op === '<' || op === '<=' || op === '>' || op === '>=') {
      const [ls, rs] = comparable(l, r);
      const sqlOp = op === '==' ? '=' : op === '!=' ? '<>' : op;
      if (!compatible(l.type, r.type)) this.fail('OperandTypes', e.opStart, [op, l.type, r.type]);
      return agg({ sql: `(${ls} ${sqlOp} ${rs})`, type: 'bool' });
    }
    if (op === '=~' || op === '!~') {
      const rhs = r.constant && typeof r.constant.value === 'string' ? this.param(r.constant.value.toLowerCase()) : `kql_lower(${toStr(r)})`;
      return agg({ sql: `(kql_lower(${toStr(l)}) ${op === '=~' ? '=' : '<>'} ${rhs})`, type: 'bool' });
    }
    if (op === 'matches regex') return agg({ sql: `kql_matches(${toStr(l)}, ${toStr(r)})`, type: 'bool' });
    const sop = STRING_OPERATORS[op];
    if (sop) {
      const sql = `kql_strop('${sop.udf}', ${toStr(l)}, ${toStr(r)})`;
      return agg({ sql: sop.negated ? `(NOT ${sql})` : sql, type: 'bool' });
    }
    return this.fail('FeatureNotSupported', e.opStart, [`The '${op}' operator`]);
  }

  private arithmetic(op: string, l: Bound, r: Bound, e: BinaryExpr): Bound {
    const lt = l.type;
    const rt = r.type;
    const bad = () => this.fail('OperandTypes', e.opStart, [op, lt, rt]);
    if (lt === 'dynamic' || rt === 'dynamic') {
      const ls = lt === 'dynamic' ? `kql_todouble(${dynamicScalarSql(l.sql)})` : l.sql;
      const rs = rt === 'dynamic' ? `kql_todouble(${dynamicScalarSql(r.sql)})` : r.sql;
      return { sql: `json_quote(${op === '%' ? `mod(${ls}, ${rs})` : `(${ls} ${op} ${rs})`})`, type: 'dynamic' };
    }
    const num = (t: KqlType) => isNumeric(t);
    if (num(lt) && num(rt)) {
      const real = lt === 'real' || rt === 'real' || lt === 'decimal' || rt === 'decimal';
      if (op === '%') return { sql: real ? `mod(${l.sql}, ${r.sql})` : `(${l.sql} % ${r.sql})`, type: real ? 'real' : 'long' };
      if (op === '/' && real) return { sql: `(${l.sql} * 1.0 / ${r.sql})`, type: 'real' };
      return { sql: `(${l.sql} ${op} ${r.sql})`, type: real ? 'real' : 'long' };
    }
    const int = (s: string, t: KqlType) => (t === 'real' ? `CAST(${s} AS INTEGER)` : s);
    switch (op) {
      case '+':
        if (lt === 'datetime' && rt === 'timespan') return { sql: `(${l.sql} + ${r.sql})`, type: 'datetime' };
        if (lt === 'timespan' && rt === 'datetime') return { sql: `(${l.sql} + ${r.sql})`, type: 'datetime' };
        if (lt === 'timespan' && rt === 'timespan') return { sql: `(${l.sql} + ${r.sql})`, type: 'timespan' };
        return bad();
      case '-':
        if (lt === 'datetime' && rt === 'datetime') return { sql: `(${l.sql} - ${r.sql})`, type: 'timespan' };
        if (lt === 'datetime' && rt === 'timespan') return { sql: `(${l.sql} - ${r.sql})`, type: 'datetime' };
        if (lt === 'timespan' && rt === 'timespan') return { sql: `(${l.sql} - ${r.sql})`, type: 'timespan' };
        return bad();
      case '*':
        if (lt === 'timespan' && num(rt)) return { sql: int(`(${l.sql} * ${r.sql})`, rt), type: 'timespan' };
        if (num(lt) && rt === 'timespan') return { sql: int(`(${l.sql} * ${r.sql})`, lt), type: 'timespan' };
        return bad();
      case '/':
        if (lt === 'timespan' && rt === 'timespan') return { sql: `(${l.sql} * 1.0 / ${r.sql})`, type: 'real' };
        if (lt === 'timespan' && num(rt)) return { sql: `CAST(${l.sql} * 1.0 / ${r.sql} AS INTEGER)`, type: 'timespan' };
        return bad();
      case '%':
        if (lt === 'timespan' && rt === 'timespan') return { sql: `(${l.sql} % ${r.sql})`, type: 'timespan' };
        return bad();
    }
    return bad();
  }

  private inExpr(e: InExpr, scope: Scope, ctx: ExprContext): Bound {
    const left = this.bind(e.left, scope, ctx);
    const ci = e.op === 'in~' || e.op === '!in~';
    if (e.op === 'has_any' || e.op === 'has_all') {
      const terms = e.list.map((x) => toJsonSql(this.bind(x, scope, ctx)));
      return withAgg({ sql: `kql_${e.op}(${toStr(left)}, json_array(${terms.join(', ')}))`, type: 'bool' }, left);
    }
    const lsql = ci ? `kql_lower(${toStr(left)})` : left.type === 'dynamic' ? dynamicScalarSql(left.sql) : left.sql;
    const scalars: string[] = [];
    const parts: string[] = [];
    for (const item of e.list) {
      const tab = this.tabularOf(item);
      if (tab) {
        const rel = this.pipeline(tab, false);
        if (rel.cols.length === 0) this.fail('Query', item.start, ["'in' subquery returns no columns"]);
        const c = rel.cols[0]!;
        const v = ci ? `kql_lower(${toStringSql({ sql: c.sql, type: c.type })})` : c.type === 'dynamic' ? dynamicScalarSql(c.sql) : c.sql;
        parts.push(`${lsql} IN (SELECT ${v} FROM ${rel.cte})`);
        continue;
      }
      const b = this.bind(item, scope, ctx);
      if (b.type === 'dynamic') {
        const arr = b.constant && typeof b.constant.value === 'string' ? safeJson(b.constant.value) : undefined;
        if (Array.isArray(arr)) {
          for (const v of arr) {
            if (v === null || typeof v === 'object') continue;
            scalars.push(this.param(ci ? String(v).toLowerCase() : typeof v === 'boolean' ? (v ? 1 : 0) : v, typeof v === 'number' && !Number.isInteger(v) ? 'real' : undefined));
          }
        } else {
          parts.push(`${lsql} IN (SELECT ${ci ? 'kql_lower(value)' : 'value'} FROM json_each(CASE json_type(${b.sql}) WHEN 'array' THEN ${b.sql} ELSE json_array(json(${b.sql})) END))`);
        }
        continue;
      }
      if (ci) scalars.push(b.constant && typeof b.constant.value === 'string' ? this.param(b.constant.value.toLowerCase()) : `kql_lower(${toStr(b)})`);
      else scalars.push(b.sql);
    }
    if (scalars.length) parts.unshift(`${lsql} IN (${scalars.join(', ')})`);
    const sql = parts.length === 0 ? '0' : parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
    const negated = e.op === '!in' || e.op === '!in~';
    return withAgg({ sql: negated ? `(NOT ${sql})` : `(${sql})`, type: 'bool' }, left);
  }

  /** The pipeline behind a tabular operand (`(T | …)`, a tabular let, or a table name), if any. */
  private tabularOf(e: Expr): Pipeline | undefined {
    if (e.kind === 'tabular') return e.pipeline;
    if (e.kind === 'name') {
      const binding = this.lets.get(e.name);
      if (binding?.kind === 'tabular' || (!binding && this.tables.has(e.name))) {
        return { source: { kind: 'expr', expr: e, start: e.start, end: e.end }, operators: [], start: e.start, end: e.end };
      }
    }
    return undefined;
  }

  private between(e: BetweenExpr, scope: Scope, ctx: ExprContext): Bound {
    const x = this.bind(e.left, scope, ctx);
    const lo = this.bind(e.low, scope, ctx);
    let hi = this.bind(e.high, scope, ctx);
    if (x.type === 'datetime' && lo.type === 'datetime' && hi.type === 'timespan') hi = { sql: `(${lo.sql} + ${hi.sql})`, type: 'datetime' };
    const xs = x.type === 'dynamic' ? dynamicScalarSql(x.sql) : x.sql;
    return withAgg({ sql: `(${xs} ${e.negated ? 'NOT ' : ''}BETWEEN ${lo.sql} AND ${hi.sql})`, type: 'bool' }, x);
  }

  private member(e: MemberExpr, scope: Scope, ctx: ExprContext): Bound {
    const target = this.bind(e.target, scope, ctx);
    if (target.type !== 'dynamic') this.fail('Query', e.start, [`'${ctx.op}' operator: member access requires a dynamic value, got '${target.type}'`]);
    const idx = e.index.kind === 'literal' ? e.index.value : undefined;
    const base = target.json?.base ?? target.sql;
    const prefix = target.json?.path ?? '$';
    let segment: string | undefined;
    if (typeof idx === 'string' && !/["\\]/.test(idx)) segment = `."${idx}"`;
    else if (typeof idx === 'number' && Number.isInteger(idx)) segment = idx >= 0 ? `[${idx}]` : `[#${idx}]`;
    if (segment !== undefined) {
      const path = prefix + segment;
      const pathSql = this.param(path);
      return withAgg({ sql: `(${base} -> ${pathSql})`, type: 'dynamic', json: { base, path, pathSql } }, target);
    }
    const key = this.bind(e.index, scope, ctx);
    return withAgg(withAgg({ sql: `kql_get(${target.sql}, ${key.type === 'dynamic' ? dynamicScalarSql(key.sql) : key.sql})`, type: 'dynamic' }, target), key);
  }

  private call(e: CallExpr, scope: Scope, ctx: ExprContext): Bound {
    const name = e.name;
    if (name === 'toscalar') {
      const arg = e.args[0];
      const tab = arg ? this.tabularOf(arg) : undefined;
      if (!tab) return this.fail('ArgumentType', e.start, ['toscalar', 1, 'a tabular expression', 'scalar']);
      const rel = this.pipeline(tab, false);
      const c = rel.cols[0];
      if (!c) return this.fail('Query', e.start, ['toscalar(): the expression returns no columns']);
      return { sql: `(SELECT ${c.sql} FROM ${rel.cte}${rel.ordered ? ' ORDER BY _o' : ''} LIMIT 1)`, type: c.type };
    }
    const aggDef = AGGREGATE_FUNCTIONS[name];
    if (aggDef || MULTI_COLUMN_AGGREGATES.has(name)) {
      if (!ctx.aggregates) this.fail('AggregateOutsideSummarize', e.nameStart, [name], name);
      if (!aggDef) this.fail('Query', e.nameStart, [`'${name}' must be a top-level aggregate in summarize`]);
      this.checkArity(e, aggDef.minArgs, aggDef.maxArgs);
      const args = e.args.map((a) => (a.kind === 'star' && name === 'count' ? undefined : this.bind(a, scope, { ...ctx, aggregates: false }))).filter((b): b is Bound => b !== undefined);
      const res = aggDef.bind(args, this.fnContext(name, e, scope));
      return { ...res, aggregate: true };
    }
    const def = SCALAR_FUNCTIONS[name];
    if (!def) {
      if (UNSUPPORTED_FUNCTIONS.has(name)) this.fail('FunctionNotSupported', e.nameStart, [name], name);
      return this.fail('UnknownFunction', e.nameStart, [ctx.op, name], name);
    }
    this.checkArity(e, def.minArgs, def.maxArgs);
    const args = e.args.map((a) => this.bind(a, scope, ctx));
    const res = def.bind(args, this.fnContext(name, e, scope));
    const out: Bound = { sql: res.sql, type: res.type };
    if (args.some((a) => a.aggregate)) out.aggregate = true;
    return out;
  }

  private checkArity(e: CallExpr, min: number, max: number): void {
    if (e.args.length < min || e.args.length > max) {
      this.fail('ArgumentCount', e.nameStart, [e.name, min === max ? String(min) : `${min}..${max}`], e.name);
    }
  }
}

// ----- helpers -----

const DATA_TYPES: Record<KqlType, string> = {
  bool: 'System.SByte', datetime: 'System.DateTime', decimal: 'System.Data.SqlTypes.SqlDecimal', dynamic: 'System.Object', guid: 'System.Guid',
  int: 'System.Int32', long: 'System.Int64', real: 'System.Double', string: 'System.String', timespan: 'System.TimeSpan',
};

function withAgg(b: Bound, from: Bound): Bound {
  if (from.aggregate) b.aggregate = true;
  return b;
}

function toStr(b: Bound): string {
  return b.type === 'string' ? `coalesce(${b.sql}, '')` : toStringSql(b);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function compatible(a: KqlType, b: KqlType): boolean {
  if (a === b || a === 'dynamic' || b === 'dynamic') return true;
  if (isNumeric(a) && isNumeric(b)) return true;
  if ((a === 'string' && b === 'guid') || (a === 'guid' && b === 'string')) return true;
  return false;
}

/** SQL operands for a comparison; dynamic sides are unwrapped to their scalar. */
function comparable(l: Bound, r: Bound): [string, string] {
  const ls = l.type === 'dynamic' && r.type !== 'dynamic' ? dynamicScalarSql(l.sql) : l.sql;
  const rs = r.type === 'dynamic' && l.type !== 'dynamic' ? dynamicScalarSql(r.sql) : r.sql;
  if (l.type === 'dynamic' && r.type === 'dynamic') return [dynamicScalarSql(l.sql), dynamicScalarSql(r.sql)];
  return [ls, rs];
}

function passThrough(rel: Rel): Array<{ name: string; type: KqlType; sql: string }> {
  return rel.cols.map((c) => ({ name: c.name, type: c.type, sql: c.sql }));
}

function keepOrder(rel: Rel): { order?: string } {
  return rel.ordered ? { order: '_o' } : {};
}

export function makeUnique(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  for (let i = 1; ; i++) if (!taken.has(`${name}${i}`)) return `${name}${i}`;
}

function uniqueNames<T extends { name: string }>(items: T[]): T[] {
  const taken = new Set<string>();
  return items.map((it) => {
    const name = makeUnique(it.name, taken);
    taken.add(name);
    return { ...it, name };
  });
}

function wildcard(pattern: string): (name: string) => boolean {
  if (!pattern.includes('*')) return (n) => n === pattern;
  const parts = pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`^${parts.join('.*')}$`);
  return (n) => re.test(n);
}

function formatPercentileName(p: number): string {
  return String(p).replace('.', '_');
}

/** Kusto's derived column name for an unnamed expression (ResultNameKind rules), if any. */
export function deriveName(e: Expr): string | undefined {
  switch (e.kind) {
    case 'name':
      return e.name.startsWith('$') ? undefined : e.name;
    case 'member': {
      const t = deriveName(e.target);
      if (t === undefined) return undefined;
      const k = e.index;
      // A negative index is a unary minus in Kusto's tree, which names nothing: `d[-1]` → `d_`.
      if (k.kind === 'literal' && typeof k.value === 'number' && k.value < 0) return `${t}_`;
      if (k.kind === 'literal' && (typeof k.value === 'string' || typeof k.value === 'number')) return `${t}_${k.value}`;
      return undefined;
    }
    case 'call': {
      const first = e.args[0] && e.args[0].kind !== 'star' ? deriveName(e.args[0]) : undefined;
      const agg = AGGREGATE_FUNCTIONS[e.name];
      if (agg) {
        if (e.name === 'percentile') {
          const p = e.args[1];
          return p && p.kind === 'literal' && typeof p.value === 'number' ? `percentile_${first ?? ''}_${formatPercentileName(p.value)}` : undefined;
        }
        if (agg.resultName === 'prefixAndFirst') return `${agg.prefix}_${first ?? ''}`;
        if (agg.resultName === 'first') return first;
        return undefined;
      }
      const fn = SCALAR_FUNCTIONS[e.name];
      if (!fn) return undefined;
      if (fn.resultName === 'first') return first;
      if (fn.resultName === 'nameAndFirst') return first === undefined ? undefined : `${e.name}_${first}`;
      return undefined;
    }
    default:
      return undefined;
  }
}
