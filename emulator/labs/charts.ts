import { Resvg } from '@resvg/resvg-js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A notebook plot: its Vega-Lite spec (data inline) and where it was written. */
export interface LabChart {
  title: string;
  spec: TopLevelSpec;
  svgPath: string;
  pngPath: string;
}

// matplotlib's figsize [15, 7] at 100 dpi, less the axes and legend.
const WIDTH = 1200;
const HEIGHT = 520;
const FONT = 'DejaVu Sans';
const CONFIG = { font: FONT, background: 'white', view: { stroke: '#888' } } as const;

/** Compiles Vega-Lite → Vega, renders headless (renderer 'none') to SVG, then SVG → PNG with resvg. */
export async function renderChart(spec: TopLevelSpec): Promise<{ svg: string; png: Buffer }> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: FONT }, background: 'white' }).render().asPng();
    return { svg, png };
  } finally {
    view.finalize();
  }
}

export async function writeChart(outDir: string, fileBase: string, title: string, spec: TopLevelSpec): Promise<LabChart> {
  const { svg, png } = await renderChart(spec);
  mkdirSync(outDir, { recursive: true });
  const svgPath = join(outDir, `${fileBase}.svg`);
  const pngPath = join(outDir, `${fileBase}.png`);
  writeFileSync(svgPath, svg);
  writeFileSync(pngPath, png);
  return { title, spec, svgPath, pngPath };
}

export interface RateLimitingRun {
  run: number;
  tokens: number;
  status: number;
}

/** The notebook's colours: red for 5xx, yellow for 4xx, light blue otherwise. */
function statusColour(status: number): string {
  const code = String(status);
  return code.startsWith('5') ? 'red' : code.startsWith('4') ? 'yellow' : 'lightblue';
}

/**
 * token-rate-limiting cell 12: tokens per run coloured by status, 'Status:429' at y=20 under every non-200 run
 * (hard-coded text, as in the notebook), the token value above each bar, and the accumulated tokens as a green line.
 */
export function rateLimitingChartSpec(runs: RateLimitingRun[]): TopLevelSpec {
  let accumulated = 0;
  const values = runs.map((r) => {
    accumulated += r.tokens;
    return {
      Run: r.run,
      Tokens: r.tokens,
      'Status Code': String(r.status),
      'Accumulated Tokens': accumulated,
      'Status label': r.status === 200 ? '' : 'Status:429',
      'Tokens label': r.tokens === 0 ? '' : String(r.tokens),
    };
  });
  const codes = [...new Set(values.map((v) => v['Status Code']))].sort();
  const x = { field: 'Run', type: 'ordinal', title: 'Runs', axis: { labelAngle: 0 } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Rate Limiting results',
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values },
    layer: [
      {
        mark: { type: 'bar', stroke: '#666', strokeWidth: 0.5 },
        encoding: {
          x,
          y: { field: 'Tokens', type: 'quantitative', title: 'Tokens' },
          color: { field: 'Status Code', type: 'nominal', scale: { domain: codes, range: codes.map((c) => statusColour(Number(c))) }, legend: { title: 'Status Code' } },
        },
      },
      // Vertical, so 30 labels side by side stay readable.
      { mark: { type: 'text', angle: 270, align: 'left', baseline: 'middle' }, encoding: { x, y: { datum: 20, type: 'quantitative' }, text: { field: 'Status label' } } },
      { mark: { type: 'text', baseline: 'bottom', dy: -5 }, encoding: { x, y: { field: 'Tokens', type: 'quantitative' }, text: { field: 'Tokens label' } } },
      { mark: { type: 'line', color: 'green', point: { color: 'green' } }, encoding: { x, y: { field: 'Accumulated Tokens', type: 'quantitative' } } },
      { mark: { type: 'text', baseline: 'bottom', dy: -6, color: 'green' }, encoding: { x, y: { field: 'Accumulated Tokens', type: 'quantitative' }, text: { field: 'Accumulated Tokens', type: 'quantitative' } } },
    ],
  };
}

export interface TokenUsagePoint {
  /** ISO 8601, as the query API returns it. */
  timestamp: string;
  value: number;
}

/** token-metrics-emitting cell 16: `df.plot(kind='line', x='timestamp', y='value')` over the KQL result. */
export function tokenUsageChartSpec(points: TokenUsagePoint[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Total token usage over time',
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values: points.map((p) => ({ timestamp: p.timestamp, value: p.value })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'timestamp', type: 'temporal', title: 'Time', scale: { type: 'utc' }, axis: { format: '%H:%M:%S' } },
      y: { field: 'value', type: 'quantitative', title: 'Tokens' },
    },
  };
}

export interface PortalPoint {
  /** Start of the time-grain bucket, ISO 8601. */
  time: string;
  subscription: string;
  sum: number;
}

/**
 * token-metrics-emitting cell 17, the portal's Metrics blade: namespace openai, metric Total Tokens, aggregation
 * Sum, split by Subscription ID (one line per subscription).
 */
export function portalChartSpec(points: PortalPoint[], resourceName: string, grain: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Sum Total Tokens by Subscription ID', subtitle: `${resourceName} · openai · ${grain} granularity` },
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values: points.map((p) => ({ time: p.time, 'Subscription ID': p.subscription, 'Total Tokens (Sum)': p.sum })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'time', type: 'temporal', title: null, scale: { type: 'utc' }, axis: { format: '%H:%M' } },
      y: { field: 'Total Tokens (Sum)', type: 'quantitative', title: 'Total Tokens (Sum)' },
      color: { field: 'Subscription ID', type: 'nominal', legend: { title: 'Subscription ID', orient: 'bottom' } },
    },
  };
}
