import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JSONWebKeySet, JWK } from 'jose';
import type { AuthorizationCredential, IdentityService, OpenIdKeySource } from '../../policy-engine/identity/types.js';
import { ConfigError } from '../config/load.js';
import type { IdentityConfig } from '../config/schema.js';

/**
 * The emulator's stand-in for Microsoft Entra ID: one RS256 signing key (kept in the data directory, so tokens
 * minted before a restart stay valid), OpenID configuration + JWKS documents under /_emulator/identity/, token
 * minting for tests and the CLI, and the fake credential-manager connections of get-authorization-context.
 * Every tenant id and every login.microsoftonline.com / sts.windows.net URL maps to this key: nothing is fetched.
 */

/** The emulator's tenant when the configuration names none. */
export const DEFAULT_TENANT_ID = 'e3e1a7e0-0000-4000-8000-000000000001';
/** Audience of minted tokens when none is given. */
export const DEFAULT_AUDIENCE = 'api://ai-gateway-emulator';
/** Client application (appid / azp) of minted tokens when none is given. */
export const DEFAULT_CLIENT_ID = 'e3e1a7e0-0000-4000-8000-00000000c11e';
/** Subject / object id of minted tokens when none is given. */
export const DEFAULT_SUBJECT = 'e3e1a7e0-0000-4000-8000-00000000005e';
export const SIGNING_KEY_FILE = 'identity-signing-key.json';

const MULTI_TENANT = new Set(['common', 'organizations', 'consumers']);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ENTRA_HOSTS = new Set(['login.microsoftonline.com', 'login.windows.net', 'sts.windows.net', 'login.microsoft.com']);

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

export interface MintTokenOptions {
  /** `aud` (default identity.defaultAudience, else api://ai-gateway-emulator). */
  audience?: string | string[];
  /** Tenant id or domain: sets `tid` and the Entra issuer (default: the emulator's tenant). */
  tenant?: string;
  /** `iss` (default: the Entra issuer of the tenant for `version`). */
  issuer?: string;
  /** Token version: '2.0' (iss login.microsoftonline.com/{tid}/v2.0, azp) or '1.0' (iss sts.windows.net/{tid}/, appid). */
  version?: '1.0' | '2.0';
  /** `sub` and `oid` (default a fixed GUID). */
  subject?: string;
  /** Client application id: `azp` (v2) or `appid` (v1). */
  clientId?: string;
  /** `scp` (space-separated delegated scopes). */
  scope?: string;
  /** `roles` (app roles). */
  roles?: string[];
  /** Seconds from now until `exp` (default 3600; negative mints an expired token). */
  expiresInSeconds?: number;
  /** Seconds from now until `nbf` (default 0). */
  notBeforeSeconds?: number;
  /** Omit `exp`. */
  noExpiration?: boolean;
  /** More claims (override the defaults; `undefined` removes one). */
  claims?: Record<string, unknown>;
}

export interface EmulatorIdentity extends IdentityService {
  readonly tenantId: string;
  readonly signingKey: SigningKey;
  jwks(): JSONWebKeySet;
  /** Entra-shaped issuer of a tenant ('2.0' → login.microsoftonline.com/{id}/v2.0, '1.0' → sts.windows.net/{id}/). */
  issuerOf(tenant: string, version?: '1.0' | '2.0'): string;
  /** The OpenID configuration document served at `baseUrl`/_emulator/identity/… */
  openIdDocument(baseUrl: string, tenant: string | undefined, version: '1.0' | '2.0'): Record<string, unknown>;
  /** Signs a token at emulated time `nowMs`. */
  mint(nowMs: number, options?: MintTokenOptions): Promise<string>;
}

/**
 * The signing key: from the configuration (a private RSA JWK), else `<dataDir>/identity-signing-key.json`
 * (created on first use), else one key per process (in-memory emulators and tests).
 */
export function loadSigningKey(options: { jwk?: JWK; dataDir?: string }): SigningKey {
  if (options.jwk) {
    try {
      return signingKeyFrom(options.jwk);
    } catch (error) {
      throw new ConfigError(`identity.signingKey: ${(error as Error).message}`);
    }
  }
  if (options.dataDir) {
    const file = join(options.dataDir, SIGNING_KEY_FILE);
    if (existsSync(file)) return signingKeyFrom(JSON.parse(readFileSync(file, 'utf8')) as JWK);
    const key = generateSigningKey();
    mkdirSync(options.dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(key.privateKey.export({ format: 'jwk' }), null, 2)}\n`, { mode: 0o600 });
    return key;
  }
  processKey ??= generateSigningKey();
  return processKey;
}

let processKey: SigningKey | undefined;

function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return signingKeyFrom(privateKey.export({ format: 'jwk' }) as JWK);
}

function signingKeyFrom(jwk: JWK): SigningKey {
  if (jwk.kty !== 'RSA' || !jwk.d) throw new Error('a private RSA JWK (kty "RSA" with "d") is required');
  const privateKey = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  const pub = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  // RFC 7638 thumbprint of the public key as the key id (stable for a given key).
  const kid = jwk.kid ?? createHash('sha256').update(JSON.stringify({ e: pub.e, kty: 'RSA', n: pub.n })).digest('base64url');
  return { kid, privateKey, publicJwk: { kty: 'RSA', n: pub.n!, e: pub.e!, kid, use: 'sig', alg: 'RS256' } };
}

/** Throws ConfigError naming the first invalid field of the identity section. */
export function checkIdentityConfig(config: IdentityConfig): void {
  const fail = (path: string, message: string): never => {
    throw new ConfigError(`identity.${path}: ${message}`);
  };
  if (typeof config !== 'object' || config === null || Array.isArray(config)) fail('', 'must be an object');
  const known = ['tenantId', 'defaultAudience', 'clientApplicationId', 'signingKey', 'openIdConfigurations', 'authorizations', 'wwwAuthenticateOnFailure'];
  for (const k of Object.keys(config)) if (!known.includes(k)) fail(k, `unknown setting; expected one of ${known.join(', ')}`);
  if (config.tenantId !== undefined && !(typeof config.tenantId === 'string' && GUID.test(config.tenantId))) fail('tenantId', 'must be a GUID');
  for (const k of ['defaultAudience', 'clientApplicationId'] as const) if (config[k] !== undefined && typeof config[k] !== 'string') fail(k, 'must be a string');
  for (const [url, v] of Object.entries(config.openIdConfigurations ?? {})) {
    if (typeof v?.issuer !== 'string' || v.issuer === '') fail(`openIdConfigurations["${url}"].issuer`, 'must be the issuer (iss) its tokens carry');
  }
  (config.authorizations ?? []).forEach((a, i) => {
    for (const k of ['providerId', 'authorizationId', 'accessToken'] as const) if (typeof a?.[k] !== 'string' || a[k] === '') fail(`authorizations[${i}].${k}`, 'must be a non-empty string');
  });
}

/**
 * Without `key`, a configured JWK is read now (an invalid one fails the start) and otherwise a key is generated at the
 * first signature or key-set read: generating an RSA key costs ~0.1 s of start-up, and most runs never mint or
 * validate an emulator token.
 */
export function createIdentity(config: IdentityConfig = {}, key?: SigningKey): EmulatorIdentity {
  checkIdentityConfig(config);
  let loaded = key ?? (config.signingKey ? loadSigningKey({ jwk: config.signingKey }) : undefined);
  const signingKey = (): SigningKey => (loaded ??= loadSigningKey({}));
  const tenantId = config.tenantId ?? DEFAULT_TENANT_ID;
  // One object for the emulator's life (validators cache their key set by it); its key list is read on first use.
  let list: JSONWebKeySet['keys'] | undefined;
  const keys = {
    get keys() {
      return (list ??= [signingKey().publicJwk]);
    },
  } as JSONWebKeySet;
  const tenantIdOf = (tenant: string) => (GUID.test(tenant) ? tenant.toLowerCase() : tenantId);
  const issuerOf = (tenant: string, version: '1.0' | '2.0' = '2.0') =>
    version === '1.0' ? `https://sts.windows.net/${tenantIdOf(tenant)}/` : `https://login.microsoftonline.com/${tenantIdOf(tenant)}/v2.0`;
  const tenantSource = (tenant: string, versions: Array<'1.0' | '2.0'> = ['2.0', '1.0']): OpenIdKeySource => {
    // Multi-tenant metadata has a templated issuer ({tenantid}): any Entra issuer of either version is accepted.
    if (MULTI_TENANT.has(tenant.toLowerCase())) return { keys, issuers: ['https://sts.windows.net/*', 'https://login.microsoftonline.com/*'] };
    return { keys, issuers: versions.map((v) => issuerOf(tenant, v)) };
  };
  const extra = new Map(Object.entries(config.openIdConfigurations ?? {}).map(([url, v]) => [url.trim(), v]));

  return {
    tenantId,
    get signingKey() {
      return signingKey();
    },
    wwwAuthenticateOnFailure: config.wwwAuthenticateOnFailure ?? false,
    jwks: () => keys,
    issuerOf,
    tenant: (tenant) => tenantSource(tenant),
    openIdConfiguration(url) {
      const configured = extra.get(url.trim());
      if (configured) return { keys, issuers: [configured.issuer] };
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        return undefined;
      }
      let path: string;
      if (ENTRA_HOSTS.has(parsed.hostname.toLowerCase())) path = parsed.pathname;
      else if (parsed.pathname.startsWith('/_emulator/identity/')) path = parsed.pathname.slice('/_emulator/identity'.length);
      else return undefined;
      const m = /^\/(?:([^/]+)\/)?(v2\.0\/)?\.well-known\/openid-configuration$/.exec(path);
      if (!m) return undefined;
      const tenant = m[1] ? decodeURIComponent(m[1]) : tenantId;
      return tenantSource(tenant, [m[2] ? '2.0' : parsed.hostname === 'sts.windows.net' || m[1] ? '1.0' : '2.0']);
    },
    authorizationContext(providerId, authorizationId): AuthorizationCredential | undefined {
      const found = (config.authorizations ?? []).find(
        (a) => (a.providerId === '*' || a.providerId === providerId) && (a.authorizationId === '*' || a.authorizationId === authorizationId),
      );
      return found ? { accessToken: found.accessToken, ...(found.claims ? { claims: found.claims } : {}) } : undefined;
    },
    openIdDocument(baseUrl, tenant, version) {
      const t = tenant ?? tenantId;
      const root = `${baseUrl}/_emulator/identity${tenant ? `/${encodeURIComponent(tenant)}` : ''}`;
      const issuer = MULTI_TENANT.has(t.toLowerCase())
        ? version === '1.0' ? 'https://sts.windows.net/{tenantid}/' : 'https://login.microsoftonline.com/{tenantid}/v2.0'
        : issuerOf(t, version);
      return {
        issuer,
        jwks_uri: `${root}/discovery${version === '2.0' ? '/v2.0' : ''}/keys`,
        token_endpoint: `${baseUrl}/_emulator/identity/${encodeURIComponent(t)}/oauth2${version === '2.0' ? '/v2.0' : ''}/token`,
        grant_types_supported: ['client_credentials'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['client_secret_post'],
        tenant_region_scope: 'EU',
      };
    },
    async mint(nowMs, o = {}) {
      const version = o.version ?? '2.0';
      const tenant = o.tenant ?? tenantId;
      const now = Math.floor(nowMs / 1000);
      const subject = o.subject ?? DEFAULT_SUBJECT;
      const clientId = o.clientId ?? config.clientApplicationId ?? DEFAULT_CLIENT_ID;
      const claims: Record<string, unknown> = {
        aud: o.audience ?? config.defaultAudience ?? DEFAULT_AUDIENCE,
        iss: o.issuer ?? issuerOf(tenant, version),
        iat: now,
        nbf: now + (o.notBeforeSeconds ?? 0),
        ...(o.noExpiration ? {} : { exp: now + (o.expiresInSeconds ?? 3600) }),
        sub: subject,
        oid: subject,
        tid: tenantIdOf(tenant),
        [version === '1.0' ? 'appid' : 'azp']: clientId,
        ver: version,
        name: 'Emulator User',
        preferred_username: 'user@emulator.local',
        ...(o.scope ? { scp: o.scope } : {}),
        ...(o.roles ? { roles: o.roles } : {}),
        ...o.claims,
      };
      for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
      const { SignJWT } = await import('jose'); // loaded at the first token, not at start
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: signingKey().kid }).sign(signingKey().privateKey);
    },
  };
}

export { createIdentityRouter } from './routes.js';
