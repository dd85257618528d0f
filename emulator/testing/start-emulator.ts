import type { FaultRule, MockCall, ScriptedResponse } from '../../mock-models/index.js';
import { createClock, createVirtualClock, parseScopePath, scopeKey, type ControllableClock, type CounterStore, type EngineOptions, type MetricSample, type PolicyScope } from '../../policy-engine/index.js';
import { createSqliteTelemetryStore } from '../app-insights/sqlite-store.js';
import { parseTimespan } from '../app-insights/timespan.js';
import { createEmulator, type Emulator } from '../app.js';
import { defaultAppInsightsIdentity } from '../app-insights/store.js';
import { presetConfig } from '../config/presets.js';
import type { EmulatorConfig } from '../config/schema.js';
import type { CompletedRequest } from '../gateway/handler.js';

export interface StartEmulatorOptions {
  /** A lab preset (default 'token-rate-limiting') or a full configuration object. */
  preset?: string;
  config?: EmulatorConfig;
  /** 'virtual' (default: frozen at `startTime`), 'system', or a clock of your own. */
  clock?: 'virtual' | 'system' | ControllableClock;
  /** Start of virtual time (default 2026-01-01T00:00:00Z, so tests are reproducible). */
  startTime?: number | string | Date;
  timeScale?: number;
  engineOptions?: Partial<EngineOptions>;
  /** Policy XML per scope applied after the configuration loads, e.g. { 'apis/inference-api': '<policies>…' }. */
  policies?: Record<string, string>;
  /** Keep telemetry in this data directory instead of memory. */
  dataDir?: string;
  host?: string;
  log?: (line: string) => void;
  /** A counter store of your own (e.g. RedisCounterStore shared by several emulators); default: in memory. */
  counters?: CounterStore;
}

export type ScopeRef = string | PolicyScope;

/** A request as the gateway answered it. */
export interface RequestLogEntry {
  method: string;
  url: string;
  status: number;
  subscription: string | null;
  api: string | null;
  operation: string | null;
  durationMs: number;
  startedAt: number;
  lastErrorReason: string | null;
}

export interface MetricFilter {
  name?: string;
  namespace?: string;
  /** Every listed dimension must match exactly. */
  dimensions?: Record<string, string>;
}

export interface RunningEmulator {
  readonly url: string;
  readonly emulator: Emulator;
  readonly clock: ControllableClock;
  readonly subscriptions: ReadonlyArray<{ name: string; displayName: string; primaryKey: string; secondaryKey: string }>;
  /** Primary key of a subscription by name. */
  keyFor(name: string): string;
  readonly policies: {
    set(scope: ScopeRef, xml: string): void;
    get(scope: ScopeRef): string | undefined;
    remove(scope: ScopeRef): void;
  };
  readonly models: {
    /** Fixes the next responses of a deployment (on the backend serving it, or `backend`). */
    script(deployment: string, responses: ScriptedResponse[], backend?: string): void;
    faults(rule: FaultRule, backend?: string): { remove(): void };
    clearFaults(): void;
    /** Requests the mock models received since the last reset. */
    calls(deployment?: string): MockCall[];
  };
  /** Runs KQL on the emulator's App Insights data; rows as objects (datetime → Date, dynamic → parsed). */
  query(kql: string, options?: { timespan?: string }): Promise<Array<Record<string, unknown>>>;
  /** Metric samples emitted since the last reset. */
  metrics(filter?: MetricFilter): MetricSample[];
  /** Requests answered since the last reset, in order. */
  requests(): RequestLogEntry[];
  /** Counters, metrics, telemetry, scripted responses, faults, policies and the clock back to their start state. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_TEST_START_TIME = '2026-01-01T00:00:00.000Z';

/** Starts an isolated emulator on an ephemeral loopback port (virtual clock and in-memory telemetry by default). */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const timeScale = options.timeScale === undefined ? {} : { timeScale: options.timeScale };
  const clock =
    typeof options.clock === 'object'
      ? options.clock
      : options.clock === 'system'
        ? createClock({ mode: 'system', ...timeScale })
        : createVirtualClock({ startMs: options.startTime ?? DEFAULT_TEST_START_TIME, ...timeScale });
  const startMs = clock.now();
  const startFrozen = clock.frozen;
  const config = options.config ?? presetConfig(options.preset ?? 'token-rate-limiting');
  const samples: MetricSample[] = [];
  const log: CompletedRequest[] = [];
  const telemetry = options.dataDir
    ? createSqliteTelemetryStore({ dataDir: options.dataDir, identity: defaultAppInsightsIdentity(config.appInsights) })
    : undefined;
  const emulator = createEmulator({
    config,
    clock,
    ...(telemetry ? { telemetry } : {}),
    metrics: { emit: (s) => void samples.push(s) },
    onCompleted: (r) => void log.push(r),
    ...(options.engineOptions === undefined ? {} : { engineOptions: options.engineOptions }),
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.counters === undefined ? {} : { counters: options.counters }),
  });
  const toScope = (scope: ScopeRef): PolicyScope => (typeof scope === 'string' ? parseScopePath(scope) : scope);
  const applyPolicies = () => {
    for (const [scope, xml] of Object.entries(options.policies ?? {})) emulator.setPolicy(parseScopePath(scope), xml);
  };
  applyPolicies();
  const { url } = await emulator.listen(0, options.host ?? '127.0.0.1');
  const subscriptions = emulator.config.subscriptions.map((s) => ({ name: s.name, displayName: s.displayName, primaryKey: s.primaryKey, secondaryKey: s.secondaryKey }));

  const backendFor = (deployment: string, backend?: string) => {
    const id = backend ?? emulator.config.backends.find((b) => b.type === 'mock' && b.deployments?.some((d) => d.name === deployment))?.id;
    const mock = id === undefined ? undefined : emulator.mocks.get(id);
    if (!mock) throw new Error(`No mock backend serves deployment '${deployment}'${backend ? ` on '${backend}'` : ''}.`);
    return mock;
  };
  const firstMock = (backend?: string) => {
    const mock = backend ? emulator.mocks.get(backend) : emulator.mocks.values().next().value;
    if (!mock) throw new Error(backend ? `No mock backend '${backend}'.` : 'This configuration has no mock backend.');
    return mock;
  };

  return {
    url,
    emulator,
    clock,
    subscriptions,
    keyFor(name) {
      const s = subscriptions.find((x) => x.name === name);
      if (!s) throw new Error(`No subscription '${name}'. Known: ${subscriptions.map((x) => x.name).join(', ')}`);
      return s.primaryKey;
    },
    policies: {
      set: (scope, xml) => emulator.setPolicy(toScope(scope), xml),
      get: (scope) => emulator.engine.getPolicy(toScope(scope))?.xml,
      remove: (scope) => void emulator.engine.removePolicy(toScope(scope)),
    },
    models: {
      script: (deployment, responses, backend) => backendFor(deployment, backend).script(deployment, responses),
      faults: (rule, backend) => firstMock(backend).faults.add(rule),
      clearFaults: () => {
        for (const mock of emulator.mocks.values()) mock.faults.clear();
      },
      calls: (deployment) => [...emulator.mocks.values()].flatMap((m) => m.calls).filter((c) => deployment === undefined || c.deployment === deployment),
    },
    async query(kql, queryOptions = {}) {
      await emulator.settled();
      const nowMs = clock.now();
      const timespan = queryOptions.timespan ? parseTimespan(queryOptions.timespan, nowMs) : undefined;
      const table = emulator.telemetry.query(kql, { nowMs, ...(timespan ? { timespan } : {}) }).tables[0]!;
      return table.rows.map((row) =>
        Object.fromEntries(
          table.columns.map((c, i) => {
            const v = row[i];
            if (v !== null && c.type === 'datetime') return [c.name, new Date(v as string)];
            if (v !== null && c.type === 'dynamic' && typeof v === 'string') return [c.name, JSON.parse(v)];
            return [c.name, v];
          }),
        ),
      );
    },
    metrics(filter = {}) {
      return samples.filter(
        (s) =>
          (filter.name === undefined || s.name === filter.name) &&
          (filter.namespace === undefined || s.namespace === filter.namespace) &&
          Object.entries(filter.dimensions ?? {}).every(([k, v]) => s.dimensions[k] === v),
      );
    },
    requests() {
      return log.map((r) => ({
        method: r.method,
        url: r.url,
        status: r.statusCode,
        subscription: r.subscription?.name ?? null,
        api: r.api?.id ?? null,
        operation: r.operationId ?? null,
        durationMs: r.durationMs,
        startedAt: r.startedAt,
        lastErrorReason: r.ctx?.lastError?.Reason ?? null,
      }));
    },
    async reset() {
      await emulator.reset();
      applyPolicies();
      samples.length = 0;
      log.length = 0;
      if (clock.mode === 'virtual') {
        clock.set(startMs);
        if (startFrozen) clock.freeze();
        else clock.unfreeze();
      }
    },
    async close() {
      await emulator.close();
      await telemetry?.close();
    },
  };
}

export { parseScopePath, scopeKey };
