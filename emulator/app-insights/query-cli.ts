import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../policy-engine/clock.js';
import { KqlError } from './kql/index.js';
import { queryApiErrors } from './query-api.js';
import { createSqliteTelemetryStore, TELEMETRY_FILE } from './sqlite-store.js';
import { defaultAppInsightsIdentity, type QueryTable } from './store.js';
import { TimespanError } from './timespan.js';

export type QueryFormat = 'table' | 'json' | 'csv';

export const DEFAULT_EMULATOR_URL = 'http://127.0.0.1:8080';

export interface QueryCommandOptions {
  query: string;
  /** ISO 8601 duration or interval (PT1H, P1D, start/end). */
  timespan?: string;
  format: QueryFormat;
  /** A running emulator (its App Insights query API); the default when dataDir is absent. */
  url?: string;
  /** Or a data directory whose telemetry.db is read directly (read-only; works next to a running emulator). */
  dataDir?: string;
  /** `now` for ago() and duration timespans when reading a data directory (default: wall time). */
  nowMs?: number;
  /** Injected for tests (default: global fetch). */
  fetch?: typeof fetch;
}

export interface QueryCommandResult {
  ok: boolean;
  /** What to print: the result (stdout) or the error (stderr). */
  text: string;
}

interface ErrorEnvelope {
  error?: { code?: string; message?: string; innererror?: { code?: string; message?: string; innererror?: { code?: string; message?: string; line?: number; pos?: number } } };
}

/** `<cli> query "<kql>" [--timespan PT1H] [--format table|json|csv] [--url u | --data dir]`. */
export async function runQueryCommand(options: QueryCommandOptions): Promise<QueryCommandResult> {
  let outcome: { table: Pick<QueryTable, 'columns' | 'rows'> } | { error: ErrorEnvelope | string };
  if (options.dataDir !== undefined) outcome = queryDataDir(options, options.dataDir);
  else outcome = await queryEmulator(options, (options.url ?? DEFAULT_EMULATOR_URL).replace(/\/+$/, ''));
  if ('error' in outcome) return { ok: false, text: typeof outcome.error === 'string' ? outcome.error : describeError(outcome.error, options) };
  return { ok: true, text: formatTable(outcome.table, options.format) };
}

function queryDataDir(options: QueryCommandOptions, dataDir: string) {
  const file = join(dataDir, TELEMETRY_FILE);
  if (!existsSync(file)) return { error: `No telemetry at ${file} (start the emulator with --data ${dataDir} first).` };
  const store = createSqliteTelemetryStore({ dataDir, readonly: true, identity: defaultAppInsightsIdentity() });
  try {
    const nowMs = options.nowMs ?? systemClock.now();
    const result = store.query(options.query, { nowMs, ...(options.timespan ? { timespan: options.timespan } : {}) });
    return { table: result.tables[0]! };
  } catch (error) {
    if (error instanceof KqlError) return { error: queryApiErrors.query(error).body('') as ErrorEnvelope };
    if (error instanceof TimespanError) return { error: error.message };
    return { error: `Query failed: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    void store.close();
  }
}

async function queryEmulator(options: QueryCommandOptions, base: string) {
  const doFetch = options.fetch ?? fetch;
  let appId: string;
  try {
    const info = await doFetch(`${base}/_emulator/appinsights`);
    if (!info.ok) return { error: `${base}/_emulator/appinsights answered ${info.status}; is this the AI gateway emulator?` };
    appId = ((await info.json()) as { appId: string }).appId;
  } catch (error) {
    return { error: `Cannot reach an emulator at ${base}: ${(error as Error).message}` };
  }
  const res = await doFetch(`${base}/v1/apps/${encodeURIComponent(appId)}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: options.query, ...(options.timespan ? { timespan: options.timespan } : {}) }),
  });
  const text = await res.text();
  let body: { tables?: QueryTable[] } & ErrorEnvelope;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { error: `Unexpected ${res.status} response from ${base}: ${text.slice(0, 200)}` };
  }
  if (!res.ok || !body.tables?.[0]) return { error: body };
  return { table: body.tables[0] };
}

/** JSON envelope for --format json; otherwise `error SYN0002 at line 1, pos 22: …` with a caret under the query. */
function describeError(envelope: ErrorEnvelope, options: QueryCommandOptions): string {
  if (options.format === 'json') return JSON.stringify(envelope, null, 2);
  const e = envelope.error ?? {};
  const detail = e.innererror?.innererror;
  if (detail?.code && detail.line !== undefined && detail.pos !== undefined) {
    const line = options.query.split(/\r?\n/)[detail.line - 1] ?? '';
    return [`error ${detail.code} at line ${detail.line}, pos ${detail.pos}: ${detail.message ?? ''}`, `  ${line}`, `  ${' '.repeat(detail.pos)}^`].join('\n');
  }
  return `error ${e.code ?? 'Error'}: ${e.innererror?.message ?? e.message ?? JSON.stringify(envelope)}`;
}

function cell(v: unknown): string {
  return v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Renders a result table as aligned text, the API's JSON shape, or RFC 4180 CSV. */
export function formatTable(table: Pick<QueryTable, 'columns' | 'rows'>, as: QueryFormat): string {
  if (as === 'json') return JSON.stringify({ tables: [{ name: 'PrimaryResult', columns: table.columns, rows: table.rows }] }, null, 2);
  if (as === 'csv') {
    const esc = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [table.columns.map((c) => esc(c.name)).join(','), ...table.rows.map((r) => r.map((v) => esc(cell(v))).join(','))].join('\n');
  }
  const header = table.columns.map((c) => c.name);
  const rows = table.rows.map((r) => r.map((v) => cell(v).replace(/\r?\n/g, '\\n')));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n');
}
