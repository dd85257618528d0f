import { MockConnectionError } from '../../mock-models/index.js';
import { BackendConnectionError, BackendTimeoutError, HeaderBag, type Clock, type GatewayResponse } from '../../policy-engine/index.js';

/** Reason used to cancel the timeout timer (a constant: no DOMException per request). */
const TIMER_DONE = Symbol('backend call timer done');

/**
 * One backend call (forward-request's web and direct paths, policies' own backend calls) under a timeout on the
 * engine clock, with its failures as the pipeline sees them: the timeout aborts the call's signal and throws
 * BackendTimeoutError; a mock connection failure or fetch's TypeError becomes BackendConnectionError (APIM's
 * BackendConnectionFailure); anything else is rethrown as it is. The signal is aborted on timeout only, so a
 * response body can still be read after the call returns.
 */
export async function callBackend<T>(clock: Clock, timeoutMs: number, timeoutMessage: () => string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const timer = new AbortController();
  const timeout = clock.sleep(timeoutMs, timer.signal).then(
    () => {
      throw new BackendTimeoutError(timeoutMessage());
    },
    () => undefined as never,
  );
  try {
    return await Promise.race([call(abort.signal), timeout]);
  } catch (error) {
    if (error instanceof BackendTimeoutError) {
      abort.abort(error);
      throw error;
    }
    if (error instanceof MockConnectionError || error instanceof TypeError) {
      throw new BackendConnectionError(error instanceof TypeError && error.cause instanceof Error ? error.cause.message : error.message);
    }
    throw error;
  } finally {
    timer.abort(TIMER_DONE);
  }
}

/** Headers that belong to one connection: never copied between the client, the gateway and a backend. */
export const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'content-length']);

/** A fetch Response as the pipeline's response: hop-by-hop headers and content-encoding (fetch decoded the body) dropped. */
export function toGatewayResponse(response: Response): GatewayResponse {
  const headers = new HeaderBag();
  response.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== 'content-encoding') headers.set(name, [value]);
  });
  return {
    statusCode: response.status,
    statusReason: response.statusText,
    headers,
    body: response.body ? { kind: 'stream', stream: response.body } : { kind: 'empty' },
  };
}
