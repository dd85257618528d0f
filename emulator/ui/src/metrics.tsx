import { useMemo, useState } from 'preact/hooks';
import { dimension, kqlString, records, runQuery } from './api.js';
import { Legend, PALETTE, TimeChart, type Series, type TimeChartKind } from './charts.js';
import { SelectField } from './field.js';
import { TIME_RANGES, toMs, useAsync } from './use-async.js';

/** The portal's aggregations over pre-aggregated customMetrics rows (valueSum, valueCount, valueMin, valueMax). */
const AGGREGATIONS = {
  Sum: { summarize: 'value = sum(valueSum)', then: '' },
  Avg: { summarize: 's = sum(valueSum), c = sum(valueCount)', then: '\n| extend value = todouble(s) / c' },
  Min: { summarize: 'value = min(valueMin)', then: '' },
  Max: { summarize: 'value = max(valueMax)', then: '' },
  Count: { summarize: 'value = sum(valueCount)', then: '' },
} as const;
type Aggregation = keyof typeof AGGREGATIONS;

const GRANULARITIES = ['auto', '1s', '10s', '1m', '5m', '15m', '30m', '1h', '6h', '1d'] as const;
const NONE = '';

interface MetricQuery {
  namespace: string;
  metric: string;
  aggregation: Aggregation;
  split: string;
}

function source({ namespace, metric, split }: MetricQuery): string {
  const lines = ['customMetrics', `| where _MetricNamespace == ${kqlString(namespace)} and name == ${kqlString(metric)}`];
  if (split) lines.push(`| extend series = tostring(${dimension(split)})`);
  return lines.join('\n');
}

/** The time series: one row per (bin, split value). */
export function seriesQuery(q: MetricQuery, bin: string): string {
  const by = q.split ? `timestamp = bin(timestamp, ${bin}), series` : `timestamp = bin(timestamp, ${bin})`;
  const agg = AGGREGATIONS[q.aggregation];
  return `${source(q)}\n| summarize ${agg.summarize} by ${by}${agg.then}\n| order by timestamp asc`;
}

/** The legend: the aggregation over the whole time range, per split value. */
export function totalsQuery(q: MetricQuery): string {
  const agg = AGGREGATIONS[q.aggregation];
  return `${source(q)}\n| summarize ${agg.summarize}${q.split ? ' by series' : ''}${agg.then}${q.split ? '\n| order by series asc' : ''}`;
}

export function MetricsExplorer() {
  const [namespace, setNamespace] = useState('');
  const [metric, setMetric] = useState('');
  const [aggregation, setAggregation] = useState<Aggregation>('Sum');
  const [range, setRange] = useState<string>('PT1H');
  const [granularity, setGranularity] = useState<(typeof GRANULARITIES)[number]>('auto');
  const [split, setSplit] = useState(NONE);
  const [kind, setKind] = useState<TimeChartKind>('area');
  const [live, setLive] = useState(false);

  const namespaces = useAsync(async () => {
    const r = records(await runQuery('customMetrics\n| distinct _MetricNamespace\n| order by _MetricNamespace asc'));
    return r.map((x) => String(x._MetricNamespace));
  }, []);
  const ns = namespace || namespaces.value?.find((n) => n === 'openai') || namespaces.value?.[0] || '';
  const metrics = useAsync(async () => {
    if (!ns && namespaces.loading) return [];
    const r = records(await runQuery(`customMetrics\n| where _MetricNamespace == ${kqlString(ns)}\n| distinct name\n| order by name asc`));
    return r.map((x) => String(x.name));
  }, [ns, namespaces.loading]);
  const name = (metrics.value?.includes(metric) ? metric : '') || metrics.value?.find((m) => m === 'Total Tokens') || metrics.value?.[0] || '';
  const dimensions = useAsync(async () => {
    if (!name) return [];
    const r = records(
      await runQuery(
        `customMetrics\n| where _MetricNamespace == ${kqlString(ns)} and name == ${kqlString(name)}\n| project key = bag_keys(customDimensions)\n| mv-expand key to typeof(string)\n| distinct key\n| order by key asc`,
      ),
    );
    return r.map((x) => String(x.key));
  }, [ns, name]);

  const bin = granularity === 'auto' ? TIME_RANGES.find((t) => t.value === range)!.bin : granularity;
  const q: MetricQuery = { namespace: ns, metric: name, aggregation, split: dimensions.value?.includes(split) ? split : NONE };
  const shownQuery = `${seriesQuery(q, bin)}\n\n// legend\n${totalsQuery(q)}`;
  const data = useAsync(
    async () => {
      if (!name) return undefined;
      const [series, totals] = await Promise.all([runQuery(seriesQuery(q, bin), range), runQuery(totalsQuery(q), range)]);
      return { series: records(series), totals: records(totals) };
    },
    [ns, name, aggregation, range, bin, q.split],
    live ? 5_000 : undefined,
  );

  const chart = useMemo(() => {
    const rows = data.value?.series ?? [];
    const x = [...new Set(rows.map((r) => toMs(r.timestamp)))].sort((a, b) => a - b);
    const index = new Map(x.map((t, i) => [t, i]));
    const bySeries = new Map<string, Series>();
    for (const r of rows) {
      const label = q.split ? String(r.series || '(empty)') : `${aggregation} ${name}`;
      let s = bySeries.get(label);
      if (!s) bySeries.set(label, (s = { label, values: x.map(() => null) }));
      s.values[index.get(toMs(r.timestamp))!] = Number(r.value);
    }
    const series = [...bySeries.values()].sort((a, b) => a.label.localeCompare(b.label));
    const totals = new Map((data.value?.totals ?? []).map((r) => [q.split ? String(r.series || '(empty)') : `${aggregation} ${name}`, Number(r.value)]));
    return { x, series, legend: series.map((s, i) => ({ label: s.label, value: totals.get(s.label) ?? 0, color: PALETTE[i % PALETTE.length]! })) };
  }, [data.value]);

  const title = `${aggregation} ${name || '…'}${q.split ? ` by ${q.split}` : ''}`;
  return (
    <section class="view metrics" aria-label="Metrics explorer">
      <form class="toolbar" onSubmit={(e) => e.preventDefault()}>
        <SelectField label="Metric namespace" value={ns} onChange={(v) => setNamespace(v)}>
          {(namespaces.value ?? []).map((n) => (
            <option key={n} value={n}>
              {n || '(none)'}
            </option>
          ))}
        </SelectField>
        <SelectField label="Metric" value={name} onChange={(v) => setMetric(v)}>
          {(metrics.value ?? []).map((m) => (
            <option key={m}>{m}</option>
          ))}
        </SelectField>
        <SelectField label="Aggregation" value={aggregation} onChange={(v) => setAggregation(v as Aggregation)}>
          {Object.keys(AGGREGATIONS).map((a) => (
            <option key={a}>{a}</option>
          ))}
        </SelectField>
        <SelectField label="Time range" value={range} onChange={(v) => setRange(v)}>
          {TIME_RANGES.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </SelectField>
        <SelectField label="Time granularity" value={granularity} onChange={(v) => setGranularity(v as (typeof GRANULARITIES)[number])}>
          {GRANULARITIES.map((g) => (
            <option key={g} value={g}>
              {g === 'auto' ? `Automatic (${TIME_RANGES.find((t) => t.value === range)!.bin})` : g}
            </option>
          ))}
        </SelectField>
        <SelectField label="Split by" value={q.split} onChange={(v) => setSplit(v)}>
          <option value={NONE}>(no splitting)</option>
          {(dimensions.value ?? []).map((d) => (
            <option key={d}>{d}</option>
          ))}
        </SelectField>
        <SelectField label="Chart" value={kind} onChange={(v) => setKind(v as TimeChartKind)}>
          <option value="line">Line</option>
          <option value="area">Area</option>
          <option value="bar">Bar</option>
        </SelectField>
        <label class="check">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> Live (5 s)
        </label>
        <button type="button" onClick={data.reload}>
          Refresh
        </button>
      </form>
      <h2>{title}</h2>
      {data.error ? <p class="error" role="alert">{data.error.message}</p> : null}
      {!data.loading && chart.series.length === 0 && !data.error ? <p class="empty">No {name || 'metric'} samples in this time range.</p> : null}
      {chart.series.length > 0 ? <TimeChart x={chart.x} series={chart.series} kind={kind} label={title} /> : null}
      <Legend items={chart.legend} title={`${title} (over the time range)`} />
      <details class="query-shown">
        <summary>Query (timespan {range})</summary>
        <pre>{shownQuery}</pre>
      </details>
    </section>
  );
}
