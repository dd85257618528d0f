import { readFileSync } from 'node:fs';
import { AzureOpenAI } from 'openai';
import { portalChartSpec, tokenUsageChartSpec, writeChart, type LabChart, type PortalPoint } from '../charts.js';
import { LAB_MESSAGES, dataFrameText, jsonRequest, notebookVariables, pythonJsonDumps, type DeploymentOutputs, type LabCall } from '../notebook.js';
import type { LabContext } from '../run-lab.js';

export const POLICY_XML = readFileSync(new URL('./policy.xml', import.meta.url), 'utf8');

/** Cell 14's query, as the backslash continuations join it (labs.md §3.4). */
export const TOTAL_TOKENS_KQL =
  "customMetrics | where name == 'Total Tokens' | extend parsedCustomDimensions = parse_json(customDimensions) | extend clientIP = tostring(parsedCustomDimensions.['Client IP']) | extend apiId = tostring(parsedCustomDimensions.['API ID']) | extend apimSubscription = tostring(parsedCustomDimensions.['Subscription ID']) | extend UserId = tostring(parsedCustomDimensions.['User ID']) | project timestamp, value, clientIP, apiId, apimSubscription, UserId | order by timestamp asc";

/** The portal's Metrics blade (Sum of Total Tokens per time grain, split by Subscription ID) as KQL. */
export const PORTAL_KQL =
  "customMetrics | where name == 'Total Tokens' | extend subscription = tostring(customDimensions['Subscription ID']) | summarize Sum = sum(valueSum) by timestamp = bin(timestamp, 1m), subscription | order by timestamp asc";
/** The portal's default view: the last 30 minutes at a 1-minute grain. */
const PORTAL_RANGE_MINUTES = 30;
const PORTAL_GRAIN_MS = 60_000;

export interface TokenMetricsEmittingResult {
  outputs: DeploymentOutputs;
  /** Cell 10 (requests, subscription1) then cell 12 (SDK, subscriptions 1–3), in order. */
  calls: LabCall[];
  /** Cell 14's table, as the query API returned it. */
  kql: { columns: Array<{ name: string; type: string }>; rows: unknown[][] };
  charts: { tokenUsage: LabChart; portal: LabChart };
}

/** labs/token-metrics-emitting/token-metrics-emitting.ipynb, cell by cell (labs.md §3.4). */
export async function tokenMetricsEmittingLab(ctx: LabContext): Promise<TokenMetricsEmittingResult> {
  const { out, az, time } = ctx;
  const v = notebookVariables('token-metrics-emitting', [
    { name: 'subscription1', displayName: 'Subscription 1' },
    { name: 'subscription2', displayName: 'Subscription 2' },
    { name: 'subscription3', displayName: 'Subscription 3' },
  ]);

  // Cells 2, 4, 6, 8
  out.ok('Notebook initialized');
  await az.accountShow();
  await az.deploy(v, POLICY_XML);
  const outputs = await az.deploymentOutputs(v, [
    ['logAnalyticsWorkspaceId', 'Log Analytics Id'],
    ['apimServiceId', 'APIM Service Id'],
    ['apimResourceGatewayURL', 'APIM API Gateway URL'],
    ['apimSubscriptions', ''],
    ['applicationInsightsName', 'Application Insights Name'],
  ]);
  const gateway = outputs.apimResourceGatewayURL;
  const subscriptions = outputs.apimSubscriptions;
  const calls: LabCall[] = [];

  // Cell 10: 10 calls on one session (api-key of subscription 1, x-user-id alex), 100 ms apart.
  const runs = 10;
  const sleepMs = 100;
  const url = `${gateway}/${v.inferenceApiPath}/openai/deployments/${v.modelsConfig[0]!.name}/chat/completions?api-version=${v.inferenceApiVersion}`;
  for (let i = 0; i < runs; i++) {
    out.print(`▶️ Run ${i + 1}/${runs}:`);
    const started = time.clock.now();
    const response = await fetch(url, jsonRequest('POST', { messages: LAB_MESSAGES }, { 'api-key': subscriptions[0]!.key, 'x-user-id': 'alex' }));
    const text = await response.text();
    out.print(`⌚ ${((time.clock.now() - started) / 1000).toFixed(2)} seconds`);
    out.responseCode(response.status, response.statusText);
    out.print(`Response headers: ${pythonJsonDumps(Object.fromEntries(response.headers))}`);
    const region = response.headers.get('x-ms-region');
    if (region !== null) out.print(`x-ms-region: ${ctx.color ? `\x1b[1;32m${region}\x1b[0m` : region}`);
    let totalTokens = 0;
    if (response.status === 200) {
      const data = JSON.parse(text) as { usage: Record<string, unknown> & { total_tokens: number }; choices: Array<{ message: { content: string } }> };
      out.print(`Token usage: ${pythonJsonDumps(data.usage)}\n`);
      out.print(`💬 ${data.choices[0]!.message.content}\n`);
      totalTokens = data.usage.total_tokens;
    } else out.print(`${text}\n`);
    calls.push({ step: 'requests', subscription: subscriptions[0]!.name, status: response.status, totalTokens });
    await time.wait(sleepMs);
  }

  // Cell 12: three AzureOpenAI clients, one per subscription; 10 runs of one call each, 100 ms apart.
  const clients = subscriptions.slice(0, 3).map(
    (s) => new AzureOpenAI({ endpoint: `${gateway}/${v.inferenceApiPath}`, apiKey: s.key, apiVersion: v.inferenceApiVersion, fetch: time.sdkFetch(() => {}) }),
  );
  for (let i = 0; i < runs; i++) {
    out.print(`▶️ Run ${i + 1}/${runs}:`);
    for (let j = 0; j < clients.length; j++) {
      const response = await clients[j]!.chat.completions.create(
        { model: v.modelsConfig[0]!.name, messages: [...LAB_MESSAGES] },
        { headers: { 'x-user-id': 'alex' } },
      );
      out.print(`💬 Subscription ${j + 1}: ${response.choices[0]!.message.content}`);
      calls.push({ step: 'sdk', subscription: subscriptions[j]!.name, status: 200, totalTokens: response.usage?.total_tokens ?? 0 });
    }
    out.print();
    await time.wait(sleepMs);
  }

  // Cell 14 (Azure needs minutes before the metrics show; here they are queryable once stored)
  await ctx.settled();
  const appName = outputs.applicationInsightsName!;
  const table = await az.appInsightsQuery(appName, v, TOTAL_TOKENS_KQL);
  const columns = table.columns.map((c) => c.name);
  const ts = columns.indexOf('timestamp');
  // df['timestamp'] = pd.to_datetime(df['timestamp']).dt.strftime('%H:%M')
  out.print(dataFrameText(columns, table.rows.map((row) => row.map((cell, c) => (c === ts ? String(cell).slice(11, 16) : cell)))));

  // Cell 16
  const valueAt = columns.indexOf('value');
  if (table.rows.length === 0) out.print('No data to plot');
  const tokenUsage = await writeChart(
    ctx.outDir,
    'token-usage-over-time',
    'Total token usage over time',
    tokenUsageChartSpec(table.rows.map((row) => ({ timestamp: String(row[ts]), value: Number(row[valueAt]) }))),
  );
  out.print(`📊 Total token usage over time: ${tokenUsage.pngPath} (and .svg)`);

  // Cell 17: the portal view.
  const portalRows = await ctx.query(appName, PORTAL_KQL, `PT${PORTAL_RANGE_MINUTES}M`);
  const portal = await writeChart(
    ctx.outDir,
    'portal-total-tokens-by-subscription',
    'Sum Total Tokens by Subscription ID',
    portalChartSpec(portalSeries(portalRows, subscriptions.map((s) => s.name), time.clock.now()), appName, '1 minute'),
  );
  out.print(`📊 Portal view (Metrics › openai › Total Tokens, Sum, split by Subscription ID): ${portal.pngPath} (and .svg)`);

  return { outputs, calls, kql: table, charts: { tokenUsage, portal } };
}

/** One point per subscription and 1-minute grain over the last 30 minutes; a grain without data is 0, as the portal shows Sum. */
function portalSeries(rows: Array<Record<string, unknown>>, subscriptions: string[], nowMs: number): PortalPoint[] {
  const end = Math.floor(nowMs / PORTAL_GRAIN_MS) * PORTAL_GRAIN_MS;
  const start = end - (PORTAL_RANGE_MINUTES - 1) * PORTAL_GRAIN_MS;
  const names = [...new Set([...subscriptions, ...rows.map((r) => String(r.subscription))])];
  const sums = new Map(rows.map((r) => [`${Date.parse(String(r.timestamp))}|${r.subscription}`, Number(r.Sum)]));
  const points: PortalPoint[] = [];
  for (const name of names) {
    for (let t = Math.min(start, ...rows.map((r) => Date.parse(String(r.timestamp)))); t <= end; t += PORTAL_GRAIN_MS) {
      points.push({ time: new Date(t).toISOString(), subscription: name, sum: sums.get(`${t}|${name}`) ?? 0 });
    }
  }
  return points;
}
