import type { Emulator } from '../app.js';
import type { MintTokenOptions } from '../identity/index.js';

/**
 * Mints a token signed by the emulator's identity key, at the emulator's (virtual) time: it passes
 * validate-jwt with `openid-config` pointing at the emulator or at login.microsoftonline.com, and
 * validate-azure-ad-token for the same tenant.
 *
 * @example
 * const token = await mintTestToken(gw, { audience: 'https://azure-api.net/authorization-manager', claims: { email: 'a@b.c' } });
 * await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
 * const expired = await mintTestToken(gw, { expiresInSeconds: -60 });
 */
export function mintTestToken(target: Emulator | { emulator: Emulator }, options: MintTokenOptions = {}): Promise<string> {
  const emulator = 'emulator' in target ? target.emulator : target;
  return emulator.identity.mint(emulator.clock.now(), options);
}

export type { MintTokenOptions };
