import type { Router } from 'express';
import type { Emulator } from '../app.js';

/** GET /_emulator/backends: each backend (ARM-like: type, url, pool, circuitBreaker) with its breaker's state. */
export function addBackendRoutes(router: Router, emulator: Emulator): void {
  router.get('/backends', (_req, res) => {
    const breakers = emulator.backendRouter.state();
    res.json(
      emulator.config.backends.map((b) => ({
        id: b.id,
        type: b.type === 'pool' ? 'Pool' : 'Single',
        ...(b.type === 'pool' ? { pool: b.pool } : { url: b.url, transport: b.type }),
        ...(b.circuitBreaker ? { circuitBreaker: b.circuitBreaker, breaker: breakers[b.id] } : {}),
      })),
    );
  });
}
