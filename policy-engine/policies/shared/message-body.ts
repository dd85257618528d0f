import type { RequestContext, SectionName } from '../../pipeline/types.js';
import { ensureResponse } from '../set-status.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Whether a body-transforming policy in this section works on the response (outbound, on-error) or the request. */
export function targetsResponse(section: SectionName, ctx: RequestContext): boolean {
  return section === 'outbound' || section === 'on-error' || ctx.buildingResponse;
}

/** The text of the request or response body (a streamed response is read to the end first; empty when none). */
export async function readBodyText(ctx: RequestContext, response: boolean): Promise<string> {
  if (!response) return ctx.request.body ? decoder.decode(ctx.request.body) : '';
  const body = ctx.response?.body;
  if (!body || body.kind === 'empty') return '';
  if (body.kind === 'bytes') return decoder.decode(body.bytes);
  const bytes = new Uint8Array(await new Response(body.stream).arrayBuffer());
  ctx.response!.body = { kind: 'bytes', bytes };
  return decoder.decode(bytes);
}

/** Replaces the request or response body (content-length is recomputed when sent). */
export function writeBodyText(ctx: RequestContext, response: boolean, text: string): void {
  const bytes = encoder.encode(text);
  if (response) {
    const target = ensureResponse(ctx);
    target.body = { kind: 'bytes', bytes };
    target.headers.delete('content-length');
  } else {
    ctx.request.body = bytes;
    ctx.request.bodyConsumed = false;
    ctx.request.headers.delete('content-length');
  }
}
