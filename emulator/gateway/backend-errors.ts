import { MockConnectionError } from '../../mock-models/index.js';
import { BackendConnectionError, BackendTimeoutError } from '../../policy-engine/index.js';

/**
 * A failed backend call as the pipeline sees it (forward-request and policies' own backend calls): a timeout aborts
 * the request and is rethrown; a mock connection failure or fetch's TypeError becomes BackendConnectionError
 * (APIM's BackendConnectionFailure); anything else is rethrown as it is.
 */
export function throwAsBackendError(error: unknown, abort: AbortController): never {
  if (error instanceof BackendTimeoutError) {
    abort.abort(error);
    throw error;
  }
  if (error instanceof MockConnectionError || error instanceof TypeError) {
    throw new BackendConnectionError(error instanceof TypeError && error.cause instanceof Error ? error.cause.message : error.message);
  }
  throw error;
}
