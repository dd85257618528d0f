import type { MockModels } from '../../mock-models/index.js';
import { MockConnectionError } from '../../mock-models/index.js';
import {
  BackendConnectionError,
  BackendTimeoutError,
  HeaderBag,
  PolicyError,
  apimErrorBody,
  fakeManagedIdentityToken,
  type Clock,
  type Forwarder,
  type GatewayResponse,
  type RequestContext,
} from '../../policy-engine/index.js';
import type { ResolvedConfig } from '../config/load.js';

/** Reason used to cancel the timeout timer (a constant: no DOMException per request). */
const TIMER_DONE = Symbol('forward-request timer done');

/** Headers that describe one connection, never forwarded. */
const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'content-length']);

export interface ForwarderOptions {
  clock: Clock;
  backends: ResolvedConfig['backends'];
  /** Mock model servers by backend id (in-process, no socket). */
  mocks: ReadonlyMap<string, MockModels>;
}

/** Sends requests to mock backends in-process and to any other URL over real HTTP. */
export function createForwarder(options: ForwarderOptions): Forwarder {
  const byId = new Map(options.backends.map((b) => [b.id, b]));
  const mockByUrl = options.backends.filter((b) => b.type === 'mock').map((b) => ({ prefix: b.url.replace(/\/+$/, '').toLowerCase(), id: b.id }));

  return {
    async forward(ctx, forwardOptions) {
      const target = resolveTarget(ctx);
      const url = joinUrl(target.baseUrl, ctx.request.operationPath, ctx.request.url.search);
      const headers = new Headers();
      for (const [name, values] of ctx.request.headers.entries()) {
        if (!HOP_BY_HOP.has(name.toLowerCase())) headers.set(name, values.join(', '));
      }
      if (target.backendId) {
        const backend = byId.get(target.backendId)!;
        for (const [name, value] of Object.entries(backend.credentials?.headers ?? {})) headers.set(name, value);
        if (backend.credentials?.managedIdentityResource && !headers.has('authorization')) {
          headers.set('authorization', `Bearer ${fakeManagedIdentityToken(backend.credentials.managedIdentityResource, options.clock.now())}`);
        }
      }
      headers.set('x-forwarded-for', ctx.request.ipAddress);
      const method = ctx.request.method.toUpperCase();
      const body: BodyInit | undefined = method === 'GET' || method === 'HEAD' || ctx.request.bodyConsumed || !ctx.request.body ? undefined : (ctx.request.body as Uint8Array<ArrayBuffer>);
      const mockId = target.backendId && byId.get(target.backendId)?.type === 'mock' ? target.backendId : mockFor(url);
      // One signal cancels the call (on timeout only: the body is still being read afterwards), one the timer.
      const abort = new AbortController();
      const timer = new AbortController();
      const timeout = options.clock.sleep(forwardOptions.timeoutMs, timer.signal).then(
        () => {
          throw new BackendTimeoutError(`No response headers from ${url} within ${forwardOptions.timeoutMs} ms`);
        },
        () => undefined as never,
      );
      try {
        const call = mockId
          ? options.mocks.get(mockId)!.handle(new Request(url, { method, headers, body, signal: abort.signal }))
          : fetch(url, { method, headers, body, redirect: forwardOptions.followRedirects ? 'follow' : 'manual', signal: abort.signal });
        const response = await Promise.race([call, timeout]);
        return toGatewayResponse(response);
      } catch (error) {
        if (error instanceof BackendTimeoutError) {
          abort.abort(error);
          throw error;
        }
        if (error instanceof MockConnectionError || error instanceof TypeError) {
          throw new BackendConnectionError(error instanceof TypeError && error.cause instanceof Error ? error.cause.message : error.message);
        }
        throw error;
      } finally {
        timer.abort(TIMER_DONE);
      }
    },
  };

  function resolveTarget(ctx: RequestContext): { baseUrl: string; backendId?: string } {
    if (ctx.backend.backendId) return { baseUrl: byId.get(ctx.backend.backendId)!.url, backendId: ctx.backend.backendId };
    const baseUrl = ctx.backend.baseUrl ?? ctx.api.ServiceUrl;
    if (!baseUrl) {
      throw new PolicyError({
        source: 'forward-request',
        reason: 'BackendConnectionFailure',
        message: `API '${ctx.api.Id}' has no service URL and no set-backend-service applies.`,
        response: { statusCode: 500, body: apimErrorBody(500, 'Internal server error', { activityId: ctx.requestId }) },
      });
    }
    return { baseUrl };
  }

  function mockFor(url: string): string | undefined {
    const lower = url.toLowerCase();
    return mockByUrl.find((m) => lower === m.prefix || lower.startsWith(`${m.prefix}/`) || lower.startsWith(`${m.prefix}?`))?.id;
  }
}

function joinUrl(base: string, path: string, search: string): string {
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}${search}`;
}

function toGatewayResponse(response: Response): GatewayResponse {
  const headers = new HeaderBag();
  response.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== 'content-encoding') headers.set(name, [value]);
  });
  return {
    statusCode: response.status,
    statusReason: response.statusText,
    headers,
    body: response.body ? { kind: 'stream', stream: response.body } : { kind: 'empty' },
  };
}
