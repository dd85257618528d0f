/**
 * GET /metrics: the exposition parses with a Prometheus text parser, and its token totals equal the customMetrics
 * sums (KQL) for the same traffic; refusals, request counts, latency histograms and backend statuses are there.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/index.js';
import { createPrometheusMetrics, OVERFLOW_DIMENSIONS } from '../../../emulator/metrics/prometheus.js';

let gw: RunningEmulator;
beforeAll(async () => {
  gw = await startEmulator({ preset: 'token-metrics-emitting' });
});
afterAll(() => gw.close());

const chat = (key: string, user: string) =>
  fetch(`${gw.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, {
    method: 'POST',
    headers: { 'api-key': key, 'content-type': 'application/json', 'x-user-id': user },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
  });

async function scrape() {
  const res = await fetch(`${gw.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusTextFormat(await res.text());
}

describe('GET /metrics', () => {
  it('token totals per metric name equal the customMetrics sums; requests, refusals, latency and backend statuses are counted', async () => {
    const usages = [
      { prompt_tokens: 11, completion_tokens: 7 },
      { prompt_tokens: 23, completion_tokens: 40 },
      { prompt_tokens: 5, completion_tokens: 95 },
    ];
    gw.models.script('gpt-4.1-mini', usages.map((usage) => ({ usage })));
    const keys = gw.subscriptions.map((s) => s.primaryKey);
    for (const [i] of usages.entries()) expect((await chat(keys[i % keys.length]!, `user-${i}`)).status).toBe(200);
    expect((await chat('not-a-key', 'x')).status).toBe(401);
    await gw.emulator.settled();

    const families = await scrape();
    const family = (name: string) => families.find((f) => f.name === name);
    const emitted = family('ai_gateway_emitted_metric_total')!;
    expect(emitted.type).toBe('COUNTER');
    const promTotals: Record<string, number> = {};
    for (const m of emitted.metrics) promTotals[m.labels!.metric!] = (promTotals[m.labels!.metric!] ?? 0) + Number(m.value);

    const rows = await gw.query('customMetrics | summarize total = sum(value) by name');
    const kqlTotals = Object.fromEntries(rows.map((r) => [r.name as string, Number(r.total)]));
    expect(Object.keys(kqlTotals).sort()).toEqual(['Completion Tokens', 'Prompt Tokens', 'Total Tokens']);
    expect(promTotals).toEqual(kqlTotals);
    expect(promTotals['Total Tokens']).toBe(11 + 7 + 23 + 40 + 5 + 95);
    // The emitted dimensions are kept (one series per combination).
    expect(emitted.metrics.some((m) => m.labels!.dimensions!.includes('User ID=user-1'))).toBe(true);

    const requests = family('ai_gateway_requests_total')!;
    const count = (labels: Record<string, string>) =>
      requests.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels![k] === v)).reduce((n, m) => n + Number(m.value), 0);
    expect(count({ api: 'inference-api', status: '200' })).toBe(3);
    expect(count({ status: '401' })).toBe(1);
    const latency = family('ai_gateway_request_duration_seconds')!;
    expect(latency.type).toBe('HISTOGRAM');
    const backend = family('ai_gateway_backend_responses_total')!;
    expect(backend.metrics.find((m) => m.labels!.backend === 'foundry1' && m.labels!.status === '200')?.value).toBe('3');
    expect(family('ai_gateway_counter_store_errors_total')).toBeDefined();
  });

  it('counts token-limit refusals by policy and reason', async () => {
    const limited = await startEmulator({ preset: 'token-rate-limiting' });
    try {
      limited.models.script('gpt-4.1-mini', [{ usage: { prompt_tokens: 60, completion_tokens: 40 } }]);
      const send = () =>
        fetch(`${limited.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, {
          method: 'POST',
          headers: { 'api-key': limited.keyFor('subscription1'), 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
        });
      expect((await send()).status).toBe(200);
      expect((await send()).status).toBe(429);
      expect((await send()).status).toBe(429);
      const text = await (await fetch(`${limited.url}/metrics`)).text();
      const refusals = parsePrometheusTextFormat(text).find((f) => f.name === 'ai_gateway_refusals_total')!;
      expect(refusals.metrics).toEqual([{ labels: { policy: 'llm-token-limit', reason: 'OpenAITokenLimitExceeded', status: '429' }, value: '2' }]);
    } finally {
      await limited.close();
    }
  });

  it('bounds the dimension series per metric: past the cap, values add to the overflow series and totals stay exact', async () => {
    const prom = createPrometheusMetrics({ maxDimensionSeries: 2 });
    for (let i = 0; i < 5; i++) prom.sink.emit({ timestamp: 0, namespace: 'openai', name: 'Total Tokens', value: 10, dimensions: { 'User ID': `u${i}` } });
    const emitted = parsePrometheusTextFormat(await prom.text()).find((f) => f.name === 'ai_gateway_emitted_metric_total')!;
    expect(emitted.metrics.map((m) => [m.labels!.dimensions, m.value])).toEqual([
      ['User ID=u0', '10'],
      ['User ID=u1', '10'],
      [OVERFLOW_DIMENSIONS, '30'],
    ]);
  });
});
