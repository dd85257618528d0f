/**
 * OTLP/HTTP export (`--otlp-endpoint`, the config file's `otlp` section) against a receiver written here: the real
 * CLI pushes OTLP JSON; its token totals equal the customMetrics sums for the same traffic, and every metric name,
 * attribute set and value equals what GET /metrics shows at the same moment.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../emulator/config/load.js';
import { presetConfig } from '../../../emulator/config/presets.js';
import { wellKnownSubscriptionKey } from '../../../emulator/config/load.js';
import { resolveOtlp } from '../../../emulator/metrics/otlp-cli.js';
import { startCli, stopCli } from '../../support/cli.js';
import { chatUrl, LAB_MESSAGES } from '../../support/lab.js';

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}
interface OtlpPoint {
  attributes?: OtlpAttribute[];
  asDouble?: number;
  asInt?: string | number;
  count?: string | number;
  sum?: number;
  bucketCounts?: Array<string | number>;
  explicitBounds?: number[];
  startTimeUnixNano?: string | number;
  timeUnixNano?: string | number;
}
interface OtlpMetric {
  name: string;
  sum?: { dataPoints: OtlpPoint[]; aggregationTemporality: number; isMonotonic?: boolean };
  gauge?: { dataPoints: OtlpPoint[] };
  histogram?: { dataPoints: OtlpPoint[]; aggregationTemporality: number };
}
interface OtlpRequest {
  receivedAt: number;
  headers: IncomingHttpHeaders;
  body: { resourceMetrics: Array<{ resource: { attributes: OtlpAttribute[] }; scopeMetrics: Array<{ scope: { name: string }; metrics: OtlpMetric[] }> }> };
}

/** A minimal OTLP/HTTP receiver: POST /v1/metrics with a JSON body (ExportMetricsServiceRequest). */
async function startReceiver(): Promise<{ server: Server; url: string; requests: OtlpRequest[] }> {
  const requests: OtlpRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/metrics') {
        res.writeHead(404).end();
        return;
      }
      requests.push({ receivedAt: performance.now(), headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const attrs = (list: OtlpAttribute[] | undefined) =>
  Object.fromEntries((list ?? []).map((a) => [a.key, String(a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue ?? a.value.boolValue)]));
const labelKey = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
const pointValue = (p: OtlpPoint) => Number(p.asDouble ?? p.asInt);

type Series = Map<string, Map<string, number | { count: number; sum: number; buckets: Record<string, number> }>>;

/** `name{a="x",b="y"} value` → [name, labels, value] (label values unescaped). */
function sampleLine(line: string): [string, Record<string, string>, number] {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line)!;
  const labels: Record<string, string> = {};
  for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  return [m[1]!, labels, Number(m[3])];
}

/**
 * Prometheus families → { name → { label set → value } }; histograms as `count`, `sum` and cumulative `le` buckets.
 * Counters and gauges through parse-prometheus-text-format; histogram samples read here (that parser drops their
 * labels, sums and counts).
 */
function promSeries(text: string): Series {
  const out: Series = new Map();
  const families = parsePrometheusTextFormat(text);
  for (const family of families) {
    if (family.type === 'HISTOGRAM') continue;
    const series = new Map<string, number>();
    for (const m of family.metrics as Array<{ labels?: Record<string, string>; value?: string }>) series.set(labelKey(m.labels ?? {}), Number(m.value));
    out.set(family.name, series);
  }
  for (const family of families.filter((f) => f.type === 'HISTOGRAM')) {
    const series = new Map<string, { count: number; sum: number; buckets: Record<string, number> }>();
    for (const line of text.split('\n').filter((l) => l.startsWith(`${family.name}_`))) {
      const [name, labels, value] = sampleLine(line);
      const { le, ...rest } = labels;
      const key = labelKey(rest);
      if (!series.has(key)) series.set(key, { count: NaN, sum: NaN, buckets: {} });
      const s = series.get(key)!;
      if (name === `${family.name}_bucket`) s.buckets[le!] = value;
      else if (name === `${family.name}_sum`) s.sum = value;
      else if (name === `${family.name}_count`) s.count = value;
    }
    out.set(family.name, series);
  }
  return out;
}

/** The same shape from one OTLP request (histogram buckets made cumulative again, keyed by Prometheus' `le`). */
function otlpSeries(request: OtlpRequest): Series {
  const out: Series = new Map();
  for (const rm of request.body.resourceMetrics)
    for (const sm of rm.scopeMetrics)
      for (const metric of sm.metrics) {
        const series = new Map<string, number | { count: number; sum: number; buckets: Record<string, number> }>();
        for (const p of metric.sum?.dataPoints ?? metric.gauge?.dataPoints ?? []) series.set(labelKey(attrs(p.attributes)), pointValue(p));
        for (const p of metric.histogram?.dataPoints ?? []) {
          const buckets: Record<string, number> = {};
          let cumulative = 0;
          const bounds = p.explicitBounds ?? [];
          (p.bucketCounts ?? []).forEach((n, i) => {
            cumulative += Number(n);
            buckets[i < bounds.length ? String(bounds[i]) : '+Inf'] = cumulative;
          });
          series.set(labelKey(attrs(p.attributes)), { count: Number(p.count), sum: Number(p.sum), buckets });
        }
        out.set(metric.name, series);
      }
  return out;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, deadlineMs = 15_000): Promise<T> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const dirs: string[] = [];
const servers: Server[] = [];
afterAll(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  servers.forEach((s) => s.close());
});

describe('OTLP/HTTP metric export (real CLI, a receiver in the test)', () => {
  it('pushes the /metrics metrics: token totals equal the customMetrics sums; names, attributes and values equal a scrape', async () => {
    const receiver = await startReceiver();
    servers.push(receiver.server);
    const dir = mkdtempSync(join(tmpdir(), 'aigw-otlp-'));
    dirs.push(dir);
    // The endpoint from the config file (a bare origin: /v1/metrics is added), the interval from the flag.
    const config = { ...presetConfig('token-metrics-emitting'), otlp: { endpoint: receiver.url, headers: { 'x-collector-key': 'k1' } } };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const { child, url, banner } = await startCli(['--config', join(dir, 'config.json'), '--data', join(dir, 'data'), '--quiet', '--otlp-interval-ms', '200'], { ready: 'OTLP metrics:', timeoutMs: 45_000 });
    try {
      expect(banner).toContain(`OTLP metrics: ${receiver.url}/v1/metrics every 200 ms`);
      const key = wellKnownSubscriptionKey('subscription1', 'primary');
      const statuses: number[] = [];
      // 25 calls against a 20-per-minute mock deployment: 200s with tokens, then the backend's 429s.
      for (let i = 0; i < 25; i++) {
        const res = await fetch(chatUrl(url), { method: 'POST', headers: { 'api-key': key, 'content-type': 'application/json', 'x-user-id': `user-${i % 3}` }, body: JSON.stringify({ messages: LAB_MESSAGES }) });
        statuses.push(res.status);
        await res.arrayBuffer();
      }
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
      expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);

      const { appId } = await (await fetch(`${url}/_emulator/appinsights`)).json();
      const kql = await (await fetch(`${url}/v1/apps/${appId}/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'customMetrics | summarize total = sum(value) by name' }) })).json();
      const kqlTotals = Object.fromEntries((kql.tables[0].rows as Array<[string, number]>).map(([name, total]) => [name, Number(total)]));
      expect(Object.keys(kqlTotals).sort()).toEqual(['Completion Tokens', 'Prompt Tokens', 'Total Tokens']);

      // No more traffic: a scrape now and any export collected after it carry the same values.
      const scrapedAt = performance.now();
      const scraped = promSeries(await (await fetch(`${url}/metrics`)).text());
      const request = await until('an OTLP export after the scrape', () => receiver.requests.find((r) => r.receivedAt > scrapedAt + 50));
      expect(request.headers['content-type']).toMatch(/^application\/json/);
      expect(request.headers['x-collector-key']).toBe('k1');
      const resource = attrs(request.body.resourceMetrics[0]!.resource.attributes);
      expect(resource['service.name']).toBe('ai-gateway-emulator');
      expect(resource['service.instance.id']).toMatch(/-\d+$/);
      const exported = otlpSeries(request);

      // Token totals: OTLP = customMetrics (KQL).
      const otlpTotals: Record<string, number> = {};
      for (const [labels, value] of exported.get('ai_gateway_emitted_metric_total') ?? []) {
        const metric = (JSON.parse(labels) as Array<[string, string]>).find(([k]) => k === 'metric')![1];
        otlpTotals[metric] = (otlpTotals[metric] ?? 0) + (value as number);
      }
      expect(otlpTotals).toEqual(kqlTotals);

      // Every family with series in the scrape is exported under the same name, attribute sets and values.
      const metric = request.body.resourceMetrics[0]!.scopeMetrics.flatMap((s) => s.metrics);
      expect(metric.find((m) => m.name === 'ai_gateway_emitted_metric_total')!.sum).toMatchObject({ aggregationTemporality: 2, isMonotonic: true });
      expect(metric.find((m) => m.name === 'ai_gateway_request_duration_seconds')!.histogram).toMatchObject({ aggregationTemporality: 2 });
      const compared: string[] = [];
      for (const [name, series] of scraped) {
        if (name === 'ai_gateway_otlp_exports_total' || series.size === 0) continue; // changes with each export
        expect(exported.get(name), name).toEqual(series);
        compared.push(name);
      }
      expect(compared).toEqual(expect.arrayContaining(['ai_gateway_emitted_metric_total', 'ai_gateway_requests_total', 'ai_gateway_request_duration_seconds', 'ai_gateway_backend_responses_total']));
      // Export results are counted in /metrics.
      const after = promSeries(await (await fetch(`${url}/metrics`)).text());
      expect((after.get('ai_gateway_otlp_exports_total')!.get(labelKey({ result: 'success' })) as number) ?? 0).toBeGreaterThan(0);

      // SIGTERM: one last export with the final values.
      const before = receiver.requests.length;
      const stoppedAt = performance.now();
      await stopCli(child);
      expect(child.exitCode).toBe(0);
      expect(receiver.requests.length).toBeGreaterThan(before);
      expect(receiver.requests.at(-1)!.receivedAt).toBeGreaterThan(stoppedAt);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('an unreachable collector: the gateway keeps serving; failed exports are counted in /metrics and logged once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-otlp-down-'));
    dirs.push(dir);
    const closed = await startReceiver();
    const deadUrl = closed.url;
    await new Promise((r) => closed.server.close(r)); // nothing listens there any more
    const started = await startCli(['--preset', 'token-metrics-emitting', '--in-memory', '--otlp-endpoint', `${deadUrl}/v1/metrics`, '--otlp-interval-ms', '100'], { ready: 'OTLP metrics:', timeoutMs: 45_000 });
    const { child, url } = started;
    let stderr = started.stderr; // the first export may fail before the banner is complete
    child.stderr.on('data', (c) => (stderr += c));
    try {
      const failures = await until('two failed exports', async () => {
        const n = promSeries(await (await fetch(`${url}/metrics`)).text()).get('ai_gateway_otlp_exports_total')?.get(labelKey({ result: 'failure' }));
        return typeof n === 'number' && n >= 2 ? n : undefined;
      });
      expect(failures).toBeGreaterThanOrEqual(2);
      const res = await fetch(chatUrl(url), { method: 'POST', headers: { 'api-key': wellKnownSubscriptionKey('subscription1', 'primary'), 'content-type': 'application/json' }, body: JSON.stringify({ messages: LAB_MESSAGES }) });
      expect(res.status).toBe(200);
      // stderr arrives through its own pipe, possibly after the /metrics answer.
      await until('the warning line', async () => (stderr.includes('warning: otlp: export to') ? true : undefined));
      expect(stderr.match(/warning: otlp: export to .* failed/g)).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('settings: flags over the file, a bare origin gets /v1/metrics, bad values are a ConfigError; none → no export', () => {
    expect(resolveOtlp({}, undefined)).toBeUndefined();
    expect(resolveOtlp({}, { endpoint: 'http://collector:4318' })).toEqual({ url: 'http://collector:4318/v1/metrics', intervalMs: 10_000, headers: {} });
    expect(resolveOtlp({ otlpEndpoint: 'https://c.example/otlp/v1/metrics', otlpIntervalMs: 500, otlpHeader: ['a=b=c'] }, { endpoint: 'http://ignored:4318', intervalMs: 9, headers: { x: 'y' } })).toEqual({
      url: 'https://c.example/otlp/v1/metrics',
      intervalMs: 500,
      headers: { x: 'y', a: 'b=c' },
    });
    expect(() => resolveOtlp({ otlpEndpoint: 'localhost:4318' }, undefined)).toThrow(ConfigError);
    expect(() => resolveOtlp({ otlpEndpoint: 'grpc://c:4317' }, undefined)).toThrow(/not an http\(s\) URL/);
    expect(() => resolveOtlp({}, { endpoint: 'http://c:4318', intervalMs: -1 })).toThrow(/positive number/);
    expect(() => resolveOtlp({ otlpEndpoint: 'http://c:4318', otlpHeader: ['novalue'] }, undefined)).toThrow(/NAME=VALUE/);
  });

  it('the SDK loads lazily: only emulator/metrics/otlp.ts imports @opentelemetry, and only `await import` reaches it', () => {
    const root = new URL('../../..', import.meta.url).pathname;
    const sources: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) sources.push(relative(root, p));
      }
    };
    for (const d of ['emulator', 'policy-engine', 'mock-models', 'bin']) walk(join(root, d));
    const importsOtel = sources.filter((f) => /from\s+['"]@opentelemetry\//.test(readFileSync(join(root, f), 'utf8').replace(/import type [^;]+;/g, '')));
    expect(importsOtel).toEqual(['emulator/metrics/otlp.ts']);
    const staticImporters = sources.filter((f) => /^\s*import\s+(?!type\b)[^;]*from\s+['"][./]+(metrics\/)?otlp\.js['"]/m.test(readFileSync(join(root, f), 'utf8')));
    expect(staticImporters).toEqual([]);
    expect(readFileSync(join(root, 'emulator/metrics/otlp-cli.ts'), 'utf8')).toContain("await import('./otlp.js')");
  });
});
