import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON } from '../../support/process.js';
import { presetConfig } from '../../../emulator/config/presets.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';

const SCRIPT = fileURLToPath(new URL('../../fixtures/labs/access-controlling/notebook.py', import.meta.url));
const TENANT = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f';
const CLIENT = '9f8e7d6c-5b4a-4938-8271-605f4e3d2c1b';


// The access-controlling lab's policy shape (our own fixture): Bicep placeholders for tenant, client and backend.
const POLICY = `<policies>
    <inbound>
        <base />
        <validate-azure-ad-token tenant-id="{tenant-id}">
            <client-application-ids>
                <application-id>{client-application-id}</application-id>
            </client-application-ids>
        </validate-azure-ad-token>
        <set-backend-service backend-id="{backend-id}" />
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>`;

describe.skipIf(!PYTHON)(`access-controlling lab: token and requests from a stdlib Python client (${PYTHON ?? 'python3 missing'})`, () => {
  let gw: RunningEmulator;
  beforeAll(async () => {
    const config = presetConfig('token-rate-limiting');
    config.apis[0]!.policy = POLICY;
    config.apis[0]!.policyPlaceholders = { '{backend-id}': 'foundry1', '{tenant-id}': TENANT, '{client-application-id}': CLIENT };
    gw = await startEmulator({ config });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('gets a token through OpenID discovery, passes validate-azure-ad-token with it and gets 401 without it', async () => {
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
      execFile(
        'python3',
        [SCRIPT],
        { env: { ...process.env, GATEWAY_URL: gw.url, API_KEY: gw.keyFor('subscription1'), TENANT_ID: TENANT, CLIENT_ID: CLIENT, PYTHONIOENCODING: 'utf-8' } },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${out}\n${err}`)) : resolve({ stdout: out })),
      ),
    );
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, stdout).toBeDefined();
    const result = JSON.parse(line!.slice('RESULT '.length));
    expect(result).toMatchObject({
      issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      alg: 'RS256',
      kid: gw.emulator.identity.signingKey.kid,
      aud: 'api://ai-gateway-emulator',
      azp: CLIENT,
      tid: TENANT,
      with_token: 200,
      without_token: [401, { statusCode: 401, message: 'JWT not present.' }],
    });
    expect(typeof result.content).toBe('string');
  }, 30_000);
});
