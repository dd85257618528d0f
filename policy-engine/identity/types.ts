import type { JSONWebKeySet } from 'jose';
import { CsDateTime } from '../expressions/runtime/datetime.js';
import { StringDictionary } from '../expressions/runtime/host.js';
import { TYPE_NAME } from '../expressions/runtime/protocol.js';

/**
 * What the token policies ask the emulator about identities: the signing keys and issuers an `openid-config`
 * URL or an Entra tenant stands for (never fetched over the network), and the fake credentials
 * `get-authorization-context` hands out. Wired by the emulator (`emulator/identity/`).
 */
export interface IdentityService {
  /** Keys and issuers behind an OpenID configuration URL; undefined when the URL is not emulated. */
  openIdConfiguration(url: string): OpenIdKeySource | undefined;
  /** Keys and issuers of an Entra tenant (id, domain name, or common/organizations/consumers). */
  tenant(tenant: string): OpenIdKeySource;
  /** The credential of a configured connection (`provider-id` / `authorization-id`), or undefined. */
  authorizationContext(providerId: string, authorizationId: string): AuthorizationCredential | undefined;
  /** Add `WWW-Authenticate: Bearer error="invalid_token"` to token-validation 401s (default off). */
  readonly wwwAuthenticateOnFailure: boolean;
}

export interface OpenIdKeySource {
  /** Public keys (JWKS) that verify the issuer's signatures. */
  keys: JSONWebKeySet;
  /** Accepted `iss` values; an entry ending in `*` matches any suffix (multi-tenant endpoints). */
  issuers: readonly string[];
}

export interface AuthorizationCredential {
  accessToken: string;
  claims?: Record<string, string>;
}

/** APIM's `Jwt` as policy expressions see it (`(Jwt)context.Variables["jwt"]`). */
export class JwtToken {
  readonly [TYPE_NAME] = 'Jwt';
  readonly Claims: StringDictionary;
  constructor(
    private readonly header: Record<string, unknown>,
    private readonly payload: Record<string, unknown>,
    /** The compact token text. */
    readonly raw: string,
  ) {
    this.Claims = new StringDictionary(
      Object.entries(payload).map(([k, v]) => [k, Array.isArray(v) ? v.map(claimText) : [claimText(v)]] as [string, string[]]),
    );
  }
  get Algorithm(): string {
    return String(this.header.alg ?? '');
  }
  get Type(): string {
    return String(this.header.typ ?? '');
  }
  get Id(): string | null {
    return typeof this.payload.jti === 'string' ? this.payload.jti : null;
  }
  get Issuer(): string | null {
    return typeof this.payload.iss === 'string' ? this.payload.iss : null;
  }
  get Subject(): string | null {
    return typeof this.payload.sub === 'string' ? this.payload.sub : null;
  }
  get Audiences(): string[] {
    const aud = this.payload.aud;
    return aud === undefined ? [] : Array.isArray(aud) ? aud.map(String) : [String(aud)];
  }
  get ExpirationTime(): CsDateTime | null {
    return secondsToDate(this.payload.exp);
  }
  get NotBefore(): CsDateTime | null {
    return secondsToDate(this.payload.nbf);
  }
  get IssuedAt(): CsDateTime | null {
    return secondsToDate(this.payload.iat);
  }
}

/** APIM's `Authorization` (get-authorization-context): `AccessToken` and `Claims`. */
export class AuthorizationObject {
  readonly [TYPE_NAME] = 'Authorization';
  readonly Claims: StringDictionary;
  constructor(readonly AccessToken: string, claims: Record<string, string> = {}) {
    this.Claims = new StringDictionary(claims);
  }
}

function claimText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function secondsToDate(v: unknown): CsDateTime | null {
  return typeof v === 'number' && Number.isFinite(v) ? new CsDateTime(v * 1000) : null;
}
