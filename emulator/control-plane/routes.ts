import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { ClockControlError, PolicyLoadError, scopeKey, type PolicyScope } from '../../policy-engine/index.js';
import type { Emulator } from '../app.js';
import { normalizeIp } from '../gateway/handler.js';
import { addDeploymentRoutes, type DeploymentStore } from './deployments.js';
import { addDashboardRoutes } from './dashboard.js';
import { addModelAndStateRoutes } from './models-and-state.js';
import { addBackendRoutes } from './backends.js';
import { addNamedValueRoutes } from './named-values.js';
import { addEventHubRoutes, addFragmentRoutes } from './fragments-and-eventhub.js';
import { addMessageRoutes } from './messages.js';
import { clusterHealth } from '../cluster/cluster.js';

export interface ControlPlaneOptions {
  emulator: Emulator;
  /** Accept requests from non-loopback addresses (default: loopback only). */
  allowRemote: boolean;
  /** When set, every request must carry `x-emulator-admin-key: <key>`. */
  adminKey?: string;
  /** Resource groups and lab deployments (`az group …`, `az deployment group …`). */
  deployments?: DeploymentStore;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * The emulator's own surface under /_emulator/ — the only non-Azure routes. Never under an API path.
 * Errors use `{ "error": { "code", "message", "details"? } }`.
 */
export function createControlPlaneRouter(options: ControlPlaneOptions): Router {
  const { emulator } = options;
  const router = Router();

  router.use((req, res, next) => {
    if (!options.allowRemote && !LOOPBACK.test(normalizeIp(req.socket.remoteAddress))) {
      return void fail(res, 403, 'Forbidden', 'The control plane only answers loopback clients (start with --control-plane-remote to change this).');
    }
    // The dashboard's page and assets hold no data: served without the key (its own calls send the key it is given).
    const dashboardAsset = (req.method === 'GET' || req.method === 'HEAD') && (req.path === '/ui' || req.path.startsWith('/ui/'));
    if (options.adminKey !== undefined && !dashboardAsset && req.get('x-emulator-admin-key') !== options.adminKey) {
      return void fail(res, 401, 'Unauthorized', 'Missing or wrong x-emulator-admin-key header.');
    }
    next();
  });
  router.use(express.json({ limit: '10mb', type: ['application/json', 'application/*+json'] }));
  router.use(express.text({ limit: '10mb', type: ['application/xml', 'text/xml', 'text/plain', 'application/vnd.ms-azure-apim.policy.raw+xml'] }));

  router.get('/health', (_req, res) => {
    const telemetry = emulator.telemetry.health?.();
    res.json({ status: 'ok', clock: emulator.clock.state(), ...(telemetry ? { telemetry } : {}), ...clusterHealth() });
  });

  router.get('/subscriptions', (_req, res) => {
    res.json(
      emulator.config.subscriptions.map((s) => ({
        name: s.name,
        displayName: s.displayName,
        primaryKey: s.primaryKey,
        secondaryKey: s.secondaryKey,
        state: s.state,
        scope: s.scopeText,
      })),
    );
  });

  // ?telemetry=false keeps the App Insights rows (counters, mock state and policies are reset either way).
  router.post('/reset', async (req, res) => {
    const telemetry = req.query.telemetry !== 'false';
    await emulator.reset({ telemetry });
    res.json({ status: 'reset', telemetry: telemetry ? 'cleared' : 'kept', clock: emulator.clock.state() });
  });

  router.get('/clock', (_req, res) => {
    res.json(emulator.clock.state());
  });

  router.post('/clock', (req, res) => {
    const body = (req.body ?? {}) as { advanceMs?: unknown; freeze?: unknown; setMs?: unknown; advance?: unknown };
    const clock = emulator.clock;
    try {
      if (typeof body !== 'object' || Array.isArray(body)) throw new ClockControlError('Expected a JSON object.');
      const known = ['advanceMs', 'advance', 'freeze', 'setMs'];
      const unknown = Object.keys(body).filter((k) => !known.includes(k));
      if (unknown.length > 0) throw new ClockControlError(`Unknown field(s) ${unknown.join(', ')}; use advanceMs, freeze or setMs.`);
      if (Object.keys(body).length === 0) throw new ClockControlError('Send { "advanceMs": n }, { "freeze": true|false } or { "setMs": epochMs }.');
      if (body.freeze !== undefined) {
        if (typeof body.freeze !== 'boolean') throw new ClockControlError('freeze must be true or false.');
        if (body.freeze) clock.freeze();
        else clock.unfreeze();
      }
      if (body.setMs !== undefined) {
        if (typeof body.setMs !== 'number') throw new ClockControlError('setMs must be epoch milliseconds.');
        clock.set(body.setMs);
      }
      if (body.advanceMs !== undefined) {
        if (typeof body.advanceMs !== 'number') throw new ClockControlError('advanceMs must be a number of milliseconds.');
        clock.advance(body.advanceMs);
      }
      if (body.advance !== undefined) {
        if (typeof body.advance !== 'string' && typeof body.advance !== 'number') throw new ClockControlError("advance must be a duration such as '61s'.");
        clock.advance(body.advance);
      }
      res.json(clock.state());
    } catch (error) {
      if (error instanceof ClockControlError) return void fail(res, clock.mode === 'virtual' ? 400 : 409, 'InvalidClockOperation', error.message);
      throw error;
    }
  });

  // Policies at ARM-like scope paths; the body is the raw policy XML.
  const scopeRoutes: Array<[string, (p: Record<string, string>) => PolicyScope]> = [
    ['/policies/global', () => ({ kind: 'global' })],
    ['/policies/products/:productId', (p) => ({ kind: 'product', productId: p.productId! })],
    ['/policies/apis/:apiId', (p) => ({ kind: 'api', apiId: p.apiId! })],
    ['/policies/apis/:apiId/operations/:operationId', (p) => ({ kind: 'operation', apiId: p.apiId!, operationId: p.operationId! })],
  ];
  for (const [path, toScope] of scopeRoutes) {
    router.get(path, (req, res) => {
      const scope = toScope(req.params as Record<string, string>);
      const policy = emulator.engine.getPolicy(scope);
      if (!policy) return void fail(res, 404, 'PolicyNotFound', `No policy at scope '${scopeKey(scope)}'.`);
      res.type('application/xml').send(policy.xml);
    });
    router.put(path, (req, res) => {
      const scope = toScope(req.params as Record<string, string>);
      const problem = checkScope(emulator, scope);
      if (problem) return void fail(res, 404, 'ScopeNotFound', problem);
      if (typeof req.body !== 'string' || req.body.trim() === '') {
        return void fail(res, 400, 'InvalidPolicy', 'Send the policy XML as the request body (Content-Type: application/xml).');
      }
      try {
        emulator.setPolicy(scope, req.body);
        res.json({ scope: scopeKey(scope), status: 'loaded' });
      } catch (error) {
        if (error instanceof PolicyLoadError) {
          return void res.status(400).json({ error: { code: 'ValidationError', message: 'The policy failed to load; the previous policy stays in force.', details: error.toJSON() } });
        }
        throw error;
      }
    });
    router.delete(path, (req, res) => {
      const scope = toScope(req.params as Record<string, string>);
      const removed = emulator.engine.removePolicy(scope);
      res.status(removed ? 200 : 404).json({ scope: scopeKey(scope), status: removed ? 'deleted' : 'absent' });
    });
  }

  addModelAndStateRoutes(router, emulator, (res) => (status, code, message) => fail(res, status, code, message));
  addNamedValueRoutes(router, emulator, fail);
  addFragmentRoutes(router, emulator, fail);
  addEventHubRoutes(router, emulator, fail);
  addMessageRoutes(router, emulator, fail);
  addBackendRoutes(router, emulator);
  addDashboardRoutes(router, emulator);
  if (options.deployments) addDeploymentRoutes(router, emulator, options.deployments, fail);

  router.use((req, res) => fail(res, 404, 'NotFound', `No control-plane route ${req.method} /_emulator${req.path}.`));
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: number; type?: string }).status;
    if (status === 400 && (error as { type?: string }).type === 'entity.parse.failed') {
      return void fail(res, 400, 'InvalidJson', `Malformed JSON body: ${(error as Error).message}`);
    }
    fail(res, status ?? 500, status ? 'BadRequest' : 'InternalError', error instanceof Error ? error.message : String(error));
  });
  return router;
}

function checkScope(emulator: Emulator, scope: PolicyScope): string | undefined {
  if (scope.kind === 'product' && !emulator.config.products.some((p) => p.id === scope.productId)) return `Unknown product '${scope.productId}'.`;
  if (scope.kind === 'api' || scope.kind === 'operation') {
    const api = emulator.config.apis.find((a) => a.id === scope.apiId);
    if (!api) return `Unknown API '${scope.apiId}'.`;
    if (scope.kind === 'operation' && !api.operations.some((o) => o.id === scope.operationId)) return `Unknown operation '${scope.operationId}' of API '${scope.apiId}'.`;
  }
  return undefined;
}

function fail(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}
