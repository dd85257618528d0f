import { PolicyError } from '../pipeline/last-error.js';
import { definePolicy } from './define.js';
import { compileOutboundRequest, sendOutbound } from './shared/outbound-request.js';

/**
 * `<send-one-way-request mode="new|copy" timeout="60">` with the children of send-request: sends the request and
 * does not wait for it (fire and forget). The pipeline goes on at once; a failure (timeout on the engine clock,
 * connection, a host the emulator may not contact) is not an error of the request, only a warning in its trace.
 * Building the request (expressions in set-url, set-header…) happens before the policy returns, so an expression
 * failure is an error as in any policy.
 */
export const sendOneWayRequest = definePolicy({
  name: 'send-one-way-request',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    mode: { kind: 'enum', values: ['new', 'copy'], default: 'new' },
    timeout: { kind: 'number', min: 0, default: 60 },
  },
  children: ['set-url', 'set-method', 'set-header', 'set-body', 'authentication-managed-identity', 'authentication-certificate', 'proxy'],
  compile(node, env) {
    const mode = env.attr(node, 'mode', { kind: 'enum', values: ['new', 'copy'], default: 'new' });
    const timeout = env.attr(node, 'timeout', { kind: 'number', min: 0, default: 60 });
    if (!mode || !timeout) return undefined;
    const request = compileOutboundRequest(node, env, mode);
    if (!request) return undefined;
    return {
      run(ctx) {
        const built = request.build(ctx);
        const ms = Math.max(0, Math.round(timeout.get(ctx) * 1000));
        void sendOutbound(ctx, 'send-one-way-request', built, ms).then(
          (response) => {
            if (response.body.kind === 'stream') void response.body.stream.cancel().catch(() => undefined);
          },
          (error: unknown) => ctx.warnings.push(`send-one-way-request: ${error instanceof PolicyError ? error.message : String(error)}`),
        );
      },
    };
  },
});
