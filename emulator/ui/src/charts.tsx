import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export const PALETTE = ['#2f7ed8', '#e8743b', '#19a979', '#945ecf', '#ed4a7b', '#5899da', '#13a4b4', '#bf399e', '#6c8893', '#ee6868'];

export interface Series {
  label: string;
  values: Array<number | null>;
}

export type TimeChartKind = 'line' | 'area' | 'bar';

interface TimeChartProps {
  /** Epoch milliseconds, ascending. */
  x: number[];
  series: Series[];
  kind: TimeChartKind;
  height?: number;
  label: string;
  /** Colour per series (default: the palette by index). */
  colors?: string[];
  /** Bars: the bin width in ms, so one bin still gets a readable x range. */
  binMs?: number;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** A time series chart (uPlot), redrawn when its data changes and resized with its box. */
export function TimeChart({ x, series, kind, height = 300, label, colors, binMs }: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axisColor = cssVar('--fg-muted');
    const gridColor = cssVar('--grid');
    // Bars of two series stand side by side (left and right of the tick); more series overlap.
    const barsFor = (i: number) =>
      kind !== 'bar' ? undefined : uPlot.paths.bars!({ size: [series.length === 2 ? 0.4 : 0.8, 40], align: series.length === 2 ? (i === 0 ? -1 : 1) : 0 });
    const pad = kind === 'bar' && x.length > 0 ? (binMs ?? 60_000) / 1000 : 0;
    const xRange: uPlot.Range.MinMax | undefined = pad && x.length > 0 ? [x[0]! / 1000 - pad, x[x.length - 1]! / 1000 + pad] : undefined;
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      // UTC, like the emulator's clock, KQL results and the requests log.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      cursor: { drag: { x: true, y: false } },
      // The y axis starts at 0 (as the portal's charts do), so bars and areas are not cut.
      scales: {
        x: xRange ? { time: true, range: () => xRange } : { time: true },
        y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor }, ticks: { stroke: gridColor } },
        { stroke: axisColor, grid: { stroke: gridColor }, ticks: { stroke: gridColor }, size: 60 },
      ],
      series: [
        {},
        ...series.map((s, i) => {
          const color = colors?.[i] ?? PALETTE[i % PALETTE.length]!;
          const bars = barsFor(i);
          return {
            label: s.label,
            stroke: color,
            width: 2,
            spanGaps: false,
            points: { show: x.length < 60 },
            ...(kind === 'area' ? { fill: `${color}33` } : {}),
            ...(bars ? { paths: bars, fill: `${color}cc`, points: { show: false } } : {}),
          };
        }),
      ],
    };
    const data: uPlot.AlignedData = [x.map((t) => t / 1000), ...series.map((s) => s.values)];
    const chart = new uPlot(options, data, el);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [x, series, kind, height, colors, binMs, document.documentElement.dataset.theme]);
  return <div class="chart" ref={box} role="img" aria-label={label} data-series={series.map((s) => s.label).join('|')} />;
}

interface CategoryChartProps {
  categories: string[];
  series: Series[];
  label: string;
}

/** Horizontal bars (render barchart), one group per category. */
export function BarChart({ categories, series, label, vertical }: CategoryChartProps & { vertical?: boolean }) {
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
  if (vertical) {
    const groupWidth = 100 / Math.max(1, categories.length);
    const barWidth = (groupWidth * 0.8) / Math.max(1, series.length);
    return (
      <svg class="category-chart" viewBox="0 0 100 60" preserveAspectRatio="none" role="img" aria-label={label}>
        {categories.map((c, ci) =>
          series.map((s, si) => {
            const h = ((s.values[ci] ?? 0) / max) * 55;
            return (
              <rect key={`${ci}-${si}`} x={ci * groupWidth + groupWidth * 0.1 + si * barWidth} y={60 - h} width={barWidth * 0.95} height={h} fill={PALETTE[si % PALETTE.length]}>
                <title>{`${c} · ${s.label}: ${s.values[ci] ?? 0}`}</title>
              </rect>
            );
          }),
        )}
      </svg>
    );
  }
  return (
    <div class="hbars" role="img" aria-label={label}>
      {categories.map((c, ci) => (
        <div class="hbar-row" key={ci}>
          <span class="hbar-label">{c}</span>
          <span class="hbar-track">
            {series.map((s, si) => (
              <span key={si} class="hbar" style={{ width: `${((s.values[ci] ?? 0) / max) * 100}%`, background: PALETTE[si % PALETTE.length] }} title={`${s.label}: ${s.values[ci] ?? 0}`} />
            ))}
          </span>
          <span class="hbar-value">{series.map((s) => fmt(s.values[ci] ?? 0)).join(' / ')}</span>
        </div>
      ))}
    </div>
  );
}

/** render piechart: the first numeric series by category. */
export function PieChart({ categories, series, label }: CategoryChartProps) {
  const values = (series[0]?.values ?? []).map((v) => Math.max(0, v ?? 0));
  const total = values.reduce((a, b) => a + b, 0) || 1;
  let angle = -Math.PI / 2;
  return (
    <div class="pie" role="img" aria-label={label}>
      <svg viewBox="-1.05 -1.05 2.1 2.1" width="220" height="220">
        {values.map((v, i) => {
          const start = angle;
          angle += (v / total) * Math.PI * 2;
          const large = angle - start > Math.PI ? 1 : 0;
          const d =
            v >= total
              ? 'M 1 0 A 1 1 0 1 1 -1 0 A 1 1 0 1 1 1 0 Z'
              : `M 0 0 L ${Math.cos(start)} ${Math.sin(start)} A 1 1 0 ${large} 1 ${Math.cos(angle)} ${Math.sin(angle)} Z`;
          return (
            <path key={i} d={d} fill={PALETTE[i % PALETTE.length]}>
              <title>{`${categories[i]}: ${v}`}</title>
            </path>
          );
        })}
      </svg>
      <Legend items={categories.map((c, i) => ({ label: c, value: values[i] ?? 0, color: PALETTE[i % PALETTE.length]! }))} />
    </div>
  );
}

export function Legend({ items, title }: { items: Array<{ label: string; value: number; color: string }>; title?: string }) {
  return (
    <ul class="legend" aria-label={title ?? 'Legend'}>
      {items.map((item) => (
        <li key={item.label} data-series={item.label} data-value={item.value}>
          <span class="swatch" style={{ background: item.color }} aria-hidden="true" />
          <span class="legend-label">{item.label}</span>
          <span class="legend-value">{fmt(item.value)}</span>
        </li>
      ))}
    </ul>
  );
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Math.abs(n) >= 1000 || Number.isInteger(n) ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}
