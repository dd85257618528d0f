/**
 * @module KQL engine: Kusto Query Language → one SQLite statement (CTE chain) + JS UDFs.
 * Front end: hand-written scanner/parser/binder (see docs/design/kql-front-end.md); Microsoft's
 * Kusto.Language is the test oracle for result names and types.
 */
import type { Database } from 'better-sqlite3';
import { encodeRows } from './encode.js';
import { KqlError } from './errors.js';
import { parseKql } from './parser.js';
import { translateQuery } from './translate.js';
import type { CompiledKql, KqlColumn, KqlCompileOptions } from './types.js';

export type { CompiledKql, KqlColumn, KqlCompileOptions, KqlTable, KqlType } from './types.js';
export { KqlError, KQL_DIAGNOSTICS } from './errors.js';
export { registerKqlFunctions } from './udfs.js';
export { encodeValue, encodeRows } from './encode.js';
export { parseKql } from './parser.js';
export { renderResponse } from './render.js';

/** Parses, binds and lowers `query` to SQL. Throws KqlError (syntax SYN0002 / semantic SEM…). */
export function compileKql(query: string, options: KqlCompileOptions): CompiledKql {
  if (typeof query !== 'string') {
    throw new KqlError({ kind: 'syntax', code: 'SYN0002', message: "Query could not be parsed at '' on line [1,0]", line: 1, pos: 0, offset: 0, token: '' });
  }
  return translateQuery(query, parseKql(query), options);
}

/**
 * Compiles and runs `query`; rows come back encoded for the wire. Needs `registerKqlFunctions(db)`
 * once per connection. SQLite runtime failures (e.g. a malformed JSON value) surface as a semantic KqlError.
 */
/** Caps on one result, as Log Analytics applies them (500,000 records, 64 MB); time is checked between rows. */
export interface KqlResultLimits {
  maxRows: number;
  /** Approximate result size: string lengths + 8 per other cell. */
  maxBytes: number;
  timeBudgetMs: number;
  /** Monotonic milliseconds (default performance.now; not the emulator clock, which tests may freeze). */
  deadlineClock?: () => number;
}

/** Which limit cut a result short, and at what value. */
export interface KqlTruncation {
  limit: 'rows' | 'bytes' | 'time';
  value: number;
}

const CHECK_TIME_EVERY = 1024;

export function executeKql(
  db: Database,
  query: string,
  options: KqlCompileOptions,
  limits?: KqlResultLimits,
): { columns: KqlColumn[]; rows: unknown[][]; render?: Record<string, unknown>; truncated?: KqlTruncation } {
  const probe = (sql: string, params: unknown[]) => {
    try {
      return db.prepare(sql).raw(true).all(...params) as unknown[][];
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new KqlError({ kind: 'semantic', code: 'SEM0150', message: `Query execution failed: ${message}`, line: 1, pos: 0, offset: 0 });
    }
  };
  const compiled = compileKql(query, options.probe ? options : { ...options, probe });
  let raw: unknown[][];
  let truncated: KqlTruncation | undefined;
  try {
    const statement = db.prepare(compiled.sql).raw(true);
    if (!limits) {
      raw = statement.all(...compiled.params) as unknown[][];
    } else {
      raw = [];
      const clock = limits.deadlineClock ?? (() => performance.now());
      const deadline = clock() + limits.timeBudgetMs;
      let bytes = 0;
      for (const row of statement.iterate(...compiled.params) as IterableIterator<unknown[]>) {
        if (raw.length >= limits.maxRows) truncated = { limit: 'rows', value: limits.maxRows };
        else {
          for (const cell of row) bytes += typeof cell === 'string' ? cell.length : 8;
          if (bytes > limits.maxBytes) truncated = { limit: 'bytes', value: limits.maxBytes };
          else if (raw.length % CHECK_TIME_EVERY === CHECK_TIME_EVERY - 1 && clock() > deadline) truncated = { limit: 'time', value: limits.timeBudgetMs };
        }
        if (truncated) break; // leaving the loop closes the statement
        raw.push(row);
      }
    }
  } catch (err) {
    if (err instanceof KqlError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new KqlError({ kind: 'semantic', code: 'SEM0150', message: `Query execution failed: ${message}`, line: 1, pos: 0, offset: 0 });
  }
  const rows = encodeRows(compiled.columns, raw);
  const out: { columns: KqlColumn[]; rows: unknown[][]; render?: Record<string, unknown>; truncated?: KqlTruncation } = { columns: compiled.columns, rows };
  if (compiled.render) out.render = compiled.render;
  if (truncated) out.truncated = truncated;
  return out;
}
