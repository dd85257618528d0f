import { HeaderBag } from '../expressions/index.js';
import { ReturnResponseSignal } from '../pipeline/last-error.js';
import type { GatewayResponse } from '../pipeline/types.js';
import { definePolicy } from './define.js';

/** `<return-response [response-variable-name]>` with set-status/set-header/set-body children: ends the pipeline. */
export const returnResponse = definePolicy({
  name: 'return-response',
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  attributes: { 'response-variable-name': { kind: 'string', expressions: false } },
  children: ['set-status', 'set-header', 'set-body'],
  compile(node, env) {
    const variable = env.attr(node, 'response-variable-name', { kind: 'string', expressions: false });
    const steps = env.compileSteps(node.children, env.path);
    return {
      async run(ctx) {
        const stored = variable ? (ctx.variables.get(variable.constant!) as GatewayResponse | undefined) : undefined;
        ctx.response = stored
          ? { ...stored, headers: HeaderBag.fromEntries(stored.headers.entries()) }
          : { statusCode: 200, statusReason: 'OK', headers: new HeaderBag(), body: { kind: 'empty' } };
        ctx.buildingResponse = true;
        try {
          await ctx.runChildren(steps);
        } finally {
          ctx.buildingResponse = false;
        }
        throw new ReturnResponseSignal();
      },
    };
  },
});
