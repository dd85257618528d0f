/**
 * KQL syntax tree: plain objects with a `kind` string and a `start`/`end` offset range (one interface
 * per node, jsep style). Produced by `parser.ts`, consumed by `translate.ts`.
 */
import type { KqlType } from './types.js';

export interface TextRange {
  start: number;
  end: number;
}

// ----- scalar expressions -----

export interface NameExpr extends TextRange {
  kind: 'name';
  name: string;
  /** Written as `['…']`. */
  bracketed: boolean;
}

export interface LiteralExpr extends TextRange {
  kind: 'literal';
  type: KqlType;
  /** JS value: string, number (ms for datetime/timespan), boolean, null; JSON text for dynamic. */
  value: string | number | boolean | null;
}

export interface UnaryExpr extends TextRange {
  kind: 'unary';
  op: '-' | '+';
  operand: Expr;
}

export interface BinaryExpr extends TextRange {
  kind: 'binary';
  op: string;
  opStart: number;
  left: Expr;
  right: Expr;
}

export interface InExpr extends TextRange {
  kind: 'in';
  op: 'in' | '!in' | 'in~' | '!in~' | 'has_any' | 'has_all';
  left: Expr;
  /** Scalars, or a single tabular expression (subquery / tabular let). */
  list: Expr[];
}

export interface BetweenExpr extends TextRange {
  kind: 'between';
  negated: boolean;
  left: Expr;
  low: Expr;
  high: Expr;
}

export interface CallExpr extends TextRange {
  kind: 'call';
  name: string;
  nameStart: number;
  args: Expr[];
}

/** `d.key`, `d['key']`, `d.['key']`, `d[0]`, `d[expr]`. */
export interface MemberExpr extends TextRange {
  kind: 'member';
  target: Expr;
  index: Expr;
  /** `d.key` form (the key is a name, not an expression). */
  dotted: boolean;
}

export interface StarExpr extends TextRange {
  kind: 'star';
}

/** A tabular expression used inside a scalar context (`x in (T | project y)`, `toscalar(…)`). */
export interface TabularExpr extends TextRange {
  kind: 'tabular';
  pipeline: Pipeline;
}

export type Expr = NameExpr | LiteralExpr | UnaryExpr | BinaryExpr | InExpr | BetweenExpr | CallExpr | MemberExpr | StarExpr | TabularExpr;

// ----- tabular -----

export interface NamedExpr extends TextRange {
  /** Explicit output name (`name = expr`). */
  name?: string;
  /** `(a, b) = expr` tuple names (arg_max etc.). */
  names?: string[];
  expr: Expr;
}

export interface SortTerm extends TextRange {
  expr: Expr;
  direction?: 'asc' | 'desc';
  nulls?: 'first' | 'last';
}

export interface WhereOp extends TextRange { kind: 'where'; predicate: Expr }
export interface ProjectOp extends TextRange { kind: 'project'; items: NamedExpr[] }
export interface ExtendOp extends TextRange { kind: 'extend'; items: NamedExpr[] }
export interface ProjectAwayOp extends TextRange { kind: 'project-away' | 'project-keep'; names: NameExpr[] }
export interface ProjectReorderOp extends TextRange { kind: 'project-reorder'; terms: Array<{ name: NameExpr; direction?: 'asc' | 'desc' }> }
export interface ProjectRenameOp extends TextRange { kind: 'project-rename'; items: Array<{ newName: string; old: NameExpr }> }
export interface SummarizeOp extends TextRange { kind: 'summarize'; aggregates: NamedExpr[]; by: NamedExpr[] }
export interface SortOp extends TextRange { kind: 'sort'; terms: SortTerm[] }
export interface TakeOp extends TextRange { kind: 'take'; count: Expr }
export interface TopOp extends TextRange { kind: 'top'; count: Expr; term: SortTerm }
export interface CountOp extends TextRange { kind: 'count' }
export interface DistinctOp extends TextRange { kind: 'distinct'; items: NamedExpr[]; star: boolean }
export interface JoinOp extends TextRange {
  kind: 'join';
  joinKind: string;
  kindStart: number;
  right: Pipeline;
  on: Array<{ left: Expr; right: Expr; start: number; end: number }>;
}
export interface MvExpandOp extends TextRange {
  kind: 'mv-expand';
  items: Array<NamedExpr & { toType?: KqlType }>;
  limit?: Expr;
  /** `kind=array` / `bagexpansion=array`: a bag expands to [key, value] arrays. */
  bagArray?: boolean;
  /** `with_itemindex=Name`: the 0-based index of the expanded element, as a last long column. */
  itemIndex?: string;
}
export interface RenderOp extends TextRange { kind: 'render'; visualization: string; properties: Record<string, unknown> }
export interface UnionOp extends TextRange { kind: 'union'; tables: Pipeline[]; withSource?: string }
export interface AsOp extends TextRange { kind: 'as'; name: string }
export interface SerializeOp extends TextRange { kind: 'serialize'; items: NamedExpr[] }
export interface GetSchemaOp extends TextRange { kind: 'getschema' }
export interface MakeSeriesOp extends TextRange {
  kind: 'make-series';
  aggregates: Array<NamedExpr & { defaultValue?: Expr }>;
  on: Expr;
  from?: Expr;
  to?: Expr;
  step: Expr;
  by: NamedExpr[];
  /** `in range(start, stop, step)`: bins aligned with bin(), stop inclusive. */
  inRange?: boolean;
  /** `kind=nonempty`: one row of defaults when the input is empty (no by-clause). */
  nonempty?: boolean;
}

export type ParseElement =
  | { kind: 'text'; value: string; start: number }
  | { kind: 'star'; start: number }
  | { kind: 'column'; name: string; type?: KqlType; start: number };
export interface ParseOp extends TextRange {
  kind: 'parse';
  /** parse-where: rows that do not match are dropped. */
  where: boolean;
  parseKind: 'simple' | 'regex' | 'relaxed';
  flags?: string;
  expr: Expr;
  elements: ParseElement[];
}
/** `evaluate plugin(args)`; only bag_unpack runs. */
export interface EvaluateOp extends TextRange {
  kind: 'evaluate';
  plugin: string;
  pluginStart: number;
  args: Expr[];
  /** `name = value` arguments (`columnsConflict='replace_source'`). */
  named: Record<string, Expr>;
}

export interface TopNestedLevel extends TextRange {
  /** Omitted: every value. */
  count?: Expr;
  key: NamedExpr;
  aggregate: NamedExpr;
  direction?: 'asc' | 'desc';
}
export interface TopNestedOp extends TextRange { kind: 'top-nested'; levels: TopNestedLevel[] }

export type Operator =
  | WhereOp | ProjectOp | ExtendOp | ProjectAwayOp | ProjectReorderOp | ProjectRenameOp | SummarizeOp | SortOp | TakeOp | TopOp
  | CountOp | DistinctOp | JoinOp | MvExpandOp | RenderOp | UnionOp | AsOp | SerializeOp | GetSchemaOp | MakeSeriesOp | ParseOp | EvaluateOp | TopNestedOp;

export interface PrintSource extends TextRange { kind: 'print'; items: NamedExpr[] }
export interface DatatableSource extends TextRange { kind: 'datatable'; columns: Array<{ name: string; type: KqlType }>; values: Expr[] }
export interface RangeSource extends TextRange { kind: 'range'; column: string; from: Expr; to: Expr; step: Expr }
export interface UnionSource extends TextRange { kind: 'union-source'; op: UnionOp }
export interface ExprSource extends TextRange { kind: 'expr'; expr: Expr }
export interface ParenSource extends TextRange { kind: 'paren'; pipeline: Pipeline }

export type Source = PrintSource | DatatableSource | RangeSource | UnionSource | ExprSource | ParenSource;

export interface Pipeline extends TextRange {
  source: Source;
  operators: Operator[];
}

export interface LetStatement extends TextRange {
  kind: 'let';
  name: string;
  nameStart: number;
  value: Pipeline;
}

export interface QueryStatement extends TextRange {
  kind: 'query';
  pipeline: Pipeline;
}

export type Statement = LetStatement | QueryStatement;

export interface QueryNode extends TextRange {
  statements: Statement[];
}
