import { PolicyError, apimErrorBody } from '../pipeline/last-error.js';
import { isEventStream, observeUsage } from '../pipeline/usage.js';
import type { GatewayResponse } from '../pipeline/types.js';
import { definePolicy } from './define.js';

export class BackendConnectionError extends Error {
  override name = 'BackendConnectionError';
}
export class BackendTimeoutError extends Error {
  override name = 'BackendTimeoutError';
}

/** `<forward-request/>`: sends the request to the backend chosen by set-backend-service (or the API's service URL). */
export const forwardRequest = definePolicy({
  name: 'forward-request',
  sections: ['backend'],
  attributes: {
    timeout: { kind: 'int', min: 0, default: 300 },
    'timeout-ms': { kind: 'int', min: 0 },
    'follow-redirects': { kind: 'bool', default: false },
    'buffer-request-body': { kind: 'bool', default: false },
    'buffer-response': { kind: 'bool', default: true },
    'fail-on-error-status-code': { kind: 'bool', default: false },
    'http-version': { kind: 'enum', values: ['1', '2', '2or1'], expressions: false },
  },
  compile(node, env) {
    const hasTimeout = node.attributes.some((a) => a.name === 'timeout');
    const hasTimeoutMs = node.attributes.some((a) => a.name === 'timeout-ms');
    if (hasTimeout && hasTimeoutMs) {
      env.report('PolAttributeConflict', node.nameSpan, [node.name, "'timeout' and 'timeout-ms' are mutually exclusive"]);
      return undefined;
    }
    const timeout = env.attr(node, 'timeout', { kind: 'int', min: 0, default: 300 })!;
    const timeoutMs = env.attr(node, 'timeout-ms', { kind: 'int', min: 0 });
    const followRedirects = env.attr(node, 'follow-redirects', { kind: 'bool', default: false })!;
    const bufferResponse = env.attr(node, 'buffer-response', { kind: 'bool', default: true })!;
    const failOnError = env.attr(node, 'fail-on-error-status-code', { kind: 'bool', default: false })!;
    return {
      async run(ctx) {
        const ms = timeoutMs ? timeoutMs.get(ctx) : timeout.get(ctx) * 1000;
        let response: GatewayResponse;
        try {
          response = await ctx.services.forwarder.forward(ctx, {
            timeoutMs: ms,
            followRedirects: followRedirects.get(ctx),
            bufferResponse: bufferResponse.get(ctx),
          });
          if (bufferResponse.get(ctx) && response.body.kind === 'stream' && !isEventStream(response)) {
            const bytes = new Uint8Array(await new Response(response.body.stream).arrayBuffer());
            response.body = { kind: 'bytes', bytes };
          }
        } catch (error) {
          if (error instanceof PolicyError) throw error;
          const timedOut = error instanceof BackendTimeoutError;
          throw new PolicyError({
            source: 'forward-request',
            reason: timedOut ? 'Timeout' : 'BackendConnectionFailure',
            message: timedOut
              ? `Request to the backend service timed out.`
              : `Error occured while calling backend service. ${error instanceof Error ? error.message : String(error)}`.trim(),
            response: { statusCode: 500, body: apimErrorBody(500, 'Internal server error', { activityId: ctx.requestId }) },
            cause: error,
          });
        }
        ctx.response = response;
        ctx.forwarded = true;
        ctx.llmUsage = observeUsage(ctx, response);
        ctx.backendBody = response.body;
        if (failOnError.get(ctx) && response.statusCode >= 400) {
          throw new PolicyError({
            source: 'forward-request',
            reason: 'BackendErrorStatusCode',
            message: `Backend service responded with status code ${response.statusCode}.`,
            response: undefined,
          });
        }
      },
    };
  },
});
