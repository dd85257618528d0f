/**
 * OTLP/HTTP export of the Prometheus registry behind `GET /metrics`, with the OpenTelemetry SDK
 * (`@opentelemetry/sdk-metrics` PeriodicExportingMetricReader, `@opentelemetry/exporter-metrics-otlp-http`).
 *
 * The registry is the single source: a MetricProducer reads it at each export, so the OTLP metrics carry the same
 * names (`ai_gateway_emitted_metric_total`, …), the same label sets as attributes and the same values as a scrape
 * at that moment. Counters become monotonic cumulative sums, gauges gauges, histograms explicit-bucket histograms
 * (Prometheus' cumulative `le` buckets turned into per-bucket counts). Only loaded when an endpoint is configured
 * (emulator/metrics/otlp-cli.ts imports this module lazily), so a start without OTLP does not load the SDK.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { Counter, type Registry } from 'prom-client';

export interface OtlpExportOptions {
  /** The OTLP/HTTP metrics endpoint, used as given (e.g. http://localhost:4318/v1/metrics). */
  url: string;
  /** Wall milliseconds between exports. */
  intervalMs: number;
  /** Extra request headers (collector credentials). */
  headers?: Record<string, string>;
  /** `service.instance.id` of the resource (one per gateway process: cumulative series must not mix). */
  instanceId: string;
  /** `service.version` of the resource. */
  serviceVersion?: string;
  /** Export failures and recoveries (one line each time the state changes). */
  log?: (line: string) => void;
}

export interface OtlpExport {
  /** Exports now (what the next interval would send). */
  flush(): Promise<void>;
  /** A last export, then stops (bounded by the export timeout). */
  shutdown(): Promise<void>;
}

export const OTLP_SCOPE = { name: 'ai-gateway-emulator' } as const;

/** Wall time as OTLP's [seconds, nanoseconds]; the virtual clock does not apply to export timestamps. */
function wallHrTime(): HrTime {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

type PromMetric = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];
type PromValue = PromMetric['values'][number] & { metricName?: string };

function attributesOf(labels: PromValue['labels'], omit?: string): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(labels)) if (k !== omit && v !== undefined) out[k] = String(v);
  return out;
}

/** One Prometheus metric family → OTLP metric data (undefined for summaries and families without series). */
export function toOtlpMetric(metric: PromMetric, startTime: HrTime, endTime: HrTime): MetricData | undefined {
  const descriptor = { name: metric.name, description: metric.help, unit: '', valueType: ValueType.DOUBLE };
  const values = metric.values as PromValue[];
  if (values.length === 0) return undefined;
  const type = String(metric.type);
  if (type === 'counter' || type === 'gauge') {
    const dataPoints = values.map((v) => ({ startTime, endTime, attributes: attributesOf(v.labels), value: v.value }));
    return type === 'counter'
      ? { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints }
      : { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints };
  }
  if (type !== 'histogram') return undefined;
  const series = new Map<string, { attributes: Attributes; buckets: Array<[number, number]>; sum: number; count: number }>();
  for (const v of values) {
    const attributes = attributesOf(v.labels, 'le');
    const key = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
    let s = series.get(key);
    if (!s) series.set(key, (s = { attributes, buckets: [], sum: 0, count: 0 }));
    const name = v.metricName ?? metric.name;
    if (name.endsWith('_bucket')) {
      const le = Number(v.labels.le === '+Inf' ? Infinity : v.labels.le);
      if (Number.isFinite(le)) s.buckets.push([le, v.value]);
    } else if (name.endsWith('_sum')) s.sum = v.value;
    else if (name.endsWith('_count')) s.count = v.value;
  }
  const dataPoints = [...series.values()].map((s) => {
    s.buckets.sort((a, b) => a[0] - b[0]);
    let below = 0;
    const counts = s.buckets.map(([, cumulative]) => {
      const n = cumulative - below;
      below = cumulative;
      return n;
    });
    counts.push(s.count - below); // (last boundary, +Inf)
    return { startTime, endTime, attributes: s.attributes, value: { buckets: { boundaries: s.buckets.map(([le]) => le), counts }, sum: s.sum, count: s.count } };
  });
  return { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM, dataPoints };
}

/** Reads the registry at each collection. */
function registryProducer(registry: Registry, startTime: HrTime): MetricProducer {
  return {
    async collect(): Promise<CollectionResult> {
      const families = await registry.getMetricsAsJSON();
      const endTime = wallHrTime();
      const metrics = families.map((m) => toOtlpMetric(m, startTime, endTime)).filter((m): m is MetricData => m !== undefined);
      // The reader keeps the MeterProvider's resource; this one is discarded.
      const resourceMetrics = { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: OTLP_SCOPE, metrics }] } as ResourceMetrics;
      return { resourceMetrics, errors: [] };
    },
  };
}

/**
 * Starts periodic OTLP/HTTP (JSON) export of `registry`. Failed exports are counted in the registry itself
 * (`ai_gateway_otlp_exports_total{result}`, so they show in /metrics) and logged when the state changes.
 */
export function startOtlpExport(registry: Registry, options: OtlpExportOptions): OtlpExport {
  const startTime = wallHrTime();
  const exports = new Counter({ name: 'ai_gateway_otlp_exports_total', help: 'OTLP metric exports by result (success, failure)', labelNames: ['result'], registers: [registry] });
  const log = options.log ?? (() => {});
  const inner = new OTLPMetricExporter({ url: options.url, headers: options.headers ?? {}, timeoutMillis: Math.min(10_000, options.intervalMs) });
  let failing = false;
  const exporter: PushMetricExporter = {
    export(metrics, done) {
      inner.export(metrics, (result) => {
        const ok = result.code === 0; // ExportResultCode.SUCCESS
        exports.inc({ result: ok ? 'success' : 'failure' });
        if (!ok && !failing) log(`warning: otlp: export to ${options.url} failed: ${result.error?.message ?? 'unknown error'}; retrying every ${options.intervalMs} ms`);
        if (ok && failing) log(`otlp: export to ${options.url} succeeded again`);
        failing = !ok;
        done(result);
      });
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  };
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: options.intervalMs,
    exportTimeoutMillis: Math.min(10_000, options.intervalMs),
    metricProducers: [registryProducer(registry, startTime)],
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': 'ai-gateway-emulator',
      'service.instance.id': options.instanceId,
      ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
    }),
    readers: [reader],
  });
  return {
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
