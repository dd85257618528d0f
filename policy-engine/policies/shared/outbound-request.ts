/**
 * What send-request and send-one-way-request share: the child elements that build the request (`set-url`,
 * `set-method`, `set-header`, `set-body`, `authentication-managed-identity`), compiled once at load, the call
 * itself with its timeout on the engine clock, and the IResponse a send-request stores in `context.Variables`.
 */
import { HeaderBag, MessageBody, TYPE_NAME } from '../../expressions/index.js';
import { PolicyError, apimErrorBody } from '../../pipeline/last-error.js';
import type { GatewayResponse, OutboundRequest, RequestContext, ResponseBody } from '../../pipeline/types.js';
import type { PolicyElement } from '../../xml/model.js';
import type { CompileEnv, ValueSource } from '../define.js';
import { managedIdentityToken } from './managed-identity-token.js';

/** Thrown by an OutboundHttp for a host it may not contact (no socket was opened). */
export class OutboundHostNotAllowedError extends Error {
  override name = 'OutboundHostNotAllowedError';
}
/** Thrown by an OutboundHttp when the connection failed. */
export class OutboundConnectionError extends Error {
  override name = 'OutboundConnectionError';
}

const NOT_EMULATED_CHILDREN: Readonly<Record<string, string>> = {
  'authentication-certificate': 'client certificates are not presented (no TLS client authentication in the emulator)',
  proxy: 'HTTP proxies are not emulated (the request goes straight to a configured backend or loopback address)',
};

const ENCODER = new TextEncoder();
const HEADER_ACTIONS = ['override', 'skip', 'append', 'delete'] as const;

/** The request a send-request builds, as compiled closures. */
export interface CompiledOutboundRequest {
  build(ctx: RequestContext): OutboundRequest;
}

type Step = (ctx: RequestContext, request: OutboundRequest) => void;

/**
 * Compiles the children of `<send-request>` / `<send-one-way-request>`. `mode="copy"` starts from the current
 * request's method, URL, headers and body (no body in outbound, as documented); `new` starts empty and needs
 * set-url. Children apply in document order. Unknown children are reported by the loader (POL3010);
 * authentication-certificate and proxy are refused (POL3060) naming the child and why, or skipped with a warning
 * when strict mode is off.
 */
export function compileOutboundRequest(node: PolicyElement, env: CompileEnv, mode: ValueSource<string>): CompiledOutboundRequest | undefined {
  const steps: Step[] = [];
  let hasUrl = false;
  let hasMethod = false;
  let ok = true;
  for (const child of node.children) {
    const why = NOT_EMULATED_CHILDREN[child.name];
    if (why) {
      env.report(env.options.strict ? 'PolChildNotEmulated' : 'PolChildNotEmulatedLoose', child.nameSpan, [node.name, child.name, why]);
      if (env.options.strict) ok = false;
      continue;
    }
    switch (child.name) {
      case 'set-url': {
        if (!onlyAttributes(child, [], env)) ok = false;
        if (!child.text || child.text.value.trim() === '') {
          env.report('PolInvalidAttributeValue', child.nameSpan, [node.name, 'set-url', '', 'a URL (or an expression returning one) is required']);
          ok = false;
          break;
        }
        const url = env.text(child);
        if (!url) {
          ok = false; // the expression's own diagnostics are reported
          break;
        }
        hasUrl = true;
        steps.push((ctx, request) => {
          request.url = parseUrl(node.name, url.get(ctx));
        });
        break;
      }
      case 'set-method': {
        if (!onlyAttributes(child, [], env)) ok = false;
        if (child.text?.expression) {
          env.report('PolExpressionNotAllowed', child.text.span, [node.name, 'set-method']);
          ok = false;
          break;
        }
        const method = child.text?.value.trim() ?? '';
        if (!/^[A-Za-z]+$/.test(method)) {
          env.report('PolInvalidAttributeValue', child.nameSpan, [node.name, 'set-method', method, 'expected an HTTP method such as GET or POST']);
          ok = false;
          break;
        }
        hasMethod = true;
        steps.push((_ctx, request) => {
          request.method = method.toUpperCase();
        });
        break;
      }
      case 'set-header': {
        const step = compileHeader(child, env);
        if (step) steps.push(step);
        else ok = false;
        break;
      }
      case 'set-body': {
        if (!onlyAttributes(child, [], env)) ok = false;
        const text = env.text(child, { trim: false });
        const markup = child.children.length > 0 && !child.text?.expression ? env.innerMarkup(child) : undefined;
        steps.push((ctx, request) => {
          request.body = ENCODER.encode(markup ?? text?.get(ctx) ?? '');
        });
        break;
      }
      case 'authentication-managed-identity': {
        const step = compileManagedIdentity(node.name, child, env);
        if (step) steps.push(step);
        else ok = false;
        break;
      }
      default:
        // Reported by the loader (children list of the definition).
        break;
    }
  }
  if (!ok) return undefined;
  const copyOnly = mode.constant?.toLowerCase() === 'copy';
  if (!mode.isExpression && !copyOnly && (!hasUrl || !hasMethod)) {
    // Docs: set-url and set-method are required unless mode="copy". APIM's default method is GET [INF].
    if (!hasUrl) {
      env.report('PolMissingChild', node.nameSpan, [node.name, 'set-url']);
      return undefined;
    }
  }
  const outbound = env.section === 'outbound';
  return {
    build(ctx) {
      const copy = mode.get(ctx).toLowerCase() === 'copy';
      const request: OutboundRequest = copy
        ? {
            url: new URL(ctx.request.url.href),
            method: ctx.request.method.toUpperCase(),
            headers: ctx.request.headers.clone(),
            body: outbound || ctx.request.bodyConsumed ? null : ctx.request.body,
          }
        : { url: new URL('about:blank'), method: 'GET', headers: new HeaderBag(), body: null };
      if (copy) request.headers.delete('content-length');
      for (const step of steps) step(ctx, request);
      if (request.url.protocol === 'about:') {
        throw new PolicyError({ source: node.name, reason: 'ExpressionValueEvaluationFailure', message: `${node.name}: no URL (set-url is required unless mode="copy").` });
      }
      return request;
    },
  };
}

function onlyAttributes(node: PolicyElement, allowed: readonly string[], env: CompileEnv): boolean {
  let ok = true;
  for (const a of node.attributes) {
    if (!allowed.includes(a.name)) {
      env.report('PolUnknownAttribute', a.nameSpan, [node.name, a.name]);
      ok = false;
    }
  }
  return ok;
}

function parseUrl(policy: string, text: string): URL {
  try {
    const url = new URL(text.trim());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    return url;
  } catch {
    throw new PolicyError({
      source: policy,
      reason: 'ExpressionValueEvaluationFailure',
      message: `${policy}: '${text}' is not an absolute http or https URL.`,
    });
  }
}

function compileHeader(child: PolicyElement, env: CompileEnv): Step | undefined {
  if (!onlyAttributes(child, ['name', 'exists-action'], env)) return undefined;
  const name = env.attr(child, 'name', { kind: 'string', required: true });
  const action = env.attr(child, 'exists-action', { kind: 'enum', values: HEADER_ACTIONS, default: 'override' });
  if (!name || !action) return undefined;
  const values: ValueSource<string>[] = [];
  for (const v of child.children) {
    if (v.name !== 'value') {
      env.report('PolInvalidChild', v.nameSpan, ['set-header', v.name]);
      return undefined;
    }
    values.push(env.text(v, { trim: false }) ?? { isExpression: false, constant: '', get: () => '' });
  }
  return (ctx, request) => {
    const headerName = name.get(ctx);
    const mode = action.get(ctx).toLowerCase();
    const headers = request.headers;
    if (mode === 'delete') return void headers.delete(headerName);
    if (mode === 'skip' && headers.has(headerName)) return;
    const next = values.map((v) => v.get(ctx));
    if (mode === 'append' && headers.has(headerName)) headers.set(headerName, [...(headers.get(headerName) ?? []), ...next]);
    else headers.set(headerName, next);
  };
}

/** `<authentication-managed-identity resource client-id? output-token-variable-name? ignore-error?/>` inside the request. */
function compileManagedIdentity(policy: string, child: PolicyElement, env: CompileEnv): Step | undefined {
  if (!onlyAttributes(child, ['resource', 'client-id', 'output-token-variable-name', 'ignore-error'], env)) return undefined;
  const resource = env.attr(child, 'resource', { kind: 'string', required: true });
  const clientId = env.attr(child, 'client-id', { kind: 'string' });
  const variable = env.attr(child, 'output-token-variable-name', { kind: 'string', expressions: false });
  const ignoreError = env.attr(child, 'ignore-error', { kind: 'bool', default: false });
  if (!resource || !ignoreError) return undefined;
  return (ctx, request) => {
    const target = resource.get(ctx).trim();
    if (target === '') {
      if (ignoreError.get(ctx)) return;
      throw new PolicyError({ source: policy, reason: 'TokenAcquisitionFailure', message: `Unable to acquire a managed identity access token: the resource is empty.` });
    }
    const token = managedIdentityToken(ctx.services, target, clientId?.get(ctx).trim() || undefined);
    if (variable?.constant) ctx.variables.set(variable.constant, token);
    request.headers.set('Authorization', [`Bearer ${token}`]);
  };
}

/** Reason used to stop the timeout timer once the call settled. */
const TIMER_DONE = Symbol('send-request timer done');

export class OutboundTimeoutError extends Error {
  override name = 'OutboundTimeoutError';
}

/**
 * Sends the request through `ctx.services.outbound`, waiting at most `timeoutMs` on the engine clock for the
 * response (headers and body: the response is buffered, as an IResponse body is). Failures become PolicyErrors
 * (Source = the policy, Reason `Timeout` or `BackendConnectionFailure`; the client then gets APIM's 500).
 */
export async function sendOutbound(ctx: RequestContext, policy: string, request: OutboundRequest, timeoutMs: number): Promise<GatewayResponse> {
  const outbound = ctx.services.outbound;
  if (!outbound) {
    throw connectionFailure(ctx, policy, `${policy} is not wired in this engine (no outbound HTTP service).`);
  }
  const abort = new AbortController();
  const timer = new AbortController();
  const timeout = ctx.services.clock.sleep(timeoutMs, timer.signal).then(
    () => {
      throw new OutboundTimeoutError(`No response from ${request.url.origin} within ${timeoutMs} ms.`);
    },
    () => undefined as never,
  );
  try {
    const call = outbound.send(request, { signal: abort.signal }).then(bufferBody);
    return await Promise.race([call, timeout]);
  } catch (error) {
    if (error instanceof PolicyError) throw error;
    if (error instanceof OutboundTimeoutError) {
      abort.abort(error);
      throw new PolicyError({
        source: policy,
        reason: 'Timeout',
        message: `Request to '${request.url.origin}${request.url.pathname}' timed out after ${timeoutMs / 1000} seconds.`,
        response: internal500(ctx),
        cause: error,
      });
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw connectionFailure(ctx, policy, detail, error);
  } finally {
    timer.abort(TIMER_DONE);
  }
}

function connectionFailure(ctx: RequestContext, policy: string, detail: string, cause?: unknown): PolicyError {
  return new PolicyError({
    source: policy,
    reason: 'BackendConnectionFailure',
    message: `Error occured while calling the URL of ${policy}. ${detail}`.trim(),
    response: internal500(ctx),
    ...(cause === undefined ? {} : { cause }),
  });
}

function internal500(ctx: RequestContext) {
  return { statusCode: 500, body: apimErrorBody(500, 'Internal server error', { activityId: ctx.requestId }) };
}

async function bufferBody(response: GatewayResponse): Promise<GatewayResponse> {
  if (response.body.kind !== 'stream') return response;
  const bytes = new Uint8Array(await new Response(response.body.stream).arrayBuffer());
  return { ...response, body: { kind: 'bytes', bytes } };
}

/**
 * The IResponse a send-request stores: a GatewayResponse (so `<return-response response-variable-name>` can return
 * it) with the C# view policy expressions read — StatusCode, StatusReason, Headers, Body (`As<string>()`,
 * `As<JObject>()`…; reading without preserveContent consumes it, as in APIM).
 */
export class SentResponse implements GatewayResponse {
  readonly [TYPE_NAME] = 'IResponse';
  statusCode: number;
  statusReason: string;
  headers: HeaderBag;
  body: ResponseBody;
  #body: MessageBody | undefined;

  constructor(response: GatewayResponse) {
    this.statusCode = response.statusCode;
    this.statusReason = response.statusReason;
    this.headers = response.headers;
    this.body = response.body;
  }

  get StatusCode(): number {
    return this.statusCode;
  }
  get StatusReason(): string {
    return this.statusReason;
  }
  get Headers(): HeaderBag {
    return this.headers;
  }
  get Body(): MessageBody {
    this.#body ??= new MessageBody(this.body.kind === 'bytes' ? this.body.bytes : null, this.headers.get('content-type')?.[0]);
    return this.#body;
  }
}
