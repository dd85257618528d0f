import type { SectionName } from './types.js';

/** `context.LastError` (APIM's ProxyError). */
export interface LastError {
  Source: string;
  Reason: string;
  Message: string;
  Scope: string;
  Section: SectionName | string;
  Path: string;
  PolicyId: string;
}

/** A response the gateway produced itself (errors, refusals), in APIM's `{ "statusCode": N, "message": "…" }` envelope. */
export interface GatewayErrorResponse {
  statusCode: number;
  /** Reason phrase (default: the standard one for the status code). */
  statusReason?: string;
  headers?: Record<string, string>;
  /** Exact body text. */
  body: string;
}

/**
 * An error raised by a policy or a built-in step. The executor fills Scope/Section/Path/PolicyId
 * from the step that raised it, sets `context.Response` to `response` and enters on-error.
 */
export class PolicyError extends Error {
  readonly source: string;
  readonly reason: string;
  readonly response: GatewayErrorResponse | undefined;
  constructor(options: { source: string; reason: string; message: string; response?: GatewayErrorResponse; cause?: unknown }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PolicyError';
    this.source = options.source;
    this.reason = options.reason;
    this.response = options.response;
  }
}

/** Thrown by return-response (and mock-response) to end the pipeline with `ctx.response`. */
export class ReturnResponseSignal {
  readonly isReturnResponse = true;
}

/** APIM's envelope spacing: `{ "statusCode": 429, "message": "…" }` (a 429 for N=57 measured 84 bytes). */
export function apimErrorBody(statusCode: number, message: string, extra?: Record<string, string>): string {
  let body = `{ "statusCode": ${statusCode}, "message": ${JSON.stringify(message)}`;
  for (const [k, v] of Object.entries(extra ?? {})) body += `, ${JSON.stringify(k)}: ${JSON.stringify(v)}`;
  return `${body} }`;
}
