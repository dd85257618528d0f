import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CertificateStore, StoredCertificate } from '../../policy-engine/index.js';
import { ConfigError } from '../config/load.js';
import type { CertificateConfig } from '../config/schema.js';

/**
 * The service's certificates from config `certificates` (APIM's Certificates and CA certificates): PEM text or
 * files. A certificate with its key can be presented to backends (authentication-certificate, by `thumbprint` or
 * `certificate-id`); one marked `ca` is trusted for client certificates (validate-client-certificate) and for
 * backend server certificates when the gateway presents a client certificate or goes through a proxy.
 */
export function createCertificateStore(configs: readonly CertificateConfig[] | undefined): CertificateStore {
  const all: StoredCertificate[] = (configs ?? []).map((c, i) => storedCertificate(c, `certificates[${i}]`));
  const ids = new Set<string>();
  for (const [i, c] of all.entries()) {
    if (ids.has(c.id.toLowerCase())) throw new ConfigError(`certificates[${i}].id: '${c.id}' is defined twice`);
    ids.add(c.id.toLowerCase());
  }
  return {
    byId: (id) => all.find((c) => c.id.toLowerCase() === id.toLowerCase()),
    byThumbprint: (thumbprint) => all.find((c) => c.thumbprint === thumbprint.replace(/[\s:]/g, '').toUpperCase()),
    trustedCas: () => all.filter((c) => c.ca),
  };
}

/** SHA-1 thumbprint as APIM shows it: upper-case hex, no separators. */
export function thumbprintOf(x509: X509Certificate): string {
  return x509.fingerprint.replace(/:/g, '').toUpperCase();
}

function storedCertificate(c: CertificateConfig, path: string): StoredCertificate {
  const fail = (field: string, message: string): never => {
    throw new ConfigError(`${path}${field ? `.${field}` : ''}: ${message}`);
  };
  if (typeof c.id !== 'string' || c.id.trim() === '') fail('id', 'a non-empty string is required');
  const read = (text: string | undefined, file: string | undefined, field: string): string | undefined => {
    if (text !== undefined && file !== undefined) fail(field, `give ${field} or ${field}File, not both`);
    if (file === undefined) return text;
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      return fail(`${field}File`, `cannot read '${file}': ${(error as Error).message}`);
    }
  };
  const cert = read(c.cert, c.certFile, 'cert');
  const key = read(c.key, c.keyFile, 'key');
  if (cert === undefined) return fail('cert', 'a PEM certificate (cert or certFile) is required');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (error) {
    return fail('cert', `not a PEM certificate: ${(error as Error).message}`);
  }
  if (key !== undefined) {
    try {
      const privateKey = createPrivateKey(c.password === undefined ? key : { key, passphrase: c.password });
      if (!x509.checkPrivateKey(privateKey)) fail('key', 'the private key does not belong to the certificate');
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      fail('key', `not a usable PEM private key: ${(error as Error).message}`);
    }
  }
  return {
    id: c.id,
    thumbprint: thumbprintOf(x509),
    x509,
    ca: c.ca === true,
    ...(key !== undefined ? { tls: { cert, key, ...(c.password !== undefined ? { passphrase: c.password } : {}) } } : {}),
  };
}
