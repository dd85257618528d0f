import type { Router } from 'express';
import { FaultConfigError, type FaultRule, type ScriptedResponse } from '../../mock-models/index.js';
import { PolicyLoadError, scopeKey, type CounterSnapshot, type PolicyScope } from '../../policy-engine/index.js';
import type { Emulator } from '../app.js';
import { parseScopePath } from '../../policy-engine/index.js';

type Fail = (status: number, code: string, message: string) => void;

export const STATE_VERSION = 1;

export interface EmulatorState {
  version: number;
  clock: { nowMs: number; frozen: boolean };
  /** Policy XML by scope path (global, products/{id}, apis/{id}, apis/{id}/operations/{id}). */
  policies: Record<string, string>;
  counters: CounterSnapshot;
}

/** Mock-model scripting and faults, and state export/import, on the control plane. */
export function addModelAndStateRoutes(router: Router, emulator: Emulator, fail: (res: import('express').Response) => Fail): void {
  const mockFor = (backend: string | undefined, deployment: string | undefined) => {
    const id =
      backend ??
      (deployment === undefined
        ? emulator.config.backends.find((b) => b.type === 'mock')?.id
        : emulator.config.backends.find((b) => b.type === 'mock' && b.deployments?.some((d) => d.name === deployment))?.id);
    return id === undefined ? undefined : emulator.mocks.get(id);
  };

  // POST /_emulator/models/{deployment}/script  body: [{ content?, usage?, status?, headers?, body? }, …]
  router.post('/models/:deployment/script', (req, res) => {
    const deployment = String(req.params.deployment);
    const mock = mockFor(req.query.backend as string | undefined, deployment);
    if (!mock) return fail(res)(404, 'DeploymentNotFound', `No mock backend serves deployment '${deployment}'.`);
    if (!Array.isArray(req.body)) return fail(res)(400, 'InvalidScript', 'Send a JSON array of scripted responses.');
    mock.script(deployment, req.body as ScriptedResponse[]);
    res.json({ deployment, scripted: mock.state(deployment)?.scripted ?? req.body.length });
  });

  // POST /_emulator/models/faults  body: FaultRule (+ optional "backend"); DELETE clears every rule.
  router.post('/models/faults', (req, res) => {
    const { backend, ...rule } = (req.body ?? {}) as FaultRule & { backend?: string };
    const mock = mockFor(backend, rule.deployment);
    if (!mock) return fail(res)(404, 'BackendNotFound', 'No mock backend for that fault rule.');
    try {
      const handle = mock.faults.add(rule as FaultRule);
      res.status(201).json({ id: handle.id, rule });
    } catch (error) {
      if (error instanceof FaultConfigError) return fail(res)(400, 'InvalidFault', error.message);
      throw error;
    }
  });
  router.delete('/models/faults', (_req, res) => {
    for (const mock of emulator.mocks.values()) mock.faults.clear();
    res.json({ status: 'cleared' });
  });
  router.get('/models/calls', (_req, res) => {
    res.json([...emulator.mocks.entries()].flatMap(([backend, mock]) => mock.calls.map((c) => ({ backend, ...c }))));
  });

  // GET /_emulator/state → JSON; PUT /_emulator/state restores it (clock, policies, counters).
  router.get('/state', async (_req, res) => {
    const policies: Record<string, string> = {};
    for (const { scope, policy } of emulator.engine.listPolicies()) if (policy.name !== 'default-global.xml') policies[scopeKey(scope)] = policy.xml;
    const state: EmulatorState = {
      version: STATE_VERSION,
      clock: { nowMs: emulator.clock.now(), frozen: emulator.clock.frozen },
      policies,
      counters: await emulator.engine.services.counters.snapshot(),
    };
    res.json(state);
  });
  router.put('/state', async (req, res) => {
    const state = req.body as Partial<EmulatorState>;
    if (!state || state.version !== STATE_VERSION) return fail(res)(400, 'InvalidState', `Expected an exported state with "version": ${STATE_VERSION}.`);
    // Validate everything first, then apply: an import is all or nothing.
    const problem = counterSnapshotProblem(state.counters);
    if (problem) return fail(res)(400, 'InvalidState', problem);
    let scopes: Array<[PolicyScope, string]>;
    try {
      scopes = Object.entries(state.policies ?? {}).map(([path, xml]) => [parseScopePath(path), String(xml)]);
      for (const [scope, xml] of scopes) emulator.validatePolicy(scope, xml);
    } catch (error) {
      if (error instanceof PolicyLoadError) {
        return void res.status(400).json({ error: { code: 'InvalidState', message: 'A policy in the state does not load; nothing was imported.', details: error.toJSON() } });
      }
      return fail(res)(400, 'InvalidState', error instanceof Error ? error.message : String(error));
    }
    // Scopes absent from the state go back to none (global: APIM's default), so the import is a true restore.
    for (const { scope } of emulator.engine.listPolicies()) if (!(scopeKey(scope) in (state.policies ?? {}))) emulator.engine.removePolicy(scope);
    for (const [scope, xml] of scopes) emulator.setPolicy(scope, xml);
    if (state.counters) await emulator.engine.services.counters.restore(state.counters);
    if (state.clock && emulator.clock.mode === 'virtual') {
      emulator.clock.set(state.clock.nowMs);
      if (state.clock.frozen) emulator.clock.freeze();
      else emulator.clock.unfreeze();
    }
    res.json({ status: 'imported', policies: scopes.length });
  });
}

/** Why a counter snapshot cannot be restored (undefined when it can). */
function counterSnapshotProblem(snapshot: unknown): string | undefined {
  if (snapshot === undefined) return undefined;
  const s = snapshot as Partial<CounterSnapshot>;
  if (!s || typeof s !== 'object') return '"counters" must be an object.';
  const isRecord = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  for (const part of ['windows', 'counters', 'buckets'] as const) if (s[part] !== undefined && !isRecord(s[part])) return `"counters.${part}" must be an object.`;
  for (const [key, entries] of Object.entries(s.windows ?? {})) {
    if (!Array.isArray(entries) || entries.some((e) => !isRecord(e) || typeof e.at !== 'number' || typeof e.amount !== 'number' || typeof e.expiresAt !== 'number')) {
      return `"counters.windows.${key}" must be an array of { at, amount, expiresAt } numbers.`;
    }
  }
  for (const [key, c] of Object.entries(s.counters ?? {})) if (!isRecord(c) || typeof c.value !== 'number' || typeof c.expiresAt !== 'number') return `"counters.counters.${key}" must be { value, expiresAt }.`;
  for (const [key, b] of Object.entries(s.buckets ?? {})) if (!isRecord(b) || typeof b.level !== 'number' || typeof b.updatedAt !== 'number') return `"counters.buckets.${key}" must be { level, updatedAt }.`;
  return undefined;
}
