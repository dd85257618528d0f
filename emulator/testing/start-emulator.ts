import { createClock, createVirtualClock, type ControllableClock, type EngineOptions, type MetricSample, type PolicyScope } from '../../policy-engine/index.js';
import { createEmulator, type Emulator } from '../app.js';
import { presetConfig } from '../config/presets.js';
import type { EmulatorConfig } from '../config/schema.js';
import type { CompletedRequest } from '../gateway/handler.js';

export interface StartEmulatorOptions {
  /** A lab preset (default 'token-rate-limiting') or a full configuration object. */
  preset?: string;
  config?: EmulatorConfig;
  /** 'virtual' (default, frozen at `startTime`) or 'system'. */
  clock?: 'virtual' | 'system' | ControllableClock;
  /** Start of virtual time (default 2026-01-01T00:00:00Z, so tests are reproducible). */
  startTime?: number | string | Date;
  timeScale?: number;
  engineOptions?: Partial<EngineOptions>;
  /** Policy XML per scope applied after the configuration loads, e.g. { 'apis/inference-api': '<policies>…' }. */
  policies?: Record<string, string>;
  host?: string;
  log?: (line: string) => void;
}

export interface RunningEmulator {
  readonly url: string;
  readonly emulator: Emulator;
  readonly clock: ControllableClock;
  readonly subscriptions: ReadonlyArray<{ name: string; primaryKey: string; secondaryKey: string }>;
  /** Primary key of a subscription by name. */
  keyFor(name: string): string;
  /** Metric samples emitted so far (in memory). */
  readonly metrics: MetricSample[];
  /** Completed gateway requests, in order. */
  readonly requests: CompletedRequest[];
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_TEST_START_TIME = '2026-01-01T00:00:00.000Z';

/** Starts an isolated emulator on an ephemeral loopback port (virtual clock by default). */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const clock =
    typeof options.clock === 'object'
      ? options.clock
      : options.clock === 'system'
        ? createClock({ mode: 'system', ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }) })
        : createVirtualClock({ startMs: options.startTime ?? DEFAULT_TEST_START_TIME, ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }) });
  const startMs = clock.now();
  const metrics: MetricSample[] = [];
  const requests: CompletedRequest[] = [];
  const emulator = createEmulator({
    config: options.config ?? presetConfig(options.preset ?? 'token-rate-limiting'),
    clock,
    metrics: { emit: (s) => void metrics.push(s) },
    onCompleted: (r) => void requests.push(r),
    ...(options.engineOptions === undefined ? {} : { engineOptions: options.engineOptions }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  const applyPolicies = () => {
    for (const [scope, xml] of Object.entries(options.policies ?? {})) emulator.setPolicy(parseScopePath(scope), xml);
  };
  applyPolicies();
  const { url } = await emulator.listen(0, options.host ?? '127.0.0.1');
  const subscriptions = emulator.config.subscriptions.map((s) => ({ name: s.name, primaryKey: s.primaryKey, secondaryKey: s.secondaryKey }));
  return {
    url,
    emulator,
    clock,
    subscriptions,
    metrics,
    requests,
    keyFor(name) {
      const s = subscriptions.find((x) => x.name === name);
      if (!s) throw new Error(`No subscription '${name}'. Known: ${subscriptions.map((x) => x.name).join(', ')}`);
      return s.primaryKey;
    },
    async reset() {
      await emulator.reset();
      applyPolicies();
      metrics.length = 0;
      requests.length = 0;
      if (clock.mode === 'virtual') clock.set(startMs);
    },
    close: () => emulator.close(),
  };
}

/** 'global', 'products/{id}', 'apis/{id}', 'apis/{id}/operations/{op}' → PolicyScope. */
export function parseScopePath(path: string): PolicyScope {
  const parts = path.replace(/^\/+|\/+$/g, '').split('/');
  if (parts.length === 1 && parts[0] === 'global') return { kind: 'global' };
  if (parts.length === 2 && parts[0] === 'products') return { kind: 'product', productId: parts[1]! };
  if (parts.length === 2 && parts[0] === 'apis') return { kind: 'api', apiId: parts[1]! };
  if (parts.length === 4 && parts[0] === 'apis' && parts[2] === 'operations') return { kind: 'operation', apiId: parts[1]!, operationId: parts[3]! };
  throw new Error(`'${path}' is not a policy scope; use global, products/{id}, apis/{id} or apis/{id}/operations/{id}`);
}
