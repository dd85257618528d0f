import { HeaderBag } from '../expressions/index.js';
import { apimErrorBody, PolicyError, ReturnResponseSignal, type GatewayErrorResponse, type LastError } from './last-error.js';
import type { ComposedPipeline } from './scopes.js';
import { reasonPhrase } from './http-status.js';
import type { GatewayResponse, PolicyStep, RequestContext, SectionName, StepTraceEntry } from './types.js';

export const INTERNAL_SERVER_ERROR_MESSAGE = 'Internal server error';
const ENCODER = new TextEncoder();

/**
 * Runs inbound → backend → outbound; on an error, fills `context.LastError`, sets the error's response
 * and runs on-error. return-response ends the pipeline at once (outbound is skipped).
 * Resolves with the response to send.
 */
export async function executePipeline(pipeline: ComposedPipeline, ctx: RequestContext): Promise<GatewayResponse> {
  const response = await runPipeline(pipeline, ctx);
  ctx.response = response;
  for (const hook of ctx.atEnd) {
    await Promise.resolve()
      .then(hook)
      .catch((error: unknown) => ctx.warnings.push(`end-of-pipeline hook failed: ${String(error)}`));
  }
  if (!ctx.forwarded) {
    for (const release of ctx.releaseIfNotForwarded) {
      await release().catch((error: unknown) => ctx.warnings.push(`release of a reservation failed: ${String(error)}`));
    }
  }
  // A streamed backend body that is not what the client gets (on-error, return-response, set-body) is cancelled,
  // so the backend connection closes and its usage settles.
  const backendBody = ctx.backendBody;
  if (backendBody?.kind === 'stream' && response.body !== backendBody) void backendBody.stream.cancel().catch(() => {});
  return response;
}

async function runPipeline(pipeline: ComposedPipeline, ctx: RequestContext): Promise<GatewayResponse> {
  let section: SectionName = 'inbound';
  try {
    await runSteps(pipeline.inbound, ctx);
    section = 'backend';
    await runSteps(pipeline.backend, ctx);
    if (ctx.forwarded) await runAfterBackend(ctx);
    section = 'outbound';
    await runSteps(pipeline.outbound, ctx);
    return ctx.response ?? emptyResponse();
  } catch (error) {
    if (error instanceof ReturnResponseSignal) return ctx.response ?? emptyResponse();
    enterOnError(ctx, error, section);
  }
  ctx.budget.restart();
  try {
    await runSteps(pipeline['on-error'], ctx);
  } catch (error) {
    if (error instanceof ReturnResponseSignal) return ctx.response ?? emptyResponse();
    // A failure inside on-error: APIM answers with a generic 500.
    ctx.lastError = toLastError(ctx, error, 'on-error');
    ctx.response = errorResponse(internalError(ctx));
  }
  return ctx.response ?? emptyResponse();
}

/** Nesting depth of the steps running now, per request (for the step trace). */
const depths = new WeakMap<RequestContext, number>();

export async function runSteps(steps: readonly PolicyStep[], ctx: RequestContext): Promise<void> {
  const depth = depths.get(ctx) ?? 0;
  const budget = ctx.budget;
  // A retry without children still passes here once per attempt (its condition is charged, and it yields).
  if (steps.length === 0) {
    const due = budget.checkpoint();
    if (due !== 'go') await afterCheckpoint(ctx, undefined, due);
  }
  for (const step of steps) {
    // Spent budget ends the request before the step; past a slice of synchronous work, others are served first.
    const due = budget.checkpoint();
    if (due !== 'go') await afterCheckpoint(ctx, step, due);
    const previous = ctx.currentStep;
    ctx.currentStep = step;
    const clock = ctx.services.clock;
    const entry: StepTraceEntry | undefined = ctx.stepTrace
      ? { policy: step.policy, id: step.id, path: step.path, scope: step.scope, section: step.section, depth, startedAt: clock.now(), durationMs: 0, outcome: 'ok' }
      : undefined;
    if (entry) ctx.stepTrace!.push(entry);
    depths.set(ctx, depth + 1);
    try {
      // The step's synchronous run counts towards the yield slice (the outermost run counts nested children).
      const opened = budget.beginStep();
      let pending: void | Promise<void>;
      try {
        pending = step.run(ctx);
      } finally {
        if (opened) budget.endStep();
      }
      await pending;
    } catch (error) {
      if (entry) entry.outcome = error instanceof ReturnResponseSignal ? 'return-response' : 'error';
      if (error !== null && typeof error === 'object' && !(error instanceof ReturnResponseSignal) && !(error as { step?: PolicyStep }).step) {
        (error as { step?: PolicyStep }).step = step;
      }
      throw error;
    } finally {
      ctx.currentStep = previous;
      depths.set(ctx, depth);
      if (entry) entry.durationMs = clock.now() - entry.startedAt;
    }
  }
}

/** Yields, or throws the budget error (attributed to the step about to run, else to the running one). */
async function afterCheckpoint(ctx: RequestContext, step: PolicyStep | undefined, due: 'yield' | 'spent'): Promise<void> {
  if (due === 'yield') return ctx.budget.yieldNow();
  const error = ctx.budget.exceeded(step?.policy ?? ctx.currentStep?.policy ?? 'pipeline');
  if (step) (error as { step?: PolicyStep }).step = step;
  throw error;
}

async function runAfterBackend(ctx: RequestContext): Promise<void> {
  for (const hook of ctx.afterBackend) await hook(ctx);
}

function enterOnError(ctx: RequestContext, error: unknown, section: SectionName): void {
  ctx.lastError = toLastError(ctx, error, section);
  const response = error instanceof PolicyError && error.response ? error.response : internalError(ctx);
  ctx.response = errorResponse(response);
  if (!(error instanceof PolicyError)) ctx.warnings.push(`Unexpected error in ${section}: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
}

function toLastError(_ctx: RequestContext, error: unknown, section: SectionName): LastError {
  const step = error !== null && typeof error === 'object' ? (error as { step?: PolicyStep }).step : undefined;
  if (error instanceof PolicyError) {
    return {
      Source: error.source,
      Reason: error.reason,
      Message: error.message,
      Scope: step?.scope ?? '',
      Section: step?.section ?? section,
      Path: step?.path ?? '',
      PolicyId: step?.id ?? '',
    };
  }
  return {
    Source: step?.policy ?? 'gateway',
    Reason: 'InternalError',
    Message: error instanceof Error ? error.message : String(error),
    Scope: step?.scope ?? '',
    Section: section,
    Path: step?.path ?? '',
    PolicyId: step?.id ?? '',
  };
}

export function internalError(ctx: RequestContext): GatewayErrorResponse {
  return { statusCode: 500, body: apimErrorBody(500, INTERNAL_SERVER_ERROR_MESSAGE, { activityId: ctx.requestId }) };
}

/** A gateway-generated error as a response: JSON body, APIM reason phrase. */
export function errorResponse(error: GatewayErrorResponse): GatewayResponse {
  const headers = new HeaderBag();
  headers.set('Content-Type', ['application/json']);
  for (const [name, value] of Object.entries(error.headers ?? {})) headers.set(name, [value]);
  return { statusCode: error.statusCode, statusReason: error.statusReason ?? reasonPhrase(error.statusCode), headers, body: { kind: 'bytes', bytes: ENCODER.encode(error.body) } };
}

function emptyResponse(): GatewayResponse {
  return { statusCode: 200, statusReason: 'OK', headers: new HeaderBag(), body: { kind: 'empty' } };
}
