import type { JSONWebKeySet } from 'jose';
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

/** APIM's `Jwt` (validate-jwt's output-token-variable-name, `AsJwt()`): one class, in the expression runtime. */
export { Jwt as JwtToken } from '../expressions/runtime/apim-extensions.js';

/** APIM's `Authorization` (get-authorization-context): `AccessToken` and `Claims`. */
export class AuthorizationObject {
  readonly [TYPE_NAME] = 'Authorization';
  readonly Claims: StringDictionary;
  constructor(readonly AccessToken: string, claims: Record<string, string> = {}) {
    this.Claims = new StringDictionary(claims);
  }
}
