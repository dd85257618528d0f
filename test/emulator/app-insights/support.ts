import type { MetricRecord, TelemetryStore } from '../../../emulator/app-insights/store.js';

/** The exact KQL of the token-metrics-emitting lab, cell 14 (labs.md §3.4). */
export const LAB_QUERY =
  "customMetrics | where name == 'Total Tokens' | extend parsedCustomDimensions = parse_json(customDimensions) | extend clientIP = tostring(parsedCustomDimensions.['Client IP']) | extend apiId = tostring(parsedCustomDimensions.['API ID']) | extend apimSubscription = tostring(parsedCustomDimensions.['Subscription ID']) | extend UserId = tostring(parsedCustomDimensions.['User ID']) | project timestamp, value, clientIP, apiId, apimSubscription, UserId | order by timestamp asc";

export const LAB_NOW = Date.UTC(2026, 6, 24, 11, 0, 0);
export const METRIC_NAMES = ['Total Tokens', 'Prompt Tokens', 'Completion Tokens'] as const;

export interface LabCall {
  timestamp: number;
  subscription: string;
  prompt: number;
  completion: number;
}

/**
 * The lab's traffic: 40 calls within the last hour (subscription1 ×20, subscription2 ×10, subscription3 ×10),
 * written in a shuffled order; each call emits the three token metrics with the lab's four dimensions.
 */
export function labCalls(count = 40, nowMs = LAB_NOW): LabCall[] {
  const calls: LabCall[] = [];
  for (let i = 0; i < count; i++) {
    calls.push({
      timestamp: nowMs - 50 * 60_000 + i * 61_000 + (i % 7) * 13,
      subscription: i % 4 === 0 || i % 4 === 1 ? 'subscription1' : i % 4 === 2 ? 'subscription2' : 'subscription3',
      prompt: 28 + (i % 4),
      completion: 20 + ((i * 7) % 41),
    });
  }
  return calls;
}

export function labMetrics(call: LabCall): MetricRecord[] {
  const dimensions = { 'Subscription ID': call.subscription, 'Client IP': '10.0.0.7', 'API ID': 'inference-api', 'User ID': 'alex' };
  const values = { 'Total Tokens': call.prompt + call.completion, 'Prompt Tokens': call.prompt, 'Completion Tokens': call.completion };
  return METRIC_NAMES.map((name) => ({ timestamp: call.timestamp, name, value: values[name], namespace: 'openai', dimensions, clientIp: '10.0.0.7', operationId: `op-${call.timestamp}` }));
}

/** Writes the calls in a scrambled order (the query must sort). */
export function seedLab(store: TelemetryStore, calls: LabCall[]): void {
  const order = calls.map((_, i) => i).sort((a, b) => ((a * 17) % calls.length) - ((b * 17) % calls.length));
  for (const i of order) for (const m of labMetrics(calls[i]!)) store.writeMetric(m);
}
