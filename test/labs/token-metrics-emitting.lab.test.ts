import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureOpenAI } from 'openai';
import { startEmulator, type RunningEmulator } from '../../emulator/testing/start-emulator.js';
import { LAB_API_VERSION, LAB_KQL, LAB_MESSAGES, labPost } from '../support/lab.js';

describe('token-metrics-emitting lab (preset, virtual clock)', () => {
  let gw: RunningEmulator;
  const seenTotals: Array<{ subscription: string; total: number }> = [];

  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-metrics-emitting' });
    // Cell 10: 10 calls with requests, subscription1, x-user-id: alex, 0.1 s apart.
    for (let i = 0; i < 10; i++) {
      const res = await labPost(gw.url, gw.keyFor('subscription1'), { 'x-user-id': 'alex' });
      expect(res.status).toBe(200);
      seenTotals.push({ subscription: 'subscription1', total: (await res.json()).usage.total_tokens });
      gw.clock.advance(100);
    }
    // Cell 12: 10 runs × 3 AzureOpenAI clients, one per subscription, extra header x-user-id: alex.
    const clients = ['subscription1', 'subscription2', 'subscription3'].map(
      (name) => [name, new AzureOpenAI({ endpoint: `${gw.url}/inference`, apiKey: gw.keyFor(name), apiVersion: LAB_API_VERSION, maxRetries: 0 })] as const,
    );
    for (let run = 0; run < 10; run++) {
      for (const [name, client] of clients) {
        const completion = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [...LAB_MESSAGES] }, { headers: { 'x-user-id': 'alex' } });
        expect(completion.choices[0]!.message.content).toBeTruthy();
        seenTotals.push({ subscription: name, total: completion.usage!.total_tokens });
      }
      gw.clock.advance(100);
    }
  }, 60_000);
  afterAll(() => gw.close());

  const query = async (body: Record<string, unknown>) => {
    const info = await (await fetch(`${gw.url}/_emulator/appinsights`)).json();
    const res = await fetch(`${gw.url}/v1/apps/${info.appId}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer any-token' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };

  it('all 40 calls returned 200', () => {
    expect(seenTotals).toHaveLength(40);
  });

  it("answers the lab's exact KQL with its columns, types and values", async () => {
    // The az CLI's default --offset 1h becomes a naive-UTC interval.
    const now = gw.clock.now();
    const naive = (ms: number) => new Date(ms).toISOString().replace('Z', '000');
    const { status, body } = await query({ query: LAB_KQL, timespan: `${naive(now - 3_600_000)}/${naive(now + 1)}` });
    expect(status).toBe(200);
    const table = body.tables[0];
    expect(table.name).toBe('PrimaryResult');
    expect(table.columns).toEqual([
      { name: 'timestamp', type: 'datetime' },
      { name: 'value', type: 'real' },
      { name: 'clientIP', type: 'string' },
      { name: 'apiId', type: 'string' },
      { name: 'apimSubscription', type: 'string' },
      { name: 'UserId', type: 'string' },
    ]);
    const rows: Array<[string, number, string, string, string, string]> = table.rows;
    expect(rows).toHaveLength(40);
    expect(rows.reduce((sum, r) => sum + r[1], 0)).toBe(seenTotals.reduce((sum, t) => sum + t.total, 0));
    const perSubscription = Object.fromEntries(['subscription1', 'subscription2', 'subscription3'].map((s) => [s, rows.filter((r) => r[4] === s).length]));
    expect(perSubscription).toEqual({ subscription1: 20, subscription2: 10, subscription3: 10 });
    expect(new Set(rows.map((r) => r[5]))).toEqual(new Set(['alex']));
    expect(new Set(rows.map((r) => r[3]))).toEqual(new Set(['inference-api']));
    expect(new Set(rows.map((r) => r[2]))).toEqual(new Set(['127.0.0.1']));
    expect(rows[0]![0]).toBe('2026-01-01T00:00:00.000Z');
    const times = rows.map((r) => Date.parse(r[0]));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // Per-subscription token sums match what each client saw.
    for (const s of ['subscription1', 'subscription2', 'subscription3']) {
      expect(rows.filter((r) => r[4] === s).reduce((a, r) => a + r[1], 0)).toBe(seenTotals.filter((t) => t.subscription === s).reduce((a, t) => a + t.total, 0));
    }
  });

  it('writes Total, Prompt and Completion Tokens per call, marked not estimated, in namespace openai', async () => {
    const { body } = await query({ query: 'customMetrics | summarize rows = count(), total = sum(value) by name, _MetricNamespace, _IsEstimated | order by name asc' });
    const rows = body.tables[0].rows;
    const total = seenTotals.reduce((a, t) => a + t.total, 0);
    expect(rows.map((r: unknown[]) => [r[0], r[1], r[2], r[3]])).toEqual([
      ['Completion Tokens', 'openai', false, 40],
      ['Prompt Tokens', 'openai', false, 40],
      ['Total Tokens', 'openai', false, 40],
    ]);
    const byName = Object.fromEntries(rows.map((r: unknown[]) => [r[0], r[4]]));
    expect(byName['Prompt Tokens'] + byName['Completion Tokens']).toBe(total);
    expect(byName['Total Tokens']).toBe(total);
  });

  it('records one requests row and one ApiManagementGatewayLogs row per call', async () => {
    const { body } = await query({ query: "requests | summarize n = count(), ok = countif(success == true) by resultCode" });
    expect(body.tables[0].rows).toEqual([['200', 40, 40]]);
    const logs = await query({ query: 'ApiManagementGatewayLogs | summarize count() by ApimSubscriptionId, ResponseCode | order by ApimSubscriptionId asc' });
    expect(logs.body.tables[0].rows).toEqual([
      ['subscription1', 200, 20],
      ['subscription2', 200, 10],
      ['subscription3', 200, 10],
    ]);
  });

  it('the metrics lab’s sum-by-subscription view works on the workspace names too', async () => {
    const info = await (await fetch(`${gw.url}/_emulator/appinsights`)).json();
    const res = await fetch(`${gw.url}/v1/workspaces/${info.workspaceId}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: "AppMetrics | where Name == 'Total Tokens' | summarize Sum = sum(Sum), Requests = sum(ItemCount) by Sub = tostring(Properties['Subscription ID']) | order by Sub asc" }),
    });
    const rows = (await res.json()).tables[0].rows;
    expect(rows.map((r: unknown[]) => [r[0], r[2]])).toEqual([
      ['subscription1', 20],
      ['subscription2', 10],
      ['subscription3', 10],
    ]);
  });

  it('refused requests emit no token metrics', async () => {
    gw.emulator.setPolicy(
      { kind: 'api', apiId: 'inference-api' },
      `<policies><inbound><base /><set-backend-service backend-id="{backend-id}" />
        <llm-token-limit counter-key="one" tokens-per-minute="1" estimate-prompt-tokens="true" />
        <azure-openai-emit-token-metric namespace="openai"><dimension name="API ID" /></azure-openai-emit-token-metric>
      </inbound></policies>`,
    );
    const res = await labPost(gw.url, gw.keyFor('subscription1'));
    expect(res.status).toBe(429);
    const { body } = await query({ query: 'customMetrics | count' });
    expect(body.tables[0].rows).toEqual([[120]]);
  });
});
