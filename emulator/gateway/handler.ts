import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import {
  CROSS_DOMAIN_PATH,
  HeaderBag,
  crossDomainFile,
  errorResponse,
  isCorsPreflightRequest,
  markCorsPreflight,
  reasonPhrase,
  type ApiInfo,
  type DeploymentInfo,
  type GatewayResponse,
  type OperationInfo,
  type PresentedCertificate,
  type PolicyEngine,
  type ProductInfo,
  type RequestContext,
  type SubscriptionInfo,
} from '../../policy-engine/index.js';
import type { ResolvedApi, ResolvedConfig, ResolvedSubscription } from '../config/load.js';
import { gatewayErrors } from './errors.js';
import type { RouteTable } from './routes.js';
import type { SubscriptionGate } from './subscriptions.js';

/** Headers that may carry commas or dates: emitted as repeated headers instead of one CSV value (policies.md §4.3). */
const REPEATED_HEADERS = new Set([
  'user-agent', 'www-authenticate', 'proxy-authenticate', 'cookie', 'set-cookie', 'warning', 'date', 'expires',
  'if-modified-since', 'if-unmodified-since', 'last-modified', 'retry-after',
]);

export interface GatewayDeps {
  config: () => ResolvedConfig;
  engine: () => PolicyEngine;
  routes: () => RouteTable;
  gate: () => SubscriptionGate;
  /** Called once per request after the response is fully sent (telemetry). */
  onCompleted?: (record: CompletedRequest) => void;
  log?: (line: string) => void;
}

export interface CompletedRequest {
  requestId: string;
  startedAt: number;
  durationMs: number;
  method: string;
  url: string;
  clientIp: string;
  statusCode: number;
  api?: ResolvedApi;
  operationId?: string;
  subscription?: ResolvedSubscription | null;
  ctx?: RequestContext;
}

/** Answers one gateway request: route → subscription gate → policy pipeline → response. */
export async function handleGatewayRequest(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, deps: GatewayDeps): Promise<void> {
  const engine = deps.engine();
  const clock = engine.services.clock;
  const startedAt = clock.now();
  const requestId = randomUUID();
  const url = requestUrl(req);
  const clientIp = normalizeIp(req.socket.remoteAddress);
  const method = (req.method ?? 'GET').toUpperCase();
  const complete = (statusCode: number, extra: Partial<CompletedRequest> = {}) =>
    deps.onCompleted?.({ requestId, startedAt, durationMs: clock.now() - startedAt, method, url: url?.href ?? String(req.url), clientIp, statusCode, ...extra });

  if (body !== undefined && body.length > deps.config().gateway.maxRequestBodyBytes) {
    // Refused before routing and policies: nothing is parsed or tokenized (gateway.maxRequestBodyBytes).
    await send(res, withRequestId(errorResponse(gatewayErrors.requestEntityTooLarge()), requestId));
    return complete(413);
  }
  // The global cross-domain policy's file for Flash/Silverlight clients, outside every API.
  if (url && (method === 'GET' || method === 'HEAD') && url.pathname.toLowerCase() === CROSS_DOMAIN_PATH) {
    const file = engine.getPolicy({ kind: 'global' });
    const text = file ? crossDomainFile(file.xml) : undefined;
    if (text !== undefined) {
      const headers = HeaderBag.fromEntries([['Content-Type', ['application/xml']]]);
      await send(res, withRequestId({ statusCode: 200, statusReason: 'OK', headers, body: { kind: 'bytes', bytes: new TextEncoder().encode(text) } }, requestId));
      return complete(200);
    }
  }
  let match = url ? deps.routes().match(method, url.pathname) : undefined;
  const headers = headerBagFrom(req);
  // A CORS preflight to an operation without an OPTIONS twin is answered by the inbound cors policies alone,
  // before the subscription key check (browsers send no key on a preflight).
  let preflightSteps: ReturnType<PolicyEngine['pipelineFor']>['inbound'] | undefined;
  if (url && !match && isCorsPreflightRequest(method, headers)) {
    const target = deps.routes().match(headers.get('Access-Control-Request-Method')![0]!.trim().toUpperCase(), url.pathname);
    const steps = target ? engine.pipelineFor({ apiId: target.api.id, operationId: target.operation.id, productId: null }).inbound.filter((s) => s.policy === 'cors') : [];
    if (steps.length > 0) [match, preflightSteps] = [target, steps];
  }
  if (!url || !match) {
    await send(res, withRequestId(errorResponse(gatewayErrors.resourceNotFound()), requestId));
    return complete(404);
  }
  const gate = preflightSteps ? ({ ok: true, key: null, productId: null, subscription: null } as const) : deps.gate().check(match.api, headers, url.searchParams);
  if (!gate.ok) {
    await send(res, withRequestId(errorResponse(gate.reason === 'missing' ? gatewayErrors.missingSubscriptionKey() : gatewayErrors.invalidSubscriptionKey()), requestId));
    return complete(401, { api: match.api, operationId: match.operation.id, subscription: null });
  }

  // APIM keeps the subscription key in the request (policies read it; it reaches the backend unless a policy removes
  // it); gateway.stripSubscriptionKey removes it before the pipeline.
  if (gate.key !== null && deps.config().gateway.stripSubscriptionKey) {
    headers.delete(match.api.headerName);
    url.searchParams.delete(match.api.queryName);
  }
  const config = deps.config();
  const product = gate.productId ? config.products.find((p) => p.id === gate.productId) ?? null : null;
  const sub = gate.subscription;
  // context.Timestamp, the token limits' charge instant and the log rows' TimeGenerated are one instant.
  const ctx = engine.createContext({
    requestId,
    timestamp: startedAt,
    request: {
      method,
      originalUrl: url,
      headers,
      body: body && body.length > 0 ? new Uint8Array(body.buffer, body.byteOffset, body.length) : null,
      ipAddress: clientIp,
      matchedParameters: match.matchedParameters,
      operationPath: match.operationPath,
      ...presentedCertificate(req),
    },
    // Object.assign, not `{ ...info, Key }`: on Node 20 a spread followed by properties costs ~2-4 µs per object.
    subscription: sub ? Object.assign({}, subscriptionInfo(sub), { Key: gate.key! }) : null,
    api: apiInfo(match.api),
    operation: operationInfo(match.operation),
    product: product ? productInfo(product) : null,
    user: sub?.userId ? { Id: sub.userId, Email: '', FirstName: '', LastName: '' } : null,
    deployment: deploymentInfo(config),
  });

  let response: GatewayResponse;
  try {
    const full = engine.pipelineFor({ apiId: match.api.id, operationId: match.operation.id, productId: gate.productId });
    if (preflightSteps) markCorsPreflight(ctx);
    const pipeline = preflightSteps ? { inbound: preflightSteps, backend: [], outbound: [], 'on-error': [] } : full;
    response = await engine.execute(pipeline, ctx);
  } catch (error) {
    deps.log?.(`gateway: unexpected failure for ${method} ${url.pathname}: ${error instanceof Error ? error.stack : String(error)}`);
    response = errorResponse(gatewayErrors.internalServerError(requestId));
  }
  for (const warning of ctx.warnings) deps.log?.(`warning [${requestId}]: ${warning}`);
  const sent = await send(res, withRequestId(response, requestId)).catch(async (error: unknown) => {
    // e.g. a policy set a header value Node refuses (CR/LF, non-Latin-1): answer 500 instead of half a response.
    deps.log?.(`gateway: cannot send the response for ${method} ${url.pathname}: ${error instanceof Error ? error.message : String(error)}`);
    if (response.body.kind === 'stream') void response.body.stream.cancel().catch(() => {});
    response = withRequestId(errorResponse(gatewayErrors.internalServerError(requestId)), requestId);
    if (!res.headersSent) {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      await send(res, response);
    } else res.destroy();
  });
  void sent;
  complete(response.statusCode, { api: match.api, operationId: match.operation.id, subscription: sub, ctx });
}

/**
 * Every gateway response carries its request id in `apim-request-id` (replacing a backend's): the id of the
 * `requests` row and the `operation_Id` / `CorrelationId` of the request's telemetry, so responses join to it.
 */
function withRequestId(response: GatewayResponse, requestId: string): GatewayResponse {
  response.headers.set('apim-request-id', [requestId]);
  return response;
}

/** The context.* models of configuration entities are built once per entity, not per request. */
function memoize<K extends object, V>(build: (key: K) => V): (key: K) => V {
  const cache = new WeakMap<K, V>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) cache.set(key, (value = build(key)));
    return value;
  };
}

const apiInfo = memoize((api: ResolvedApi): ApiInfo => ({
  Id: api.id,
  Name: api.name,
  Path: api.path,
  Revision: api.revision,
  IsCurrentRevision: true,
  Version: api.version,
  ServiceUrl: api.serviceUrl,
  SubscriptionKeyParameterNames: { Header: api.headerName, Query: api.queryName },
  ...(api.openApi === undefined ? {} : { openApi: api.openApi }),
}));

const operationInfo = memoize((op: ResolvedApi['operations'][number]): OperationInfo => ({ Id: op.id, Method: op.method, Name: op.name, UrlTemplate: op.urlTemplate }));

const productInfo = memoize((p: ResolvedConfig['products'][number]): ProductInfo => ({
  Id: p.id,
  Name: p.name,
  State: p.state === 'published' ? 'Published' : 'NotPublished',
  SubscriptionRequired: p.subscriptionRequired,
  ApprovalRequired: false,
  SubscriptionLimit: null,
}));

const subscriptionInfo = memoize((s: ResolvedSubscription): Omit<SubscriptionInfo, 'Key'> => ({
  Id: s.name,
  Name: s.displayName,
  PrimaryKey: s.primaryKey,
  SecondaryKey: s.secondaryKey,
}));

const deploymentInfo = memoize((c: ResolvedConfig): DeploymentInfo => ({
  GatewayId: c.gateway.gatewayId,
  Region: c.gateway.region,
  ServiceName: c.gateway.serviceName,
  ServiceId: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/emulator/providers/Microsoft.ApiManagement/service/${c.gateway.serviceName}`,
}));

export function headerBagFrom(req: IncomingMessage): HeaderBag {
  const bag = new HeaderBag();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) bag.append(raw[i]!, raw[i + 1]!);
  return bag;
}

export function normalizeIp(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Writes a gateway response, streaming bodies chunk by chunk (server-sent events pass through unbuffered). */
export async function send(res: ServerResponse, response: GatewayResponse): Promise<void> {
  res.statusCode = response.statusCode;
  res.statusMessage = response.statusReason || reasonPhrase(response.statusCode) || 'Unknown';
  for (const [name, values] of response.headers.entries()) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') continue;
    res.setHeader(name, REPEATED_HEADERS.has(lower) ? values : values.join(', '));
  }
  const body = response.body;
  if (body.kind === 'empty') {
    res.setHeader('Content-Length', '0');
    res.end();
    return;
  }
  if (body.kind === 'bytes') {
    res.setHeader('Content-Length', String(body.bytes.length));
    res.end(Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.length));
    return;
  }
  const reader = body.stream.getReader();
  if (res.destroyed) {
    // The client left while the backend was answering: release the backend stream.
    await reader.cancel().catch(() => {});
    return;
  }
  res.flushHeaders();
  const onClose = () => void reader.cancel().catch(() => {});
  res.once('close', onClose);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const resume = () => {
            res.off('drain', resume);
            res.off('close', resume);
            resolve();
          };
          res.once('drain', resume);
          res.once('close', resume);
        });
      }
    }
  } catch {
    // The backend stream broke (e.g. a truncated stream fault): end what the client has.
  } finally {
    res.off('close', onClose);
    if (res.destroyed) void reader.cancel().catch(() => {});
    else res.end();
  }
}

/** The request URL on a fixed origin (a client's Host header never decides what is parsed); undefined when unparseable. */
function requestUrl(req: IncomingMessage): URL | undefined {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const target = req.url ?? '/';
  try {
    const url = new URL(target.startsWith('/') ? `${scheme}://gateway${target.replace(/^\/+/, '/')}` : target);
    const host = req.headers.host;
    if (host && /^[A-Za-z0-9.\-:[\]]+$/.test(host)) url.host = host;
    return url;
  } catch {
    return undefined;
  }
}

/** The client certificate of a request on the HTTPS listener (it asks for one and accepts any: policies decide). */
function presentedCertificate(req: IncomingMessage): { certificate?: PresentedCertificate } {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerX509Certificate !== 'function') return {};
  const x509 = socket.getPeerX509Certificate();
  if (!x509) return {};
  const chain: X509Certificate[] = [];
  let link = socket.getPeerCertificate(true)?.issuerCertificate;
  for (let depth = 0; link?.raw && depth < 10; depth++) {
    const cert = new X509Certificate(link.raw);
    if (cert.fingerprint256 === x509.fingerprint256 || chain.some((c) => c.fingerprint256 === cert.fingerprint256)) break;
    chain.push(cert);
    link = link.issuerCertificate;
  }
  return { certificate: { x509, chain } };
}
