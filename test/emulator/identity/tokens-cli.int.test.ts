import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from '../../../emulator/config/presets.js';
import { CLI_BIN, startCli, stopCli, type StartedCli } from '../../support/cli.js';
import { LAB_MESSAGES } from '../../support/lab.js';

const run = promisify(execFile);
const AUDIENCE = 'https://azure-api.net/authorization-manager';
const KEY = 'tokens-cli-test-key';

/** `ai-gateway-emulator tokens mint …` as a real child process. */
async function mint(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI_BIN, 'tokens', 'mint', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('ai-gateway-emulator tokens mint (real CLI processes)', () => {
  let dir: string;
  let cli: StartedCli;
  const call = (token: string) =>
    fetch(`${cli.url}/inference/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2025-03-01-preview`, {
      method: 'POST',
      headers: { 'api-key': KEY, 'content-type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ messages: LAB_MESSAGES }),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aigw-tokens-'));
    const config = presetConfig('token-rate-limiting');
    config.apis[0]!.policy = `<policies><inbound><base />
      <validate-jwt header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized. Access token is missing or invalid.">
        <openid-config url="https://login.microsoftonline.com/common/.well-known/openid-configuration" />
        <audiences><audience>${AUDIENCE}</audience></audiences>
        <required-claims><claim name="roles" match="any"><value>Caller</value></claim></required-claims>
      </validate-jwt>
      <set-backend-service backend-id="{backend-id}" /></inbound></policies>`;
    config.subscriptions = [{ name: 'subscription1', primaryKey: KEY }];
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    cli = await startCli(['--config', join(dir, 'config.json'), '--data', join(dir, 'data')], { ready: 'test tokens:' });
  }, 30_000);
  afterAll(async () => {
    await stopCli(cli?.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the OpenID configuration URL in the banner and keeps the signing key in the data directory', () => {
    expect(cli.banner).toContain(`Identity: ${cli.url}/_emulator/identity/.well-known/openid-configuration`);
    expect(existsSync(join(dir, 'data', 'identity-signing-key.json'))).toBe(true);
  });

  it('mints with the data directory key a token the running emulator accepts', async () => {
    const minted = await mint(['--data', join(dir, 'data'), '--aud', AUDIENCE, '--role', 'Caller', '--claim', 'email=dev@contoso.example']);
    expect(minted.stderr).toBe('');
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    expect(decodeJwt(token)).toMatchObject({ aud: AUDIENCE, roles: ['Caller'], email: 'dev@contoso.example', ver: '2.0' });
    expect((await call(token)).status).toBe(200);
  }, 30_000);

  it('mints through a running emulator (--url); expired and role-less tokens get the 401', async () => {
    const ok = await mint(['--url', cli.url, '--aud', AUDIENCE, '--role', 'Caller', '--json']);
    expect(ok.code).toBe(0);
    const body = JSON.parse(ok.stdout) as { access_token: string; token_type: string; expires_in: number; claims: Record<string, unknown> };
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3600);
    expect(body.claims.exp).toBe((body.claims.iat as number) + 3600);
    expect((await call(body.access_token)).status).toBe(200);

    const expired = await mint(['--url', cli.url, '--aud', AUDIENCE, '--role', 'Caller', '--expires-in', '-60']);
    const res = await call(expired.stdout.trim());
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('{ "statusCode": 401, "message": "Unauthorized. Access token is missing or invalid." }');
    const noRole = await mint(['--url', cli.url, '--aud', AUDIENCE]);
    expect((await call(noRole.stdout.trim())).status).toBe(401);
  }, 30_000);

  it('refuses bad arguments with exit status 2 and a message', async () => {
    const bad = await mint(['--data', join(dir, 'data'), '--claim', 'no-equals-sign']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("tokens mint: --claim 'no-equals-sign' is not name=value\n");
    const down = await mint(['--url', 'http://127.0.0.1:9', '--aud', AUDIENCE]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^tokens mint: /);
  }, 30_000);
});
