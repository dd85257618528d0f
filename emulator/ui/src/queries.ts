// Every KQL the dashboard sends, in one module without DOM access (tests run these against the emulator in Node).

/** KQL string literal. */
export function kqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A dimension name as a dynamic accessor: customDimensions['Subscription ID']. */
export function dimension(name: string): string {
  return `customDimensions[${kqlString(name)}]`;
}

/** Metric namespaces present, metrics of a namespace, dimensions of a metric (the explorer's pickers). */
export const NAMESPACES_QUERY = 'customMetrics\n| distinct _MetricNamespace\n| order by _MetricNamespace asc';

export function metricsQuery(namespace: string): string {
  return `customMetrics\n| where _MetricNamespace == ${kqlString(namespace)}\n| distinct name\n| order by name asc`;
}

export function dimensionsQuery(namespace: string, metric: string): string {
  return `customMetrics\n| where _MetricNamespace == ${kqlString(namespace)} and name == ${kqlString(metric)}\n| project key = bag_keys(customDimensions)\n| mv-expand key to typeof(string)\n| distinct key\n| order by key asc`;
}

/** The portal's aggregations over pre-aggregated customMetrics rows (valueSum, valueCount, valueMin, valueMax). */
export const AGGREGATIONS = {
  Sum: { summarize: 'value = sum(valueSum)', then: '' },
  Avg: { summarize: 's = sum(valueSum), c = sum(valueCount)', then: '\n| extend value = todouble(s) / c' },
  Min: { summarize: 'value = min(valueMin)', then: '' },
  Max: { summarize: 'value = max(valueMax)', then: '' },
  Count: { summarize: 'value = sum(valueCount)', then: '' },
} as const;
export type Aggregation = keyof typeof AGGREGATIONS;

export interface MetricQuery {
  namespace: string;
  metric: string;
  aggregation: Aggregation;
  split: string;
}

function metricSource({ namespace, metric, split }: MetricQuery): string {
  const lines = ['customMetrics', `| where _MetricNamespace == ${kqlString(namespace)} and name == ${kqlString(metric)}`];
  if (split) lines.push(`| extend series = tostring(${dimension(split)})`);
  return lines.join('\n');
}

/** The time series: one row per (bin, split value). */
export function seriesQuery(q: MetricQuery, bin: string): string {
  const by = q.split ? `timestamp = bin(timestamp, ${bin}), series` : `timestamp = bin(timestamp, ${bin})`;
  const agg = AGGREGATIONS[q.aggregation];
  return `${metricSource(q)}\n| summarize ${agg.summarize} by ${by}${agg.then}\n| order by timestamp asc`;
}

/** The legend: the aggregation over the whole time range, per split value. */
export function totalsQuery(q: MetricQuery): string {
  const agg = AGGREGATIONS[q.aggregation];
  return `${metricSource(q)}\n| summarize ${agg.summarize}${q.split ? ' by series' : ''}${agg.then}${q.split ? '\n| order by series asc' : ''}`;
}

export function timelineQuery(bin: string): string {
  return `requests
| summarize admitted = countif(toint(resultCode) < 400), refused = countif(toint(resultCode) in (429, 403)) by timestamp = bin(timestamp, ${bin})
| order by timestamp asc`;
}

/** The rate-limiting lab's plot: every request in order, its tokens, and whether it was refused. */
export const PER_REQUEST_QUERY = `requests
| join kind=leftouter (ApiManagementGatewayLlmLog | project CorrelationId, TotalTokens) on $left.id == $right.CorrelationId
| project timestamp, resultCode, TotalTokens
| order by timestamp asc
| take 500`;

export const FIRST_REFUSAL_QUERY = `requests
| where toint(resultCode) in (429, 403)
| summarize refused = count(), first = min(timestamp), last = max(timestamp)`;

export const REQUESTS_QUERY = `ApiManagementGatewayLogs
| join kind=leftouter (ApiManagementGatewayLlmLog | project CorrelationId, PromptTokens, CompletionTokens, TotalTokens) on CorrelationId
| project TimeGenerated, CorrelationId, ResponseCode, ApimSubscriptionId, ApiId, OperationId, Method, PromptTokens, CompletionTokens, TotalTokens, TotalTime, LastErrorReason
| order by TimeGenerated desc
| take 200`;

export function detailQuery(id: string): string {
  return `ApiManagementGatewayLogs
| where CorrelationId == ${kqlString(id)}
| project TimeGenerated, Method, Url, ResponseCode, BackendResponseCode, BackendId, ApiId, OperationId, ProductId, ApimSubscriptionId, CallerIpAddress, TotalTime, LastErrorSource, LastErrorReason, LastErrorMessage, LastErrorScope, LastErrorSection, TraceRecords, Errors`;
}

export function tracesQuery(id: string): string {
  return `traces
| where operation_Id == ${kqlString(id)}
| project timestamp, severityLevel, message, customDimensions
| order by timestamp asc`;
}

/** The seed lab's query (token-metrics-emitting) first, then the portal-style questions the labs ask. */
export const EXAMPLES: Array<{ title: string; query: string }> = [
  {
    title: 'Token metrics per request (token-metrics-emitting lab)',
    query: `customMetrics
| where name == 'Total Tokens'
| extend parsedCustomDimensions = parse_json(customDimensions)
| extend clientIP = tostring(parsedCustomDimensions.['Client IP'])
| extend apiId = tostring(parsedCustomDimensions.['API ID'])
| extend apimSubscription = tostring(parsedCustomDimensions.['Subscription ID'])
| extend UserId = tostring(parsedCustomDimensions.['User ID'])
| project timestamp, value, clientIP, apiId, apimSubscription, UserId
| order by timestamp asc`,
  },
  {
    title: 'Total tokens by subscription (piechart)',
    query: `customMetrics
| where name == 'Total Tokens'
| summarize tokens = sum(value) by subscription = tostring(customDimensions['Subscription ID'])
| render piechart`,
  },
  {
    title: 'Tokens over time by subscription (timechart)',
    query: `customMetrics
| where name == 'Total Tokens'
| summarize tokens = sum(value) by bin(timestamp, 1m), subscription = tostring(customDimensions['Subscription ID'])
| render timechart`,
  },
  {
    title: 'Requests by result code (columnchart)',
    query: `requests
| summarize count() by resultCode
| order by resultCode asc
| render columnchart`,
  },
  {
    title: 'Refused requests (429/403) over time',
    query: `requests
| summarize admitted = countif(toint(resultCode) < 400), refused = countif(toint(resultCode) in (429, 403)) by bin(timestamp, 10s)
| render timechart`,
  },
  {
    title: 'LLM calls with tokens (APIM gateway LLM log)',
    query: `ApiManagementGatewayLlmLog
| project TimeGenerated, CorrelationId, DeploymentName, PromptTokens, CompletionTokens, TotalTokens
| order by TimeGenerated desc
| take 50`,
  },
];

export const TABLES = ['customMetrics', 'requests', 'dependencies', 'traces', 'customEvents', 'ApiManagementGatewayLogs', 'ApiManagementGatewayLlmLog'];
