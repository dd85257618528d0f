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
 * `POST /tokens` (JSON MintTokenOptions → `{ access_token, token_type, expires_in }`) and Entra's client-credentials
 * token endpoints (`POST /{tenant}/oauth2/v2.0/token` with `scope=<app>/.default`, `POST /{tenant}/oauth2/token`
 * with `resource=<app>`; any client secret is accepted), guarded like the control plane.
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

  const guard = (req: Request, res: Response, next: () => void) => {
    if (!options.allowRemote && !LOOPBACK.test(normalizeIp(req.socket.remoteAddress))) {
      return void res.status(403).json({ error: { code: 'Forbidden', message: 'Tokens are minted for loopback clients only (start with --control-plane-remote to change this).' } });
    }
    if (options.adminKey !== undefined && req.get('x-emulator-admin-key') !== options.adminKey) {
      return void res.status(401).json({ error: { code: 'Unauthorized', message: 'Missing or wrong x-emulator-admin-key header.' } });
    }
    next();
  };

  const oauthToken = (version: '1.0' | '2.0') => async (req: Request, res: Response) => {
    const form = (req.body ?? {}) as Record<string, string | undefined>;
    const oauthError = (error: string, description: string) => void res.status(400).json({ error, error_description: description });
    if (form.grant_type !== 'client_credentials') return oauthError('unsupported_grant_type', "The emulator's token endpoint supports grant_type=client_credentials only.");
    if (!form.client_id) return oauthError('invalid_request', "The request body must contain the 'client_id' parameter.");
    const audience = version === '2.0' ? form.scope?.trim().replace(/\/\.default$/, '') : form.resource?.trim();
    if (!audience) return oauthError('invalid_scope', version === '2.0' ? "The request body must contain a 'scope' of the form '<app id URI>/.default'." : "The request body must contain the 'resource' parameter.");
    const expiresIn = 3599;
    const token = await options.identity().mint(options.clock.now(), {
      audience,
      tenant: req.params.tenant as string,
      version,
      clientId: form.client_id,
      subject: form.client_id,
      expiresInSeconds: expiresIn,
      claims: { name: undefined, preferred_username: undefined, idtyp: 'app' },
    });
    res.json({ token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token });
  };
  const form = express.urlencoded({ extended: false, limit: '1mb' });
  router.post('/:tenant/oauth2/v2.0/token', guard, form, oauthToken('2.0'));
  router.post('/:tenant/oauth2/token', guard, form, oauthToken('1.0'));

  router.post('/tokens', guard, express.json({ limit: '1mb' }), async (req, res) => {
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
