// The dashboard reads only what any client can: the App Insights query API and the emulator's control plane.

export interface Column {
  name: string;
  type: string;
}

export interface QueryResult {
  columns: Column[];
  rows: unknown[][];
  render?: { visualization: string; [key: string]: unknown };
}

/** A query the service refused: App Insights' envelope, innermost error first. */
export class QueryError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly line?: number,
    readonly pos?: number,
    readonly token?: string,
  ) {
    super(message);
  }
}

export interface AppInsightsInfo {
  appId: string;
  name: string;
}

let appInsights: Promise<AppInsightsInfo> | undefined;

export function appInsightsInfo(): Promise<AppInsightsInfo> {
  appInsights ??= getJson<AppInsightsInfo>('/_emulator/appinsights');
  return appInsights;
}

/** Runs KQL through POST /v1/apps/{appId}/query, as the SDKs and the notebooks do. */
export async function runQuery(query: string, timespan?: string): Promise<QueryResult> {
  const { appId } = await appInsightsInfo();
  const response = await fetch(`/v1/apps/${encodeURIComponent(appId)}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'include-render=true' },
    body: JSON.stringify(timespan ? { query, timespan } : { query }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    tables?: Array<{ columns: Column[]; rows: unknown[][] }>;
    render?: QueryResult['render'];
    error?: ErrorEnvelope;
  };
  if (!response.ok || body.error) throw toQueryError(body.error, response.status);
  const table = body.tables?.[0] ?? { columns: [], rows: [] };
  return body.render ? { columns: table.columns, rows: table.rows, render: body.render } : { columns: table.columns, rows: table.rows };
}

interface ErrorEnvelope {
  code?: string;
  message?: string;
  innererror?: ErrorEnvelope & { line?: number; pos?: number; token?: string };
}

function toQueryError(error: ErrorEnvelope | undefined, status: number): QueryError {
  if (!error) return new QueryError(`The query API answered ${status}.`, String(status));
  let inner: ErrorEnvelope & { line?: number; pos?: number; token?: string } = error;
  const messages = [error.message ?? ''];
  while (inner.innererror) {
    inner = inner.innererror;
    if (inner.message) messages.push(inner.message);
  }
  return new QueryError(messages[messages.length - 1] || messages[0] || 'Query failed.', inner.code ?? error.code ?? 'Error', inner.line, inner.pos, inner.token);
}

/** Rows as objects keyed by column name. */
export function records(result: QueryResult): Array<Record<string, unknown>> {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]])));
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(await errorText(response));
  return (await response.json()) as T;
}

export async function send(method: string, path: string, body: string, type = 'application/json'): Promise<{ ok: boolean; status: number; json: unknown }> {
  const response = await fetch(path, { method, headers: { 'content-type': type }, body });
  return { ok: response.ok, status: response.status, json: await response.json().catch(() => undefined) };
}

async function errorText(response: Response): Promise<string> {
  const body = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  return body?.error?.message ?? `${response.status} ${response.statusText}`;
}

/** KQL string literal. */
export function kqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A dimension name as a dynamic accessor: customDimensions['Subscription ID']. */
export function dimension(name: string): string {
  return `customDimensions[${kqlString(name)}]`;
}
