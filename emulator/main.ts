import { Command, InvalidArgumentError, Option } from 'commander';
import { createClock, PolicyLoadError } from '../policy-engine/index.js';
import { createEmulator, type Emulator } from './app.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import { DEFAULT_PRESET, PRESETS, presetConfig } from './config/presets.js';
import type { EmulatorConfig } from './config/schema.js';

export interface StartOptions {
  port: number;
  host: string;
  config?: string;
  preset?: string;
  clock: 'system' | 'virtual';
  timeScale: number;
  loose: boolean;
  tokenLimitAlgorithm: 'sliding-window' | 'token-bucket';
  controlPlaneRemote: boolean;
  adminKey?: string;
  quiet: boolean;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be an integer 0–65535');
  return n;
}

export function buildProgram(out: (line: string) => void = (l) => console.log(l)): Command {
  const program = new Command('ai-gateway-emulator')
    .description('Offline, Azure-compatible AI gateway emulator (APIM policies, mock Azure OpenAI models, App Insights + KQL).')
    .showHelpAfterError();

  program
    .command('start', { isDefault: true })
    .description('Run the gateway emulator (default: the token-rate-limiting lab preset).')
    .addOption(new Option('-p, --port <port>', 'port to listen on').default(8080).argParser(port))
    .addOption(new Option('--host <host>', 'address to bind').default('127.0.0.1'))
    .addOption(new Option('-c, --config <file>', 'configuration file (JSON or YAML)').conflicts('preset'))
    .addOption(new Option('--preset <name>', `lab preset: ${Object.keys(PRESETS).join(', ')}`))
    .addOption(new Option('--clock <mode>', 'system clock, or a virtual clock driven through /_emulator/clock').choices(['system', 'virtual']).default('system'))
    .addOption(
      new Option('--time-scale <n>', 'emulated time runs n× faster than wall time (test accelerator: Retry-After then reports wall-clock seconds, unlike APIM)')
        .default(1)
        .argParser(positiveNumber),
    )
    .addOption(new Option('--loose', 'skip policies the emulator does not know (with a warning) instead of refusing to load them').default(false))
    .addOption(
      new Option('--token-limit-algorithm <name>', 'TPM window: sliding-window (classic tiers) or token-bucket (v2 tiers)')
        .choices(['sliding-window', 'token-bucket'])
        .default('sliding-window'),
    )
    .addOption(new Option('--control-plane-remote', 'answer /_emulator/ requests from non-loopback clients').default(false))
    .addOption(new Option('--admin-key <key>', 'require x-emulator-admin-key on /_emulator/'))
    .addOption(new Option('-q, --quiet', 'do not log warnings').default(false))
    .action(async (opts: StartOptions) => {
      try {
        const { emulator, url } = await startEmulatorFromCli(opts, out);
        const shutdown = async () => {
          await emulator.close();
          process.exit(0);
        };
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
        void url;
      } catch (error) {
        if (error instanceof ConfigError || error instanceof PolicyLoadError) {
          process.stderr.write(`${error.message}\n`);
          process.exit(2);
        }
        throw error;
      }
    });

  return program;
}

export async function startEmulatorFromCli(opts: StartOptions, out: (line: string) => void): Promise<{ emulator: Emulator; url: string }> {
  const presetName = opts.preset ?? (opts.config ? undefined : DEFAULT_PRESET);
  const config: EmulatorConfig = opts.config ? loadConfigFile(opts.config) : presetConfig(presetName!);
  const clock = createClock({ mode: opts.clock, timeScale: opts.timeScale });
  const emulator = createEmulator({
    config,
    clock,
    engineOptions: { strict: !opts.loose, tokenLimitAlgorithm: opts.tokenLimitAlgorithm },
    controlPlaneRemote: opts.controlPlaneRemote,
    ...(opts.adminKey === undefined ? {} : { adminKey: opts.adminKey }),
    log: opts.quiet ? () => {} : (line) => process.stderr.write(`${line}\n`),
  });
  for (const { policy } of emulator.engine.listPolicies()) {
    for (const w of policy.warnings) out(`warning: ${policy.name}: ${w.code}: ${w.message}`);
  }
  const { url } = await emulator.listen(opts.port, opts.host);
  out(describeStartup(emulator, url, opts.config ? `config ${opts.config}` : `preset ${presetName}`));
  return { emulator, url };
}

export function describeStartup(emulator: Emulator, url: string, source: string): string {
  const c = emulator.config;
  const clock = emulator.clock.state();
  const lines = [
    `AI gateway emulator (${source}) listening on ${url}`,
    `  clock: ${clock.mode}${clock.timeScale !== 1 ? `, ${clock.timeScale}x` : ''}, now ${clock.iso}`,
    '  APIs:',
    ...c.apis.map((a) => `    ${a.displayName} (${a.id}): ${url}/${a.path}  [key: header '${a.headerName}' or query '${a.queryName}']`),
    '  Subscriptions:',
    ...c.subscriptions.map((s) => `    ${s.name} (${s.displayName}, ${s.state}, scope ${s.scopeText}): primary ${s.primaryKey}  secondary ${s.secondaryKey}`),
  ];
  const models = c.backends.flatMap((b) => (b.deployments ?? []).map((d) => `    ${b.id}: ${d.name} (${d.model}${d.version ? ` ${d.version}` : ''})`));
  if (models.length) lines.push('  Model deployments:', ...models);
  lines.push(`  Control plane: ${url}/_emulator/ (health, subscriptions, reset, clock, policies)`);
  return lines.join('\n');
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
