import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { CsDateTime } from '../../expressions/index.js';
import type { PresentedCertificate, StoredCertificate } from '../../pipeline/types.js';

/** SHA-1 thumbprint, upper-case hex without separators (as APIM and .NET show it). */
export function thumbprint(x509: X509Certificate): string {
  return x509.fingerprint.replace(/:/g, '').toUpperCase();
}

/** Hex digits only, upper case, without leading zeros (serial numbers are written with or without them). */
export function normalizeSerial(serial: string): string {
  return serial.replace(/[\s:]/g, '').toUpperCase().replace(/^0+(?=.)/, '');
}

/**
 * A distinguished name as type/value pairs: `C=US, O="Contoso, Inc.", CN=x` (the policy's form, quotes around
 * values with commas) or Node's `C=US\nO=Contoso, Inc.\nCN=x`. Types are upper-cased; order is kept.
 */
export function parseDistinguishedName(text: string, separator: 'comma' | 'newline'): Array<[string, string]> {
  const parts: string[] = [];
  // Node escapes special characters with a backslash (`O=Contoso\, Inc.`).
  if (separator === 'newline') parts.push(...text.split('\n').map((p) => p.replace(/\\(.)/g, '$1')));
  else {
    let current = '';
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\\' && i + 1 < text.length) current += text[++i];
      else if (c === '"') quoted = !quoted;
      else if ((c === ',' || c === ';') && !quoted) {
        parts.push(current);
        current = '';
      } else current += c;
    }
    parts.push(current);
  }
  return parts
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return [p.slice(0, eq).trim().toUpperCase(), p.slice(eq + 1).trim()] as [string, string];
    });
}

/** Whether two DNs hold the same attributes (in any order: .NET prints them reversed, Node in encoding order). */
export function sameDistinguishedName(a: Array<[string, string]>, b: Array<[string, string]>): boolean {
  if (a.length !== b.length) return false;
  const key = (p: [string, string]) => `${p[0]}=${p[1]}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.every((v, i) => v === right[i]);
}

/** `CN=x, O=y` in .NET's X500DistinguishedName.Name order (most specific first, i.e. reversed). */
export function dotnetName(nodeDn: string): string {
  return parseDistinguishedName(nodeDn, 'newline')
    .reverse()
    .map(([t, v]) => `${t}=${/[,+"\\<>;]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v}`)
    .join(', ');
}

export function commonName(nodeDn: string): string | undefined {
  return parseDistinguishedName(nodeDn, 'newline').find(([t]) => t === 'CN')?.[1];
}

export function dnsNames(x509: X509Certificate): string[] {
  return (x509.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4));
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

let roots: X509Certificate[] | undefined;
const nodeRoots = () => (roots ??= rootCertificates.map((pem) => new X509Certificate(pem)));

/** The certificate that issued `x509`: from the chain the client sent, the uploaded CA certificates, or Node's roots. */
export function findIssuer(x509: X509Certificate, chain: readonly X509Certificate[], cas: readonly StoredCertificate[]): X509Certificate | undefined {
  return [...chain, ...cas.map((c) => c.x509), ...nodeRoots()].find((c) => c !== x509 && c.fingerprint256 !== x509.fingerprint256 && issuedBy(x509, c));
}

/** Whether the chain from `leaf` reaches an uploaded CA certificate or a Node root, each link signed by the next. */
export function chainIsTrusted(presented: PresentedCertificate, cas: readonly StoredCertificate[]): boolean {
  const trusted = [...cas.map((c) => c.x509), ...nodeRoots()];
  const isTrusted = (c: X509Certificate) => trusted.some((t) => t.fingerprint256 === c.fingerprint256);
  let current = presented.x509;
  for (let depth = 0; depth < 10; depth++) {
    if (isTrusted(current)) return true;
    const next = findIssuer(current, presented.chain, cas);
    if (!next) return false;
    current = next;
  }
  return false;
}

/** `context.Request.Certificate`: the X509Certificate2 members policy expressions read. */
export function x509Certificate2(x509: X509Certificate): Record<string, unknown> {
  return {
    Thumbprint: thumbprint(x509),
    Subject: dotnetName(x509.subject),
    Issuer: dotnetName(x509.issuer),
    SubjectName: { Name: dotnetName(x509.subject) },
    IssuerName: { Name: dotnetName(x509.issuer) },
    SerialNumber: x509.serialNumber.toUpperCase(),
    NotBefore: new CsDateTime(Date.parse(x509.validFrom)),
    NotAfter: new CsDateTime(Date.parse(x509.validTo)),
    RawData: new Uint8Array(x509.raw),
    HasPrivateKey: false,
    Version: 3,
  };
}
