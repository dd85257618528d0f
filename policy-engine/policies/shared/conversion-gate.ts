import { PolicyError } from '../../pipeline/last-error.js';
import type { RequestContext } from '../../pipeline/types.js';
import type { ValueSource } from '../define.js';
import { acceptRequests, BodyConversionError } from './xml-json.js';

/** Content-Type of the body a conversion policy works on (request in inbound, response otherwise). */
export function bodyContentType(ctx: RequestContext, response: boolean): string | undefined {
  const values = response ? ctx.response?.headers.get('content-type') : ctx.request.headers.get('content-type');
  return values?.join(', ');
}

/**
 * The shared `apply` / `consider-accept-header` rule of json-to-xml and xml-to-json: `always` or the body's
 * Content-Type is of the source format, and (when considering Accept) the client's Accept asks for the target format.
 */
export function conversionApplies(
  ctx: RequestContext,
  response: boolean,
  apply: ValueSource<string>,
  considerAccept: ValueSource<boolean> | undefined,
  source: (type: string) => boolean,
  target: (type: string) => boolean,
): boolean {
  if (apply.get(ctx) !== 'always' && !source(bodyContentType(ctx, response) ?? '')) return false;
  if (considerAccept === undefined || considerAccept.get(ctx)) {
    return acceptRequests(ctx.request.headers.get('accept')?.join(','), target);
  }
  return true;
}

/** A body that does not parse: the policy fails (on-error runs) with the parser's message. */
export function conversionFailure(policy: string, error: unknown): never {
  if (error instanceof BodyConversionError) throw new PolicyError({ source: policy, reason: 'BodyConversionFailed', message: error.message });
  throw error;
}
