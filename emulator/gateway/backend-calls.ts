import type { MockModels } from '../../mock-models/index.js';
import { createMockContentSafety, type MockContentSafety } from '../../mock-models/content-safety.js';
import { BackendConnectionError, fakeManagedIdentityToken, type BackendCaller, type Clock } from '../../policy-engine/index.js';
import { callBackend } from './backend-call.js';
import type { ResolvedConfig } from '../config/load.js';

export interface BackendCallerOptions {
  clock: Clock;
  backends: ResolvedConfig['backends'];
  /** Mock model servers by backend id (in-process, no socket). */
  mocks: ReadonlyMap<string, MockModels>;
  /** Content Safety mocks by backend id (see createContentSafetyMocks). */
  contentSafety: ReadonlyMap<string, MockContentSafety>;
}

/** One in-process Content Safety service per backend of type 'content-safety', with that backend's classifier. */
export function createContentSafetyMocks(backends: ResolvedConfig['backends'], clock: Clock): Map<string, MockContentSafety> {
  const mocks = new Map<string, MockContentSafety>();
  for (const b of backends) {
    if (b.type !== 'content-safety') continue;
    const cs = b.contentSafety ?? {};
    mocks.set(
      b.id,
      createMockContentSafety({
        clock,
        ...(cs.categories ? { categories: cs.categories } : {}),
        ...(cs.blocklists ? { blocklists: cs.blocklists } : {}),
        ...(cs.promptAttacks ? { promptAttacks: cs.promptAttacks } : {}),
        ...(cs.maxTextLength ? { maxTextLength: cs.maxTextLength } : {}),
      }),
    );
  }
  return mocks;
}

/**
 * Calls a configured backend on a policy's behalf (the semantic cache's embeddings, llm-content-safety): the
 * backend's URL + path, its credential headers and, for a managed-identity backend, a fake bearer token. Mock and
 * content-safety backends answer in-process; any other backend is called over HTTP. Pools are not resolved here.
 */
export function createBackendCaller(options: BackendCallerOptions): BackendCaller {
  const byId = new Map(options.backends.map((b) => [b.id, b]));
  return {
    async call(request) {
      const backend = byId.get(request.backendId);
      if (!backend) throw new BackendConnectionError(`Backend with id '${request.backendId}' could not be found.`);
      if (backend.type === 'pool') throw new BackendConnectionError(`Backend '${request.backendId}' is a pool; a policy's own backend call needs a single backend.`);
      const url = new URL(`${backend.url.replace(/\/+$/, '')}${request.path}`);
      for (const [k, v] of Object.entries(request.query ?? {})) if (!url.searchParams.has(k)) url.searchParams.set(k, v);
      const headers = new Headers(request.headers);
      for (const [name, value] of Object.entries(backend.credentials?.headers ?? {})) headers.set(name, value);
      if (backend.credentials?.managedIdentityResource && !headers.has('authorization')) {
        headers.set('authorization', `Bearer ${fakeManagedIdentityToken(backend.credentials.managedIdentityResource, options.clock.now())}`);
      }
      const init: RequestInit = { method: request.method, headers, ...(request.body === undefined ? {} : { body: request.body }) };
      const mock = backend.type === 'mock' ? options.mocks.get(backend.id) : undefined;
      const safety = backend.type === 'content-safety' ? options.contentSafety.get(backend.id) : undefined;
      return callBackend(
        options.clock,
        request.timeoutMs,
        () => `No response from ${url.origin}${url.pathname} within ${request.timeoutMs} ms`,
        (signal) =>
          mock
            ? mock.handle(new Request(url, { ...init, signal }))
            : safety
              ? safety.handle(new Request(url, { ...init, signal }))
              : fetch(url, { ...init, redirect: 'manual', signal }),
      );
    },
  };
}
