import { HeaderBag } from '../expressions/index.js';
import { reasonPhrase } from '../pipeline/http-status.js';
import { ReturnResponseSignal } from '../pipeline/last-error.js';
import { definePolicy } from './define.js';

/**
 * `<mock-response status-code="200" content-type="application/json"/>`: ends the pipeline like return-response
 * (the backend is not called in inbound; outbound and on-error stop here) and answers `status-code`.
 *
 * APIM answers with the API schema's example for that status code and content type, else a sample generated from
 * the schema, else an empty body. The emulator has no API schemas, so it always takes the last branch: the status
 * with its reason phrase and an empty body. `content-type` only selects the example in APIM, so with no example
 * there is no body and no Content-Type header.
 */
export const mockResponse = definePolicy({
  name: 'mock-response',
  sections: ['inbound', 'outbound', 'on-error'],
  attributes: {
    'status-code': { kind: 'int', min: 100, max: 599, default: 200, expressions: false },
    'content-type': { kind: 'string', expressions: false },
  },
  compile(node, env) {
    const statusCode = env.attr(node, 'status-code', { kind: 'int', min: 100, max: 599, default: 200, expressions: false });
    env.attr(node, 'content-type', { kind: 'string', expressions: false });
    if (!statusCode) return undefined;
    const status = statusCode.constant!;
    const reason = reasonPhrase(status);
    return {
      run(ctx) {
        ctx.response = { statusCode: status, statusReason: reason, headers: new HeaderBag(), body: { kind: 'empty' } };
        throw new ReturnResponseSignal();
      },
    };
  },
});
