import { createRandom, type Random } from '../../mock-models/random.js';
import {
  BackendConnectionError,
  BackendTimeoutError,
  PolicyError,
  apimErrorBody,
  type Clock,
  type Forwarder,
  type GatewayResponse,
} from '../../policy-engine/index.js';
import type { BackendConfig } from '../config/schema.js';
import { CircuitBreaker, type CallOutcome } from './circuit-breaker.js';
import { breakerRules, isPoolType, poolMembers, type PoolMember } from './config.js';

/**
 * Load-balanced pools and circuit breakers (APIM backends of `type: Pool` and `circuitBreaker.rules`).
 *
 * A pool sends each call to one member: the lowest priority value that has a member whose breaker is closed, and
 * within that priority a member drawn by weight (seeded pseudo-random numbers, so a run is reproducible). A backend
 * whose breaker is open is skipped; when no member is left the call fails with 503 (the labs' "Backend pool … is
 * temporarily unavailable"). Breakers count each call's outcome on the injected clock.
 */
export interface BackendRouter {
  /** No pools and no circuit breakers: calls need no routing. */
  readonly empty: boolean;
  /** True when calls to `backendId` go through the router (a pool, or a backend with a circuit breaker). */
  governs(backendId: string): boolean;
  /** The backend that serves this call; throws APIM's 503 PolicyError when none can. */
  select(backendId: string): string;
  observe(backendId: string, outcome: CallOutcome): void;
  /** Breaker states by backend id (control plane, tests). */
  state(): Record<string, { open: boolean; until?: string; rule?: string }>;
  /** Closes every breaker and restarts the weighted draw. */
  reset(): void;
}

/** `backends` must have passed validateBackendRouting (resolveConfig runs it). */
export function createBackendRouter(backends: readonly BackendConfig[], clock: Clock, seed = 'backend-pools'): BackendRouter {
  const pools = new Map<string, PoolMember[]>();
  const breakers = new Map<string, CircuitBreaker>();
  for (const b of backends) {
    if (isPoolType(b.type)) pools.set(b.id, poolMembers(b));
    if (b.circuitBreaker) breakers.set(b.id, new CircuitBreaker(b.id, breakerRules(b), clock));
  }
  let random: Random = createRandom(seed);
  const available = (id: string) => !breakers.get(id)?.isOpen();

  return {
    empty: pools.size === 0 && breakers.size === 0,
    governs(backendId) {
      return pools.has(backendId) || breakers.has(backendId);
    },
    select(backendId) {
      const members = pools.get(backendId);
      if (!members) {
        if (available(backendId)) return backendId;
        throw unavailable(`Backend ${backendId} is temporarily unavailable`);
      }
      const open = members.filter((m) => available(m.id));
      if (open.length === 0) throw unavailable(`Backend pool ${backendId} is temporarily unavailable`);
      const best = Math.min(...open.map((m) => m.priority));
      const group = open.filter((m) => m.priority === best);
      return drawByWeight(group, random).id;
    },
    observe(backendId, outcome) {
      breakers.get(backendId)?.record(outcome);
    },
    state() {
      return Object.fromEntries([...breakers].map(([id, breaker]) => [id, breaker.state()]));
    },
    reset() {
      for (const breaker of breakers.values()) breaker.reset();
      random = createRandom(seed);
    },
  };
}

function drawByWeight(group: PoolMember[], random: Random): PoolMember {
  const total = group.reduce((sum, m) => sum + m.weight, 0);
  if (total <= 0) return random.pick(group);
  let x = random.next() * total;
  for (const m of group) {
    x -= m.weight;
    if (x < 0) return m;
  }
  return group[group.length - 1]!;
}

/** The gateway's own 503 when a pool has no member left or a single backend's breaker is open (enters on-error). */
function unavailable(statusReason: string): PolicyError {
  return new PolicyError({
    source: 'forward-request',
    reason: 'BackendUnavailable',
    message: `${statusReason}.`,
    response: { statusCode: 503, statusReason, body: apimErrorBody(503, statusReason) },
  });
}

/**
 * Wraps a forwarder: a call to a pool (or a backend with a breaker) goes to the member `select` picks, and its
 * outcome is recorded. `context.backend` keeps the pool id, so a retried set-backend-service + forward-request
 * picks again among the members still available.
 */
export function withBackendRouter(inner: Forwarder, router: BackendRouter): Forwarder {
  if (router.empty) return inner; // the gateway hot path stays as it was without pools or breakers
  return {
    forward(ctx, options) {
      const requested = ctx.backend.backendId;
      if (requested === undefined || !router.governs(requested)) return inner.forward(ctx, options);
      return routed(inner, router, ctx, options, requested);
    },
  };
}

type ForwardArgs = Parameters<Forwarder['forward']>;

async function routed(inner: Forwarder, router: BackendRouter, ctx: ForwardArgs[0], options: ForwardArgs[1], requested: string): Promise<GatewayResponse> {
  const member = router.select(requested);
  const chosen = ctx.backend;
  ctx.backend = { ...chosen, backendId: member };
  try {
    const response = await inner.forward(ctx, options);
    router.observe(member, { kind: 'response', statusCode: response.statusCode, retryAfter: response.headers.get('retry-after')?.[0] });
    return response;
  } catch (error) {
    if (error instanceof BackendTimeoutError) router.observe(member, { kind: 'error', reason: 'Timeout' });
    else if (error instanceof BackendConnectionError) router.observe(member, { kind: 'error', reason: 'BackendConnectionFailure' });
    throw error;
  } finally {
    ctx.backend = chosen;
  }
}
