/**
 * Prometheus metrics (`GET /metrics`, prom-client): what an operator running several gateways watches.
 *
 * Label cardinality is bounded: API ids, status codes, policy names and refusal reasons come from the configuration
 * and the engine (finite). Emitted token metrics keep their dimensions as one `dimensions` label
 * ("name=value;…", sorted by name); each metric keeps at most `maxDimensionSeries` distinct combinations (default
 * 500), later ones add to `dimensions="_overflow"` so totals stay exact.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricSample, MetricSink } from '../../policy-engine/index.js';
import type { CompletedRequest } from '../gateway/handler.js';

export interface PrometheusMetricsOptions {
  maxDimensionSeries?: number;
  /** Process metrics (CPU, memory, event loop) as well (default false: one process may run many emulators). */
  processMetrics?: boolean;
  /** Extra labels on every series (e.g. { gateway: 'a' } in a cluster). */
  defaultLabels?: Record<string, string>;
  /** A counter store that counts its failures (RedisCounterStore), read at each scrape. */
  counterStore?: object;
}

export interface PrometheusMetrics {
  readonly registry: Registry;
  readonly sink: MetricSink;
  onCompleted(record: CompletedRequest): void;
  /** The exposition text (`text/plain; version=0.0.4`). */
  text(): Promise<string>;
  readonly contentType: string;
}

export const OVERFLOW_DIMENSIONS = '_overflow';

export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? false) collectDefaultMetrics({ register: registry, prefix: 'ai_gateway_' });
  const maxSeries = options.maxDimensionSeries ?? 500;

  const emitted = new Counter({
    name: 'ai_gateway_emitted_metric_total',
    help: 'Values emitted by metric policies (azure-openai-emit-token-metric, llm-emit-token-metric, emit-metric), by namespace, metric name and dimensions',
    labelNames: ['namespace', 'metric', 'dimensions'],
    registers: [registry],
  });
  const requests = new Counter({ name: 'ai_gateway_requests_total', help: 'Gateway responses by API and status code', labelNames: ['api', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'ai_gateway_request_duration_seconds',
    help: "Gateway request duration (the emulator's clock: 0 under a frozen virtual clock) by API and status code",
    labelNames: ['api', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'ai_gateway_refusals_total',
    help: 'Requests the policies refused or failed (status >= 400 with a policy error), by policy (source), reason and status',
    labelNames: ['policy', 'reason', 'status'],
    registers: [registry],
  });
  const backend = new Counter({
    name: 'ai_gateway_backend_responses_total',
    help: 'Requests forwarded to a backend, by backend id and the status the pipeline ended with',
    labelNames: ['backend', 'status'],
    registers: [registry],
  });
  const failures = (options.counterStore as { errorsByOperation?: ReadonlyMap<string, number> } | undefined)?.errorsByOperation;
  new Counter({
    name: 'ai_gateway_counter_store_errors_total',
    help: 'Counter-store operations that failed (Redis unreachable or slower than its timeout), by operation',
    labelNames: ['operation'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [operation, n] of failures ?? []) this.inc({ operation }, n);
    },
  });

  const seen = new Map<string, Set<string>>();
  const dimensionsLabel = (sample: MetricSample) => {
    const label = Object.keys(sample.dimensions)
      .sort()
      .map((k) => `${k}=${sample.dimensions[k]}`)
      .join(';');
    const key = `${sample.namespace}\u0000${sample.name}`;
    let series = seen.get(key);
    if (!series) seen.set(key, (series = new Set()));
    if (series.has(label)) return label;
    if (series.size >= maxSeries) return OVERFLOW_DIMENSIONS;
    series.add(label);
    return label;
  };

  return {
    registry,
    contentType: registry.contentType,
    sink: {
      emit(sample) {
        emitted.inc({ namespace: sample.namespace, metric: sample.name, dimensions: dimensionsLabel(sample) }, sample.value);
      },
    },
    onCompleted(record) {
      const labels = { api: record.api?.id ?? '(none)', status: String(record.statusCode) };
      requests.inc(labels);
      latency.observe(labels, record.durationMs / 1000);
      const ctx = record.ctx;
      if (record.statusCode >= 400 && ctx?.lastError) refusals.inc({ policy: ctx.lastError.Source, reason: ctx.lastError.Reason, status: String(record.statusCode) });
      if (ctx?.forwarded) backend.inc({ backend: ctx.backend.backendId ?? '(url)', status: String(record.statusCode) });
    },
    text: () => registry.metrics(),
  };
}
