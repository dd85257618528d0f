/** Shared KQL types (the contract with the telemetry store; re-exported by `index.ts`). */

export type KqlType = 'bool' | 'datetime' | 'decimal' | 'dynamic' | 'guid' | 'int' | 'long' | 'real' | 'string' | 'timespan';

export interface KqlColumn {
  name: string;
  type: KqlType;
}

export interface KqlTable {
  name: string;
  columns: KqlColumn[];
  /** SQLite table or view to read. */
  sqlName: string;
  /** Restricted by the request's timespan. */
  timeColumn?: string;
}

export interface KqlCompileOptions {
  tables: KqlTable[];
  /** now() and ago() are evaluated once per query from this. */
  nowMs: number;
  /** Half-open [startMs, endMs) filter applied to every referenced table's timeColumn. */
  timespan?: { startMs: number; endMs: number };
  /**
   * Runs a first-pass SQL statement while compiling (raw rows); operators whose columns depend on the
   * data (`evaluate bag_unpack`) need it. executeKql supplies one over its database.
   */
  probe?: (sql: string, params: unknown[]) => unknown[][];
}

export interface CompiledKql {
  sql: string;
  params: unknown[];
  columns: KqlColumn[];
  render?: Record<string, unknown>;
}

export const KQL_TYPES: readonly KqlType[] = ['bool', 'datetime', 'decimal', 'dynamic', 'guid', 'int', 'long', 'real', 'string', 'timespan'];

/** Type-name aliases accepted in `datatable(...)`, `typeof(...)` and `to typeof(...)`. */
export const KQL_TYPE_ALIASES: Record<string, KqlType> = {
  bool: 'bool', boolean: 'bool', datetime: 'datetime', date: 'datetime', decimal: 'decimal', dynamic: 'dynamic',
  guid: 'guid', uniqueid: 'guid', int: 'int', int32: 'int', long: 'long', int64: 'long', real: 'real', double: 'real',
  string: 'string', timespan: 'timespan', time: 'timespan',
};
