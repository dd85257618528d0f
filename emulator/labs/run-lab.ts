import { resolve } from 'node:path';
import { createEmulator } from '../app.js';
import { DEFAULT_PRESET, presetConfig } from '../config/presets.js';
import { createLabTime, type LabTime } from './lab-time.js';
import { AzCells, NotebookPrinter, jsonRequest } from './notebook.js';
import { tokenMetricsEmittingLab, type TokenMetricsEmittingResult } from './token-metrics-emitting/lab.js';
import { tokenRateLimitingLab, type TokenRateLimitingResult } from './token-rate-limiting/lab.js';

import { UnknownLabError } from './errors.js';
import { LAB_NAMES, type LabName } from './names.js';

export interface RunLabOptions {
  /** Where the plots go (SVG and PNG); default `lab-results/<name>` under the working directory. */
  outDir?: string;
  /** Wall-clock time: `time.sleep` and the SDK's Retry-After waits really wait (the rate-limiting SDK step takes minutes). */
  realTime?: boolean;
  /** Start of emulated time (accelerated runs only; default: now). */
  startTime?: number | string | Date;
  /** Receives each printed line (default: stdout, unless quiet). */
  print?: (line: string) => void;
  /** No progress bar, and nothing printed unless `print` is given. */
  quiet?: boolean;
  /** ANSI colours as utils.py prints them (default false). */
  color?: boolean;
}

/** What the notebook steps see: the printer, the `az` calls, time and the emulator's URL. */
export interface LabContext {
  readonly url: string;
  readonly outDir: string;
  readonly out: NotebookPrinter;
  readonly az: AzCells;
  readonly time: LabTime;
  readonly progress: boolean;
  readonly color: boolean;
  /** Resolves once the telemetry of answered requests is stored. */
  settled(): Promise<void>;
  /** KQL through the App Insights query API; rows as objects. */
  query(app: string, kql: string, timespan: string): Promise<Array<Record<string, unknown>>>;
}

interface LabResultBase {
  /** Every line the replay printed. */
  lines: string[];
  outDir: string;
  url: string;
  realTime: boolean;
  /** Emulated time from start to end, and the part spent in waits (sleeps, Retry-After). */
  emulatedMs: number;
  waitedMs: number;
}

export type LabResult<N extends LabName = LabName> = LabResultBase &
  (N extends 'token-rate-limiting' ? { name: 'token-rate-limiting' } & TokenRateLimitingResult : { name: 'token-metrics-emitting' } & TokenMetricsEmittingResult);

const LABS: { [N in LabName]: (ctx: LabContext) => Promise<Omit<Extract<LabResult, { name: N }>, keyof LabResultBase | 'name'>> } = {
  'token-rate-limiting': tokenRateLimitingLab,
  'token-metrics-emitting': tokenMetricsEmittingLab,
};

/**
 * Replays a seed lab notebook against a fresh in-process emulator: the same `az` steps (answered by the control
 * plane, as the `az` stand-in does), the same HTTP, openai SDK and KQL calls, the same printed lines, and the
 * notebook's plots written as SVG and PNG. Accelerated time by default (a virtual clock that jumps over waits).
 *
 * @example
 * const result = await runLab('token-rate-limiting', { outDir: 'out', quiet: true });
 * result.httpRuns.filter((r) => r.status === 429).length; // 28
 */
export async function runLab<N extends LabName>(name: N, options: RunLabOptions = {}): Promise<LabResult<N>> {
  if (!(LAB_NAMES as readonly string[]).includes(name)) throw new UnknownLabError(`Unknown lab '${name}'. Labs: ${LAB_NAMES.join(', ')}.`);
  const time = createLabTime({ realTime: options.realTime ?? false, ...(options.startTime === undefined ? {} : { startTime: options.startTime }) });
  const startedMs = time.clock.now();
  const outDir = resolve(options.outDir ?? `lab-results/${name}`);
  const color = options.color ?? false;
  // A fresh emulator as `npm start` runs it (default preset); the notebook's deployment step configures the lab.
  const emulator = createEmulator({ config: presetConfig(DEFAULT_PRESET), clock: time.clock });
  try {
    const { url } = await emulator.listen(0, '127.0.0.1');
    const out = new NotebookPrinter(time, options.print ?? (options.quiet ? () => {} : (line) => process.stdout.write(`${line}\n`)), color);
    const ctx: LabContext = {
      url,
      outDir,
      out,
      az: new AzCells(url, out, time),
      time,
      progress: !(options.quiet ?? false),
      color,
      settled: () => emulator.settled(),
      async query(app, kql, timespan) {
        await emulator.settled();
        const response = await fetch(`${url}/v1/apps/${encodeURIComponent(app)}/query`, jsonRequest('POST', { query: kql, timespan }));
        const body = (await response.json()) as { tables?: Array<{ columns: Array<{ name: string }>; rows: unknown[][] }>; error?: { message: string } };
        if (!response.ok || !body.tables) throw new Error(`App Insights query failed (${response.status}): ${body.error?.message ?? JSON.stringify(body)}`);
        const table = body.tables[0]!;
        return table.rows.map((row) => Object.fromEntries(table.columns.map((c, i) => [c.name, row[i]])));
      },
    };
    const result = await LABS[name](ctx);
    return {
      name,
      ...result,
      lines: out.lines,
      outDir,
      url,
      realTime: time.realTime,
      emulatedMs: time.clock.now() - startedMs,
      waitedMs: time.waitedMs,
    } as unknown as LabResult<N>;
  } finally {
    await emulator.close();
  }
}
