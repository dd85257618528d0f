import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface Pem {
  cert: string;
  key: string;
}

const DAY = 86_400_000;

/** A CA with the reference example's issuer subject (C=BE, O=FabrikamSign nv-sa, OU=Root CA, CN=FabrikamSign Root CA). */
export async function testCa(now: number): Promise<Pem> {
  const pems = await generate(
    [
      { name: 'countryName', value: 'BE' },
      { name: 'organizationName', value: 'FabrikamSign nv-sa' },
      { name: 'OU', value: 'Root CA' },
      { name: 'commonName', value: 'FabrikamSign Root CA' },
    ],
    {
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate: new Date(now - 30 * DAY),
      notAfterDate: new Date(now + 3650 * DAY),
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'keyUsage', keyCertSign: true, digitalSignature: true, cRLSign: true },
      ],
    },
  );
  return { cert: pems.cert, key: pems.private };
}

/** A leaf certificate signed by `ca` (or self-signed without one), valid from `from` to `to`. */
export async function leafCertificate(options: {
  subject: Array<{ name: string; value: string }>;
  ca?: Pem;
  from: number;
  to: number;
  dns?: string[];
  server?: boolean;
}): Promise<Pem> {
  const pems = await generate(options.subject, {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(options.from),
    notAfterDate: new Date(options.to),
    ...(options.ca ? { ca: options.ca } : {}),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: options.server === true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...(options.dns ?? []).map((value) => ({ type: 2 as const, value })), ...(options.server ? [{ type: 7 as const, ip: '127.0.0.1' }] : [])],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** The certificate and key as a password-protected PKCS#12 archive, built by openssl (`.ci/run` installs it). */
export function pkcs12(pem: Pem, password: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'pfx-'));
  try {
    writeFileSync(join(dir, 'c.pem'), pem.cert);
    writeFileSync(join(dir, 'k.pem'), pem.key);
    execFileSync('openssl', ['pkcs12', '-export', '-in', join(dir, 'c.pem'), '-inkey', join(dir, 'k.pem'), '-out', join(dir, 'c.pfx'), '-passout', `pass:${password}`], { stdio: 'ignore' });
    return readFileSync(join(dir, 'c.pfx'));
  } catch (error) {
    throw new Error(`openssl could not build the PKCS#12 fixture (is openssl installed?): ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
