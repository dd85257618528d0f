import type { MockModels } from '../../mock-models/index.js';
import { directCallOf, type ModelRequest, type ModelResponse } from '../../mock-models/index.js';
import {
  HeaderBag,
  PolicyError,
  apimErrorBody,
  fakeManagedIdentityToken,
  type Clock,
  type ForwardOptions,
  type Forwarder,
  type GatewayResponse,
  type RequestContext,
} from '../../policy-engine/index.js';
import type { ResolvedConfig } from '../config/load.js';
import { createBackendFetch } from './backend-tls.js';
import { callBackend, HOP_BY_HOP, toGatewayResponse } from './backend-call.js';


/** Headers that describe one connection, never forwarded. */

/** Methods `new Request` takes as they are (upper case, not forbidden): the direct mock call handles these. */
const DIRECT_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
/** A header name `Headers.set` accepts (an RFC 9110 token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value `Headers.set` accepts unchanged apart from its whitespace trim (no CR/LF/NUL, Latin-1 only). */
const PLAIN_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Leading/trailing HTTP whitespace, which `Headers.set` strips from values. */
const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

export interface ForwarderOptions {
  clock: Clock;
  backends: ResolvedConfig['backends'];
  /** Mock model servers by backend id (in-process, no socket). */
  mocks: ReadonlyMap<string, MockModels>;
}

/** Sends requests to mock backends in-process and to any other URL over real HTTP. */
export function createForwarder(options: ForwarderOptions): Forwarder {
  const byId = new Map(options.backends.map((b) => [b.id, b]));
  // A client certificate (authentication-certificate) or a proxy (proxy) needs its own undici dispatcher.
  const backendFetch = createBackendFetch();
  const mockByUrl = options.backends.filter((b) => b.type === 'mock').map((b) => ({ prefix: b.url.replace(/\/+$/, '').toLowerCase(), id: b.id }));

  return {
    async forward(ctx, forwardOptions) {
      const target = resolveTarget(ctx);
      const url = joinUrl(target.baseUrl, ctx.request.operationPath, ctx.request.url.search);
      const method = ctx.request.method.toUpperCase();
      const mockId = target.backendId && byId.get(target.backendId)?.type === 'mock' ? target.backendId : mockFor(url);
      const direct = mockId ? directCallOf(options.mocks.get(mockId)!) : undefined;
      if (direct) {
        const request = directRequest(ctx, target.backendId, url, method);
        if (request) return callDirect(direct, request, url, forwardOptions);
      }
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
      const body: BodyInit | undefined = method === 'GET' || method === 'HEAD' || ctx.request.bodyConsumed || !ctx.request.body ? undefined : (ctx.request.body as Uint8Array<ArrayBuffer>);
      const response = await callBackend(
        options.clock,
        forwardOptions.timeoutMs,
        () => `No response headers from ${url} within ${forwardOptions.timeoutMs} ms`,
        (signal) =>
          mockId
            ? options.mocks.get(mockId)!.handle(new Request(url, { method, headers, body, signal }))
            : backendFetch(ctx, url, { method, headers, body, redirect: forwardOptions.followRedirects ? 'follow' : 'manual', signal }),
      );
      return toGatewayResponse(response);
    },
  };

  /**
   * The request as the mock core reads it, with the same headers the web path would send (hop-by-hop dropped,
   * backend credentials, x-forwarded-for); undefined when `new Request`/`Headers` would refuse or alter
   * something (odd method, credentials in the URL, a header name or value outside the plain range): the web
   * path then runs and fails or succeeds exactly as before.
   */
  function directRequest(ctx: RequestContext, backendId: string | undefined, url: string, method: string): Omit<ModelRequest, 'signal'> | undefined {
    if (!DIRECT_METHODS.has(method)) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    if (parsed.username !== '' || parsed.password !== '') return undefined;
    const headers = new Map<string, string>();
    for (const [name, values] of ctx.request.headers.entries()) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower)) continue;
      const value = values.join(', ');
      if (!TOKEN.test(name) || !PLAIN_VALUE.test(value)) return undefined;
      headers.set(lower, value);
    }
    if (backendId) {
      const backend = byId.get(backendId)!;
      for (const [name, value] of Object.entries(backend.credentials?.headers ?? {})) {
        if (!TOKEN.test(name) || !PLAIN_VALUE.test(value)) return undefined;
        headers.set(name.toLowerCase(), value);
      }
      if (backend.credentials?.managedIdentityResource && !headers.has('authorization')) {
        headers.set('authorization', `Bearer ${fakeManagedIdentityToken(backend.credentials.managedIdentityResource, options.clock.now())}`);
      }
    }
    if (!PLAIN_VALUE.test(ctx.request.ipAddress)) return undefined;
    headers.set('x-forwarded-for', ctx.request.ipAddress);
    const bytes = method === 'GET' || method === 'HEAD' || ctx.request.bodyConsumed || !ctx.request.body ? undefined : ctx.request.body;
    return {
      method,
      url: parsed,
      header(name) {
        const value = headers.get(name);
        return value === undefined ? null : value.replace(HTTP_WHITESPACE, '');
      },
      text: () => (bytes ? utf8.decode(bytes) : ''),
    };
  }

  /** The direct mock call under the same timeout and cancellation as the web path. */
  async function callDirect(direct: (r: ModelRequest) => Promise<ModelResponse>, request: Omit<ModelRequest, 'signal'>, url: string, forwardOptions: ForwardOptions): Promise<GatewayResponse> {
    const response = await callBackend(
      options.clock,
      forwardOptions.timeoutMs,
      () => `No response headers from ${url} within ${forwardOptions.timeoutMs} ms`,
      // Object.assign, not `{ ...request, signal }` (a spread followed by properties is slow on Node 20).
      (signal) => direct(Object.assign({}, request, { signal })),
    );
    return fromModelResponse(response, forwardOptions.bufferResponse);
  }

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

/**
 * What `toGatewayResponse(new Response(…))` gives for the core's answer: the same headers in the same (sorted)
 * order, no status text; a text body as bytes when forward-request buffers (as it would have read the stream), else
 * as a one-chunk stream. Streamed bodies (server-sent events, cut-body faults) stay streams.
 */
function fromModelResponse(response: ModelResponse, buffered: boolean | undefined): GatewayResponse {
  const headers = new HeaderBag();
  for (const [name, value] of response.headers.entries()) {
    if (!HOP_BY_HOP.has(name) && name !== 'content-encoding') headers.set(name, [value]);
  }
  let body: GatewayResponse['body'];
  if (typeof response.body !== 'string') body = { kind: 'stream', stream: response.body };
  else {
    const bytes = utf8Encoder.encode(response.body);
    if (buffered && !(response.headers.get('content-type') ?? '').toLowerCase().includes('text/event-stream')) body = { kind: 'bytes', bytes };
    else
      body = {
        kind: 'stream',
        stream: new ReadableStream<Uint8Array>({
          start(controller) {
            if (bytes.length > 0) controller.enqueue(bytes);
            controller.close();
          },
        }),
      };
  }
  return { statusCode: response.status, statusReason: '', headers, body };
}

