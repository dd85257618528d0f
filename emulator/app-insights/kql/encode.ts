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

export function encodeRows(columns: readonly KqlColumn[], rows: unknown[][]): unknown[][] {
  const types = columns.map((c) => c.type);
  return rows.map((row) => types.map((t, i) => encodeValue(row[i], t)));
}
