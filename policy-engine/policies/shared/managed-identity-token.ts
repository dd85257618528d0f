/**
 * Fake managed-identity access tokens: unsigned JWT-shaped strings (`alg: none`) that look like what a managed
 * identity puts in `Authorization`, and are never valid in Azure. Used by `authentication-managed-identity` and by
 * the gateway for backends configured with a managed-identity resource.
 */
import type { EngineServices } from '../../pipeline/types.js';

/** Lifetime of a fake token (Entra managed-identity tokens live about an hour or more). */
export const MANAGED_IDENTITY_TOKEN_LIFETIME_SECONDS = 3600;
/** A cached token is replaced this long before it expires, as the Azure identity libraries refresh early. */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

const ISSUER = 'https://sts.emulator.local/';
const SUBJECT = 'apim-emulator-managed-identity';

export interface ManagedIdentityTokenOptions {
  /** A user-assigned identity's client id (claims `appid` and `azp`); omitted = the system-assigned identity. */
  clientId?: string | undefined;
}

/** An unsigned JWT-shaped token for `resource`, issued at `nowMs` (epoch ms from the injected clock). */
export function fakeManagedIdentityToken(resource: string, nowMs: number, options: ManagedIdentityTokenOptions = {}): string {
  const iat = Math.floor(nowMs / 1000);
  const claims: Record<string, unknown> = { aud: resource, iss: ISSUER, iat, nbf: iat, exp: iat + MANAGED_IDENTITY_TOKEN_LIFETIME_SECONDS, sub: SUBJECT };
  if (options.clientId) {
    claims.appid = options.clientId;
    claims.azp = options.clientId;
  }
  return `${base64Url({ alg: 'none', typ: 'JWT' })}.${base64Url(claims)}.`;
}

function base64Url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

interface CachedToken {
  token: string;
  expiresAtMs: number;
}

const caches = new WeakMap<EngineServices, Map<string, CachedToken>>();

/**
 * The token for (resource, client id), cached per engine until shortly before it expires, as APIM caches the
 * managed identity's tokens: repeated requests within the hour carry the same token.
 */
export function managedIdentityToken(services: EngineServices, resource: string, clientId?: string): string {
  let cache = caches.get(services);
  if (!cache) caches.set(services, (cache = new Map()));
  const key = `${clientId ?? ''}\u0000${resource}`;
  const now = services.clock.now();
  const cached = cache.get(key);
  if (cached && now < cached.expiresAtMs - REFRESH_BEFORE_EXPIRY_MS && now >= cached.expiresAtMs - MANAGED_IDENTITY_TOKEN_LIFETIME_SECONDS * 1000) {
    return cached.token;
  }
  const token = fakeManagedIdentityToken(resource, now, { clientId });
  cache.set(key, { token, expiresAtMs: (Math.floor(now / 1000) + MANAGED_IDENTITY_TOKEN_LIFETIME_SECONDS) * 1000 });
  return token;
}
