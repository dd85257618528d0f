import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/testing/start-emulator.js';
import { httpBackendConfig } from './configs.js';
import { startScriptedBackend, type ScriptedBackend } from './scripted-backend.js';

/** A value that only exists once beforeAll has run, usable as if it were the value itself. */
function lateBound<T extends object>(get: () => T | undefined, what: string): T {
  return new Proxy({} as T, {
    get(_t, property) {
      const target = get();
      if (!target) throw new Error(`${what} is only available inside tests (it starts in beforeAll).`);
      const value = (target as Record<string | symbol, unknown>)[property];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * One emulator per test file in front of a real HTTP scripted backend (the API `inference-api` at
 * /inference/openai with an api-key gate and backend id `backend1`), started in beforeAll, closed in afterAll.
 */
export function useScriptedGateway(): { backend: ScriptedBackend; gw: RunningEmulator } {
  let backend: ScriptedBackend | undefined;
  let gw: RunningEmulator | undefined;
  beforeAll(async () => {
    backend = await startScriptedBackend();
    gw = await startEmulator({ config: httpBackendConfig(backend.url, '') });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });
  return { backend: lateBound(() => backend, 'backend'), gw: lateBound(() => gw, 'gw') };
}
