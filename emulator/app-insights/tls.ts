import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../policy-engine/clock.js';

export interface TlsMaterial {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
  /** True when the certificate was created now (false: reused from the data directory). */
  generated: boolean;
}

export const CERT_FILE = 'emulator-cert.pem';
export const KEY_FILE = 'emulator-key.pem';

/**
 * A self-signed certificate (CN=localhost; SANs DNS:localhost, IP:127.0.0.1, IP:::1; valid 10 years),
 * written to the data directory and reused on restart while it is valid at `nowMs` (wall-clock ms;
 * default systemClock — not an emulated clock, since clients verify against real time). Azure SDK clients
 * refuse bearer tokens over plain HTTP; trust this certificate with NODE_EXTRA_CA_CERTS=<certPath> (Node)
 * or SSL_CERT_FILE / REQUESTS_CA_BUNDLE (Python).
 */
export async function ensureSelfSignedCertificate(dataDir: string, nowMs: number = systemClock.now()): Promise<TlsMaterial> {
  const certPath = join(dataDir, CERT_FILE);
  const keyPath = join(dataDir, KEY_FILE);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    if (isUsable(cert, nowMs)) return { certPath, keyPath, cert, key, generated: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const day = 86_400_000;
  const { generate } = await import('selfsigned'); // ~0.18 s of imports, only when a certificate is generated
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    // TLS clients check validity against the wall clock: a wide window tolerates a skewed emulated clock.
    notBeforeDate: new Date(nowMs - 365 * day),
    notAfterDate: new Date(nowMs + 3650 * day),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  writeFileSync(certPath, pems.cert);
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  return { certPath, keyPath, cert: pems.cert, key: pems.private, generated: true };
}

/** A PEM that parses and is valid at `nowMs` (otherwise it is regenerated). */
function isUsable(pem: string, nowMs: number): boolean {
  try {
    const x509 = new X509Certificate(pem);
    return Date.parse(x509.validFrom) <= nowMs && nowMs < Date.parse(x509.validTo);
  } catch {
    return false;
  }
}

/** The environment variable line that makes Node trust the certificate. */
export function trustHint(certPath: string): string {
  return `NODE_EXTRA_CA_CERTS=${certPath}`;
}
