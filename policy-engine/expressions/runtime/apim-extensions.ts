import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CsDateTime } from './datetime.js';
import { clrErrors } from './errors.js';
import { StringDictionary } from './host.js';
import { OutRef, TYPE_NAME } from './protocol.js';

/**
 * The extension methods APIM adds to policy expressions (api-management-policy-expressions, "Extension methods"):
 * `AsJwt` / `TryParseJwt` and `AsBasic` / `TryParseBasic` on strings, `Encrypt` / `Decrypt` on byte arrays.
 */

/**
 * APIM's `Jwt` as policy expressions see it: from `AsJwt()` (decoded, not validated) or from a validate-jwt
 * `output-token-variable-name`. `Claims.GetValueOrDefault(name, default)` joins a claim's values with commas.
 */
export class Jwt {
  readonly [TYPE_NAME] = 'Jwt';
  readonly Claims: StringDictionary;
  constructor(
    private readonly header: Record<string, unknown>,
    private readonly payload: Record<string, unknown>,
    /** The compact token text. */
    readonly raw: string,
  ) {
    this.Claims = new StringDictionary(Object.entries(payload).map(([k, v]) => [k, Array.isArray(v) ? v.map(claimText) : [claimText(v)]] as [string, string[]]));
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
    return aud === undefined || aud === null ? [] : Array.isArray(aud) ? aud.map(String) : [String(aud)];
  }
  get ExpirationTime(): CsDateTime | null {
    return epoch(this.payload.exp);
  }
  get NotBefore(): CsDateTime | null {
    return epoch(this.payload.nbf);
  }
  get IssuedAt(): CsDateTime | null {
    return epoch(this.payload.iat);
  }
}

/** `BasicAuthCredentials { UserId, Password }` (the reference's names) from an `Authorization: Basic …` value. */
export class BasicAuthCredentials {
  readonly [TYPE_NAME] = 'BasicAuthCredentials';
  constructor(
    /** Kept as an alias of UserId (earlier emulator versions exposed this name). */
    readonly Username: string,
    readonly Password: string,
  ) {}
  get UserId(): string {
    return this.Username;
  }
}

function claimText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function epoch(v: unknown): CsDateTime | null {
  return typeof v === 'number' && Number.isFinite(v) ? new CsDateTime(v * 1000) : null;
}

function base64UrlJson(part: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A JWT, with or without its `Bearer ` scheme; null when the text is not one (APIM returns null, never throws). */
export function asJwt(input: string): Jwt | null {
  const token = input.trim().replace(/^bearer\s+/i, '');
  const parts = token.split('.');
  if (parts.length !== 3 && parts.length !== 5) return null;
  const header = base64UrlJson(parts[0]!);
  const payload = parts.length === 3 ? base64UrlJson(parts[1]!) : undefined;
  return header && payload ? new Jwt(header, payload, token) : null;
}

/** `Basic base64(user:password)` (the scheme may be omitted); null when malformed. */
export function asBasic(input: string): BasicAuthCredentials | null {
  const encoded = input.trim().replace(/^basic\s+/i, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? null : new BasicAuthCredentials(text.slice(0, colon), text.slice(colon + 1));
}

export const STRING_EXTENSIONS: Record<string, { out?: number[]; call: (s: string, args: unknown[]) => unknown }> = {
  AsJwt: { call: (s) => asJwt(s) },
  AsBasic: { call: (s) => asBasic(s) },
  TryParseJwt: { out: [0], call: (s, [out]) => tryParse(asJwt(s), out) },
  TryParseBasic: { out: [0], call: (s, [out]) => tryParse(asBasic(s), out) },
};

function tryParse(value: unknown, out: unknown): boolean {
  if (!(out instanceof OutRef)) throw clrErrors.argument("The result must be passed with the 'out' keyword.");
  out.value = value;
  return value !== null;
}

/**
 * `Encrypt(input, alg, key, iv)` / `Decrypt(…)` on byte[]: the symmetric algorithm by name (`Aes`, `Rijndael` with
 * a 16-byte block; .NET's defaults CBC and PKCS7), the key size choosing AES-128/192/256.
 */
export function encryptBytes(input: Uint8Array, args: unknown[], decrypt: boolean): Uint8Array {
  const [alg, key, iv] = args;
  if (typeof alg !== 'string') throw clrErrors.notSupported('Encrypt/Decrypt with a SymmetricAlgorithm instance is not supported by the emulator; pass the algorithm name, key and IV.');
  if (!/^(aes|aesmanaged|aescryptoserviceprovider|rijndael|rijndaelmanaged|system\.security\.cryptography\.(aes|rijndael)(managed)?)$/i.test(alg)) {
    throw clrErrors.notSupported(`The symmetric algorithm '${alg}' is not supported by the emulator (use Aes).`);
  }
  if (!(key instanceof Uint8Array) || !(iv instanceof Uint8Array)) throw clrErrors.argumentNull(!(key instanceof Uint8Array) ? 'key' : 'iv');
  if (![16, 24, 32].includes(key.length)) throw clrErrors.exception('System.Security.Cryptography.CryptographicException', 'Specified key is not a valid size for this algorithm.');
  if (iv.length !== 16) throw clrErrors.exception('System.Security.Cryptography.CryptographicException', 'Specified initialization vector (IV) does not match the block size for this algorithm.');
  const cipher = `aes-${key.length * 8}-cbc`;
  try {
    const c = decrypt ? createDecipheriv(cipher, key, iv) : createCipheriv(cipher, key, iv);
    return new Uint8Array(Buffer.concat([c.update(input), c.final()]));
  } catch {
    throw clrErrors.exception('System.Security.Cryptography.CryptographicException', 'Padding is invalid and cannot be removed.');
  }
}
