import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLab, type LabResult } from '../../../emulator/index.js';
import type { LabChart } from '../../../emulator/labs/index.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const START = '2026-03-02T09:00:00.000Z';

type Row = Record<string, unknown>;
const rowsOf = (chart: LabChart): Row[] => (chart.spec.data as { values: Row[] }).values;

function expectRendered(chart: LabChart, texts: string[]): void {
  const png = readFileSync(chart.pngPath);
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.length).toBeGreaterThan(5_000);
  const svg = readFileSync(chart.svgPath, 'utf8');
  expect(XMLValidator.validate(svg)).toBe(true);
  expect(Object.keys(new XMLParser().parse(svg))).toContain('svg');
  for (const text of texts) expect(svg).toContain(text);
}

describe('runLab token-rate-limiting (virtual clock)', () => {
  let outDir: string;
  let result: LabResult<'token-rate-limiting'>;
  let wallMs: number;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'lab-rate-'));
    const started = performance.now();
    result = await runLab('token-rate-limiting', { outDir, quiet: true, startTime: START });
    wallMs = performance.now() - started;
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('runs cell 10: admitted while the minute’s tokens are below 100, then 429 for the rest', () => {
    const runs = result.httpRuns;
    expect(runs).toHaveLength(30);
    let consumed = 0;
    for (const run of runs) {
      if (run.status === 200) {
        expect(consumed).toBeLessThan(100);
        expect(run.totalTokens).toBeGreaterThan(0);
        consumed += run.totalTokens;
      } else {
        expect(run.status).toBe(429);
        expect(run.totalTokens).toBe(0);
        expect(consumed).toBeGreaterThanOrEqual(100);
      }
    }
    const admitted = runs.filter((r) => r.status === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(2);
    expect(runs.slice(0, admitted).every((r) => r.status === 200)).toBe(true);
  });

  it('prints what the notebook prints', () => {
    const lines = result.lines;
    expect(lines.filter((l) => /^✅ Retrieved az account ⌚ 09:00:00\.\d{6} \[0m:0s\]$/.test(l))).toHaveLength(1);
    expect(lines).toContain('⚙️ Running: az deployment group create --name token-rate-limiting --resource-group lab-token-rate-limiting --template-file main.bicep --parameters params.json ');
    expect(lines).toContain('👉🏽 Subscription Name: subscription1');
    expect(lines).toContain('▶️ Run:  1 status code:  200 ✅');
    expect(lines).toContain('▶️ Run:  30 status code:  429 ⛔');
    expect(lines.filter((l) => /^\{ "statusCode": 429, "message": "Token limit is exceeded\. Try again in \d+ seconds\." \}$/.test(l))).toHaveLength(
      result.httpRuns.filter((r) => r.status === 429).length,
    );
    expect(lines.filter((l) => /^▶️ Run: {2}\d+$/.test(l))).toHaveLength(10);
    expect(lines.filter((l) => l.startsWith('💬  '))).toHaveLength(result.httpRuns.filter((r) => r.status === 200).length + 10);
  });

  it('cell 14: every SDK run succeeds through the SDK’s own 429 retries, whose Retry-After waits pass on the virtual clock', () => {
    expect(result.sdkRuns).toHaveLength(10);
    expect(result.sdkRuns.every((r) => r.status === 200 && r.totalTokens > 0 && (r.content ?? '') !== '')).toBe(true);
    const refused = result.sdkAttempts.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(a.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
    // Each 429 is followed by the SDK's retry of the same run (x-stainless-retry-count > 0).
    const retries = result.sdkAttempts.filter((a) => a.retryCount > 0);
    expect(retries).toHaveLength(refused.length);
    expect(result.sdkAttempts.filter((a) => a.status === 200)).toHaveLength(10);
    const waited = refused.reduce((sum, a) => sum + a.retryAfterSeconds! * 1000, 0);
    expect(result.waitedMs).toBe(waited);
    expect(result.emulatedMs).toBeGreaterThanOrEqual(waited);
    expect(waited).toBeGreaterThanOrEqual(60_000);
    expect(wallMs).toBeLessThan(15_000);
  });

  it('plots tokens per run coloured by status, Status:429 labels and the accumulated tokens', () => {
    const chart = result.charts.rateLimiting;
    const values = rowsOf(chart);
    expect(values.map((v) => v.Tokens)).toEqual(result.httpRuns.map((r) => r.totalTokens));
    expect(values.map((v) => v['Status Code'])).toEqual(result.httpRuns.map((r) => String(r.status)));
    expect(values.map((v) => v['Status label'])).toEqual(result.httpRuns.map((r) => (r.status === 200 ? '' : 'Status:429')));
    let sum = 0;
    expect(values.map((v) => v['Accumulated Tokens'])).toEqual(result.httpRuns.map((r) => (sum += r.totalTokens)));
    expect(values.map((v) => v.Run)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const layers = (chart.spec as { layer: Array<{ encoding: { color?: { scale: { domain: string[]; range: string[] } } } }> }).layer;
    expect(layers[0]!.encoding.color!.scale).toEqual({ domain: ['200', '429'], range: ['lightblue', 'yellow'] });
    expectRendered(chart, ['Rate Limiting results', 'Status:429', 'Runs', 'Tokens']);
  });
});

describe('runLab token-metrics-emitting (virtual clock)', () => {
  let outDir: string;
  let result: LabResult<'token-metrics-emitting'>;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'lab-metrics-'));
    result = await runLab('token-metrics-emitting', { outDir, quiet: true, startTime: START });
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  const seen = (subscription?: string) =>
    result.calls.filter((c) => subscription === undefined || c.subscription === subscription).reduce((sum, c) => sum + c.totalTokens, 0);

  it('makes 10 + 30 calls, all 200: subscription1 20, subscription2 and subscription3 10 each', () => {
    expect(result.calls.filter((c) => c.step === 'requests')).toHaveLength(10);
    expect(result.calls.filter((c) => c.step === 'sdk')).toHaveLength(30);
    expect(result.calls.every((c) => c.status === 200 && c.totalTokens > 0)).toBe(true);
    expect(result.calls.filter((c) => c.subscription === 'subscription1')).toHaveLength(20);
    expect(result.calls.filter((c) => c.subscription === 'subscription2')).toHaveLength(10);
    expect(result.calls.filter((c) => c.subscription === 'subscription3')).toHaveLength(10);
  });

  it('cell 14: the KQL result has the six columns, one row per call, and its value sum equals the tokens the clients saw', () => {
    expect(result.kql.columns.map((c) => c.name)).toEqual(['timestamp', 'value', 'clientIP', 'apiId', 'apimSubscription', 'UserId']);
    expect(result.kql.rows).toHaveLength(40);
    expect(result.kql.rows.reduce((sum, r) => sum + Number(r[1]), 0)).toBe(seen());
    expect(new Set(result.kql.rows.map((r) => `${r[3]}|${r[5]}`))).toEqual(new Set(['inference-api|alex']));
    // Virtual time: 20 sleeps of 100 ms after the start time, and nothing else waits.
    const times = result.kql.rows.map((r) => Date.parse(String(r[0])));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(Date.parse(START));
    expect(Math.max(...times)).toBeLessThanOrEqual(Date.parse(START) + result.emulatedMs);
    expect(result.waitedMs).toBe(2_000);
  });

  it('prints what the notebook prints', () => {
    const lines = result.lines;
    expect(lines).toContain('▶️ Run 1/10:');
    expect(lines).toContain('Response status: 200 - OK');
    expect(lines.filter((l) => l.startsWith('⌚ ') && l.endsWith(' seconds'))).toHaveLength(10);
    expect(lines).toContain('Response headers: {');
    expect(lines).toContain('x-ms-region: UK South');
    expect(lines).toContain('Token usage: {');
    expect(lines.filter((l) => l.startsWith('💬 Subscription 3: '))).toHaveLength(10);
    expect(lines.some((l) => l.startsWith('⚙️ Running: az monitor app-insights query --app insights-') && l.includes("--analytics-query \"customMetrics | where name == 'Total Tokens'"))).toBe(true);
    expect(lines.find((l) => l.trimStart().startsWith('timestamp'))).toMatch(/^\s+timestamp\s+value\s+clientIP\s+apiId\s+apimSubscription\s+UserId$/);
    expect(lines.filter((l) => /^\d+\s+09:00\s+\d+\s+127\.0\.0\.1\s+inference-api\s+subscription[123]\s+alex$/.test(l))).toHaveLength(40);
  });

  it('plots token usage over time from the KQL rows', () => {
    const chart = result.charts.tokenUsage;
    const values = rowsOf(chart);
    expect(values.map((v) => v.value)).toEqual(result.kql.rows.map((r) => r[1]));
    expect(values.map((v) => v.timestamp)).toEqual(result.kql.rows.map((r) => r[0]));
    expectRendered(chart, ['Total token usage over time', 'Time', 'Tokens']);
  });

  it('plots the portal view: Sum of Total Tokens, one series per subscription, sums equal to what the clients saw', () => {
    const chart = result.charts.portal;
    const values = rowsOf(chart);
    const series = [...new Set(values.map((v) => String(v['Subscription ID'])))].sort();
    expect(series).toEqual(['subscription1', 'subscription2', 'subscription3']);
    for (const s of series) {
      const points = values.filter((v) => v['Subscription ID'] === s);
      expect(points.length).toBeGreaterThanOrEqual(30); // the last 30 minutes at a 1-minute grain
      expect(points.reduce((sum, v) => sum + Number(v['Total Tokens (Sum)']), 0)).toBe(seen(s));
    }
    expect(values.reduce((sum, v) => sum + Number(v['Total Tokens (Sum)']), 0)).toBe(seen());
    expect((chart.spec as { encoding: { color: { field: string } } }).encoding.color.field).toBe('Subscription ID');
    expectRendered(chart, ['Sum Total Tokens by Subscription ID', 'subscription1', 'subscription2', 'subscription3']);
  });
});

describe('runLab', () => {
  it('realTime: the notebook’s sleeps wait on the wall clock (the metrics lab sleeps 20 × 100 ms)', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'lab-real-'));
    try {
      const started = performance.now();
      const result = await runLab('token-metrics-emitting', { outDir, quiet: true, realTime: true });
      expect(performance.now() - started).toBeGreaterThanOrEqual(2_000);
      expect(result.realTime).toBe(true);
      expect(result.waitedMs).toBe(2_000);
      expect(result.kql.rows).toHaveLength(40);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown lab by name', async () => {
    await expect(runLab('token-quota' as 'token-rate-limiting', { quiet: true })).rejects.toThrow("Unknown lab 'token-quota'. Labs: token-rate-limiting, token-metrics-emitting.");
  });
});
