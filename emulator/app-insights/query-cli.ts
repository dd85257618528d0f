import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../policy-engine/clock.js';
import { DEFAULT_APP_INSIGHTS } from '../config/load.js';
import { KqlError } from './kql/index.js';
import { kqlErrorBody } from './query-api.js';
import { createSqliteTelemetryStore, TELEMETRY_FILE } from './sqlite-store.js';
import { parseTimespan } from './timespan.js';

export type QueryFormat = 'table' | 'json' | 'csv';

export interface QueryCommandOptions {
  query: string;
  timespan?: string;
  format: QueryFormat;
  /** A running emulator (its App Insights query API). */
  url?: string;
  /** Or a data directory to read directly. */
  dataDir?: string;
  /** `now` for ago()/timespan when reading a data directory (default: wall time). */
  nowMs?: number;
}

interface Table {
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
}

/** `ai-gateway-emulator query "<kql>"`: returns the text to print (and whether the query succeeded). */
export async function runQueryCommand(options: QueryCommandOptions): Promise<{ ok: boolean; text: string }> {
  let table: Table;
  if (options.dataDir !== undefined) {
    const file = join(options.dataDir, TELEMETRY_FILE);
    if (!existsSync(file)) return { ok: false, text: `No telemetry at ${file}.` };
    const store = createSqliteTelemetryStore({ dataDir: options.dataDir, identity: DEFAULT_APP_INSIGHTS });
    try {
      const nowMs = options.nowMs ?? systemClock.now();
      const timespan = options.timespan ? parseTimespan(options.timespan, nowMs) : undefined;
      table = store.query(options.query, { nowMs, ...(timespan ? { timespan } : {}) }).tables[0]!;
    } catch (error) {
      if (error instanceof KqlError) return { ok: false, text: JSON.stringify(kqlErrorBody(error), null, 2) };
      return { ok: false, text: error instanceof Error ? error.message : String(error) };
    } finally {
      await store.close();
    }
  } else {
    const base = (options.url ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    let info: { appId: string };
    try {
      info = (await (await fetch(`${base}/_emulator/appinsights`)).json()) as { appId: string };
    } catch (error) {
      return { ok: false, text: `Cannot reach an emulator at ${base}: ${(error as Error).message}` };
    }
    const res = await fetch(`${base}/v1/apps/${info.appId}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: options.query, ...(options.timespan ? { timespan: options.timespan } : {}) }),
    });
    const body = (await res.json()) as { tables?: Table[] };
    if (!res.ok || !body.tables) return { ok: false, text: JSON.stringify(body, null, 2) };
    table = body.tables[0]!;
  }
  return { ok: true, text: format(table, options.format) };
}

function format(table: Table, as: QueryFormat): string {
  if (as === 'json') return JSON.stringify({ tables: [{ name: 'PrimaryResult', ...table }] }, null, 2);
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  if (as === 'csv') {
    const esc = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [table.columns.map((c) => esc(c.name)).join(','), ...table.rows.map((r) => r.map((v) => esc(cell(v))).join(','))].join('\n');
  }
  const header = table.columns.map((c) => c.name);
  const rows = table.rows.map((r) => r.map(cell));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n');
}
