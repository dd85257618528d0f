/** Wire encoding of result values (kql-and-clients.md §1.4), by Kusto column type. */
import type { KqlColumn, KqlType } from './types.js';
import { formatTimespan } from './values.js';

export function encodeValue(value: unknown, type: KqlType): unknown {
  // Kusto strings are never null.
  if (value === null || value === undefined) return type === 'string' ? '' : null;
  switch (type) {
    case 'datetime': {
      const d = new Date(Number(value));
      return Number.isNaN(d.getTime()) ? null : d.toISOString();
    }
    case 'timespan':
      return formatTimespan(Number(value));
    case 'dynamic':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'bool':
      return typeof value === 'string' ? value === 'true' || value === '1' : Number(value) !== 0;
    case 'int':
    case 'long':
    case 'real':
    case 'decimal': {
      const n = typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : Number(value);
      if (Number.isNaN(n)) return 'NaN';
      if (n === Infinity) return 'Infinity';
      if (n === -Infinity) return '-Infinity';
      return n;
    }
    default:
      return typeof value === 'string' ? value : String(value);
  }
}

/** A number column's encoder: finite numbers pass as they are, anything else as encodeValue(v, type) says. */
const numeric = (type: KqlType) => (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : encodeValue(v, type));
const general = (type: KqlType) => (v: unknown) => encodeValue(v, type);

/** Encoders by type, for columns; each equals encodeValue(v, type) (per-type functions keep the row loop monomorphic). */
const ENCODERS: Record<KqlType, (v: unknown) => unknown> = {
  string: (v) => (typeof v === 'string' ? v : encodeValue(v, 'string')),
  real: numeric('real'),
  long: numeric('long'),
  int: numeric('int'),
  decimal: numeric('decimal'),
  datetime: general('datetime'),
  timespan: general('timespan'),
  dynamic: general('dynamic'),
  bool: general('bool'),
  guid: general('guid'),
};

/** Encodes `rows` for the wire in place (they are the statement's fresh row arrays) and returns them. */
export function encodeRows(columns: readonly KqlColumn[], rows: unknown[][]): unknown[][] {
  for (let c = 0; c < columns.length; c++) {
    const encode = ENCODERS[columns[c]!.type];
    for (const row of rows) row[c] = encode(row[c]);
  }
  return rows;
}
