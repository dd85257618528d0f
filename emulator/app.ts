import express, { type Express } from 'express';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMockModels, resolveLatency, type MockModels } from '../mock-models/index.js';
import {
  createClock,
  createMemoryCounterStore,
  createPolicyEngine,
  PolicyLoadError,
  type ControllableClock,
  type CounterStore,
  type EngineOptions,
  type MetricSink,
  type PolicyEngine,
  type PolicyScope,
  type TokenEstimator,
} from '../policy-engine/index.js';
import { createIngestionRouter } from './app-insights/ingestion.js';
import { createAppInsightsInfoRouter, createQueryApiRouter } from './app-insights/query-api.js';
import { createRequestRecorder, storeMetricSink } from './app-insights/recorder.js';
import { createSqliteTelemetryStore } from './app-insights/sqlite-store.js';
import type { TelemetryStore } from './app-insights/store.js';
import { resolveConfig, type ResolvedConfig } from './config/load.js';
import type { EmulatorConfig } from './config/schema.js';
import { createMemoryDeploymentStore, type DeploymentStore } from './control-plane/deployments.js';
import { createRecentRequests, type RecentRequests } from './control-plane/recent-requests.js';
import { createControlPlaneRouter } from './control-plane/routes.js';
import { checkIdentityConfig, createIdentity, createIdentityRouter, loadSigningKey, type EmulatorIdentity } from './identity/index.js';
import { createForwarder } from './gateway/forward.js';
import { createCertificateStore } from './certificates/store.js';
import { createOutboundHttp } from './gateway/outbound-http.js';
import { createMemoryEventHubLog } from '../policy-engine/index.js';
import { createBackendCaller, createContentSafetyMocks } from './gateway/backend-calls.js';
import type { MockContentSafety } from '../mock-models/content-safety.js';
import { createBackendRouter, withBackendRouter, type BackendRouter } from './backends/pools.js';
import { createTokenEstimator } from './gateway/token-estimator.js';
import { handleGatewayRequest, type CompletedRequest } from './gateway/handler.js';
import { createPrometheusMetrics, type PrometheusMetrics } from './metrics/prometheus.js';
import { RouteTable } from './gateway/routes.js';
import { SubscriptionGate } from './gateway/subscriptions.js';

export interface CreateEmulatorOptions {
  config: EmulatorConfig;
  clock?: ControllableClock;
  counters?: CounterStore;
  /** Where telemetry goes (default: an in-memory SQLite store, closed with the emulator). */
  telemetry?: TelemetryStore;
  /** An extra metric sink (in addition to the telemetry store). */
  metrics?: MetricSink;
  engineOptions?: Partial<EngineOptions>;
  /** Allow the control plane from non-loopback addresses (default false). */
  controlPlaneRemote?: boolean;
  /** Require this key (header `x-emulator-admin-key`) on the control plane. */
  adminKey?: string;
  onCompleted?: (record: CompletedRequest) => void;
  /** Prometheus metrics served at GET /metrics (default: a registry of this emulator's own). */
  prometheus?: PrometheusMetrics;
  log?: (line: string) => void;
  /** Where lab deployments (`az deployment group create`) are kept (default: in memory). */
  deployments?: DeploymentStore;
  /** Keep the identity signing key in this directory (default: one key per process, in memory). */
  identityKeyDir?: string;
}

export interface Emulator {
  /** The Express app: control plane, ingestion, query API and (behind them) the gateway. */
  readonly app: Express;
  /**
   * What the servers listen with: gateway requests (paths none of the Express routes can claim, no Content-Encoding)
   * go straight to the gateway handler; everything else goes to `app`. Answers exactly as `app` does.
   */
  readonly listener: RequestListener;
  readonly clock: ControllableClock;
  readonly config: ResolvedConfig;
  readonly engine: PolicyEngine;
  readonly mocks: ReadonlyMap<string, MockModels>;
  /** In-process Content Safety services by backend id (backends of type 'content-safety'). */
  readonly contentSafety: ReadonlyMap<string, MockContentSafety>;
  /** Backend pools and circuit breakers (state of each breaker). */
  readonly backendRouter: BackendRouter;
  readonly telemetry: TelemetryStore;
  /** The last requests answered, with the policy steps that ran (the dashboard's requests log). */
  readonly recentRequests: RecentRequests;
  /** Signing key, OpenID documents and token minting (kept across reconfigure). */
  readonly identity: EmulatorIdentity;
  /** The registry behind GET /metrics. */
  readonly prometheus: PrometheusMetrics;
  /** Telemetry writes still being prepared (LLM log rows wait for streamed usage). */
  settled(): Promise<void>;
  listen(port?: number, host?: string): Promise<{ server: Server; url: string }>;
  /** Counters, mock model state, policies and (unless `telemetry: false`) telemetry back to their start state. */
  reset(options?: { telemetry?: boolean }): Promise<void>;
  setPolicy(scope: PolicyScope, xml: string): void;
  /**
   * Replaces APIs, subscriptions, backends, policies and counters in place (a lab deployment); keeps the clock and
   * telemetry (and the App Insights identity). Without a config: back to the start configuration. All or nothing:
   * throws ConfigError / PolicyLoadError and changes nothing when the config would not load.
   */
  reconfigure(next?: EmulatorConfig): Promise<void>;
  /** Throws PolicyLoadError when the policy would not load; installs nothing. */
  validatePolicy(scope: PolicyScope, xml: string): void;
  close(): Promise<void>;
}

export function createEmulator(options: CreateEmulatorOptions): Emulator {
  let config = resolveConfig(options.config);
  const clock = options.clock ?? createClock({ mode: 'system' });
  const counters = options.counters ?? createMemoryCounterStore();
  const log = options.log ?? (() => {});
  const telemetry = options.telemetry ?? createSqliteTelemetryStore({ inMemory: true, identity: config.appInsights });
  const ownsTelemetry = options.telemetry === undefined;
  const storeSink = storeMetricSink(telemetry, config.gateway.serviceName);
  const prometheus = options.prometheus ?? createPrometheusMetrics({ counterStore: counters });
  const metrics: MetricSink = {
    emit: (s) => {
      storeSink.emit(s);
      prometheus.sink.emit(s);
      options.metrics?.emit(s);
    },
  };
  const recordRequest = createRequestRecorder(telemetry, config.gateway);
  const pendingRecords = new Set<Promise<void>>();
  const recentRequests = createRecentRequests();
  let baseUrl: string | undefined;
  /** Where this emulator listens (send-request to the gateway itself goes there). */
  const ownUrls: string[] = [];
  /** log-to-eventhub messages: kept across reconfigure, cleared by reset. */
  const eventHub = createMemoryEventHubLog();

  const mocks = new Map<string, MockModels>();
  const deploymentModels = new Map<string, string>();
  const buildMocks = () => {
    mocks.clear();
    for (const backend of config.backends) {
      if (backend.type !== 'mock') continue;
      for (const d of backend.deployments ?? []) deploymentModels.set(d.name, d.model);
      mocks.set(
        backend.id,
        createMockModels({
          clock,
          region: backend.region ?? config.gateway.region,
          deployments: (backend.deployments ?? []).map((d) => ({ ...d })),
          ...(backend.latency === undefined ? {} : { latency: resolveLatency(backend.latency)! }),
        }),
      );
    }
  };
  buildMocks();

  let router = createBackendRouter(config.backends, clock);
  const identityConfig = options.config.identity ?? {};
  checkIdentityConfig(identityConfig);
  // A data directory's key is kept there from the start; without one createIdentity reads a configured JWK at once
  // and generates a per-process key at its first use.
  const identity = createIdentity(identityConfig, options.identityKeyDir ? loadSigningKey({ ...(identityConfig.signingKey ? { jwk: identityConfig.signingKey } : {}), dataDir: options.identityKeyDir }) : undefined);

  let forwarder = withBackendRouter(createForwarder({ clock, backends: config.backends, mocks }), router);
  const estimator = createTokenEstimator((deployment) => (deployment ? deploymentModels.get(deployment) ?? deployment : undefined));

  let contentSafety = createContentSafetyMocks(config.backends, clock);
  let certificates = createCertificateStore(options.config.certificates);
  let engine!: PolicyEngine;
  const buildEngine = () => {
    engine = createPolicyEngine({
      certificates,
      backendCaller: createBackendCaller({ clock, backends: config.backends, mocks, contentSafety }),
      clock,
      forwarder,
      estimator,
      counters,
      metrics,
      namedValues: config.namedValues,
      gatewayId: config.gateway.gatewayId,
      backends: config.backends.map((b) => ({ id: b.id, url: b.url })),
      options: { ...config.policyEngine, ...options.engineOptions },
      identity,
      outbound: createOutboundHttp({ backends: config.backends, mocks, selfUrls: () => ownUrls }),
      eventHub,
      fragments: config.fragments,
    });
    if (config.globalPolicy) engine.setPolicy({ kind: 'global' }, config.globalPolicy, { name: 'global policy' });
    for (const product of config.products) {
      if (product.policy) engine.setPolicy({ kind: 'product', productId: product.id }, product.policy, { name: `products/${product.id} policy` });
    }
    for (const api of config.apis) {
      if (api.policy) engine.setPolicy({ kind: 'api', apiId: api.id }, api.policy, { name: `apis/${api.id} policy`, placeholders: api.policyPlaceholders });
      for (const op of api.operations) {
        if (op.policy) {
          engine.setPolicy({ kind: 'operation', apiId: api.id, operationId: op.id }, op.policy, {
            name: `apis/${api.id}/operations/${op.id} policy`,
            placeholders: api.policyPlaceholders,
          });
        }
      }
    }
  };
  buildEngine();

  const placeholdersFor = (scope: PolicyScope) => {
    const api = scope.kind === 'api' || scope.kind === 'operation' ? config.apis.find((a) => a.id === scope.apiId) : undefined;
    return api?.policyPlaceholders ?? {};
  };
  let routes = new RouteTable(config.apis);
  let gate = new SubscriptionGate(config);
  const servers = new Set<Server>();

  const emulator: Emulator = {
    app: undefined as unknown as Express,
    listener: undefined as unknown as RequestListener,
    clock,
    get config() {
      return config;
    },
    get engine() {
      return engine;
    },
    mocks,
    get contentSafety() {
      return contentSafety;
    },
    prometheus,
    get backendRouter() {
      return router;
    },
    telemetry,
    recentRequests,
    identity,
    async settled() {
      while (pendingRecords.size > 0) await Promise.all([...pendingRecords]);
    },
    async listen(port = 0, host = '127.0.0.1') {
      const server = createServer(slowClientTimeouts(emulator.config.gateway), emulator.listener);
      servers.add(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const url = `http://${shownHost}:${address.port}`;
      baseUrl ??= url;
      ownUrls.push(url);
      return { server, url };
    },
    async reset(resetOptions = {}) {
      await emulator.settled();
      await counters.clear();
      if (resetOptions.telemetry !== false) await telemetry.clear();
      recentRequests.clear();
      eventHub.clear();
      for (const mock of mocks.values()) mock.reset();
      for (const safety of contentSafety.values()) safety.reset();
      router.reset();
      buildEngine();
    },
    setPolicy(scope, xml) {
      engine.setPolicy(scope, xml, { placeholders: placeholdersFor(scope) });
    },
    validatePolicy(scope, xml) {
      engine.validatePolicy(scope, xml, { placeholders: placeholdersFor(scope) });
    },
    async reconfigure(next) {
      // The App Insights identity stays: telemetry is kept and its query routes were bound at start.
      const resolved = resolveConfig({ ...(next ?? options.config), appInsights: options.config.appInsights ?? {} });
      const previous = { config, forwarder, engine, router, certificates };
      await emulator.settled();
      config = resolved;
      try {
        deploymentModels.clear();
        buildMocks();
        router = createBackendRouter(config.backends, clock);
        certificates = createCertificateStore((next ?? options.config).certificates);
        forwarder = withBackendRouter(createForwarder({ clock, backends: config.backends, mocks }), router);
        contentSafety = createContentSafetyMocks(config.backends, clock);
        buildEngine();
      } catch (error) {
        ({ config, forwarder, engine, router, certificates } = previous);
        deploymentModels.clear();
        buildMocks();
        throw error;
      }
      routes = new RouteTable(config.apis);
      gate = new SubscriptionGate(config);
      await counters.clear();
    },
    async close() {
      await Promise.all([...servers].map((server) => closeGracefully(server)));
      servers.clear();
      await emulator.settled();
      if (ownsTelemetry) await telemetry.close();
    },
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use('/_emulator', createAppInsightsInfoRouter(config.appInsights, () => baseUrl));
  app.use(
    '/_emulator/identity',
    createIdentityRouter({ identity: () => identity, clock, allowRemote: options.controlPlaneRemote ?? false, ...(options.adminKey === undefined ? {} : { adminKey: options.adminKey }) }),
  );
  app.use(
    '/_emulator',
    createControlPlaneRouter({
      emulator,
      allowRemote: options.controlPlaneRemote ?? false,
      deployments: options.deployments ?? createMemoryDeploymentStore(),
      ...(options.adminKey === undefined ? {} : { adminKey: options.adminKey }),
    }),
  );
  app.get('/metrics', (_req, res, next) => void prometheus.text().then((text) => res.type(prometheus.contentType).send(text), next));
  app.use(createIngestionRouter({ store: telemetry, identity: config.appInsights }));
  app.use(createQueryApiRouter({ store: telemetry, identity: config.appInsights, clock }));
  const onCompleted = (record: CompletedRequest) => {
    const pending = recordRequest(record)
      .catch((error) => log(`telemetry: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => pendingRecords.delete(pending));
    pendingRecords.add(pending);
    recentRequests.add(record);
    prometheus.onCompleted(record);
    options.onCompleted?.(record);
  };
  const gatewayDeps = {
    config: () => config,
    engine: () => engine,
    routes: () => routes,
    gate: () => gate,
    onCompleted,
    log,
  };
  const rawBody = express.raw({ type: () => true, limit: GATEWAY_BODY_LIMIT });
  app.use((req, res, next) => {
    rawBody(req, res, (error?: unknown) => {
      if (error) return next(error);
      const body = Buffer.isBuffer(req.body) ? req.body : undefined;
      handleGatewayRequest(req, res, body, gatewayDeps).catch(next);
    });
  });
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    log(`gateway error: ${error instanceof Error ? error.stack : String(error)}`);
    if (res.headersSent) return void res.end();
    const status = (error as { status?: number }).status ?? 500;
    res.status(status).type('application/json').send(errorText(status));
  });
  // The same answer without Express, for the fast path below.
  const gatewayError = (error: unknown, res: ServerResponse) => {
    log(`gateway error: ${error instanceof Error ? error.stack : String(error)}`);
    if (res.headersSent) return void res.end();
    const status = (error as { status?: number }).status ?? 500;
    const text = errorText(status);
    // What res.status().type('application/json').send(text) writes.
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  };

  /** Gateway requests without Express: the body read as express.raw reads an identity-encoded one. */
  const listener: RequestListener = (req, res) => {
    if (!isGatewayFastPath(req)) return void app(req, res);
    readRawBody(req, (error, body) => {
      if (error) return gatewayError(error, res);
      handleGatewayRequest(req, res, body, gatewayDeps).catch((e: unknown) => gatewayError(e, res));
    });
  };
  (emulator as { app: Express }).app = app;
  (emulator as { listener: RequestListener }).listener = listener;
  return emulator;
}

function errorText(status: number): string {
  return `{ "statusCode": ${status}, "message": ${JSON.stringify(status === 413 ? 'Request entity too large' : 'Internal server error')} }`;
}

/** express.raw's limit for gateway bodies (gateway.maxRequestBodyBytes refuses larger ones earlier, with APIM's answer). */
const GATEWAY_BODY_LIMIT = 100 * 1024 * 1024;

/**
 * Paths an Express route of the app may claim (Express matches case-insensitively, with or without a trailing
 * slash): the control plane and identity under /_emulator, GET /metrics, the ingestion API (/v2/track,
 * /v2.1/track) and the query API (/v1/…). Percent-encoded paths and repeated slashes are left to Express too.
 */
const EXPRESS_PATH = /^\/(?:_emulator|metrics|v2(?:\.1)?\/track|v1)(?:[/?#]|$)/i;

/**
 * True for a request the gateway answers whatever Express would do first: no Express route can claim its path,
 * and its body needs no decoding (a Content-Encoding is inflated or refused by express.raw, so such requests go
 * through Express).
 */
export function isGatewayFastPath(req: IncomingMessage): boolean {
  const url = req.url;
  if (url === undefined || url.charCodeAt(0) !== 47 /* '/' */) return false;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path.includes('%') || path.includes('//') || EXPRESS_PATH.test(path)) return false;
  return req.headers['content-encoding'] === undefined;
}

/**
 * Reads a request body the way express.raw (body-parser + raw-body) does for an identity-encoded request: none
 * (undefined) when there is neither Transfer-Encoding nor a numeric Content-Length, else a Buffer; 413 past the
 * limit, 400 when the client aborts.
 */
function readRawBody(req: IncomingMessage, done: (error: (Error & { status?: number }) | undefined, body: Buffer | undefined) => void): void {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && !Number.isNaN(Number(length)));
  if (!hasBody) return done(undefined, undefined);
  const declared = length === undefined ? undefined : Number(length);
  if (declared !== undefined && declared > GATEWAY_BODY_LIMIT) {
    return afterRequest(req, () => done(Object.assign(new Error('request entity too large'), { status: 413 }), undefined));
  }
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = (error: (Error & { status?: number }) | undefined, body: Buffer | undefined, silently = false) => {
    if (finished) return;
    finished = true;
    req.off('data', onData).off('end', onEnd).off('aborted', onAborted).off('error', onError);
    if (!silently) done(error, body);
  };
  // On an error body-parser reads off the rest of the request before answering: so does this.
  const fail = (error: Error & { status?: number }) => {
    if (finished) return;
    finish(undefined, undefined, true);
    chunks.length = 0;
    afterRequest(req, () => done(error, undefined));
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > GATEWAY_BODY_LIMIT) return fail(Object.assign(new Error('request entity too large'), { status: 413 }));
    chunks.push(chunk);
  };
  const onEnd = () => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
  const onAborted = () => fail(Object.assign(new Error('request aborted'), { status: 400 }));
  const onError = (error: Error) => fail(Object.assign(error, { status: 400 }));
  req.on('data', onData).on('end', onEnd).on('aborted', onAborted).on('error', onError);
}

/** Calls `then` once the request has been read to its end or closed, reading off whatever is left. */
function afterRequest(req: IncomingMessage, then: () => void): void {
  if (req.complete || req.destroyed) return then();
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    then();
  };
  req.once('end', once).once('close', once).once('error', once);
  req.resume();
}

/**
 * TLS options of the gateway's HTTPS listener: ask every client for a certificate and accept any (or none), so that
 * validate-client-certificate and `context.Request.Certificate` see it; policies decide, as on APIM with
 * "negotiate client certificate" on.
 */
export const CLIENT_CERTIFICATE_TLS = { requestCert: true, rejectUnauthorized: false } as const;

/** Stops accepting connections, lets in-flight requests finish (up to `graceMs`), then drops the rest. */
export async function closeGracefully(server: Server | import('node:https').Server, graceMs = 5_000): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    const sweep = setInterval(() => server.closeIdleConnections(), 10);
    const hard = setTimeout(() => server.closeAllConnections(), graceMs);
    server.once('close', () => {
      clearInterval(sweep);
      clearTimeout(hard);
    });
  });
}

export { PolicyLoadError };

/**
 * Node's limits for slow clients (headers dribbled, a body that never completes): past them the server answers
 * 408 and closes the connection. Node checks them every `connectionsCheckingInterval` (30 s by default), so the
 * interval follows the shorter limit.
 */
export function slowClientTimeouts(gateway: { headersTimeoutMs: number; requestTimeoutMs: number }): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  const requestTimeout = Math.max(gateway.requestTimeoutMs, gateway.headersTimeoutMs);
  return { headersTimeout: gateway.headersTimeoutMs, requestTimeout, connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(gateway.headersTimeoutMs / 2))) };
}
