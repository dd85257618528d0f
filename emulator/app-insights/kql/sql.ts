/**
 * SQL text building blocks. Every value from the query text becomes a placeholder token (never spliced
 * text); `finalizeSql` turns the tokens into `?` in textual order and returns the matching params.
 */
import type { KqlType } from './types.js';

const PARAM_MARK = '\u0000';

/** Typed scalar produced by binding an expression. */
export interface Bound {
  sql: string;
  type: KqlType;
  /** Constant value when the expression is a literal (after folding unary minus). */
  constant?: { value: unknown };
  /** Contains an aggregate call (summarize only). */
  aggregate?: boolean;
  /** Dynamic member chains: base SQL and JSON path so `d.a.b` becomes one `->` lookup. */
  json?: { base: string; path: string; pathSql: string };
}

export interface ParamSink {
  params: unknown[];
}

/** Registers `value` and returns its placeholder token. Integers bind as BigInt so SQLite sees INTEGER. */
export function param(sink: ParamSink, value: unknown, type?: KqlType): string {
  let v = value;
  if (typeof v === 'boolean') v = v ? 1n : 0n;
  else if (typeof v === 'number' && Number.isInteger(v) && type !== 'real' && type !== 'decimal' && Math.abs(v) <= Number.MAX_SAFE_INTEGER) v = BigInt(v);
  sink.params.push(v);
  return `${PARAM_MARK}${sink.params.length - 1}${PARAM_MARK}`;
}

/** Replaces placeholder tokens with `?`, emitting params in textual order (tokens may repeat). */
export function finalizeSql(sql: string, sink: ParamSink): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const out = sql.replace(/\u0000(\d+)\u0000/g, (_, i: string) => {
    params.push(sink.params[Number(i)]);
    return '?';
  });
  return { sql: out, params };
}

/** Quotes an identifier that comes from the table schema (never from query text). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export const NUMERIC_TYPES: ReadonlySet<KqlType> = new Set(['int', 'long', 'real', 'decimal']);
export const INTEGER_TYPES: ReadonlySet<KqlType> = new Set(['int', 'long']);

export function isNumeric(t: KqlType): boolean {
  return NUMERIC_TYPES.has(t);
}

/** SQL giving Kusto's `tostring()` of a typed value ('' for null). */
export function toStringSql(b: Bound): string {
  switch (b.type) {
    case 'string':
      return b.sql;
    case 'guid':
      return `coalesce(${b.sql}, '')`;
    case 'int':
    case 'long':
      return `coalesce(CAST(${b.sql} AS TEXT), '')`;
    case 'real':
    case 'decimal':
      return `kql_real_tostring(${b.sql})`;
    case 'bool':
      return `(CASE ${b.sql} WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE '' END)`;
    case 'datetime':
      return `kql_datetime_tostring(${b.sql})`;
    case 'timespan':
      return `kql_timespan_tostring(${b.sql})`;
    case 'dynamic':
      // Fast path for member chains holding JSON strings (the common `tostring(d['Key'])`).
      if (b.json) return `coalesce(CASE WHEN json_type(${b.json.base}, ${b.json.pathSql}) = 'text' THEN ${b.json.base} ->> ${b.json.pathSql} END, kql_dynamic_tostring(${b.sql}))`;
      return `kql_dynamic_tostring(${b.sql})`;
  }
}

/** SQL giving the JSON text of a typed value (for dynamic results: pack, make_list…). */
export function toJsonSql(b: Bound): string {
  switch (b.type) {
    case 'dynamic':
      return `json(coalesce(${b.sql}, 'null'))`;
    case 'bool':
      return `json(CASE ${b.sql} WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE 'null' END)`;
    case 'datetime':
      return `json_quote(kql_datetime_iso(${b.sql}))`;
    case 'timespan':
      return `json_quote(kql_timespan_tostring_or_null(${b.sql}))`;
    default:
      return `json_quote(${b.sql})`;
  }
}

/** SQL giving the SQL scalar inside a dynamic value (string unquoted, number, 1/0, NULL). */
export function dynamicScalarSql(sql: string): string {
  return `(${sql} ->> '$')`;
}
