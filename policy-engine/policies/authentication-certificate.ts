import { PolicyError } from '../pipeline/last-error.js';
import type { RequestContext, TlsClientCertificate } from '../pipeline/types.js';
import { definePolicy } from './define.js';

const SOURCE = 'authentication-certificate';

/**
 * `<authentication-certificate thumbprint | certificate-id | body [password]/>`: forward-request presents a client
 * certificate to the backend in the TLS handshake. `thumbprint` and `certificate-id` pick a certificate uploaded
 * to the service (the emulator's config `certificates`, which must hold its private key); `body` is the
 * certificate itself as a PKCS#12 (PFX) byte array, protected by `password`. A certificate that is not in the store
 * (or has no private key) fails the request: on-error with LastError Source authentication-certificate.
 *
 * Emulated precisely for backends reached over HTTPS; in-process mock backends have no TLS and see nothing.
 */
export const authenticationCertificate = definePolicy({
  name: SOURCE,
  sections: ['inbound'],
  partial: 'in-process mock backends have no TLS and see no certificate; certificates come from config `certificates` (PEM), `body` is a PKCS#12 byte array',
  attributes: {
    thumbprint: { kind: 'string' },
    'certificate-id': { kind: 'string' },
    body: { kind: 'string' },
    password: { kind: 'string' },
  },
  compile(node, env) {
    const thumbprint = env.attr(node, 'thumbprint', { kind: 'string' });
    const id = env.attr(node, 'certificate-id', { kind: 'string' });
    const password = env.attr(node, 'password', { kind: 'string' });
    const bodyAttribute = node.attributes.find((a) => a.name === 'body');
    const given = [thumbprint, id, bodyAttribute].filter((x) => x !== undefined).length;
    if (given !== 1) {
      env.report('PolAttributeConflict', node.nameSpan, [node.name, "specify exactly one of 'thumbprint', 'certificate-id' and 'body'."]);
      return undefined;
    }
    if (password && !bodyAttribute) {
      env.report('PolAttributeConflict', node.nameSpan, [node.name, "'password' protects the certificate given in 'body'; a stored certificate has its own."]);
      return undefined;
    }
    let body: ((ctx: RequestContext) => Uint8Array) | undefined;
    if (bodyAttribute) {
      const expression = bodyAttribute.expression ? env.expression(bodyAttribute) : undefined;
      if (bodyAttribute.expression && !expression) return undefined;
      const literal = Buffer.from(bodyAttribute.value, 'base64');
      body = expression
        ? (ctx) => {
            try {
              return byteArray(env.evaluate(expression, ctx));
            } catch (error) {
              if (error instanceof PolicyError) throw error;
              throw failure(`The certificate 'body' could not be evaluated: ${(error as Error).message}`);
            }
          }
        : () => literal;
    }
    return {
      run(ctx) {
        let material: TlsClientCertificate;
        if (body) {
          const pass = password?.get(ctx);
          material = { pfx: body(ctx), ...(pass ? { passphrase: pass } : {}) };
        } else {
          const store = ctx.services.certificates;
          const key = thumbprint ? thumbprint.get(ctx).replace(/[\s:]/g, '').toUpperCase() : id!.get(ctx);
          const stored = thumbprint ? store?.byThumbprint(key) : store?.byId(key);
          if (!stored) throw failure(`No certificate with ${thumbprint ? 'thumbprint' : 'id'} '${key}' is uploaded (config certificates).`);
          if (!stored.tls) throw failure(`Certificate '${stored.id}' has no private key, so it cannot authenticate the gateway to a backend.`);
          material = stored.tls;
        }
        ctx.backendClientCertificate = material;
      },
    };
  },
});

/** A C# byte[] (Uint8Array at run time, or a number array). */
function byteArray(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Uint8Array.from(value as number[]);
  throw failure(`The certificate 'body' is not a byte array (${value === null || value === undefined ? 'null' : typeof value}).`);
}

function failure(message: string): PolicyError {
  return new PolicyError({ source: SOURCE, reason: 'CertificateNotFound', message });
}
