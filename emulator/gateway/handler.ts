import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  HeaderBag,
  errorResponse,
  reasonPhrase,
  type GatewayErrorResponse,
  type GatewayResponse,
  type PolicyEngine,
  type RequestContext,
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
  const url = new URL(req.url ?? '/', `${(req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`);
  const clientIp = normalizeIp(req.socket.remoteAddress);
  const method = (req.method ?? 'GET').toUpperCase();
  const complete = (statusCode: number, extra: Partial<CompletedRequest> = {}) =>
    deps.onCompleted?.({ requestId, startedAt, durationMs: clock.now() - startedAt, method, url: url.href, clientIp, statusCode, ...extra });

  const match = deps.routes().match(method, url.pathname);
  if (!match) {
    await send(res, toResponse(gatewayErrors.resourceNotFound()));
    return complete(404);
  }
  const headers = headerBagFrom(req);
  const gate = deps.gate().check(match.api, headers, url.searchParams);
  if (!gate.ok) {
    await send(res, toResponse(gate.reason === 'missing' ? gatewayErrors.missingSubscriptionKey() : gatewayErrors.invalidSubscriptionKey()));
    return complete(401, { api: match.api, operationId: match.operation.id, subscription: null });
  }

  const config = deps.config();
  const product = gate.productId ? config.products.find((p) => p.id === gate.productId) ?? null : null;
  const sub = gate.subscription;
  const ctx = engine.createContext({
    requestId,
    request: {
      method,
      originalUrl: url,
      headers,
      body: body && body.length > 0 ? new Uint8Array(body.buffer, body.byteOffset, body.length) : null,
      ipAddress: clientIp,
      matchedParameters: match.matchedParameters,
      operationPath: match.operationPath,
    },
    subscription: sub
      ? { Id: sub.name, Name: sub.displayName, Key: gate.key!, PrimaryKey: sub.primaryKey, SecondaryKey: sub.secondaryKey }
      : null,
    api: {
      Id: match.api.id,
      Name: match.api.name,
      Path: match.api.path,
      Revision: match.api.revision,
      IsCurrentRevision: true,
      Version: match.api.version,
      ServiceUrl: match.api.serviceUrl,
      SubscriptionKeyParameterNames: { Header: match.api.headerName, Query: match.api.queryName },
    },
    operation: { Id: match.operation.id, Method: match.operation.method, Name: match.operation.name, UrlTemplate: match.operation.urlTemplate },
    product: product
      ? { Id: product.id, Name: product.name, State: product.state === 'published' ? 'Published' : 'NotPublished', SubscriptionRequired: product.subscriptionRequired, ApprovalRequired: false, SubscriptionLimit: null }
      : null,
    user: sub?.userId ? { Id: sub.userId, Email: '', FirstName: '', LastName: '' } : null,
    deployment: { GatewayId: config.gateway.gatewayId, Region: config.gateway.region, ServiceName: config.gateway.serviceName, ServiceId: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/emulator/providers/Microsoft.ApiManagement/service/${config.gateway.serviceName}` },
  });

  let response: GatewayResponse;
  try {
    const pipeline = engine.pipelineFor({ apiId: match.api.id, operationId: match.operation.id, productId: gate.productId });
    response = await engine.execute(pipeline, ctx);
  } catch (error) {
    deps.log?.(`gateway: unexpected failure for ${method} ${url.pathname}: ${error instanceof Error ? error.stack : String(error)}`);
    response = errorResponse(ctx, gatewayErrors.internalServerError(requestId));
  }
  for (const warning of ctx.warnings) deps.log?.(`warning [${requestId}]: ${warning}`);
  await send(res, response);
  complete(response.statusCode, { api: match.api, operationId: match.operation.id, subscription: sub, ctx });
}

function toResponse(error: GatewayErrorResponse): GatewayResponse {
  const headers = new HeaderBag();
  headers.set('Content-Type', ['application/json']);
  return { statusCode: error.statusCode, statusReason: reasonPhrase(error.statusCode), headers, body: { kind: 'bytes', bytes: new TextEncoder().encode(error.body) } };
}

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
  res.flushHeaders();
  const reader = body.stream.getReader();
  const onClose = () => void reader.cancel().catch(() => {});
  res.once('close', onClose);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((resolve) => res.once('drain', resolve));
    }
  } catch {
    // The backend stream broke (e.g. a truncated stream fault): end what the client has.
  } finally {
    res.off('close', onClose);
    res.end();
  }
}
