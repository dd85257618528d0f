import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type RunningEmulator, type StartEmulatorOptions } from '../../emulator/testing/start-emulator.js';
import { httpBackendConfig } from './configs.js';
import { startScriptedBackend, type ScriptedBackend } from './scripted-backend.js';

/** A value that only exists once beforeAll has run, usable as if it were the value itself. */
function lateBound<T extends object>(get: () => T | undefined, what: string): T {
  const target = (): T => {
    const value = get();
    if (!value) throw new Error(`${what} is only available inside tests (it starts in beforeAll).`);
    return value;
  };
  return new Proxy({} as T, {
    get(_t, property) {
      const t = target();
      const value = (t as Record<string | symbol, unknown>)[property];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
    set(_t, property, value) {
      (target() as Record<string | symbol, unknown>)[property] = value;
      return true;
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

/**
 * One backend per test file and a fresh emulator per test (`start` closes the previous one), for tests that
 * each need their own policy or configuration. The backend starts in beforeAll; everything closes in afterAll.
 */
export function useGatewayPerTest<B extends { url: string; close(): Promise<void> }>(
  startBackend: () => Promise<B>,
): { backend: B; start(options: StartEmulatorOptions): Promise<RunningEmulator> } {
  let backend: B | undefined;
  let gw: RunningEmulator | undefined;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });
  return {
    backend: lateBound(() => backend, 'backend'),
    async start(options) {
      await gw?.close();
      gw = await startEmulator(options);
      return gw;
    },
  };
}
