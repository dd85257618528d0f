/**
 * Cluster mode (`start --workers N`): N gateway processes on one port (node:cluster, connections spread round
 * robin), counters shared through Redis (required), telemetry through one writer: workers send their rows to the
 * primary, which owns telemetry.db; each worker answers KQL from a read-only connection to the same file.
 */
import cluster, { type Worker } from 'node:cluster';
import { createSqliteTelemetryStore } from '../app-insights/sqlite-store.js';
import { ConfigError } from '../config/load.js';
import type { AppInsightsIdentity, QueryOptions, QueryResult, TelemetryStore } from '../app-insights/store.js';

export const WORKER_ENV = 'AI_GATEWAY_EMULATOR_WORKER';

type WriteMethod = 'writeMetric' | 'writeRequest' | 'writeDependency' | 'writeTrace' | 'writeEvent' | 'writeGatewayLog' | 'writeLlmLog';
const WRITE_METHODS: readonly WriteMethod[] = ['writeMetric', 'writeRequest', 'writeDependency', 'writeTrace', 'writeEvent', 'writeGatewayLog', 'writeLlmLog'];

type ToPrimary =
  | { type: 'age:telemetry'; method: WriteMethod; record: unknown }
  | { type: 'age:call'; id: number; call: 'flush' | 'clear' }
  | { type: 'age:listening'; url: string };
type ToWorker = { type: 'age:reply'; id: number; error?: string } | { type: 'age:workers'; workers: ClusterWorkerState[] };

export interface ClusterWorkerState {
  id: number;
  pid: number;
  state: 'starting' | 'listening' | 'exited';
}

/** This process is a worker of `start --workers N`. */
export function clusterWorkerId(): number | undefined {
  return cluster.isWorker && process.env[WORKER_ENV] ? Number(process.env[WORKER_ENV]) : undefined;
}

let knownWorkers: ClusterWorkerState[] = [];

/** For GET /_emulator/health in a worker: who answered and every worker the primary knows; undefined outside a cluster. */
export function clusterHealth(): { worker: { id: number; pid: number }; workers: ClusterWorkerState[] } | undefined {
  const id = clusterWorkerId();
  return id === undefined ? undefined : { worker: { id, pid: process.pid }, workers: knownWorkers };
}

/** A worker's telemetry: writes go to the primary; queries read telemetry.db through a read-only connection. */
export function createWorkerTelemetryStore(dataDir: string, identity: AppInsightsIdentity): TelemetryStore & { path: string } {
  const reader = createSqliteTelemetryStore({ dataDir, identity, readonly: true });
  let nextCall = 1;
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  process.on('message', (message: ToWorker) => {
    if (message?.type === 'age:workers') knownWorkers = message.workers;
    if (message?.type !== 'age:reply') return;
    const p = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) p?.reject(new Error(message.error));
    else p?.resolve();
  });
  const send = (message: ToPrimary) => process.send!(message);
  const call = (what: 'flush' | 'clear') =>
    new Promise<void>((resolve, reject) => {
      const id = nextCall++;
      pending.set(id, { resolve, reject });
      send({ type: 'age:call', id, call: what });
    });
  const store: Partial<TelemetryStore> & { kind: string; path: string } = {
    kind: 'cluster-worker',
    path: reader.path,
    query: (kql: string, options: QueryOptions): QueryResult => reader.query(kql, options),
    counts: () => reader.counts(),
    flush: () => call('flush'),
    clear: () => call('clear'),
    // The round trip drains the IPC channel: every row sent before it reached the primary.
    close: async () => {
      await call('flush').catch(() => {});
      await reader.close();
    },
    health: () => ({ status: 'ok', pendingRows: 0, failedFlushes: 0, droppedRows: 0, lastError: null }),
  };
  for (const method of WRITE_METHODS) (store as Record<string, unknown>)[method] = (record: unknown) => send({ type: 'age:telemetry', method, record });
  return store as TelemetryStore & { path: string };
}

export interface ClusterPrimaryOptions {
  workers: number;
  dataDir: string;
  inMemory: boolean;
  identity: AppInsightsIdentity;
  out: (line: string) => void;
}

/** The primary: owns telemetry.db, forks the workers, relays their telemetry; resolves once every worker listens. */
export async function runClusterPrimary(options: ClusterPrimaryOptions): Promise<{ url: string; close: () => Promise<void> }> {
  if (options.inMemory) throw new ConfigError('--workers needs a telemetry file shared by the workers: drop --in-memory (use --data <dir>).');
  const telemetry = createSqliteTelemetryStore({ dataDir: options.dataDir, identity: options.identity });
  const states = new Map<number, ClusterWorkerState>();
  const broadcast = () => {
    const workers = [...states.values()];
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send({ type: 'age:workers', workers } satisfies ToWorker);
  };
  cluster.setupPrimary({ serialization: 'advanced' });
  let closing = false;
  let url = '';
  await new Promise<void>((resolve, reject) => {
    let listening = 0;
    for (let i = 1; i <= options.workers; i++) {
      const worker: Worker = cluster.fork({ [WORKER_ENV]: String(i) });
      states.set(i, { id: i, pid: worker.process.pid ?? 0, state: 'starting' });
      worker.on('message', (message: ToPrimary) => {
        if (message.type === 'age:telemetry') {
          (telemetry[message.method] as (r: unknown) => void).call(telemetry, message.record);
        } else if (message.type === 'age:call') {
          telemetry[message.call]().then(
            () => worker.send({ type: 'age:reply', id: message.id } satisfies ToWorker),
            (error: Error) => worker.send({ type: 'age:reply', id: message.id, error: error.message } satisfies ToWorker),
          );
        } else if (message.type === 'age:listening') {
          url = message.url;
          states.set(i, { id: i, pid: worker.process.pid ?? 0, state: 'listening' });
          broadcast();
          if (++listening === options.workers) resolve();
        }
      });
      worker.on('exit', (code) => {
        states.set(i, { id: i, pid: worker.process.pid ?? 0, state: 'exited' });
        broadcast();
        if (!closing) {
          options.out(`warning: worker ${i} (pid ${worker.process.pid}) exited with ${code}`);
          if (listening < options.workers) reject(new Error(`worker ${i} exited with ${code} before listening`));
        }
      });
    }
  });
  options.out(`  Workers: ${options.workers} on ${url} (pids ${[...states.values()].map((s) => s.pid).join(', ')}); telemetry written by the primary (pid ${process.pid}) to ${telemetry.path}`);
  return {
    url,
    async close() {
      closing = true;
      await Promise.all(
        Object.values(cluster.workers ?? {}).map(
          (w) =>
            new Promise<void>((resolve) => {
              if (!w || w.isDead()) return resolve();
              w.once('exit', () => resolve());
              w.process.kill('SIGTERM');
            }),
        ),
      );
      await telemetry.close();
    },
  };
}

/** A worker tells the primary it listens (the primary then prints the Workers line). */
export function reportListening(url: string): void {
  process.send?.({ type: 'age:listening', url } satisfies ToPrimary);
}
