import express, { Router, type Request, type Response } from 'express';
import type { Clock } from '../../policy-engine/index.js';
import { normalizeIp } from '../gateway/handler.js';
import type { EmulatorIdentity, MintTokenOptions } from './index.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export interface IdentityRouterOptions {
  identity: () => EmulatorIdentity;
  clock: Clock;
  /** Mint tokens for non-loopback clients too (the control plane's --control-plane-remote). */
  allowRemote: boolean;
  adminKey?: string;
}

/**
 * Under /_emulator/identity: the OpenID configuration and JWKS documents, shaped like login.microsoftonline.com's
 * (`/.well-known/openid-configuration`, `/{tenant}/v2.0/.well-known/openid-configuration`,
 * `/{tenant}/.well-known/openid-configuration`, `…/discovery[/v2.0]/keys`), public like Entra's; and
 * `POST /tokens` (JSON MintTokenOptions → `{ access_token, token_type, expires_in }`), guarded like the control plane.
 */
export function createIdentityRouter(options: IdentityRouterOptions): Router {
  const router = Router();
  const base = (req: Request) => `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;
  const config = (version: '1.0' | '2.0') => (req: Request, res: Response) => {
    res.json(options.identity().openIdDocument(base(req), req.params.tenant as string | undefined, version));
  };
  const keys = (_req: Request, res: Response) => void res.json(options.identity().jwks());

  router.get('/.well-known/openid-configuration', config('2.0'));
  router.get('/:tenant/v2.0/.well-known/openid-configuration', config('2.0'));
  router.get('/:tenant/.well-known/openid-configuration', config('1.0'));
  router.get(['/discovery/keys', '/discovery/v2.0/keys', '/:tenant/discovery/keys', '/:tenant/discovery/v2.0/keys'], keys);

  router.post('/tokens', express.json({ limit: '1mb' }), async (req, res) => {
    if (!options.allowRemote && !LOOPBACK.test(normalizeIp(req.socket.remoteAddress))) {
      return void res.status(403).json({ error: { code: 'Forbidden', message: 'Tokens are minted for loopback clients only (start with --control-plane-remote to change this).' } });
    }
    if (options.adminKey !== undefined && req.get('x-emulator-admin-key') !== options.adminKey) {
      return void res.status(401).json({ error: { code: 'Unauthorized', message: 'Missing or wrong x-emulator-admin-key header.' } });
    }
    const body = (req.body ?? {}) as MintTokenOptions;
    const problem = checkMintOptions(body);
    if (problem) return void res.status(400).json({ error: { code: 'InvalidTokenRequest', message: problem } });
    const token = await options.identity().mint(options.clock.now(), body);
    res.json({ access_token: token, token_type: 'Bearer', expires_in: body.noExpiration ? null : body.expiresInSeconds ?? 3600 });
  });
  return router;
}

/** A message naming the first invalid field of a token request, or undefined. */
export function checkMintOptions(o: unknown): string | undefined {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'the body must be a JSON object';
  const r = o as Record<string, unknown>;
  const strings = ['tenant', 'issuer', 'subject', 'clientId', 'scope'];
  for (const k of strings) if (r[k] !== undefined && typeof r[k] !== 'string') return `${k} must be a string`;
  if (r.audience !== undefined && typeof r.audience !== 'string' && !(Array.isArray(r.audience) && r.audience.every((a) => typeof a === 'string'))) {
    return 'audience must be a string or an array of strings';
  }
  if (r.version !== undefined && r.version !== '1.0' && r.version !== '2.0') return "version must be '1.0' or '2.0'";
  for (const k of ['expiresInSeconds', 'notBeforeSeconds']) if (r[k] !== undefined && !Number.isFinite(r[k])) return `${k} must be a number`;
  if (r.roles !== undefined && !(Array.isArray(r.roles) && r.roles.every((x) => typeof x === 'string'))) return 'roles must be an array of strings';
  if (r.claims !== undefined && (typeof r.claims !== 'object' || r.claims === null || Array.isArray(r.claims))) return 'claims must be an object';
  const known = [...strings, 'audience', 'version', 'expiresInSeconds', 'notBeforeSeconds', 'roles', 'claims', 'noExpiration'];
  const unknown = Object.keys(r).find((k) => !known.includes(k));
  return unknown ? `unknown field '${unknown}'; expected ${known.join(', ')}` : undefined;
}
