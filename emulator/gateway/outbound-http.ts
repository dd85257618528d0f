import type { MockModels } from '../../mock-models/index.js';
import { MockConnectionError } from '../../mock-models/index.js';
import { OutboundConnectionError, OutboundHostNotAllowedError, type GatewayResponse, type OutboundHttp, type OutboundRequest } from '../../policy-engine/index.js';
import type { ResolvedBackend } from '../config/load.js';
import { HOP_BY_HOP, toGatewayResponse } from './backend-call.js';

const LOOPBACK = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|::1)$/i;
const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' };

export interface OutboundHttpOptions {
  backends: readonly ResolvedBackend[];
  /** Mock model servers by backend id (in-process, no socket). */
  mocks: ReadonlyMap<string, MockModels>;
  /** The gateway's own listening URLs (e.g. http://127.0.0.1:8080): a policy's call to the gateway itself goes there. */
  selfUrls: () => readonly string[];
  /** The HTTP client for real calls (default: global fetch). */
  fetch?: typeof fetch;
}

/** Where one send-request goes. */
export type OutboundRoute =
  | { kind: 'mock'; backendId: string; url: string }
  | { kind: 'http'; url: string; via: string }
  | { kind: 'refused'; reason: string };

const port = (url: URL) => url.port || DEFAULT_PORT[url.protocol] || '';

/**
 * Decides where a policy-made request may go, before any connection:
 * 1. a host (and port) that a configured backend's URL names: a mock backend answers in-process; an http backend is
 *    called at its URL, or at `connectTo` when the backend names a local stand-in for an external host;
 * 2. the gateway's own address (any scheme: the labs call `https://` + the Host header, as APIM's loopback
 *    `https://127.0.0.1` with a Host header): sent to the gateway's HTTP listener;
 * 3. any other loopback address (localhost, 127.0.0.0/8, ::1): called as written;
 * anything else is refused: the emulator never calls the internet on a policy's behalf unless a backend names the host.
 */
export function routeOutbound(url: URL, options: Pick<OutboundHttpOptions, 'backends' | 'selfUrls'>): OutboundRoute {
  const host = url.hostname.toLowerCase();
  for (const backend of options.backends) {
    if (backend.type === 'pool' || !backend.url) continue;
    const base = new URL(backend.url);
    if (base.hostname.toLowerCase() !== host || port(base) !== port(url)) continue;
    if (backend.type === 'mock') return { kind: 'mock', backendId: backend.id, url: url.href };
    const connectTo = (backend as { connectTo?: string }).connectTo;
    if (!connectTo) return { kind: 'http', url: url.href, via: `backend '${backend.id}'` };
    const target = new URL(connectTo);
    const rewritten = new URL(`${url.pathname}${url.search}`, target.origin);
    return { kind: 'http', url: rewritten.href, via: `backend '${backend.id}' (connectTo ${target.origin})` };
  }
  if (LOOPBACK.test(host)) {
    const selves = options.selfUrls().map((u) => new URL(u));
    // `https://127.0.0.1/…` without a port (APIM's documented loopback to the gateway) is the gateway too.
    const own = selves.find((o) => port(o) === port(url)) ?? (url.protocol === 'https:' && !url.port ? selves[0] : undefined);
    if (own) return { kind: 'http', url: new URL(`${url.pathname}${url.search}`, own.origin).href, via: 'the gateway itself' };
    return { kind: 'http', url: url.href, via: 'loopback' };
  }
  return {
    kind: 'refused',
    reason:
      `The emulator does not send policy requests to '${url.host}': only configured backends and loopback addresses are called. ` +
      `To allow it, add a backend whose url names ${url.protocol}//${url.host} (with "connectTo": "http://127.0.0.1:<port>" to answer it locally).`,
  };
}

/** send-request / send-one-way-request transport: routed by routeOutbound, mock backends in-process, others over HTTP. */
export function createOutboundHttp(options: OutboundHttpOptions): OutboundHttp {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  return {
    async send(request: OutboundRequest, { signal }): Promise<GatewayResponse> {
      const route = routeOutbound(request.url, options);
      if (route.kind === 'refused') throw new OutboundHostNotAllowedError(route.reason);
      const headers = new Headers();
      for (const [name, values] of request.headers.entries()) if (!HOP_BY_HOP.has(name.toLowerCase())) headers.set(name, values.join(', '));
      const method = request.method.toUpperCase();
      const body = method === 'GET' || method === 'HEAD' || !request.body ? undefined : (request.body as Uint8Array<ArrayBuffer>);
      try {
        const response =
          route.kind === 'mock'
            ? await options.mocks.get(route.backendId)!.handle(new Request(route.url, { method, headers, body, signal }))
            : await doFetch(route.url, { method, headers, body, redirect: 'manual', signal });
        return toGatewayResponse(response);
      } catch (error) {
        if (signal.aborted) throw error;
        if (error instanceof MockConnectionError) throw new OutboundConnectionError(error.message);
        if (error instanceof TypeError) throw new OutboundConnectionError(`${route.url}: ${error.cause instanceof Error ? error.cause.message : error.message}`);
        throw error;
      }
    },
  };
}

