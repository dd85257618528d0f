import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { KqlError, renderResponse } from './kql/index.js';
import type { AppInsightsIdentity, QueryResult, TelemetryStore } from './store.js';
import type { TableSet } from './tables.js';
import { parseTimespan, TimespanError, type TimespanInterval } from './timespan.js';

export interface QueryApiOptions {
  store: TelemetryStore;
  identity: AppInsightsIdentity;
  /** `now()` / `ago()` and bare-duration timespans are evaluated from this, once per query. */
  clock: { now(): number };
  /** Largest accepted request body (default 10 MB). */
  bodyLimit?: string | number;
}

export const INVALID_PROPERTIES_MESSAGE = 'The request had some invalid properties';
export const SYNTAX_ERROR_MESSAGE = 'A recognition error occurred in the query.';
export const SEMANTIC_ERROR_MESSAGE = 'A semantic error occurred.';
export const PATH_NOT_FOUND_MESSAGE = 'The requested path does not exist';
const QUERY_REQUIRED = 'The "query" property is required and must be a non-empty string.';

/** One error response of the query API: status and the `{ error: {...} }` envelope. */
export class QueryApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innererror?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'QueryApiError';
  }

  body(correlationId: string): { error: Record<string, unknown> } {
    return { error: { message: this.message, code: this.code, correlationId, ...(this.innererror ? { innererror: this.innererror } : {}) } };
  }
}

/** The documented error envelopes (kql-and-clients.md §1.5), one factory method each. */
export const queryApiErrors = {
  badArgument(detail: string, innerCode = 'InvalidArgument'): QueryApiError {
    return new QueryApiError(400, 'BadArgumentError', INVALID_PROPERTIES_MESSAGE, { code: innerCode, message: detail });
  },
  badJson(detail: string): QueryApiError {
    return new QueryApiError(400, 'BadArgumentError', `The request body is not valid JSON: ${detail}`, { code: 'InvalidJson', message: detail });
  },
  badTimespan(error: TimespanError): QueryApiError {
    return new QueryApiError(400, 'BadArgumentError', error.message, { code: 'InvalidTimespan', message: error.message });
  },
  query(error: KqlError): QueryApiError {
    const syntax = error.kind === 'syntax';
    return new QueryApiError(400, 'BadArgumentError', INVALID_PROPERTIES_MESSAGE, {
      code: syntax ? 'SyntaxError' : 'SemanticError',
      message: syntax ? SYNTAX_ERROR_MESSAGE : SEMANTIC_ERROR_MESSAGE,
      innererror: { code: error.code, message: error.message, line: error.line, pos: error.pos, ...(error.token === undefined ? {} : { token: error.token }) },
    });
  },
  appNotFound(appId: string): QueryApiError {
    return new QueryApiError(404, 'PathNotFoundError', PATH_NOT_FOUND_MESSAGE, { code: 'ApplicationNotFoundError', message: `The application '${appId}' could not be found.` });
  },
  workspaceNotFound(workspaceId: string): QueryApiError {
    return new QueryApiError(404, 'PathNotFoundError', PATH_NOT_FOUND_MESSAGE, { code: 'WorkspaceNotFoundError', message: `The workspace '${workspaceId}' could not be found.` });
  },
  resourceNotFound(resourceId: string): QueryApiError {
    return new QueryApiError(404, 'PathNotFoundError', PATH_NOT_FOUND_MESSAGE, {
      code: 'ResourceNotFoundError',
      message: `'${resourceId}' is not an Application Insights component, Log Analytics workspace or API Management service.`,
    });
  },
  methodNotAllowed(method: string, allowed: string[]): QueryApiError {
    return new QueryApiError(405, 'MethodNotAllowed', `The method '${method}' is not allowed here; use ${allowed.join(' or ')}.`);
  },
  tooLarge(): QueryApiError {
    return new QueryApiError(413, 'RequestTooLarge', 'The request body is too large.');
  },
  internal(detail: string): QueryApiError {
    return new QueryApiError(500, 'InternalServerError', `The emulator failed to run the query: ${detail}`);
  },
};

/**
 * Log Analytics' answer to a result cut at a limit: 200 with the rows so far and `error` PartialError (the SDKs
 * report status PartialFailure). The inner message follows Kusto's E_QUERY_RESULT_SET_TOO_LARGE wording.
 */
export function partialError(truncated: NonNullable<QueryResult['truncated']>): Record<string, unknown> {
  const message =
    truncated.limit === 'rows'
      ? `Query result set has exceeded the internal record count limit ${truncated.value} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)`
      : truncated.limit === 'bytes'
        ? `Query result set has exceeded the internal data size limit ${truncated.value} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)`
        : `Query execution has exceeded the emulator's time budget of ${truncated.value} ms; the rows read so far are returned.`;
  return {
    code: 'PartialError',
    message: 'There were some errors when processing your query.',
    details: [{ code: 'EngineError', message: 'Something went wrong processing your query on the server.', innererror: { code: truncated.limit === 'time' ? 'E_QUERY_TIMEOUT' : 'E_QUERY_RESULT_SET_TOO_LARGE', message, severity: 2, severityName: 'Error' } }],
  };
}

/** App Insights' envelope for a bad query (kept for callers that render KqlError directly). */
export function kqlErrorBody(error: KqlError, correlationId: string = randomUUID()) {
  return queryApiErrors.query(error).body(correlationId);
}

interface QueryBody {
  query?: unknown;
  timespan?: unknown;
  applications?: unknown;
  workspaces?: unknown;
}

type Route =
  | { kind: 'app'; id: string }
  | { kind: 'workspace'; id: string }
  | { kind: 'resource'; resourceId: string }
  | { kind: 'batch' };

const APP_ROUTE = /^\/v1\/apps\/([^/]+)\/query$/i;
const WORKSPACE_ROUTE = /^\/v1\/workspaces\/([^/]+)\/query$/i;
const RESOURCE_ROUTE = /^\/v1(\/subscriptions\/.+)\/query$/i;
const BATCH_ROUTE = /^\/v1\/\$batch$/i;

/** Collapses `//`, drops a trailing `/`, decodes each segment (`%24batch`). */
function normalizePath(path: string): string {
  const collapsed = path.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
  return collapsed
    .split('/')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })
    .join('/');
}

function matchRoute(path: string): Route | undefined {
  const p = normalizePath(path);
  let m: RegExpExecArray | null;
  if ((m = APP_ROUTE.exec(p))) return { kind: 'app', id: m[1]! };
  if ((m = WORKSPACE_ROUTE.exec(p))) return { kind: 'workspace', id: m[1]! };
  if (BATCH_ROUTE.test(p)) return { kind: 'batch' };
  if ((m = RESOURCE_ROUTE.exec(p))) return { kind: 'resource', resourceId: m[1]! };
  return undefined;
}

/** Which table names a resource-scoped query sees, or undefined for an unknown resource type. */
function resourceTableSet(resourceId: string): TableSet | undefined {
  const id = resourceId.toLowerCase();
  if (/^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.insights\/components\/[^/]+$/.test(id)) return 'classic';
  if (/^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.operationalinsights\/workspaces\/[^/]+$/.test(id)) return 'workspace';
  if (/^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.apimanagement\/service\/[^/]+$/.test(id)) return 'workspace';
  return undefined;
}

function parsePrefer(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(',')) {
    const [k, v = ''] = part.split('=').map((s) => s.trim().toLowerCase());
    if (k) out.set(k, v);
  }
  return out;
}

/**
 * The App Insights / Log Analytics query API (kql-and-clients.md §1): `GET|POST /v1/apps/{appId}/query`,
 * `GET|POST /v1/workspaces/{workspaceId}/query`, `GET|POST /v1/{resourceId}/query` (`//` tolerated) and
 * `POST /v1/$batch`. Any bearer token, `x-api-key` or `api_key` is accepted, and so is none. Requests on
 * other paths pass through untouched (their bodies are not read).
 */
export function createQueryApiRouter(options: QueryApiOptions): Router {
  const { store, identity, clock } = options;
  const router = Router();
  const readBody = express.raw({ type: () => true, limit: options.bodyLimit ?? '10mb' });
  const appNames = new Set([identity.appId, identity.name].map((s) => s.toLowerCase()));
  const workspaceNames = new Set([identity.workspaceId].map((s) => s.toLowerCase()));

  const execute = (body: QueryBody, tableSet: TableSet, prefer: Map<string, string>): QueryResult & Record<string, unknown> => {
    if (typeof body.query !== 'string' || body.query.trim() === '') throw queryApiErrors.badArgument(QUERY_REQUIRED, 'QueryValidationError');
    const nowMs = clock.now();
    let timespan: TimespanInterval | undefined;
    if (body.timespan !== undefined && body.timespan !== null && body.timespan !== '') {
      if (typeof body.timespan !== 'string') throw queryApiErrors.badArgument('"timespan" must be an ISO 8601 string.', 'InvalidTimespan');
      try {
        timespan = parseTimespan(body.timespan, nowMs);
      } catch (error) {
        if (error instanceof TimespanError) throw queryApiErrors.badTimespan(error);
        throw error;
      }
    }
    const started = performance.now();
    let result: QueryResult;
    try {
      result = store.query(body.query, { nowMs, tableSet, ...(timespan ? { timespan } : {}) });
    } catch (error) {
      if (error instanceof KqlError) throw queryApiErrors.query(error);
      throw queryApiErrors.internal(error instanceof Error ? error.message : String(error));
    }
    const out: QueryResult & Record<string, unknown> = { tables: result.tables };
    if (result.truncated) out.error = partialError(result.truncated);
    if (prefer.get('include-statistics') === 'true') {
      const rows = result.tables[0]?.rows.length ?? 0;
      out.statistics = { query: { executionTime: (performance.now() - started) / 1000, resourceUsage: { cache: {}, cpu: {}, memory: {} }, datasetStatistics: [{ tableRowCount: rows }] } };
    }
    if (prefer.get('include-render') === 'true' && result.render) out.render = renderResponse(result.render);
    return out;
  };

  const checkIds = (list: unknown, known: Set<string>, notFound: (id: string) => QueryApiError) => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) throw queryApiErrors.badArgument('"applications" / "workspaces" must be arrays of strings.');
    // A cross-resource list may name this resource by id, name or ARM id.
    for (const id of list as string[]) {
      const last = id.split('/').filter(Boolean).pop()?.toLowerCase() ?? '';
      if (!known.has(id.toLowerCase()) && !known.has(last) && id.toLowerCase() !== identity.resourceId?.toLowerCase()) throw notFound(id);
    }
  };

  const handleQuery = (route: Exclude<Route, { kind: 'batch' }>, body: QueryBody, prefer: Map<string, string>) => {
    if (route.kind === 'app') {
      if (!appNames.has(route.id.toLowerCase())) throw queryApiErrors.appNotFound(route.id);
      checkIds(body.applications, appNames, queryApiErrors.appNotFound);
      return execute(body, 'classic', prefer);
    }
    if (route.kind === 'workspace') {
      if (!workspaceNames.has(route.id.toLowerCase())) throw queryApiErrors.workspaceNotFound(route.id);
      checkIds(body.workspaces, new Set([...workspaceNames, ...appNames]), queryApiErrors.workspaceNotFound);
      return execute(body, 'workspace', prefer);
    }
    const tableSet = resourceTableSet(route.resourceId);
    if (!tableSet) throw queryApiErrors.resourceNotFound(route.resourceId);
    return execute(body, tableSet, prefer);
  };

  const handleBatch = (body: unknown) => {
    const requests = (body as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(requests)) throw queryApiErrors.badArgument('The request body must hold a "requests" array.', 'InvalidBatch');
    const responses = requests.map((item: unknown, i) => {
      const r = (item ?? {}) as { id?: unknown; body?: QueryBody; workspace?: unknown; headers?: Record<string, unknown>; path?: unknown };
      const id = typeof r.id === 'string' ? r.id : String(i);
      const correlationId = randomUUID();
      try {
        const workspace = typeof r.workspace === 'string' ? r.workspace : identity.workspaceId;
        const preferHeader = Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === 'prefer')?.[1];
        const result = handleQuery({ kind: 'workspace', id: workspace }, r.body ?? {}, parsePrefer(typeof preferHeader === 'string' ? preferHeader : undefined));
        return { id, status: 200, headers: {}, body: result };
      } catch (error) {
        const e = error instanceof QueryApiError ? error : queryApiErrors.internal(String(error));
        return { id, status: e.status, headers: {}, body: e.body(correlationId) };
      }
    });
    return { responses };
  };

  router.use(function queryApi(req: Request, res: Response, next: NextFunction) {
    const route = matchRoute(req.path);
    if (!route) return next();
    const correlationId = randomUUID();
    res.setHeader('x-ms-request-id', correlationId);
    res.setHeader('x-ms-correlation-request-id', correlationId);
    const clientRequestId = req.get('x-ms-client-request-id');
    if (clientRequestId) res.setHeader('x-ms-client-request-id', clientRequestId);
    const fail = (error: unknown) => {
      const e = error instanceof QueryApiError ? error : queryApiErrors.internal(error instanceof Error ? error.message : String(error));
      res.status(e.status).json(e.body(correlationId));
    };

    const allowed = route.kind === 'batch' ? ['POST'] : ['GET', 'POST'];
    if (!allowed.includes(req.method)) {
      res.setHeader('allow', allowed.join(', '));
      return fail(queryApiErrors.methodNotAllowed(req.method, allowed));
    }
    const respond = (body: unknown) => {
      try {
        if (route.kind === 'batch') return void res.json(handleBatch(body));
        res.json(handleQuery(route, (body ?? {}) as QueryBody, parsePrefer(req.get('prefer'))));
      } catch (error) {
        fail(error);
      }
    };
    if (req.method === 'GET') {
      const q = req.query as Record<string, unknown>;
      const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
      return respond({ query: first(q.query), timespan: first(q.timespan) });
    }
    readBody(req, res, (error?: unknown) => {
      if (error) return fail((error as { type?: string }).type === 'entity.too.large' ? queryApiErrors.tooLarge() : queryApiErrors.badArgument(String((error as Error).message)));
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      if (raw.trim() === '') return respond({});
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (e) {
        return fail(queryApiErrors.badJson((e as Error).message));
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail(queryApiErrors.badArgument('The request body must be a JSON object.'));
      respond(parsed);
    });
  });
  return router;
}

/** `GET /appinsights` (mount under `/_emulator`): the identity and connection string to point clients at. */
export function createAppInsightsInfoRouter(identity: AppInsightsIdentity, ingestionBaseUrl?: () => string | undefined): Router {
  const router = Router();
  router.get('/appinsights', (_req, res) => {
    res.json({
      appId: identity.appId,
      name: identity.name,
      workspaceId: identity.workspaceId,
      instrumentationKey: identity.instrumentationKey,
      ...(identity.resourceId ? { resourceId: identity.resourceId } : {}),
      connectionString: identity.connectionString ?? connectionString(identity, ingestionBaseUrl?.()),
    });
  });
  return router;
}

/** `InstrumentationKey=…;IngestionEndpoint=<base>/;ApplicationId=…` (no endpoint when the base is unknown). */
export function connectionString(identity: AppInsightsIdentity, baseUrl: string | undefined): string {
  const endpoint = baseUrl ? `;IngestionEndpoint=${baseUrl.replace(/\/*$/, '/')}` : '';
  return `InstrumentationKey=${identity.instrumentationKey}${endpoint};ApplicationId=${identity.appId}`;
}
