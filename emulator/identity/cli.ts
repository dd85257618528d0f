import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { createClock } from '../../policy-engine/index.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import type { IdentityConfig } from '../config/schema.js';
import { createIdentity, loadSigningKey, SIGNING_KEY_FILE, type MintTokenOptions } from './index.js';
import { checkMintOptions } from './routes.js';

interface MintCliOptions {
  url?: string;
  adminKey?: string;
  data: string;
  config?: string;
  aud?: string[];
  tenant?: string;
  iss?: string;
  sub?: string;
  clientId?: string;
  scope?: string;
  role?: string[];
  claim?: string[];
  expiresIn?: number;
  tokenVersion?: '1.0' | '2.0';
  exp: boolean;
  json: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * `ai-gateway-emulator tokens mint [options]`: prints a token the emulator's validate-jwt / validate-azure-ad-token
 * accept. With `--url` a running emulator mints it (its key, its clock); otherwise the key of the data directory
 * (`--data`, created when missing, the one `start --data` signs with) and the wall clock.
 */
export function addTokensCommand(program: Command, out: (line: string) => void): void {
  const tokens = program.command('tokens').description("Test tokens signed by the emulator's identity key (validate-jwt, validate-azure-ad-token).");
  tokens
    .command('mint')
    .description('Print a signed JWT (Entra-shaped claims: iss, aud, sub, oid, tid, azp/appid, iat, nbf, exp).')
    .addOption(new Option('--url <url>', 'ask a running emulator (its signing key and clock), e.g. http://127.0.0.1:8080'))
    .addOption(new Option('--admin-key <key>', "the running emulator's --admin-key"))
    .addOption(new Option('--data <dir>', `data directory holding the signing key (${SIGNING_KEY_FILE})`).default('.data'))
    .addOption(new Option('-c, --config <file>', 'configuration file whose identity section applies (tenant, default audience, signing key)'))
    .addOption(new Option('--aud <audience>', 'aud claim (repeatable)').argParser(collect))
    .addOption(new Option('--tenant <tenant>', 'tenant id or domain (tid, and the Entra issuer)'))
    .addOption(new Option('--iss <issuer>', 'iss claim (default: the Entra issuer of the tenant)'))
    .addOption(new Option('--sub <subject>', 'sub and oid claims'))
    .addOption(new Option('--client-id <id>', 'client application id (azp, or appid for --token-version 1.0)'))
    .addOption(new Option('--scope <scopes>', 'scp claim, space-separated'))
    .addOption(new Option('--role <role>', 'roles claim entry (repeatable)').argParser(collect))
    .addOption(new Option('--claim <name=value>', 'another claim; JSON values (numbers, true, arrays) are parsed (repeatable)').argParser(collect))
    .addOption(new Option('--expires-in <seconds>', 'seconds until exp (negative: already expired)').argParser(Number))
    .addOption(new Option('--token-version <version>', "'2.0' (default) or '1.0'").choices(['1.0', '2.0']))
    .addOption(new Option('--no-exp', 'omit the exp claim'))
    .addOption(new Option('--json', 'print { access_token, token_type, expires_in, claims } instead of the token alone').default(false))
    .action(async (opts: MintCliOptions) => {
      try {
        const request = mintOptionsFrom(opts);
        const problem = checkMintOptions(request);
        if (problem) throw new UsageError(problem);
        const token = opts.url ? await mintRemote(opts.url, request, opts.adminKey) : await mintLocal(opts, request);
        if (!opts.json) return out(token);
        const { decodeJwt } = await import('jose');
        out(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: request.noExpiration ? null : request.expiresInSeconds ?? 3600, claims: decodeJwt(token) }, null, 2));
      } catch (error) {
        process.stderr.write(`tokens mint: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = error instanceof UsageError || error instanceof ConfigError ? 2 : 1;
      }
    });
}

class UsageError extends Error {}

function mintOptionsFrom(opts: MintCliOptions): MintTokenOptions {
  const claims: Record<string, unknown> = {};
  for (const pair of opts.claim ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--claim '${pair}' is not name=value`);
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    claims[pair.slice(0, at)] = value;
  }
  if (opts.expiresIn !== undefined && !Number.isFinite(opts.expiresIn)) throw new UsageError('--expires-in must be a number of seconds');
  const aud = opts.aud ?? [];
  return {
    ...(aud.length === 0 ? {} : { audience: aud.length === 1 ? aud[0]! : aud }),
    ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }),
    ...(opts.iss === undefined ? {} : { issuer: opts.iss }),
    ...(opts.sub === undefined ? {} : { subject: opts.sub }),
    ...(opts.clientId === undefined ? {} : { clientId: opts.clientId }),
    ...(opts.scope === undefined ? {} : { scope: opts.scope }),
    ...(opts.role === undefined ? {} : { roles: opts.role }),
    ...(opts.expiresIn === undefined ? {} : { expiresInSeconds: opts.expiresIn }),
    ...(opts.tokenVersion === undefined ? {} : { version: opts.tokenVersion }),
    ...(opts.exp ? {} : { noExpiration: true }),
    ...(Object.keys(claims).length === 0 ? {} : { claims }),
  };
}

async function mintLocal(opts: MintCliOptions, request: MintTokenOptions): Promise<string> {
  const config: IdentityConfig = opts.config ? loadConfigFile(opts.config).identity ?? {} : {};
  const key = loadSigningKey({ ...(config.signingKey ? { jwk: config.signingKey } : {}), dataDir: resolve(opts.data) });
  return createIdentity(config, key).mint(createClock({ mode: 'system' }).now(), request);
}

async function mintRemote(url: string, request: MintTokenOptions, adminKey: string | undefined): Promise<string> {
  const res = await fetch(`${url.replace(/\/+$/, '')}/_emulator/identity/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(adminKey === undefined ? {} : { 'x-emulator-admin-key': adminKey }) },
    body: JSON.stringify(request),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; error?: { message?: string } };
  if (!res.ok || !body.access_token) throw new Error(`${url} answered ${res.status}: ${body.error?.message ?? 'no token'}`);
  return body.access_token;
}
