import { createPublicKey, type KeyObject } from 'node:crypto';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import { AuthorizationObject, JwtToken, type IdentityService, type OpenIdKeySource } from '../../identity/types.js';
import { apimErrorBody, PolicyError } from '../../pipeline/last-error.js';
import type { RequestContext } from '../../pipeline/types.js';
import type { PolicyElement } from '../../xml/model.js';
import type { CompileEnv, ValueSource } from '../define.js';

/**
 * What validate-jwt and validate-azure-ad-token share: where the token comes from, the list elements
 * (audiences, issuers, required-claims, application ids), verification with `jose` and APIM's failures
 * (api-management-error-handling-policies.md, "Predefined errors for policies": Reason and Message per cause).
 */

export type PolicyName = 'validate-jwt' | 'validate-azure-ad-token';

export interface TokenSource {
  header?: ValueSource<string>;
  query?: ValueSource<string>;
  value?: ValueSource<string>;
  /** validate-jwt `require-scheme` (only with the Authorization header). */
  scheme?: ValueSource<string>;
}

export interface RequiredClaim {
  name: string;
  match: 'all' | 'any';
  separator: string | undefined;
  values: ValueSource<string>[];
}

export interface FailureSettings {
  status: ValueSource<number>;
  message: ValueSource<string> | undefined;
}

/** Compiles `<list><item>…</item>…</list>`, reporting other children; undefined when the list is absent. */
export function compileList(env: CompileEnv, parent: PolicyElement, listName: string, itemName: string): ValueSource<string>[] | undefined {
  const lists = parent.children.filter((c) => c.name === listName);
  if (lists.length === 0) return undefined;
  if (lists.length > 1) env.report('PolAttributeConflict', lists[1]!.nameSpan, [parent.name, `only one <${listName}> is allowed`]);
  const list = lists[0]!;
  for (const a of list.attributes) env.report('PolUnknownAttribute', a.nameSpan, [listName, a.name]);
  const items: ValueSource<string>[] = [];
  for (const child of list.children) {
    if (child.name !== itemName) {
      env.report('PolInvalidChild', child.nameSpan, [listName, child.name]);
      continue;
    }
    const text = env.text(child, { trim: true });
    if (text) items.push(text);
  }
  if (items.length === 0) env.report('PolMissingChild', list.nameSpan, [listName, itemName]);
  return items;
}

export function compileRequiredClaims(env: CompileEnv, parent: PolicyElement): RequiredClaim[] {
  const list = parent.children.find((c) => c.name === 'required-claims');
  if (!list) return [];
  const claims: RequiredClaim[] = [];
  for (const claim of list.children) {
    if (claim.name !== 'claim') {
      env.report('PolInvalidChild', claim.nameSpan, ['required-claims', claim.name]);
      continue;
    }
    for (const a of claim.attributes) {
      if (!['name', 'match', 'separator'].includes(a.name)) env.report('PolUnknownAttribute', a.nameSpan, ['claim', a.name]);
    }
    const name = env.attr(claim, 'name', { kind: 'string', required: true, expressions: false });
    const match = env.attr(claim, 'match', { kind: 'enum', values: ['all', 'any'], default: 'all', expressions: false });
    const separator = env.attr(claim, 'separator', { kind: 'string', expressions: false });
    const values: ValueSource<string>[] = [];
    for (const v of claim.children) {
      if (v.name !== 'value') env.report('PolInvalidChild', v.nameSpan, ['claim', v.name]);
      else {
        const text = env.text(v, { trim: true });
        if (text) values.push(text);
      }
    }
    if (name && match) claims.push({ name: name.constant!, match: match.constant as 'all' | 'any', separator: separator?.constant, values });
  }
  return claims;
}

export function compileFailureSettings(env: CompileEnv, node: PolicyElement): FailureSettings | undefined {
  const status = env.attr(node, 'failed-validation-httpcode', { kind: 'int', default: 401, min: 100, max: 599 });
  const message = env.attr(node, 'failed-validation-error-message', { kind: 'string' });
  return status ? { status, message } : undefined;
}

/** Fails the request the way the policy does: configured status and message, LastError with APIM's Reason. */
export function fail(ctx: RequestContext, policy: PolicyName, failure: FailureSettings, reason: string, detail: string): never {
  const status = failure.status.get(ctx);
  const message = failure.message?.get(ctx) || detail;
  const headers: Record<string, string> = {};
  if (status === 401 && ctx.services.identity?.wwwAuthenticateOnFailure) headers['WWW-Authenticate'] = 'Bearer error="invalid_token"';
  throw new PolicyError({ source: policy, reason, message: detail, response: { statusCode: status, headers, body: apimErrorBody(status, message) } });
}

/** The token text from the header (scheme stripped), query parameter or expression; undefined when absent. */
export function extractToken(ctx: RequestContext, source: TokenSource, fallbackHeader: string | undefined, onSchemeMismatch: () => never): string | undefined {
  if (source.value) return source.value.get(ctx).trim() || undefined;
  if (source.query) return ctx.request.url.searchParams.get(source.query.get(ctx))?.trim() || undefined;
  const headerName = source.header?.get(ctx) ?? fallbackHeader;
  if (!headerName) return undefined;
  const raw = ctx.request.headers.get(headerName)?.[0]?.trim();
  if (!raw) return undefined;
  const isAuthorization = headerName.toLowerCase() === 'authorization';
  const scheme = source.scheme?.get(ctx);
  const space = raw.indexOf(' ');
  if (isAuthorization && scheme) {
    if (space < 0 || raw.slice(0, space).toLowerCase() !== scheme.toLowerCase()) onSchemeMismatch();
    return raw.slice(space + 1).trim() || undefined;
  }
  // APIM reads "Bearer <token>" from the Authorization header without require-scheme too.
  if (isAuthorization && space > 0 && raw.slice(0, space).toLowerCase() === 'bearer') return raw.slice(space + 1).trim() || undefined;
  return raw;
}

/** A key to try: a key set from an OpenID configuration / tenant, or an inline `<key>`. */
export type VerificationKey = { kind: 'jwks'; keys: JSONWebKeySet } | { kind: 'key'; key: KeyObject | Uint8Array; id: string | undefined };

/** jose (~70 ms of imports) loads at the first token validation, not at start. */
let jose: Promise<typeof import('jose')> | undefined;
const loadJose = () => (jose ??= import('jose'));

const KEY_SETS = new WeakMap<object, JWTVerifyGetKey>();

export function keySetFrom(source: OpenIdKeySource): VerificationKey {
  return { kind: 'jwks', keys: source.keys };
}

/** One jose key set per JWKS object (it caches the imported keys). */
function localKeySet(j: typeof import('jose'), keys: JSONWebKeySet): JWTVerifyGetKey {
  let set = KEY_SETS.get(keys);
  if (!set) KEY_SETS.set(keys, (set = j.createLocalJWKSet(keys)));
  return set;
}

/** Compiles `<issuer-signing-keys><key [id] [n e]>base64</key></issuer-signing-keys>` (certificate-id is not emulated). */
export function compileSigningKeys(env: CompileEnv, node: PolicyElement): Array<(ctx: RequestContext) => VerificationKey | undefined> | undefined {
  const list = node.children.find((c) => c.name === 'issuer-signing-keys');
  if (!list) return [];
  let ok = true;
  const keys: Array<(ctx: RequestContext) => VerificationKey | undefined> = [];
  for (const key of list.children) {
    if (key.name !== 'key') {
      env.report('PolInvalidChild', key.nameSpan, ['issuer-signing-keys', key.name]);
      ok = false;
      continue;
    }
    const attrs = new Map(key.attributes.map((a) => [a.name, a]));
    for (const a of key.attributes) if (!['id', 'n', 'e', 'certificate-id'].includes(a.name)) env.report('PolUnknownAttribute', a.nameSpan, ['key', a.name]);
    const id = attrs.get('id')?.value;
    const certificate = attrs.get('certificate-id');
    if (certificate) {
      env.report('PolInvalidAttributeValue', certificate.valueSpan, ['key', 'certificate-id', certificate.value, 'certificates are not emulated; give the public key as n and e, or point openid-config at the emulator']);
      ok = false;
      continue;
    }
    const n = attrs.get('n');
    const e = attrs.get('e');
    if (n || e) {
      try {
        const publicKey = createPublicKey({ key: { kty: 'RSA', n: n?.value ?? '', e: e?.value ?? '' }, format: 'jwk' });
        keys.push(() => ({ kind: 'key', key: publicKey, id }));
      } catch (error) {
        const at = (n ?? e)!;
        env.report('PolInvalidAttributeValue', at.valueSpan, ['key', at.name, at.value, `not an RSA modulus/exponent pair (${(error as Error).message})`]);
        ok = false;
      }
      continue;
    }
    const text = env.text(key, { trim: true });
    if (!text) {
      env.report('PolInvalidAttributeValue', key.nameSpan, ['key', 'value', '', 'a Base64-encoded signing key is required']);
      ok = false;
      continue;
    }
    keys.push((ctx) => {
      const bytes = Buffer.from(text.get(ctx), 'base64');
      return bytes.length === 0 ? undefined : { kind: 'key', key: new Uint8Array(bytes), id };
    });
  }
  return ok ? keys : undefined;
}

export interface VerifyOptions {
  policy: PolicyName;
  failure: FailureSettings;
  keys: VerificationKey[];
  /** Issuers accepted in addition to the policy's `<issuers>` (from openid-config / the tenant). */
  allowedIssuers: readonly string[];
  audiences: string[] | undefined;
  requireExpiration: boolean;
  requireSigned: boolean;
  clockSkewSeconds: number;
  requiredClaims: RequiredClaim[];
}

/** Verifies signature, lifetime, issuer, audience and required claims; fails the request as APIM does. */
export async function verifyToken(ctx: RequestContext, token: string, o: VerifyOptions): Promise<{ payload: JWTPayload; header: Record<string, unknown> }> {
  const j = await loadJose();
  let header: Record<string, unknown>;
  let unverified: JWTPayload;
  try {
    header = j.decodeProtectedHeader(token) as Record<string, unknown>;
    unverified = j.decodeJwt(token);
  } catch {
    return fail(ctx, o.policy, o.failure, 'JwtInvalid', 'JWT is not well formed, there are no dots (.) or the segments cannot be decoded.');
  }
  const now = ctx.services.clock.now();
  let payload: JWTPayload | undefined;
  if (header.alg === 'none') {
    if (o.requireSigned) return fail(ctx, o.policy, o.failure, 'TokenSignatureInvalid', 'Unable to validate signature, token does not have a signature. Access denied.');
    payload = unverified;
    checkLifetime(ctx, o, payload, now);
  } else {
    let lastFailure: { reason: string; detail: string } | undefined;
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    for (const key of o.keys) {
      if (key.kind === 'key' && key.id !== undefined && kid !== undefined && key.id !== kid) continue;
      try {
        // Lifetime is checked below with APIM's messages; jose verifies the signature only.
        const result = key.kind === 'jwks'
          ? await j.jwtVerify(token, localKeySet(j, key.keys), { currentDate: new Date(now), clockTolerance: Number.MAX_SAFE_INTEGER })
          : await j.jwtVerify(token, key.key, { currentDate: new Date(now), clockTolerance: Number.MAX_SAFE_INTEGER });
        payload = result.payload;
        break;
      } catch (error) {
        lastFailure = joseFailure(j.errors, error, kid);
      }
    }
    if (!payload) {
      const f = lastFailure ?? { reason: 'TokenSignatureKeyNotFound', detail: `Signature validation failed. Unable to match key: kid: '${kid ?? ''}'. Access denied.` };
      return fail(ctx, o.policy, o.failure, f.reason, f.detail);
    }
    checkLifetime(ctx, o, payload, now);
  }
  const issuer = typeof payload.iss === 'string' ? payload.iss : '';
  if (o.allowedIssuers.length > 0 && !o.allowedIssuers.some((i) => issuerMatches(i, issuer))) {
    fail(ctx, o.policy, o.failure, 'TokenIssuerNotAllowed', `Issuer validation failed. Issuer: '${issuer}'. Did not match: validationParameters.ValidIssuers: '${o.allowedIssuers.join(', ')}'. Access denied.`);
  }
  if (o.audiences !== undefined) {
    const tokenAudiences = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!tokenAudiences.some((a) => o.audiences!.includes(a))) {
      fail(ctx, o.policy, o.failure, 'TokenAudienceNotAllowed', `Audience validation failed. Audiences: '${tokenAudiences.join(', ')}'. Did not match: validationParameters.ValidAudiences: '${o.audiences.join(', ')}'. Access denied.`);
    }
  }
  checkRequiredClaims(ctx, o, payload);
  return { payload, header };
}

function checkLifetime(ctx: RequestContext, o: VerifyOptions, payload: JWTPayload, now: number): void {
  const skewMs = o.clockSkewSeconds * 1000;
  if (payload.exp === undefined) {
    if (o.requireExpiration) fail(ctx, o.policy, o.failure, 'TokenExpirationNotPresent', 'Lifetime validation failed. The token is missing an Expiration Time. Access denied.');
  } else if (typeof payload.exp === 'number' && payload.exp * 1000 + skewMs <= now) {
    fail(ctx, o.policy, o.failure, 'TokenExpired', `Lifetime validation failed. The token is expired. ValidTo (UTC): '${iso(payload.exp * 1000)}', Current time (UTC): '${iso(now)}'. Access denied.`);
  }
  if (typeof payload.nbf === 'number' && payload.nbf * 1000 - skewMs > now) {
    fail(ctx, o.policy, o.failure, 'TokenNotYetValid', `Lifetime validation failed. The token is not yet valid. ValidFrom (UTC): '${iso(payload.nbf * 1000)}', Current time (UTC): '${iso(now)}'. Access denied.`);
  }
}

function checkRequiredClaims(ctx: RequestContext, o: VerifyOptions, payload: JWTPayload): void {
  const missing = o.requiredClaims.filter((c) => payload[c.name] === undefined).map((c) => c.name);
  if (missing.length > 0) fail(ctx, o.policy, o.failure, 'TokenClaimNotFound', `JWT token is missing the following claims: ${missing.join(', ')}. Access denied.`);
  for (const claim of o.requiredClaims) {
    if (claim.values.length === 0) continue;
    const raw = payload[claim.name];
    const present = (Array.isArray(raw) ? raw : [raw]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
    const tokenValues = claim.separator ? present.flatMap((v) => v.split(claim.separator!).map((s) => s.trim())) : present;
    const wanted = claim.values.map((v) => v.get(ctx));
    const ok = claim.match === 'all' ? wanted.every((w) => tokenValues.includes(w)) : wanted.some((w) => tokenValues.includes(w));
    if (!ok) fail(ctx, o.policy, o.failure, 'TokenClaimValueNotAllowed', `Claim ${claim.name} value of ${present.join(',')} is not allowed. Access denied.`);
  }
}

function joseFailure(joseErrors: typeof import('jose')['errors'], error: unknown, kid: string | undefined): { reason: string; detail: string } {
  if (error instanceof joseErrors.JWKSNoMatchingKey) return { reason: 'TokenSignatureKeyNotFound', detail: `Signature validation failed. Unable to match key: kid: '${kid ?? ''}'. Access denied.` };
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return { reason: 'TokenSignatureInvalid', detail: 'Signature validation failed. Access denied.' };
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) {
    return { reason: 'TokenSignatureInvalid', detail: `Signature validation failed: ${(error as Error).message}. Access denied.` };
  }
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return { reason: 'JwtInvalid', detail: `JWT is not well formed: ${(error as Error).message}` };
  // A key of another type (an RSA key for an HS256 token): the signature cannot be checked with it.
  return { reason: 'TokenSignatureInvalid', detail: 'Signature validation failed. Access denied.' };
}

function issuerMatches(allowed: string, issuer: string): boolean {
  return allowed.endsWith('*') ? issuer.startsWith(allowed.slice(0, -1)) : allowed === issuer;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

/** Stores the validated token for expressions (`(Jwt)context.Variables[name]`). */
export function storeJwt(ctx: RequestContext, variable: string | undefined, token: string, verified: { payload: JWTPayload; header: Record<string, unknown> }): void {
  if (variable) ctx.variables.set(variable, new JwtToken(verified.header, verified.payload as Record<string, unknown>, token));
}

export function requireIdentity(ctx: RequestContext, policy: string): IdentityService {
  const identity = ctx.services.identity;
  if (!identity) {
    throw new PolicyError({ source: policy, reason: 'IdentityNotConfigured', message: `${policy} needs the emulator's identity service (createEmulator wires it; a bare policy engine has none).` });
  }
  return identity;
}

export { AuthorizationObject };
