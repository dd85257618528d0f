import express from 'express';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CERT_FILE, ensureSelfSignedCertificate, trustHint } from '../../../emulator/app-insights/tls.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 27);
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'aigw-cert-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('ensureSelfSignedCertificate', () => {
  it('creates a localhost certificate with DNS:localhost, IP:127.0.0.1 and ::1, then reuses it', async () => {
    const dir = tempDir();
    const first = await ensureSelfSignedCertificate(dir, NOW);
    expect(first.generated).toBe(true);
    expect(first.certPath).toBe(join(dir, CERT_FILE));
    const x509 = new X509Certificate(first.cert);
    expect(x509.subject).toBe('CN=localhost');
    expect(x509.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(Date.parse(x509.validFrom)).toBeLessThan(NOW);
    expect(Date.parse(x509.validTo)).toBeGreaterThan(NOW + 9 * 365 * DAY);
    const again = await ensureSelfSignedCertificate(dir, NOW + DAY);
    expect(again).toEqual({ ...first, generated: false });
    expect(trustHint(first.certPath)).toBe(`NODE_EXTRA_CA_CERTS=${first.certPath}`);
  });

  it('regenerates an expired or unreadable certificate', async () => {
    const dir = tempDir();
    const first = await ensureSelfSignedCertificate(dir, NOW);
    const later = await ensureSelfSignedCertificate(dir, NOW + 11 * 365 * DAY);
    expect(later.generated).toBe(true);
    expect(later.cert).not.toBe(first.cert);
    writeFileSync(later.certPath, 'garbage');
    expect((await ensureSelfSignedCertificate(dir, NOW)).generated).toBe(true);
  });

  it('a TLS client trusting only this certificate connects to localhost and 127.0.0.1', async () => {
    const tls = await ensureSelfSignedCertificate(tempDir());
    const server = createServer({ cert: tls.cert, key: tls.key }, express().get('/ping', (_req, res) => void res.send('pong')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const fetchText = (host: string) =>
      new Promise<string>((resolve, reject) => {
        get({ host: '127.0.0.1', servername: host === '127.0.0.1' ? undefined : host, port, path: '/ping', ca: tls.cert, headers: { host } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d));
          res.on('end', () => resolve(body));
        }).on('error', reject);
      });
    try {
      expect(await fetchText('localhost')).toBe('pong');
      expect(await fetchText('127.0.0.1')).toBe('pong');
    } finally {
      server.close();
    }
  });
});
