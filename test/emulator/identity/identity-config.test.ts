import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { createEmulator } from '../../../emulator/app.js';
import { presetConfig } from '../../../emulator/config/presets.js';
import { ConfigError } from '../../../emulator/config/load.js';
import type { IdentityConfig } from '../../../emulator/config/schema.js';
import { createIdentity, loadSigningKey, SIGNING_KEY_FILE } from '../../../emulator/identity/index.js';

const withIdentity = (identity: unknown) => ({ ...presetConfig('token-rate-limiting'), identity: identity as IdentityConfig });

describe('identity configuration', () => {
  it('refuses bad identity settings with a ConfigError naming the field', () => {
    const cases: Array<[unknown, string]> = [
      [{ tenantId: 'contoso' }, 'identity.tenantId: must be a GUID'],
      [{ tenant: 'x' }, 'identity.tenant: unknown setting; expected one of tenantId,'],
      [{ authorizations: [{ providerId: 'github', authorizationId: 'a' }] }, 'identity.authorizations[0].accessToken: must be a non-empty string'],
      [{ openIdConfigurations: { 'https://idp.example/.well-known/openid-configuration': {} } }, 'identity.openIdConfigurations["https://idp.example/.well-known/openid-configuration"].issuer'],
      [{ signingKey: { kty: 'oct', k: 'abc' } }, 'identity.signingKey: a private RSA JWK (kty "RSA" with "d") is required'],
    ];
    for (const [identity, message] of cases) {
      let error: unknown;
      try {
        createEmulator({ config: withIdentity(identity) });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(message);
    }
  });

  it('signs with a configured private JWK (verifiable with its public half)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: 'my-key' };
    const identity = createIdentity({ signingKey: jwk, tenantId: '12345678-1234-4234-8234-123456789012' });
    const token = await identity.mint(Date.UTC(2026, 0, 1), { audience: 'x' });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: 'my-key', typ: 'JWT' });
    const { payload } = await jwtVerify(token, await importJWK(publicKey.export({ format: 'jwk' }) as JWK, 'RS256'), { currentDate: new Date(Date.UTC(2026, 0, 1)) });
    expect(payload).toMatchObject({ aud: 'x', tid: '12345678-1234-4234-8234-123456789012', iss: 'https://login.microsoftonline.com/12345678-1234-4234-8234-123456789012/v2.0' });
  });

  it('keeps one key per data directory (created once, owner-only) and another per process without one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-identity-'));
    try {
      const first = loadSigningKey({ dataDir: dir });
      const again = loadSigningKey({ dataDir: dir });
      expect(again.kid).toBe(first.kid);
      expect(again.publicJwk.n).toBe(first.publicJwk.n);
      expect(statSync(join(dir, SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);
      const inMemory = loadSigningKey({});
      expect(inMemory.kid).not.toBe(first.kid);
      expect(loadSigningKey({}).kid).toBe(inMemory.kid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
