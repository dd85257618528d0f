import { definePolicy } from './define.js';
import { compileDimensions, DEFAULT_NAMESPACE, evaluateDimensions } from './shared/metric-dimensions.js';

/** `<emit-metric name="…" value="1" namespace="…"><dimension …/></emit-metric>`: one sample where it stands. */
export const emitMetric = definePolicy({
  name: 'emit-metric',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    name: { kind: 'string', required: true, expressions: false },
    value: { kind: 'number', default: 1 },
    namespace: { kind: 'string', expressions: false, default: DEFAULT_NAMESPACE },
  },
  children: ['dimension'],
  compile(node, env) {
    const name = env.attr(node, 'name', { kind: 'string', required: true, expressions: false });
    const value = env.attr(node, 'value', { kind: 'number', default: 1 });
    const namespace = env.attr(node, 'namespace', { kind: 'string', expressions: false, default: DEFAULT_NAMESPACE })!.constant!;
    const dimensions = compileDimensions(node, env, { backendIdAllowed: env.section === 'outbound' });
    if (!name || !value || !dimensions) return undefined;
    return {
      run(ctx) {
        ctx.services.metrics.emit({
          timestamp: ctx.services.clock.now(),
          name: name.constant!,
          value: value.get(ctx),
          namespace,
          dimensions: evaluateDimensions(dimensions, ctx)(),
          operationId: ctx.requestId,
          clientIp: ctx.request.ipAddress,
        });
      },
    };
  },
});
