import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

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
 * A self-signed certificate for localhost / 127.0.0.1 / ::1, written to the data directory and reused on
 * restart. Azure SDK clients refuse bearer tokens over plain HTTP; trust this certificate with
 * NODE_EXTRA_CA_CERTS=<certPath> (Node) or SSL_CERT_FILE / REQUESTS_CA_BUNDLE (Python).
 */
export async function ensureSelfSignedCertificate(dataDir: string, nowMs: number): Promise<TlsMaterial> {
  const certPath = join(dataDir, CERT_FILE);
  const keyPath = join(dataDir, KEY_FILE);
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), generated: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const day = 86_400_000;
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(nowMs - day),
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

export function trustHint(certPath: string): string {
  return `NODE_EXTRA_CA_CERTS=${certPath}`;
}
