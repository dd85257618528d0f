import type { LlmUsage, RequestContext } from '../../pipeline/types.js';
import { definePolicy, type PolicyDefinition } from '../define.js';
import { compileDimensions, DEFAULT_NAMESPACE, evaluateDimensions } from './metric-dimensions.js';

export const TOKEN_METRIC_NAMES = {
  total: 'Total Tokens',
  prompt: 'Prompt Tokens',
  completion: 'Completion Tokens',
  cached: 'Prompt Cached Tokens',
} as const;

/**
 * `llm-emit-token-metric` / `azure-openai-emit-token-metric`: after the backend answers, emit Total, Prompt
 * and Completion Tokens (and Prompt Cached Tokens when cached tokens are reported) with the dimensions
 * evaluated where the policy stands. Requests that never reach the backend emit nothing.
 */
export function defineTokenMetricPolicy(name: string): PolicyDefinition {
  return definePolicy({
    name,
    sections: ['inbound'],
    attributes: { namespace: { kind: 'string', expressions: false, default: DEFAULT_NAMESPACE } },
    children: ['dimension'],
    compile(node, env) {
      const namespace = env.attr(node, 'namespace', { kind: 'string', expressions: false, default: DEFAULT_NAMESPACE })!.constant!;
      const dimensions = compileDimensions(node, env, { backendIdAllowed: true });
      if (!dimensions) return undefined;
      return {
        run(ctx) {
          const dims = evaluateDimensions(dimensions, ctx);
          ctx.afterBackend.push(() => {
            const observation = ctx.llmUsage;
            if (!observation) return;
            observation.usage
              .then((usage) => usage && emitUsage(ctx, namespace, dims(), usage))
              .catch((error) => ctx.warnings.push(`${name}: ${String(error)}`));
          });
        },
      };
    },
  });
}

function emitUsage(ctx: RequestContext, namespace: string, dimensions: Record<string, string>, usage: LlmUsage): void {
  const operationName = `${ctx.request.method} ${ctx.api.Path ? `/${ctx.api.Path}` : ''}${ctx.operation.UrlTemplate}`;
  const sink = ctx.services.metrics;
  // One literal per sample (no shared base object spread into each: a slow path on Node 20); they share `dimensions`.
  const emit = (name: string, value: number) =>
    sink.emit({ timestamp: ctx.timestamp, namespace, dimensions, estimated: usage.estimated, operationId: ctx.requestId, operationName, clientIp: ctx.request.ipAddress, name, value });
  emit(TOKEN_METRIC_NAMES.total, usage.totalTokens);
  emit(TOKEN_METRIC_NAMES.prompt, usage.promptTokens);
  emit(TOKEN_METRIC_NAMES.completion, usage.completionTokens);
  if (usage.cachedPromptTokens) emit(TOKEN_METRIC_NAMES.cached, usage.cachedPromptTokens);
}
