import { apimErrorBody, PolicyError } from '../pipeline/last-error.js';
import type { PresentedCertificate, RequestContext, StoredCertificate } from '../pipeline/types.js';
import type { PolicyElement } from '../xml/model.js';
import { definePolicy, type CompileEnv } from './define.js';
import { chainIsTrusted, commonName, dnsNames, findIssuer, normalizeSerial, parseDistinguishedName, sameDistinguishedName, thumbprint } from './shared/x509.js';

const SOURCE = 'validate-client-certificate';
const IDENTITY_ATTRIBUTES = ['thumbprint', 'serial-number', 'common-name', 'subject', 'dns-name', 'issuer-subject', 'issuer-thumbprint', 'issuer-certificate-id'] as const;
type IdentityCheck = (cert: PresentedCertificate, ctx: RequestContext) => boolean;

/** Refusal messages (the reference documents no body; these follow APIM's `{ statusCode, message }` envelope). */
export const CLIENT_CERTIFICATE_MISSING = 'Client certificate is missing.';
export const CLIENT_CERTIFICATE_INVALID = 'Client certificate is invalid.';

/**
 * `<validate-client-certificate validate-revocation validate-trust validate-not-before validate-not-after ignore-error>
 * <identities><identity thumbprint serial-number common-name subject dns-name issuer-subject issuer-thumbprint
 * issuer-certificate-id/></identities></validate-client-certificate>`: checks the certificate the client presented on
 * the gateway's HTTPS listener (`start --https`). Valid = every rule on the element holds and, when identities are
 * given, every attribute of at least one identity matches.
 *
 * - `validate-trust`: the chain (the certificates the client sent, then config `certificates` marked `ca`, then
 *   Node's root store) reaches a trusted certificate, each link's signature checked.
 * - `validate-not-before` / `validate-not-after`: against the emulator's clock (virtual time moves expiry).
 * - `validate-revocation`: accepted, but the emulator is offline: no CRL or OCSP is consulted (always passes).
 * - `subject` / `issuer-subject`: distinguished names compared attribute by attribute in any order (quote values
 *   holding commas, `O="Contoso, Inc."`, as the reference says).
 *
 * Failure: 401 `Client certificate is missing.` when none was presented, 403 `Client certificate is invalid.`
 * otherwise (LastError Source validate-client-certificate, Reason ClientCertificateMissing / ClientCertificateInvalid,
 * Message naming the failed check), unless `ignore-error="true"`, which continues with the next policy. APIM does not
 * document these bodies; they are the emulator's, in APIM's error envelope.
 */
export const validateClientCertificate = definePolicy({
  name: SOURCE,
  sections: ['inbound'],
  partial: "validate-revocation is accepted but no CRL or OCSP is consulted (offline); the 401/403 bodies are the emulator's (the reference documents none)",
  attributes: {
    'validate-revocation': { kind: 'bool', expressions: false, default: true },
    'validate-trust': { kind: 'bool', expressions: false, default: true },
    'validate-not-before': { kind: 'bool', expressions: false, default: true },
    'validate-not-after': { kind: 'bool', expressions: false, default: true },
    'ignore-error': { kind: 'bool', expressions: false, default: false },
  },
  children: ['identities'],
  compile(node, env) {
    const flag = (name: string, fallback: boolean) => env.attr(node, name, { kind: 'bool', expressions: false })?.constant ?? fallback;
    env.attr(node, 'validate-revocation', { kind: 'bool', expressions: false });
    const trust = flag('validate-trust', true);
    const notBefore = flag('validate-not-before', true);
    const notAfter = flag('validate-not-after', true);
    const ignoreError = flag('ignore-error', false);
    const identities: IdentityCheck[][] = [];
    let failed = false;
    for (const list of node.children) {
      for (const identity of list.children) {
        if (identity.name !== 'identity') {
          env.report('PolInvalidChild', identity.nameSpan, ['identities', identity.name]);
          failed = true;
          continue;
        }
        const checks = compileIdentity(identity, env);
        if (checks) identities.push(checks);
        else failed = true;
      }
    }
    if (failed) return undefined;
    return {
      run(ctx) {
        const problem = check(ctx, { trust, notBefore, notAfter, identities });
        if (problem === undefined || ignoreError) return;
        const missing = problem === CLIENT_CERTIFICATE_MISSING;
        const status = missing ? 401 : 403;
        throw new PolicyError({
          source: SOURCE,
          reason: missing ? 'ClientCertificateMissing' : 'ClientCertificateInvalid',
          message: problem,
          response: { statusCode: status, body: apimErrorBody(status, missing ? CLIENT_CERTIFICATE_MISSING : CLIENT_CERTIFICATE_INVALID) },
        });
      },
    };
  },
});

function check(ctx: RequestContext, rules: { trust: boolean; notBefore: boolean; notAfter: boolean; identities: IdentityCheck[][] }): string | undefined {
  const cert = ctx.request.certificate;
  if (!cert) return CLIENT_CERTIFICATE_MISSING;
  const now = ctx.services.clock.now();
  if (rules.notBefore && now < Date.parse(cert.x509.validFrom)) return `The client certificate is not valid before ${new Date(Date.parse(cert.x509.validFrom)).toISOString()}.`;
  if (rules.notAfter && now > Date.parse(cert.x509.validTo)) return `The client certificate expired at ${new Date(Date.parse(cert.x509.validTo)).toISOString()}.`;
  if (rules.trust && !chainIsTrusted(cert, ctx.services.certificates?.trustedCas() ?? [])) return 'The client certificate chain does not lead to a trusted certificate authority.';
  if (rules.identities.length > 0 && !rules.identities.some((checks) => checks.every((c) => c(cert, ctx)))) return 'The client certificate matches none of the identities.';
  return undefined;
}

function compileIdentity(node: PolicyElement, env: CompileEnv): IdentityCheck[] | undefined {
  const checks: IdentityCheck[] = [];
  let ok = true;
  const attrs = new Map(node.attributes.map((a) => [a.name, a]));
  for (const a of node.attributes) {
    if (!(IDENTITY_ATTRIBUTES as readonly string[]).includes(a.name)) {
      env.report('PolUnknownAttribute', a.nameSpan, ['identity', a.name]);
      ok = false;
    } else if (a.expression) {
      env.report('PolExpressionNotAllowed', a.valueSpan, ['identity', a.name]);
      ok = false;
    }
  }
  if (attrs.has('issuer-certificate-id') && (attrs.has('issuer-subject') || attrs.has('issuer-thumbprint'))) {
    env.report('PolAttributeConflict', attrs.get('issuer-certificate-id')!.nameSpan, ['identity', "'issuer-certificate-id' is mutually exclusive with the other issuer attributes."]);
    ok = false;
  }
  if (!ok) return undefined;
  const issuerOf = (cert: PresentedCertificate, ctx: RequestContext) => findIssuer(cert.x509, cert.chain, ctx.services.certificates?.trustedCas() ?? []);
  for (const [name, attribute] of attrs) {
    const value = attribute.value.trim();
    switch (name) {
      case 'thumbprint': {
        const want = value.replace(/[\s:]/g, '').toUpperCase();
        checks.push((c) => thumbprint(c.x509) === want);
        break;
      }
      case 'serial-number': {
        const want = normalizeSerial(value);
        checks.push((c) => normalizeSerial(c.x509.serialNumber) === want);
        break;
      }
      case 'common-name':
        checks.push((c) => commonName(c.x509.subject) === value);
        break;
      case 'subject': {
        const want = parseDistinguishedName(value, 'comma');
        checks.push((c) => sameDistinguishedName(parseDistinguishedName(c.x509.subject, 'newline'), want));
        break;
      }
      case 'dns-name':
        checks.push((c) => dnsNames(c.x509).some((d) => d.toLowerCase() === value.toLowerCase()));
        break;
      case 'issuer-subject': {
        const want = parseDistinguishedName(value, 'comma');
        checks.push((c) => sameDistinguishedName(parseDistinguishedName(c.x509.issuer, 'newline'), want));
        break;
      }
      case 'issuer-thumbprint': {
        const want = value.replace(/[\s:]/g, '').toUpperCase();
        checks.push((c, ctx) => {
          const issuer = issuerOf(c, ctx);
          return issuer !== undefined && thumbprint(issuer) === want;
        });
        break;
      }
      case 'issuer-certificate-id':
        checks.push((c, ctx) => {
          const stored: StoredCertificate | undefined = ctx.services.certificates?.byId(value);
          return stored !== undefined && c.x509.checkIssued(stored.x509) && c.x509.verify(stored.x509.publicKey);
        });
        break;
    }
  }
  return checks;
}
