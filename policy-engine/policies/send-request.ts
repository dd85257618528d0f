import { PolicyError } from '../pipeline/last-error.js';
import { definePolicy } from './define.js';
import { compileOutboundRequest, sendOutbound, SentResponse } from './shared/outbound-request.js';

export { OutboundConnectionError, OutboundHostNotAllowedError, SentResponse } from './shared/outbound-request.js';

const CHILDREN = ['set-url', 'set-method', 'set-header', 'set-body', 'authentication-managed-identity', 'authentication-certificate', 'proxy'];

/**
 * `<send-request mode="new|copy" response-variable-name="…" timeout="60" ignore-error="false">` with set-url,
 * set-method, set-header*, set-body and authentication-managed-identity children: sends the request and waits for
 * the whole response (at most `timeout` seconds on the engine clock), then stores it as an IResponse in
 * `context.Variables[response-variable-name]` (StatusCode, StatusReason, Headers, Body.As<T>()). A 4xx/5xx answer is
 * a response, not an error. A failure (timeout, connection, a host the emulator may not contact) enters on-error
 * with Source `send-request` and Reason `Timeout` / `BackendConnectionFailure`; with `ignore-error="true"` the
 * variable holds null instead and the pipeline goes on (an expression that fails while the request is built is an
 * error either way).
 *
 * The emulator sends only to configured backends (mock backends in-process) and loopback addresses; any other host
 * is refused without a connection (see the README, "send-request").
 */
export const sendRequest = definePolicy({
  name: 'send-request',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: {
    mode: { kind: 'enum', values: ['new', 'copy'], default: 'new' },
    'response-variable-name': { kind: 'string', required: true },
    timeout: { kind: 'number', min: 0, default: 60 },
    'ignore-error': { kind: 'bool', expressions: false, default: false },
  },
  children: CHILDREN,
  compile(node, env) {
    const mode = env.attr(node, 'mode', { kind: 'enum', values: ['new', 'copy'], default: 'new' });
    const variable = env.attr(node, 'response-variable-name', { kind: 'string', required: true });
    const timeout = env.attr(node, 'timeout', { kind: 'number', min: 0, default: 60 });
    const ignoreError = env.attr(node, 'ignore-error', { kind: 'bool', expressions: false, default: false });
    if (!mode || !variable || !timeout || !ignoreError) return undefined;
    if (variable.constant !== undefined && variable.constant.trim() === '') {
      const attr = node.attributes.find((a) => a.name === 'response-variable-name')!;
      env.report('PolInvalidAttributeValue', attr.valueSpan, [node.name, 'response-variable-name', attr.value, 'a variable name is required']);
      return undefined;
    }
    const request = compileOutboundRequest(node, env, mode);
    if (!request) return undefined;
    const ignore = ignoreError.constant === true;
    return {
      async run(ctx) {
        const name = variable.get(ctx);
        // Building the request (expressions) fails as any policy does; ignore-error is about the call itself [INF].
        const built = request.build(ctx);
        const seconds = timeout.get(ctx);
        if (!(seconds >= 0)) {
          throw new PolicyError({
            source: 'send-request',
            reason: 'ExpressionValueEvaluationFailure',
            message: `Expression evaluation failed. Value '${seconds}' is not valid for attribute 'timeout' of policy 'send-request'.`,
          });
        }
        try {
          const response = await sendOutbound(ctx, 'send-request', built, Math.round(seconds * 1000));
          ctx.variables.set(name, new SentResponse(response));
        } catch (error) {
          if (!ignore || !(error instanceof PolicyError)) throw error;
          ctx.variables.set(name, null);
          ctx.warnings.push(`send-request: ${error.message} (ignore-error: the variable '${name}' is null)`);
        }
      },
    };
  },
});
