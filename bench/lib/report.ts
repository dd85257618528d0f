/** bench/results/<timestamp>/: JSON, a Markdown summary and PNG charts per scenario (git-ignored). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TopLevelSpec } from 'vega-lite';
import { createClock } from '../../policy-engine/index.js';

const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));

export function resultsDir(explicit?: string): string {
  const stamp = new Date(createClock({ mode: 'system' }).now()).toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const dir = explicit ?? join(RESULTS, stamp);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}

export function writeText(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Renders a Vega-Lite spec to PNG (DejaVu system fonts). Loaded lazily: the RSS a benchmark reports stays its own. */
export async function writeChart(dir: string, name: string, spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite, { Resvg }] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  const path = join(dir, `${name}.png`);
  writeFileSync(path, png);
  return path;
}

export function markdownTable(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function machineHeader(info: Record<string, string | number>): string {
  return `Machine: ${info.cpu} × ${info.cores} cores, load average ${info.loadAverage1m} at start · Node ${info.node} · commit ${info.commit} · ${info.date}`;
}
