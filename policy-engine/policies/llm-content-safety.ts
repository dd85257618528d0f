import { PolicyError, apimErrorBody } from '../pipeline/last-error.js';
import { isEventStream } from '../pipeline/usage.js';
import type { GatewayResponse, RequestContext } from '../pipeline/types.js';
import type { PolicyElement } from '../xml/model.js';
import { definePolicy, type CompileEnv, type ValueSource } from './define.js';
import { isEmbeddingsCall, promptMessages } from './shared/semantic-cache.js';

/**
 * `<llm-content-safety backend-id shield-prompt enforce-on-completions window-size window-overlap-size>
 *   <categories output-type><category name threshold/>…</categories><blocklists><id>…</id>…</blocklists>`:
 * sends the text of an LLM request (inbound) or response (outbound, or inbound with enforce-on-completions) to
 * the Azure AI Content Safety backend (`text:analyze`, and `text:shieldPrompt` when shield-prompt is true) and
 * blocks it with 403 `{ "statusCode": 403, "message": "Request failed content safety check." }` when a listed
 * category's severity reaches its threshold, a listed blocklist matches, or a prompt attack is detected.
 *
 * As observed on APIM, a failing Content Safety call (unknown blocklist, missing credentials, text over its
 * limit, unreachable backend) gives the same 403. The text is every message's text concatenated (requests) or
 * every choice's content (responses); window-size splits a response's text into windows of that many characters
 * overlapping by window-overlap-size, each analysed on its own (the reference makes windows configurable only
 * for responses, so a request is analysed whole). A streamed response is analysed window by window as it
 * arrives and cut off, without a 403, at the first window that fails, as the reference says. A request with
 * no text, and an embeddings call (the reference addresses completions and chat completions), is passed through. The 403's message and LastError.Reason are configurable (policyEngine
 * contentSafetyBlockedMessage / contentSafetyBlockedReason) because APIM documents neither exactly.
 */

export const CONTENT_SAFETY_BLOCKED_MESSAGE = 'Request failed content safety check.';
export const CONTENT_SAFETY_BLOCKED_REASON = 'ContentSafetyCheckFailed';
const CONTENT_SAFETY_API_VERSION = '2024-09-01';
const CONTENT_SAFETY_TIMEOUT_MS = 30_000;
/** Characters per window of a streamed response when window-size is not set [INF]. */
const DEFAULT_STREAM_WINDOW = 1000;

const CATEGORY_NAMES = ['Hate', 'SelfHarm', 'Sexual', 'Violence'] as const;
const OUTPUT_TYPES = ['FourSeverityLevels', 'EightSeverityLevels'] as const;

interface CompiledCategory {
  name: ValueSource<string>;
  threshold: ValueSource<number>;
}

interface Settings {
  backendId: ValueSource<string>;
  shieldPrompt: ValueSource<boolean>;
  outputType: ValueSource<string> | undefined;
  categories: CompiledCategory[];
  blocklists: ValueSource<string>[];
}

interface Verdict {
  blocked: boolean;
  /** Why (for the LastError message): the category, blocklist or attack, or the failed call. */
  detail: string;
}

function compileCategories(node: PolicyElement | undefined, env: CompileEnv): { outputType: ValueSource<string> | undefined; categories: CompiledCategory[] } | undefined {
  if (!node) return { outputType: undefined, categories: [] };
  let ok = true;
  for (const a of node.attributes) if (a.name !== 'output-type') (env.report('PolUnknownAttribute', a.nameSpan, ['categories', a.name]), (ok = false));
  const outputType = env.attr(node, 'output-type', { kind: 'enum', values: OUTPUT_TYPES, default: 'FourSeverityLevels' });
  const categories: CompiledCategory[] = [];
  for (const child of node.children) {
    if (child.name !== 'category') {
      env.report('PolInvalidChild', child.nameSpan, ['categories', child.name]);
      ok = false;
      continue;
    }
    for (const a of child.attributes) if (a.name !== 'name' && a.name !== 'threshold') (env.report('PolUnknownAttribute', a.nameSpan, ['category', a.name]), (ok = false));
    const name = env.attr(child, 'name', { kind: 'enum', values: CATEGORY_NAMES, required: true });
    const threshold = env.attr(child, 'threshold', { kind: 'int', required: true, min: 0, max: 7 });
    if (!name || !threshold) ok = false;
    else categories.push({ name, threshold });
  }
  return ok ? { outputType, categories } : undefined;
}

function compileBlocklists(node: PolicyElement | undefined, env: CompileEnv): ValueSource<string>[] | undefined {
  if (!node) return [];
  let ok = true;
  for (const a of node.attributes) (env.report('PolUnknownAttribute', a.nameSpan, ['blocklists', a.name]), (ok = false));
  const ids: ValueSource<string>[] = [];
  for (const child of node.children) {
    if (child.name !== 'id') {
      env.report('PolInvalidChild', child.nameSpan, ['blocklists', child.name]);
      ok = false;
      continue;
    }
    const id = env.text(child, { trim: true });
    if (id) ids.push(id);
  }
  return ok ? ids : undefined;
}

async function callService(ctx: RequestContext, backendId: string, operation: 'text:analyze' | 'text:shieldPrompt', body: unknown): Promise<Record<string, unknown> | string> {
  const caller = ctx.services.backendCaller;
  if (!caller) return 'no backend caller is wired into this engine';
  let response: Response;
  try {
    response = await caller.call({
      backendId,
      method: 'POST',
      path: `/contentsafety/${operation}`,
      query: { 'api-version': CONTENT_SAFETY_API_VERSION },
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      timeoutMs: CONTENT_SAFETY_TIMEOUT_MS,
    });
  } catch (error) {
    return `Content Safety call failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  const raw = await response.text();
  if (response.status !== 200) return `Content Safety ${operation} answered ${response.status}: ${raw.slice(0, 300)}`;
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return `Content Safety ${operation} answered with a body that is not JSON`;
  }
}

async function judge(ctx: RequestContext, s: Settings, text: string, shield: boolean): Promise<Verdict> {
  const backendId = s.backendId.get(ctx);
  const thresholds = s.categories.map((c) => ({ name: c.name.get(ctx), threshold: c.threshold.get(ctx) }));
  const blocklistNames = s.blocklists.map((b) => b.get(ctx)).filter(Boolean);
  if (thresholds.length > 0 || blocklistNames.length > 0) {
    const analysis = await callService(ctx, backendId, 'text:analyze', {
      text,
      categories: thresholds.length > 0 ? thresholds.map((t) => t.name) : [...CATEGORY_NAMES],
      ...(blocklistNames.length > 0 ? { blocklistNames, haltOnBlocklistHit: false } : {}),
      outputType: s.outputType?.get(ctx) ?? 'FourSeverityLevels',
    });
    if (typeof analysis === 'string') return { blocked: true, detail: analysis };
    const matches = Array.isArray(analysis.blocklistsMatch) ? (analysis.blocklistsMatch as Array<{ blocklistName?: string }>) : [];
    if (matches.length > 0) return { blocked: true, detail: `blocklist '${matches[0]!.blocklistName ?? ''}' matched` };
    const severities = Array.isArray(analysis.categoriesAnalysis) ? (analysis.categoriesAnalysis as Array<{ category?: string; severity?: number }>) : [];
    for (const t of thresholds) {
      const severity = severities.find((c) => c.category === t.name)?.severity ?? 0;
      if (severity >= t.threshold) return { blocked: true, detail: `category ${t.name} has severity ${severity} (threshold ${t.threshold})` };
    }
  }
  if (shield) {
    const result = await callService(ctx, backendId, 'text:shieldPrompt', { userPrompt: text, documents: [] });
    if (typeof result === 'string') return { blocked: true, detail: result };
    if ((result.userPromptAnalysis as { attackDetected?: boolean } | undefined)?.attackDetected === true) return { blocked: true, detail: 'a user prompt attack was detected' };
  }
  return { blocked: false, detail: '' };
}

function blockedError(ctx: RequestContext, verdict: Verdict): PolicyError {
  const message = ctx.services.options.contentSafetyBlockedMessage ?? CONTENT_SAFETY_BLOCKED_MESSAGE;
  return new PolicyError({
    source: 'llm-content-safety',
    reason: ctx.services.options.contentSafetyBlockedReason ?? CONTENT_SAFETY_BLOCKED_REASON,
    message: `${message} ${verdict.detail}`.trim(),
    response: { statusCode: 403, body: apimErrorBody(403, message) },
  });
}

/** Every text of a request, concatenated (undefined when the body has none). */
function requestText(ctx: RequestContext): string | undefined {
  if (isEmbeddingsCall(ctx)) return undefined;
  const messages = promptMessages(ctx.requestJson());
  const text = messages?.map((m) => m.text).filter(Boolean).join('\n');
  return text ? text : undefined;
}

/** The completion text of a buffered chat/completions/responses body. */
export function completionText(json: unknown): string {
  if (json === null || typeof json !== 'object') return '';
  const j = json as { choices?: unknown; output?: unknown; output_text?: unknown };
  const parts: string[] = [];
  if (Array.isArray(j.choices)) {
    for (const c of j.choices as Array<{ message?: { content?: unknown }; text?: unknown }>) {
      if (typeof c?.message?.content === 'string') parts.push(c.message.content);
      else if (typeof c?.text === 'string') parts.push(c.text);
    }
  } else if (Array.isArray(j.output)) {
    for (const item of j.output as Array<{ content?: Array<{ text?: unknown }> }>) {
      for (const part of item?.content ?? []) if (typeof part?.text === 'string') parts.push(part.text);
    }
  } else if (typeof j.output_text === 'string') parts.push(j.output_text);
  return parts.join('\n');
}

export function windows(text: string, size: number | undefined, overlap: number): string[] {
  if (!size || text.length <= size) return [text];
  const step = Math.max(1, size - overlap);
  const out: string[] = [];
  for (let start = 0; start < text.length; start += step) {
    out.push(text.slice(start, start + size));
    if (start + size >= text.length) break;
  }
  return out;
}

/** The delta texts in one SSE event (`data: {…chat.completion.chunk…}` or a Responses `response.output_text.delta`). */
function deltaTexts(event: string): string {
  let out = '';
  for (const line of event.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (!data || data === '[DONE]') continue;
    try {
      const json = JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown }; text?: unknown }>; type?: string; delta?: unknown };
      for (const c of json.choices ?? []) {
        if (typeof c?.delta?.content === 'string') out += c.delta.content;
        else if (typeof c?.text === 'string') out += c.text;
      }
      if (json.type === 'response.output_text.delta' && typeof json.delta === 'string') out += json.delta;
    } catch {
      // not JSON: nothing to analyse
    }
  }
  return out;
}

/** Holds events back until their window passed; stops the stream (no 403: headers are sent) at a failing one. */
function guardStream(ctx: RequestContext, s: Settings, response: GatewayResponse, size: number, overlap: number): void {
  if (response.body.kind !== 'stream') return;
  const source = response.body.stream;
  const decoder = new TextDecoder();
  let pendingText = '';
  let carry = '';
  let held: Uint8Array[] = [];
  let heldText = '';
  let stopped = false;
  const encoder = new TextEncoder();
  const check = async (text: string) => (await judge(ctx, s, text, false)).blocked;
  response.body = {
    kind: 'stream',
    stream: source.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        async transform(chunk, controller) {
          if (stopped) return;
          pendingText += decoder.decode(chunk, { stream: true });
          let boundary: number;
          while ((boundary = pendingText.indexOf('\n\n')) >= 0) {
            const event = pendingText.slice(0, boundary + 2);
            pendingText = pendingText.slice(boundary + 2);
            held.push(encoder.encode(event));
            heldText += deltaTexts(event);
            if ((carry + heldText).length >= size) {
              const text = carry + heldText;
              if (await check(text)) {
                stopped = true;
                ctx.warnings.push('llm-content-safety: the streamed response failed the content safety check; the stream was cut off');
                controller.terminate();
                return;
              }
              for (const e of held) controller.enqueue(e);
              held = [];
              carry = text.slice(Math.max(0, text.length - overlap));
              heldText = '';
            }
          }
        },
        async flush(controller) {
          if (stopped) return;
          if (pendingText) held.push(encoder.encode(pendingText));
          if (heldText && (await check(carry + heldText))) {
            ctx.warnings.push('llm-content-safety: the streamed response failed the content safety check; the stream was cut off');
            return;
          }
          for (const e of held) controller.enqueue(e);
        },
      }),
    ),
  };
}

async function checkResponse(ctx: RequestContext, s: Settings, size: number | undefined, overlap: number): Promise<void> {
  const response = ctx.response;
  if (!response || response.statusCode < 200 || response.statusCode >= 300) return;
  if (isEventStream(response) && response.body.kind === 'stream') {
    guardStream(ctx, s, response, size ?? DEFAULT_STREAM_WINDOW, overlap);
    return;
  }
  if (response.body.kind === 'stream') response.body = { kind: 'bytes', bytes: new Uint8Array(await new Response(response.body.stream).arrayBuffer()) };
  if (response.body.kind !== 'bytes') return;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(response.body.bytes));
  } catch {
    return;
  }
  const text = completionText(json);
  if (!text) return;
  for (const window of windows(text, size, overlap)) {
    const verdict = await judge(ctx, s, window, false);
    if (verdict.blocked) throw blockedError(ctx, verdict);
  }
}

export const llmContentSafety = definePolicy({
  name: 'llm-content-safety',
  sections: ['inbound', 'outbound'],
  partial: "severities come from configured terms (a backend of type content-safety), not a model; a request is judged whole (window-size applies to responses)",
  children: ['categories', 'blocklists'],
  attributes: {
    'backend-id': { kind: 'string', required: true },
    'shield-prompt': { kind: 'bool', default: false },
    'enforce-on-completions': { kind: 'bool', default: false },
    'window-size': { kind: 'int', min: 1 },
    'window-overlap-size': { kind: 'int', min: 0 },
  },
  compile(node, env) {
    const backendId = env.attr(node, 'backend-id', { kind: 'string', required: true });
    const shieldPrompt = env.attr(node, 'shield-prompt', { kind: 'bool', default: false });
    const onCompletions = env.attr(node, 'enforce-on-completions', { kind: 'bool', default: false });
    const windowSize = env.attr(node, 'window-size', { kind: 'int', min: 1 });
    const windowOverlap = env.attr(node, 'window-overlap-size', { kind: 'int', min: 0 });
    const categoriesNodes = node.children.filter((c) => c.name === 'categories');
    const blocklistsNodes = node.children.filter((c) => c.name === 'blocklists');
    for (const extra of [...categoriesNodes.slice(1), ...blocklistsNodes.slice(1)]) env.report('PolAttributeConflict', extra.nameSpan, [node.name, `<${extra.name}> may appear only once`]);
    const categories = compileCategories(categoriesNodes[0], env);
    const blocklists = compileBlocklists(blocklistsNodes[0], env);
    if (!backendId || !shieldPrompt || !onCompletions || !categories || !blocklists || categoriesNodes.length > 1 || blocklistsNodes.length > 1) return undefined;
    if (!backendId.isExpression && !env.backendIds.has(backendId.constant!)) {
      const attr = node.attributes.find((a) => a.name === 'backend-id')!;
      env.report(env.options.strict ? 'PolUnknownBackend' : 'PolUnknownBackendLoose', attr.valueSpan, [backendId.constant!]);
      if (env.options.strict) return undefined;
    }
    const settings: Settings = { backendId, shieldPrompt, outputType: categories.outputType, categories: categories.categories, blocklists };
    const outbound = env.section === 'outbound';
    const sizeOf = (ctx: RequestContext) => windowSize?.get(ctx);
    const overlapOf = (ctx: RequestContext) => windowOverlap?.get(ctx) ?? 0;
    return {
      async run(ctx) {
        if (outbound) {
          await checkResponse(ctx, settings, sizeOf(ctx), overlapOf(ctx));
          return;
        }
        const text = requestText(ctx);
        if (text !== undefined) {
          const verdict = await judge(ctx, settings, text, shieldPrompt.get(ctx));
          if (verdict.blocked) throw blockedError(ctx, verdict);
        }
        if (onCompletions.get(ctx)) {
          const size = sizeOf(ctx);
          const overlap = overlapOf(ctx);
          ctx.afterBackend.push((c) => checkResponse(c, settings, size, overlap));
        }
      },
    };
  },
});
