import { HeaderBag, toCSharpString } from '../../expressions/index.js';
import { PolicyError } from '../../pipeline/last-error.js';
import type { GatewayResponse, RequestContext, ServiceMessage } from '../../pipeline/types.js';
import type { PolicyElement } from '../../xml/model.js';
import type { CompileEnv, ValueSource } from '../define.js';
import { compileLiquid, liquidBody, liquidContext, renderLiquid } from './liquid.js';
import { readBodyText } from './message-body.js';
import { SentResponse } from './outbound-request.js';

/** How a message's content is produced per request. */
export type MessageContent = (ctx: RequestContext) => Promise<string>;

/**
 * The content of `<payload>`, `<data>` or publish-to-dapr's own text: an expression, literal text, or (with
 * `template="Liquid"`) a Liquid template over the request body and `context`, as set-body renders one.
 */
export function compileMessageContent(node: PolicyElement | undefined, env: CompileEnv, liquid: boolean): MessageContent | undefined {
  if (!node) return async () => '';
  if (liquid) {
    const parsed = compileLiquid(node, env);
    if (!parsed) return undefined;
    return async (ctx) => {
      const text = await readBodyText(ctx, false);
      const body = liquidBody(text, ctx.request.headers.get('content-type')?.join(', '), { parseDate: true, xsiNil: 'blank' });
      return renderLiquid(parsed, { body, context: liquidContext(ctx) }, ctx.services.clock.now());
    };
  }
  const markup = node.children.length > 0 && !node.text?.expression ? env.innerMarkup(node).trim() : undefined;
  const text = env.text(node, { trim: true });
  return async (ctx) => markup ?? (text ? toCSharpString(text.get(ctx)) : '');
}

/** `<parent><{item} {keyAttribute}="k">value</{item}>…</parent>` → name/value sources, with load diagnostics. */
export function compileNamedValues(
  policy: string,
  parent: PolicyElement | undefined,
  item: string,
  keyAttribute: string,
  env: CompileEnv,
): Array<{ name: string; value: ValueSource<string> }> {
  const out: Array<{ name: string; value: ValueSource<string> }> = [];
  for (const child of parent?.children ?? []) {
    if (child.name !== item) {
      env.report('PolInvalidChild', child.nameSpan, [policy, child.name]);
      continue;
    }
    for (const a of child.attributes) if (a.name !== keyAttribute) env.report('PolUnknownAttribute', a.nameSpan, [item, a.name]);
    const key = child.attributes.find((a) => a.name === keyAttribute);
    if (!key) {
      env.report('PolMissingAttribute', child.nameSpan, [item, keyAttribute]);
      continue;
    }
    out.push({ name: key.value, value: env.text(child, { trim: true }) ?? { isExpression: false, constant: '', get: () => '' } });
  }
  return out;
}

/** The children a message policy allows, each at most once; anything else is reported. */
export function childElements(node: PolicyElement, allowed: readonly string[], env: CompileEnv): Map<string, PolicyElement> {
  const found = new Map<string, PolicyElement>();
  for (const child of node.children) {
    if (!allowed.includes(child.name)) env.report('PolInvalidChild', child.nameSpan, [node.name, child.name]);
    else if (found.has(child.name)) env.report('PolAttributeConflict', child.nameSpan, [node.name, `<${child.name}> may appear only once.`]);
    else found.set(child.name, child);
  }
  return found;
}

/** Hands a message to the emulator's message store (GET /_emulator/messages/{kind}). */
export function publishMessage(ctx: RequestContext, message: Omit<ServiceMessage, 'timestamp' | 'requestId'>): void {
  ctx.services.messages?.append({ ...message, timestamp: ctx.services.clock.now(), requestId: ctx.requestId });
}

/**
 * The emulated Dapr sidecar's answer (`http://localhost:3500/v1.0/...`): Dapr answers a publish or a binding
 * invocation without output data with 204 No Content.
 */
export function daprNoContent(): GatewayResponse {
  return new SentResponse({ statusCode: 204, statusReason: 'No Content', headers: new HeaderBag(), body: { kind: 'empty' } });
}


/** A Dapr target the sidecar cannot reach: the policy's error (on-error unless ignore-error). */
export function daprError(source: string, message: string): PolicyError {
  return new PolicyError({ source, reason: 'DaprRuntimeError', message });
}
