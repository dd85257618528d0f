import { X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_CERTIFICATE_TLS } from '../../../emulator/app.js';
import { startEmulatorFromCli, type StartOptions } from '../../../emulator/main.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { systemClock } from '../../../policy-engine/clock.js';
import { putPolicy } from '../../support/policy-control.js';
import { leafCertificate, pkcs12, testCa, type Pem } from '../../support/tls-fixtures.js';

const DAY = 86_400_000;
const thumbprintOf = (pem: string) => new X509Certificate(pem).fingerprint.replace(/:/g, '').toUpperCase();
const CONTOSO_SUBJECT = [
  { name: 'countryName', value: 'US' },
  { name: 'ST', value: 'Illinois' },
  { name: 'localityName', value: 'Chicago' },
  { name: 'organizationName', value: '"Contoso, Inc."' },
  { name: 'commonName', value: '*.contoso.com' },
];

/** Policies with the backend section forwarding to the HTTPS backend `tls-backend`. */
const policy = (inbound: string, onError = '') =>
  `<policies><inbound><base /><set-backend-service backend-id="tls-backend" />${inbound}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base />${onError}</on-error></policies>`;
const lastError = `<set-header name="x-error" exists-action="override"><value>@(context.LastError.Source + "/" + context.LastError.Reason + ": " + context.LastError.Message)</value></set-header>`;

describe('authentication-certificate, validate-client-certificate and context.Request.Certificate over real TLS', () => {
  // Wall time: TLS stacks check the backend's server certificate against the real clock; the policies use the
  // emulator's virtual clock, started at the same instant.
  const now = Math.floor(systemClock.now() / 1000) * 1000;
  let ca: Pem;
  let serverPem: Pem;
  let clientPem: Pem;
  let strangerPem: Pem;
  let backend: HttpsServer;
  let backendUrl: string;
  const seen: Array<{ thumbprint: string | null; path: string }> = [];
  let gw: RunningEmulator;
  let gatewayTls: HttpsServer;
  let httpsUrl: string;

  beforeAll(async () => {
    ca = await testCa(now);
    serverPem = await leafCertificate({ subject: [{ name: 'commonName', value: 'localhost' }], ca, from: now - DAY, to: now + 365 * DAY, dns: ['localhost'], server: true });
    clientPem = await leafCertificate({ subject: CONTOSO_SUBJECT, ca, from: now - DAY, to: now + 30 * DAY, dns: ['api.contoso.com'] });
    strangerPem = await leafCertificate({ subject: [{ name: 'commonName', value: 'stranger' }], from: now - DAY, to: now + 30 * DAY });
    // The backend asks for a client certificate and records the one it got.
    backend = createHttpsServer({ cert: serverPem.cert, key: serverPem.key, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerX509Certificate();
      seen.push({ thumbprint: peer ? peer.fingerprint.replace(/:/g, '').toUpperCase() : null, path: req.url ?? '' });
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    backendUrl = `https://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    gw = await startEmulator({
      startTime: now,
      config: {
        backends: [{ id: 'tls-backend', url: backendUrl, type: 'http' }],
        apis: [{ id: 'orders', path: 'orders', subscriptionRequired: false, operations: [{ id: 'get', method: 'GET', urlTemplate: '/items' }] }],
        certificates: [
          { id: 'backend-client', cert: clientPem.cert, key: clientPem.key },
          { id: 'fabrikam-root', cert: ca.cert, ca: true },
        ],
      },
    });
    // The gateway's HTTPS listener, as `start --https` creates it.
    const listener = (gw.emulator as unknown as { listener?: Parameters<typeof createHttpsServer>[1]; app: Parameters<typeof createHttpsServer>[1] });
    gatewayTls = createHttpsServer({ cert: serverPem.cert, key: serverPem.key, ...CLIENT_CERTIFICATE_TLS }, listener.listener ?? listener.app);
    await new Promise<void>((r) => gatewayTls.listen(0, '127.0.0.1', r));
    httpsUrl = `https://127.0.0.1:${(gatewayTls.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => gatewayTls?.close(r));
    gatewayTls?.closeAllConnections();
    await gw?.close();
    backend?.closeAllConnections();
    await new Promise((r) => backend?.close(r));
  });
  beforeEach(() => void (seen.length = 0));

  const set = (xml: string) => gw.policies.set('apis/orders', xml);
  /** A client of the gateway's HTTPS listener, presenting `pem` (or no certificate). */
  const callTls = async (pem?: Pem) => {
    const dispatcher = new Agent({ connect: { ca: [ca.cert], ...(pem ? { cert: pem.cert, key: pem.key } : {}) } });
    try {
      const res = await undiciFetch(`${httpsUrl}/orders/items`, { dispatcher });
      return { status: res.status, body: await res.text(), headers: res.headers };
    } finally {
      await dispatcher.close();
    }
  };

  describe('authentication-certificate', () => {
    it('certificate-id (the reference example form): the backend sees the uploaded certificate in the TLS handshake', async () => {
      set(policy(`<authentication-certificate certificate-id="backend-client" />`));
      const res = await fetch(`${gw.url}/orders/items`);
      expect(res.status).toBe(200);
      expect(seen).toEqual([{ thumbprint: thumbprintOf(clientPem.cert), path: '/items' }]);
    });

    it('thumbprint: found whatever its case; without the policy the backend sees no certificate', async () => {
      set(policy(`<authentication-certificate thumbprint="${thumbprintOf(clientPem.cert).toLowerCase()}" />`));
      expect((await fetch(`${gw.url}/orders/items`)).status).toBe(200);
      set(policy(''));
      expect((await fetch(`${gw.url}/orders/items`)).status).toBe(200);
      expect(seen.map((s) => s.thumbprint)).toEqual([thumbprintOf(clientPem.cert), null]);
    });

    it('body + password: a PKCS#12 byte array from an expression (the reference example shape)', async () => {
      const pfx = pkcs12(clientPem, 'optional-certificate-password');
      set(
        policy(`<set-variable name="byteCertificate" value="@(Convert.FromBase64String(&quot;${pfx.toString('base64')}&quot;))" />
        <authentication-certificate body="@(context.Variables.GetValueOrDefault&lt;byte[]&gt;(&quot;byteCertificate&quot;))" password="optional-certificate-password" />`),
      );
      expect((await fetch(`${gw.url}/orders/items`)).status).toBe(200);
      expect(seen.map((s) => s.thumbprint)).toEqual([thumbprintOf(clientPem.cert)]);
    });

    it('a thumbprint that is not uploaded: on-error with Source authentication-certificate, the backend not called', async () => {
      set(policy(`<authentication-certificate thumbprint="CA06F56B258B7A0D4F2B05470939478651151984" />`, lastError));
      const res = await fetch(`${gw.url}/orders/items`);
      expect(res.status).toBe(500);
      expect(res.headers.get('x-error')).toBe("authentication-certificate/CertificateNotFound: No certificate with thumbprint 'CA06F56B258B7A0D4F2B05470939478651151984' is uploaded (config certificates).");
      expect(seen).toEqual([]);
    });

    it('a CA certificate without its key cannot authenticate the gateway', async () => {
      set(policy(`<authentication-certificate certificate-id="fabrikam-root" />`, lastError));
      const res = await fetch(`${gw.url}/orders/items`);
      expect(res.status).toBe(500);
      expect(res.headers.get('x-error')).toContain("Certificate 'fabrikam-root' has no private key");
    });

    it.each([
      ['thumbprint and certificate-id together', '<authentication-certificate thumbprint="AB" certificate-id="x" />', 'POL3012'],
      ['no attribute', '<authentication-certificate />', 'POL3012'],
      ['password without body', '<authentication-certificate certificate-id="x" password="p" />', 'POL3012'],
      ['an unknown attribute', '<authentication-certificate certificate-id="x" store="my" />', 'POL3005'],
    ])('refuses %s at load', async (_what, element, code) => {
      const { status, body } = await putPolicy(gw.url, 'apis/orders', `<policies>\n<inbound>${element}</inbound>\n</policies>`);
      expect(status).toBe(400);
      expect(body.error.details[0]).toMatchObject({ code, line: 2 });
    });
  });

  describe('validate-client-certificate', () => {
    const referenceExample = `<validate-client-certificate
        validate-revocation="true"
        validate-trust="true"
        validate-not-before="true"
        validate-not-after="true"
        ignore-error="false">
        <identities>
            <identity
                subject="C=US, ST=Illinois, L=Chicago, O=&quot;Contoso, Inc.&quot;, CN=*.contoso.com"
                issuer-subject="C=BE, O=FabrikamSign nv-sa, OU=Root CA, CN=FabrikamSign Root CA" />
        </identities>
    </validate-client-certificate>`;

    it('the reference example: a certificate with that subject issued by the trusted CA passes and the request is forwarded', async () => {
      set(policy(referenceExample));
      const res = await callTls(clientPem);
      expect(res.status).toBe(200);
      expect(seen).toHaveLength(1);
    });

    it('no client certificate: 401 with the envelope body; over plain HTTP too', async () => {
      set(policy(referenceExample, lastError));
      const res = await callTls();
      expect(res.status).toBe(401);
      expect(res.body).toBe('{ "statusCode": 401, "message": "Client certificate is missing." }');
      expect(res.headers.get('x-error')).toBe('validate-client-certificate/ClientCertificateMissing: Client certificate is missing.');
      expect((await fetch(`${gw.url}/orders/items`)).status).toBe(401);
      expect(seen).toEqual([]);
    });

    it('an untrusted (self-signed) certificate: 403; validate-trust="false" lets it through', async () => {
      set(policy(`<validate-client-certificate validate-revocation="false" />`, lastError));
      const res = await callTls(strangerPem);
      expect(res.status).toBe(403);
      expect(res.body).toBe('{ "statusCode": 403, "message": "Client certificate is invalid." }');
      expect(res.headers.get('x-error')).toContain('does not lead to a trusted certificate authority');
      set(policy(`<validate-client-certificate validate-trust="false" />`));
      expect((await callTls(strangerPem)).status).toBe(200);
    });

    it('expiry on the virtual clock: 403 once past NotAfter, unless validate-not-after="false"', async () => {
      set(policy(`<validate-client-certificate />`, lastError));
      expect((await callTls(clientPem)).status).toBe(200);
      gw.clock.advance(31 * DAY);
      try {
        const expired = await callTls(clientPem);
        expect(expired.status).toBe(403);
        expect(expired.headers.get('x-error')).toContain('The client certificate expired at');
        set(policy(`<validate-client-certificate validate-not-after="false" />`));
        expect((await callTls(clientPem)).status).toBe(200);
      } finally {
        gw.clock.set(now);
      }
    });

    it('identities: any one identity matching all its attributes passes; none matching is 403; ignore-error continues', async () => {
      const thumb = thumbprintOf(clientPem.cert);
      const serial = new X509Certificate(clientPem.cert).serialNumber;
      set(
        policy(`<validate-client-certificate><identities>
          <identity thumbprint="0000000000000000000000000000000000000000" />
          <identity thumbprint="${thumb}" serial-number="${serial.toLowerCase()}" common-name="*.contoso.com" dns-name="API.contoso.com" issuer-thumbprint="${thumbprintOf(ca.cert)}" />
        </identities></validate-client-certificate>`),
      );
      expect((await callTls(clientPem)).status).toBe(200);
      set(policy(`<validate-client-certificate validate-trust="false"><identities><identity issuer-certificate-id="fabrikam-root" /></identities></validate-client-certificate>`));
      expect((await callTls(clientPem)).status).toBe(200);
      expect((await callTls(strangerPem)).status).toBe(403);
      set(policy(`<validate-client-certificate><identities><identity common-name="other.contoso.com" /></identities></validate-client-certificate>`, lastError));
      const refused = await callTls(clientPem);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('x-error')).toContain('matches none of the identities');
      set(policy(`<validate-client-certificate ignore-error="true"><identities><identity common-name="other.contoso.com" /></identities></validate-client-certificate>`));
      expect((await callTls(clientPem)).status).toBe(200);
    });

    it('context.Request.Certificate: the presented certificate over HTTPS (X509Certificate2 members), null over HTTP', async () => {
      set(
        policy(`<set-header name="x-cert" exists-action="override"><value>@(context.Request.Certificate == null ? "none" : context.Request.Certificate.Thumbprint + "|" + context.Request.Certificate.SubjectName.Name + "|" + context.Request.Certificate.Issuer)</value></set-header>
        <return-response><set-status code="200" reason="OK" /><set-header name="x-cert" exists-action="override"><value>@(context.Request.Certificate == null ? "none" : context.Request.Certificate.Thumbprint)</value></set-header></return-response>`),
      );
      const res = await callTls(clientPem);
      expect(res.headers.get('x-cert')).toBe(thumbprintOf(clientPem.cert));
      expect((await fetch(`${gw.url}/orders/items`)).headers.get('x-cert')).toBe('none');
    });

    it.each([
      ['issuer-certificate-id with issuer-subject', '<validate-client-certificate><identities><identity issuer-certificate-id="x" issuer-subject="CN=y" /></identities></validate-client-certificate>', 'POL3012'],
      ['an unknown identity attribute', '<validate-client-certificate><identities><identity email="a@b" /></identities></validate-client-certificate>', 'POL3005'],
      ['an expression in validate-trust', '<validate-client-certificate validate-trust="@(true)" />', 'POL3006'],
      ['an element other than identity', '<validate-client-certificate><identities><claim /></identities></validate-client-certificate>', 'POL3010'],
    ])('refuses %s at load', async (_what, element, code) => {
      const { status, body } = await putPolicy(gw.url, 'apis/orders', `<policies>\n<inbound>${element}</inbound>\n</policies>`);
      expect(status).toBe(400);
      expect(body.error.details[0]).toMatchObject({ code, line: 2 });
    });
  });

  it('start --https (the CLI): the listener asks for the client certificate, and config certificates load from the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'https-cli-'));
    writeFileSync(join(dir, 'server.pem'), serverPem.cert);
    writeFileSync(join(dir, 'server-key.pem'), serverPem.key);
    writeFileSync(join(dir, 'ca.pem'), ca.cert);
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        apis: [
          {
            id: 'echo',
            path: 'echo',
            subscriptionRequired: false,
            operations: [{ id: 'get', method: 'GET', urlTemplate: '/cert' }],
            policy: `<policies><inbound><validate-client-certificate /><return-response><set-header name="x-cert" exists-action="override"><value>@(context.Request.Certificate.Thumbprint)</value></set-header></return-response></inbound><backend /><outbound /><on-error /></policies>`,
          },
        ],
        certificates: [{ id: 'root', certFile: join(dir, 'ca.pem'), ca: true }],
      }),
    );
    const opts = { port: 0, host: '127.0.0.1', config: join(dir, 'config.json'), clock: 'virtual', timeScale: 1, loose: false, controlPlaneRemote: false, quiet: true, data: dir, inMemory: true, https: true, httpsPort: 0, cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem') };
    const running = await startEmulatorFromCli(opts as unknown as StartOptions, () => {});
    try {
      const call = async (pem?: Pem) => {
        const dispatcher = new Agent({ connect: { ca: [ca.cert], ...(pem ? { cert: pem.cert, key: pem.key } : {}) } });
        try {
          const res = await undiciFetch(`${running.httpsUrl!.replace('localhost', '127.0.0.1')}/echo/cert`, { dispatcher });
          return { status: res.status, cert: res.headers.get('x-cert') };
        } finally {
          await dispatcher.close();
        }
      };
      expect(await call(clientPem)).toEqual({ status: 200, cert: thumbprintOf(clientPem.cert) });
      expect((await call()).status).toBe(401);
      expect((await call(strangerPem)).status).toBe(403);
    } finally {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
