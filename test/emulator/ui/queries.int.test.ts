import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import {
  AGGREGATIONS,
  detailQuery,
  dimensionsQuery,
  EXAMPLES,
  FIRST_REFUSAL_QUERY,
  metricsQuery,
  NAMESPACES_QUERY,
  PER_REQUEST_QUERY,
  REQUESTS_QUERY,
  seriesQuery,
  TABLES,
  timelineQuery,
  totalsQuery,
  tracesQuery,
  type Aggregation,
} from '../../../emulator/ui/src/queries.js';
import { LAB_KQL, labPost } from '../../support/lab.js';

/**
 * Every KQL the dashboard sends, run through the query API of an emulator that got the labs' traffic (no browser
 * needed): the metrics explorer's numbers per aggregation against what the clients saw, the token-limit timeline and
 * per-request plot against the statuses, the requests log and its detail queries.
 */
const POLICY = `<policies><inbound><base /><set-backend-service backend-id="foundry1" />
  <llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="300" estimate-prompt-tokens="false" />
  <azure-openai-emit-token-metric namespace="openai">
    <dimension name="Subscription ID" value="@(context.Subscription.Id)" />
    <dimension name="Client IP" value="@(context.Request.IpAddress)" />
    <dimension name="API ID" value="@(context.Api.Id)" />
    <dimension name="User ID" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-user-id&quot;, &quot;N/A&quot;))" />
  </azure-openai-emit-token-metric>
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

describe('the dashboard’s KQL against the query API', () => {
  let gw: RunningEmulator;
  const calls: Array<{ subscription: string; status: number; tokens: number }> = [];

  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-metrics-emitting', policies: { 'apis/inference-api': POLICY } });
    for (let round = 0; round < 6; round++) {
      for (const subscription of ['subscription1', 'subscription2', 'subscription3']) {
        const res = await labPost(gw.url, gw.keyFor(subscription), { 'x-user-id': round % 2 ? 'alex' : 'sam' });
        const body = (await res.json()) as { usage?: { total_tokens: number } };
        calls.push({ subscription, status: res.status, tokens: body.usage?.total_tokens ?? 0 });
        gw.clock.advance(1_000);
      }
    }
    await gw.emulator.settled();
  });
  afterAll(() => gw.close());

  const admitted = () => calls.filter((c) => c.status === 200);

  it('the traffic has both admitted and refused calls', () => {
    expect(admitted().length).toBeGreaterThan(3);
    expect(calls.filter((c) => c.status === 429).length).toBeGreaterThan(0);
    expect(calls.every((c) => c.status === 200 || c.status === 429)).toBe(true);
  });

  it('pickers: namespace, metrics and dimensions present', async () => {
    expect((await gw.query(NAMESPACES_QUERY)).map((r) => r._MetricNamespace)).toEqual(['openai']);
    expect((await gw.query(metricsQuery('openai'))).map((r) => r.name)).toEqual(['Completion Tokens', 'Prompt Tokens', 'Total Tokens']);
    expect((await gw.query(dimensionsQuery('openai', 'Total Tokens'))).map((r) => r.key)).toEqual(['API ID', 'Client IP', 'Subscription ID', 'User ID']);
  });

  it('metrics explorer: each aggregation split by Subscription ID equals what the clients saw, and the series add up to it', async () => {
    const expected: Record<Aggregation, (tokens: number[]) => number> = {
      Sum: (t) => t.reduce((a, b) => a + b, 0),
      Count: (t) => t.length,
      Min: (t) => Math.min(...t),
      Max: (t) => Math.max(...t),
      Avg: (t) => t.reduce((a, b) => a + b, 0) / t.length,
    };
    for (const aggregation of Object.keys(AGGREGATIONS) as Aggregation[]) {
      const q = { namespace: 'openai', metric: 'Total Tokens', aggregation, split: 'Subscription ID' };
      const totals = await gw.query(totalsQuery(q));
      const want = ['subscription1', 'subscription2', 'subscription3'].map((s) => ({
        series: s,
        value: expected[aggregation](admitted().filter((c) => c.subscription === s).map((c) => c.tokens)),
      }));
      expect(totals.map((r) => ({ series: r.series, value: r.value })), aggregation).toEqual(want);
      if (aggregation === 'Sum' || aggregation === 'Count') {
        const series = await gw.query(seriesQuery(q, '1s'));
        for (const { series: s, value } of want) expect(series.filter((r) => r.series === s).reduce((a, r) => a + Number(r.value), 0)).toBe(value);
      }
    }
    // Without splitting: one row, the whole sum.
    const whole = await gw.query(totalsQuery({ namespace: 'openai', metric: 'Total Tokens', aggregation: 'Sum', split: '' }));
    expect(whole).toEqual([{ value: admitted().reduce((a, c) => a + c.tokens, 0) }]);
  });

  it('token limits: the timeline, the first refusal and the per-request plot follow the statuses', async () => {
    const timeline = await gw.query(timelineQuery('1s'));
    expect(timeline.reduce((a, r) => a + Number(r.admitted), 0)).toBe(admitted().length);
    expect(timeline.reduce((a, r) => a + Number(r.refused), 0)).toBe(calls.length - admitted().length);
    const [first] = await gw.query(FIRST_REFUSAL_QUERY);
    expect(first!.refused).toBe(calls.length - admitted().length);
    const perRequest = await gw.query(PER_REQUEST_QUERY);
    expect(perRequest.map((r) => Number(r.resultCode))).toEqual(calls.map((c) => c.status));
    expect(perRequest.map((r) => r.TotalTokens ?? 0)).toEqual(calls.map((c) => c.tokens));
  });

  it('requests log: one row per call, newest first, with tokens; the detail and traces queries of a refused call', async () => {
    const rows = await gw.query(REQUESTS_QUERY);
    expect(rows.map((r) => r.ResponseCode)).toEqual(calls.map((c) => c.status).reverse());
    expect(rows.map((r) => r.ApimSubscriptionId)).toEqual(calls.map((c) => c.subscription).reverse());
    expect(rows.map((r) => r.TotalTokens ?? 0)).toEqual(calls.map((c) => c.tokens).reverse());
    const refused = rows.find((r) => r.ResponseCode === 429)!;
    const [detail] = await gw.query(detailQuery(String(refused.CorrelationId)));
    expect(detail).toMatchObject({ ResponseCode: 429, LastErrorSource: 'llm-token-limit', LastErrorSection: 'inbound', BackendResponseCode: null });
    expect(await gw.query(tracesQuery(String(refused.CorrelationId)))).toEqual([]);
  });

  it('KQL console: every table has a schema and every saved example runs; the first is the seed lab query', async () => {
    for (const table of TABLES) expect((await gw.query(`${table} | getschema`)).length, table).toBeGreaterThan(3);
    expect(EXAMPLES[0]!.query.replace(/\s+/g, ' ')).toBe(LAB_KQL.replace(/\s+/g, ' '));
    for (const example of EXAMPLES) expect((await gw.query(example.query)).length, example.title).toBeGreaterThan(0);
  });
});
