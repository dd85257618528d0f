import { useMemo, useState } from 'preact/hooks';
import { records, runQuery } from './api.js';
import { Legend, PALETTE, TimeChart, type Series, type TimeChartKind } from './charts.js';
import { SelectField } from './field.js';
import { AGGREGATIONS, dimensionsQuery, metricsQuery, NAMESPACES_QUERY, seriesQuery, totalsQuery, type Aggregation, type MetricQuery } from './queries.js';
import { TIME_RANGES, toMs, useAsync } from './use-async.js';

const GRANULARITIES = ['auto', '1s', '10s', '1m', '5m', '15m', '30m', '1h', '6h', '1d'] as const;
const NONE = '';

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
    const r = records(await runQuery(NAMESPACES_QUERY));
    return r.map((x) => String(x._MetricNamespace));
  }, []);
  const ns = namespace || namespaces.value?.find((n) => n === 'openai') || namespaces.value?.[0] || '';
  const metrics = useAsync(async () => {
    if (!ns && namespaces.loading) return [];
    const r = records(await runQuery(metricsQuery(ns)));
    return r.map((x) => String(x.name));
  }, [ns, namespaces.loading]);
  const name = (metrics.value?.includes(metric) ? metric : '') || metrics.value?.find((m) => m === 'Total Tokens') || metrics.value?.[0] || '';
  const dimensions = useAsync(async () => {
    if (!name) return [];
    const r = records(await runQuery(dimensionsQuery(ns, name)));
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
