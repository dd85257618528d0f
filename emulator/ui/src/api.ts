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

const ADMIN_KEY = 'emulator-admin-key';
const fromUrl = new URLSearchParams(location.search).get('admin-key');
if (fromUrl !== null) sessionStorage.setItem(ADMIN_KEY, fromUrl);

/** The control plane's x-emulator-admin-key (emulator started with --admin-key): from ?admin-key= or the prompt. */
export function setAdminKey(key: string): void {
  sessionStorage.setItem(ADMIN_KEY, key);
}

function controlPlaneHeaders(extra: Record<string, string>): Record<string, string> {
  const key = sessionStorage.getItem(ADMIN_KEY);
  return key === null ? extra : { ...extra, 'x-emulator-admin-key': key };
}

/** Tells the shell to ask for the admin key. */
function unauthorized(response: Response): void {
  if (response.status === 401) dispatchEvent(new Event('admin-key-required'));
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: controlPlaneHeaders({ accept: 'application/json' }) });
  unauthorized(response);
  if (!response.ok) throw new Error(await errorText(response));
  return (await response.json()) as T;
}

export async function send(method: string, path: string, body: string, type = 'application/json'): Promise<{ ok: boolean; status: number; json: unknown }> {
  const response = await fetch(path, { method, headers: controlPlaneHeaders({ 'content-type': type }), body });
  unauthorized(response);
  return { ok: response.ok, status: response.status, json: await response.json().catch(() => undefined) };
}

async function errorText(response: Response): Promise<string> {
  const body = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  return body?.error?.message ?? `${response.status} ${response.statusText}`;
}
