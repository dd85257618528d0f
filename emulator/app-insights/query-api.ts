import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { KqlError } from './kql/index.js';
import type { AppInsightsIdentity, QueryResult, TelemetryStore } from './store.js';
import type { TableSet } from './tables.js';
import { parseTimespan, TimespanError } from './timespan.js';

export interface QueryApiOptions {
  store: TelemetryStore;
  identity: AppInsightsIdentity;
  clock: { now(): number };
  subscriptionId?: string;
  resourceGroup?: string;
}

interface QueryBody {
  query?: unknown;
  timespan?: unknown;
}

/** The App Insights / Log Analytics query API (kql-and-clients.md §1). Any bearer token or x-api-key is accepted. */
export function createQueryApiRouter(options: QueryApiOptions): Router {
  const router = Router({ caseSensitive: false, strict: false });
  // Only the query routes parse JSON: every other path belongs to the gateway, which forwards raw bodies.
  const json = express.json({ limit: '5mb', type: ['application/json', 'application/*+json', 'text/plain'] });
  const prepare = [
    (req: Request, res: Response, next: NextFunction) => {
      res.setHeader('x-ms-request-id', randomUUID());
      const clientRequestId = req.get('x-ms-client-request-id');
      if (clientRequestId) res.setHeader('x-ms-client-request-id', clientRequestId);
      next();
    },
    json,
  ];

  const run = (tableSet: TableSet) => (req: Request, res: Response) => {
    const body: QueryBody = req.method === 'GET' ? { query: req.query.query, timespan: req.query.timespan } : ((req.body ?? {}) as QueryBody);
    const result = runQuery(options, body, tableSet, req.get('prefer'));
    res.status(result.status).json(result.body);
  };

  router.all('/v1/apps/:appId/query', prepare, (req: Request, res: Response, next: NextFunction) => {
    if (!isQueryMethod(req)) return next();
    const appId = String(req.params.appId);
    if (appId.toLowerCase() !== options.identity.appId.toLowerCase() && appId.toLowerCase() !== options.identity.name.toLowerCase()) {
      return void res.status(404).json(pathNotFound(`The requested application '${appId}' was not found.`));
    }
    run('classic')(req, res);
  });

  router.all('/v1/workspaces/:workspaceId/query', prepare, (req: Request, res: Response, next: NextFunction) => {
    if (!isQueryMethod(req)) return next();
    if (String(req.params.workspaceId).toLowerCase() !== options.identity.workspaceId.toLowerCase()) {
      return void res.status(404).json({
        error: { code: 'WorkspaceNotFoundError', message: `Workspace '${req.params.workspaceId}' could not be found.`, correlationId: randomUUID() },
      });
    }
    run('workspace')(req, res);
  });

  router.post('/v1/\\$batch', prepare, (req: Request, res: Response) => {
    const requests = (req.body as { requests?: Array<{ id?: string; body?: QueryBody; workspace?: string }> })?.requests;
    if (!Array.isArray(requests)) return void res.status(400).json(badArgument('The request body must hold a "requests" array.'));
    const responses = requests.map((r, i) => {
      const known = !r.workspace || r.workspace.toLowerCase() === options.identity.workspaceId.toLowerCase();
      const result = known
        ? runQuery(options, r.body ?? {}, 'workspace', undefined)
        : { status: 404, body: { error: { code: 'WorkspaceNotFoundError', message: `Workspace '${r.workspace}' could not be found.` } } };
      return { id: r.id ?? `query-${i}`, status: result.status, headers: {}, body: result.body };
    });
    res.json({ responses });
  });

  // Resource-centric: /v1/subscriptions/…/providers/…/query (clients may send a double slash).
  router.all(/^\/v1\/+subscriptions\/.+\/query\/?$/i, prepare, (req: Request, res: Response, next: NextFunction) => {
    if (!isQueryMethod(req)) return next();
    const resourceId = req.path.replace(/^\/v1\/+/i, '/').replace(/\/query\/?$/i, '');
    const isComponent = /\/providers\/microsoft\.insights\/components\/[^/]+$/i.test(resourceId);
    const isWorkspace = /\/providers\/microsoft\.operationalinsights\/workspaces\/[^/]+$/i.test(resourceId);
    const isApim = /\/providers\/microsoft\.apimanagement\/service\/[^/]+$/i.test(resourceId);
    if (!isComponent && !isWorkspace && !isApim) return void res.status(404).json(pathNotFound(`The resource '${resourceId}' was not found.`));
    run(isComponent ? 'classic' : 'workspace')(req, res);
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const e = error as { type?: string; message?: string; status?: number };
    if (e.type === 'entity.parse.failed') return void res.status(400).json(badArgument(`The request body is not valid JSON: ${e.message}`));
    next(error);
  });
  return router;
}

function isQueryMethod(req: Request): boolean {
  return req.method === 'GET' || req.method === 'POST';
}

function runQuery(options: QueryApiOptions, body: QueryBody, tableSet: TableSet, prefer: string | undefined): { status: number; body: unknown } {
  if (typeof body.query !== 'string' || body.query.trim() === '') {
    return { status: 400, body: badArgument('The request had some invalid properties: "query" is required.') };
  }
  const nowMs = options.clock.now();
  let timespan: { startMs: number; endMs: number } | undefined;
  if (body.timespan !== undefined && body.timespan !== null && body.timespan !== '') {
    try {
      timespan = parseTimespan(String(body.timespan), nowMs);
    } catch (error) {
      if (error instanceof TimespanError) return { status: 400, body: badArgument(error.message) };
      throw error;
    }
  }
  let result: QueryResult;
  const started = performance.now();
  try {
    result = options.store.query(body.query, { nowMs, tableSet, ...(timespan ? { timespan } : {}) });
  } catch (error) {
    if (error instanceof KqlError) return { status: 400, body: kqlErrorBody(error) };
    throw error;
  }
  const preferences = (prefer ?? '').toLowerCase();
  const out: Record<string, unknown> = { tables: result.tables };
  if (preferences.includes('include-statistics=true')) {
    out.statistics = { query: { executionTime: (performance.now() - started) / 1000, resourceUsage: {}, datasetStatistics: [{ tableRowCount: result.tables[0]!.rows.length }] } };
  }
  if (preferences.includes('include-render=true') && result.render) out.render = result.render;
  return { status: 200, body: out };
}

function badArgument(message: string) {
  return { error: { message, code: 'BadArgumentError', correlationId: randomUUID() } };
}

function pathNotFound(message: string) {
  return { error: { message, code: 'PathNotFoundError', correlationId: randomUUID() } };
}

/** App Insights' error envelope for a bad query (kql-and-clients.md §1.5). */
export function kqlErrorBody(error: KqlError) {
  const syntax = error.kind === 'syntax';
  return {
    error: {
      message: 'The request had some invalid properties',
      code: 'BadArgumentError',
      correlationId: randomUUID(),
      innererror: {
        code: syntax ? 'SyntaxError' : 'SemanticError',
        message: syntax ? 'A recognition error occurred in the query.' : 'A semantic error occurred.',
        innererror: { code: error.code, message: error.message, line: error.line, pos: error.pos, ...(error.token === undefined ? {} : { token: error.token }) },
      },
    },
  };
}

/** GET /_emulator/appinsights → the identity to point clients at. */
export function createAppInsightsInfoRouter(identity: AppInsightsIdentity, ingestionUrl: () => string | undefined): Router {
  const router = Router();
  router.get('/appinsights', (_req, res) => {
    res.json({ appId: identity.appId, name: identity.name, workspaceId: identity.workspaceId, connectionString: connectionString(identity, ingestionUrl()) });
  });
  return router;
}

export function connectionString(identity: AppInsightsIdentity, baseUrl: string | undefined): string {
  const endpoint = baseUrl ? `;IngestionEndpoint=${baseUrl.replace(/\/?$/, '/')}` : '';
  return `InstrumentationKey=${identity.instrumentationKey}${endpoint};ApplicationId=${identity.appId}`;
}
