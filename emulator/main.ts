import { get as httpGet } from 'node:http';
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { spawn } from 'node:child_process';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClock, PolicyLoadError } from '../policy-engine/index.js';
import { connectionString } from './app-insights/query-api.js';
import { runQueryCommand, type QueryFormat } from './app-insights/query-cli.js';
import { createSqliteTelemetryStore, createSqliteTelemetryStoreRecovering, TelemetryStoreOpenError } from './app-insights/sqlite-store.js';
import { ensureSelfSignedCertificate, trustHint } from './app-insights/tls.js';
import { CLIENT_CERTIFICATE_TLS, closeGracefully, createEmulator, slowClientTimeouts, type Emulator } from './app.js';
import { addTokensCommand } from './identity/cli.js';
import { defaultAppInsightsIdentity } from './app-insights/store.js';
import { ConfigError, loadConfigFile, resolveConfig } from './config/load.js';
import { createMockModels, createMockModelsServer, resolveLatency } from '../mock-models/index.js';
import { DEFAULT_PRESET, PRESETS, presetConfig } from './config/presets.js';
import type { EmulatorConfig } from './config/schema.js';
import { applyActiveDeployment, createFileDeploymentStore, createMemoryDeploymentStore } from './control-plane/deployments.js';
import { addLabCommand } from './labs/cli.js';
import { addCounterOptions, counterStoreFromCli, resolveCounters, type CounterCliOptions } from './counters-redis/cli.js';
import { addOtlpOptions, otlpExportFromCli, type OtlpCliOptions } from './metrics/otlp-cli.js';
import { watchNpmParent } from './npm-parent.js';
import { clusterWorkerId, createWorkerTelemetryStore, reportListening, runClusterPrimary } from './cluster/cluster.js';
import { addPoliciesLintCommand } from './lint/cli.js';
import { warmUp } from './warm-up.js';

/** The `az` stand-in's folder (bin/az, bin/az.cmd) and the variable that points it at an emulator. */
export const AZ_BIN_DIR = fileURLToPath(new URL('../bin', import.meta.url));
export const AZ_URL_VARIABLE = 'AI_GATEWAY_EMULATOR_URL';

export function envLine(shell: 'sh' | 'powershell' | 'cmd', url?: string): string {
  if (shell === 'powershell') return [`$env:PATH = "${AZ_BIN_DIR}${delimiter}" + $env:PATH`, ...(url ? [`$env:${AZ_URL_VARIABLE} = "${url}"`] : [])].join('; ');
  if (shell === 'cmd') return [`set "PATH=${AZ_BIN_DIR};%PATH%"`, ...(url ? [`set "${AZ_URL_VARIABLE}=${url}"`] : [])].join(' & ');
  return [`export PATH="${AZ_BIN_DIR}:$PATH"`, ...(url ? [`export ${AZ_URL_VARIABLE}="${url}"`] : [])].join('; ');
}

export interface StartOptions extends CounterCliOptions, OtlpCliOptions {
  /** Gateway processes on one port (node:cluster); needs Redis counters. */
  workers?: number;
  port: number;
  host: string;
  config?: string;
  preset?: string;
  clock: 'system' | 'virtual';
  timeScale: number;
  loose: boolean;
  /** `name=value` pairs added to the configuration's named values. */
  namedValue?: string[];
  tokenLimitAlgorithm?: 'sliding-window' | 'token-bucket';
  controlPlaneRemote: boolean;
  adminKey?: string;
  quiet: boolean;
  data: string;
  inMemory: boolean;
  https: boolean;
  httpsPort: number;
  cert?: string;
  key?: string;
  modelLatency?: 'none' | 'realistic';
  /** Move a corrupt telemetry.db aside (timestamped) and start a fresh one. */
  recoverTelemetry?: boolean;
  /** Cap on telemetry.db in MiB (writes past it fail like a full disk: counted in /_emulator/health). */
  telemetryMaxMb?: number;
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
    .addOption(new Option('--named-value <name=value>', 'a named value ({{name}} in policies); repeatable, wins over the config file').argParser(namedValuePair).default([]))
    .addOption(
      new Option('--token-limit-algorithm <name>', 'TPM window: sliding-window (classic tiers, the default) or token-bucket (v2 tiers)').choices([
        'sliding-window',
        'token-bucket',
      ]),
    )
    .addOption(new Option('--control-plane-remote', 'answer /_emulator/ requests from non-loopback clients').default(false))
    .addOption(new Option('--admin-key <key>', 'require x-emulator-admin-key on /_emulator/'))
    .addOption(new Option('--data <dir>', 'data directory (telemetry.db, generated certificate)').default('.data'))
    .addOption(new Option('--in-memory', 'keep telemetry in memory only').default(false))
    .addOption(new Option('--https', 'also serve HTTPS (Azure SDK query clients refuse bearer tokens over http)').default(false))
    .addOption(new Option('--https-port <port>', 'HTTPS port').default(8443).argParser(port))
    .addOption(new Option('--cert <file>', 'TLS certificate (PEM); default: a self-signed one in the data directory'))
    .addOption(new Option('--key <file>', 'TLS private key (PEM)'))
    .addOption(new Option('--model-latency <preset>', 'latency of the mock models: none (default) or realistic (workshops)').choices(['none', 'realistic']))
    .addOption(new Option('-q, --quiet', 'do not log warnings').default(false))
    .addOption(new Option('--recover-telemetry', 'when telemetry.db is corrupt, rename it telemetry.db.corrupt-<timestamp> and start a fresh one'))
    .addOption(new Option('--telemetry-max-mb <mib>', 'cap on telemetry.db; writes past it are counted as failures in /_emulator/health').argParser(positiveNumber))
    .action(async (opts: StartOptions) => {
      try {
        const { emulator, close } = await startEmulatorFromCli(opts, out);
        let closing = false;
        const shutdown = async () => {
          if (closing) return;
          closing = true;
          // Let in-flight requests finish, then flush every acknowledged telemetry row.
          const force = setTimeout(() => process.exit(1), 15_000);
          force.unref();
          await close();
          void emulator;
          process.exit(0);
        };
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
        // Under `npm start` npm (or its shell) can die without passing SIGTERM on; an orphaned emulator would keep
        // the port. This process or its shell re-parented → shut down as on SIGTERM (emulator/npm-parent.ts).
        if (process.env.npm_lifecycle_event !== undefined) watchNpmParent(() => void shutdown());
      } catch (error) {
        if (error instanceof ConfigError || error instanceof PolicyLoadError || error instanceof TelemetryStoreOpenError) {
          process.stderr.write(`${error.message}\n`);
          process.exit(2);
        }
        throw error;
      }
    });

  program
    .command('models')
    .description('Serve the mock Azure OpenAI models alone over HTTP (point any backend URL or SDK at it).')
    .addOption(new Option('-p, --port <port>', 'port to listen on').default(8081).argParser(port))
    .addOption(new Option('--host <host>', 'address to bind').default('127.0.0.1'))
    .addOption(new Option('-c, --config <file>', 'configuration file whose mock backend to serve').conflicts('preset'))
    .addOption(new Option('--preset <name>', `lab preset: ${Object.keys(PRESETS).join(', ')}`))
    .addOption(new Option('--backend <id>', 'which mock backend of the configuration (default: the first)'))
    .addOption(new Option('--model-latency <preset>', 'none (default) or realistic').choices(['none', 'realistic']))
    .addOption(new Option('--clock <mode>', 'system or virtual').choices(['system', 'virtual']).default('system'))
    .action(async (opts: { port: number; host: string; config?: string; preset?: string; backend?: string; modelLatency?: 'none' | 'realistic'; clock: 'system' | 'virtual' }) => {
      const config = withModelLatency(opts.config ? loadConfigFile(opts.config) : presetConfig(opts.preset ?? DEFAULT_PRESET), opts.modelLatency);
      const resolved = resolveConfig(config);
      const backend = resolved.backends.find((b) => b.type === 'mock' && (opts.backend === undefined || b.id === opts.backend));
      if (!backend) {
        process.stderr.write(`No mock backend${opts.backend ? ` '${opts.backend}'` : ''} in this configuration.\n`);
        process.exit(2);
      }
      const models = createMockModels({
        clock: createClock({ mode: opts.clock }),
        region: backend.region ?? resolved.gateway.region,
        deployments: (backend.deployments ?? []).map((d) => ({ ...d })),
        ...(backend.latency === undefined ? {} : { latency: resolveLatency(backend.latency)! }),
      });
      const server = await createMockModelsServer(models).listen(opts.port, opts.host);
      out(`Mock Azure OpenAI models (${backend.id}) listening on ${server.url}`);
      for (const d of models.deployments) out(`  ${server.url}/openai/deployments/${d.name}/chat/completions?api-version=2025-03-01-preview  (${d.model})`);
      const stop = async () => {
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  program
    .command('query')
    .description('Run a KQL query against a running emulator (--url) or directly on a data directory (--data).')
    .argument('<kql>', 'the query, e.g. "customMetrics | summarize sum(value) by name"')
    .addOption(new Option('--timespan <iso>', 'ISO 8601 duration or interval, e.g. PT1H'))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .addOption(new Option('--url <url>', 'a running emulator, e.g. http://127.0.0.1:8080').conflicts('data'))
    .addOption(new Option('--data <dir>', 'read the data directory directly'))
    .action(async (kql: string, opts: { timespan?: string; format: QueryFormat; url?: string; data?: string }) => {
      const result = await runQueryCommand({
        query: kql,
        format: opts.format,
        ...(opts.timespan === undefined ? {} : { timespan: opts.timespan }),
        ...(opts.url === undefined ? {} : { url: opts.url }),
        ...(opts.data === undefined ? (opts.url === undefined ? { url: 'http://127.0.0.1:8080' } : {}) : { dataDir: opts.data }),
      });
      if (result.ok) out(result.text);
      else {
        process.stderr.write(`${result.text}\n`);
        process.exitCode = 1;
      }
    });

  program
    .command('env')
    .description("Print the line that puts the emulator's `az` stand-in first on PATH (eval \"$(ai-gateway-emulator env)\").")
    .addOption(new Option('--shell <shell>', 'sh (bash, zsh), powershell or cmd').choices(['sh', 'bash', 'zsh', 'powershell', 'pwsh', 'cmd']).default('sh'))
    .addOption(new Option('--url <url>', `also set ${AZ_URL_VARIABLE} (default http://127.0.0.1:8080)`))
    .action((opts: { shell: string; url?: string }) => {
      const shell = opts.shell === 'pwsh' || opts.shell === 'powershell' ? 'powershell' : opts.shell === 'cmd' ? 'cmd' : 'sh';
      out(envLine(shell, opts.url));
    });

  program
    .command('shell')
    .description('Open a subshell where `az` is the emulator stand-in (exit it to use the real Azure CLI again).')
    .addOption(new Option('--url <url>', `the emulator to answer from (sets ${AZ_URL_VARIABLE}; default http://127.0.0.1:8080)`))
    .action(async (opts: { url?: string }) => {
      const windows = process.platform === 'win32';
      const shell = windows ? process.env.COMSPEC ?? 'cmd.exe' : process.env.SHELL ?? '/bin/sh';
      const url = opts.url ?? process.env[AZ_URL_VARIABLE] ?? 'http://127.0.0.1:8080';
      process.stderr.write(`az now answers from the emulator at ${url}; type exit to go back to the real Azure CLI.\n`);
      const child = spawn(shell, [], {
        stdio: 'inherit',
        env: { ...process.env, PATH: `${AZ_BIN_DIR}${delimiter}${process.env.PATH ?? ''}`, [AZ_URL_VARIABLE]: url },
      });
      const code = await new Promise<number>((res) => child.on('exit', (c) => res(c ?? 1)));
      process.exitCode = code;
    });

  addTokensCommand(program, out);
  addLabCommand(program, out);
  addPoliciesLintCommand(program, out);

  // `start` is the default command, so `ai-gateway-emulator --help` (and `npm start -- --help`) shows its options too.
  const start = program.commands.find((c) => c.name() === 'start')!;
  addCounterOptions(start, positiveNumber);
  addOtlpOptions(start, positiveNumber);
  start.addOption(new Option('--workers <n>', 'run n gateway processes on one port (needs --counters redis://…; telemetry written by one process)').argParser(positiveNumber));
  program.addHelpText('after', () => `\nOptions of start (the default command):\n${start.helpInformation().split('\nOptions:\n')[1] ?? ''}`);

  return program;
}

/** One control-plane request over loopback (not recorded as telemetry) warms the HTTP stack. */
function warmHttp(url: string): Promise<void> {
  return new Promise((resolve) => {
    const req = httpGet(`${url}/_emulator/health`, (res) => res.resume().on('end', resolve).on('error', () => resolve()));
    req.on('error', () => resolve());
  });
}

export async function startEmulatorFromCli(
  opts: StartOptions,
  out: (line: string) => void,
): Promise<{ emulator: Emulator; url: string; httpsUrl?: string; close: () => Promise<void> }> {
  const presetName = opts.preset ?? (opts.config ? undefined : DEFAULT_PRESET);
  const config: EmulatorConfig = withNamedValues(withModelLatency(opts.config ? loadConfigFile(opts.config) : presetConfig(presetName!), opts.modelLatency), opts.namedValue ?? []);
  const clock = createClock({ mode: opts.clock, timeScale: opts.timeScale });
  const dataDir = resolve(opts.data ?? '.data');
  const workerId = clusterWorkerId();
  if ((opts.workers ?? 1) > 1 && workerId === undefined) {
    if (!resolveCounters(opts, config.counters, '')) throw new ConfigError(`--workers ${opts.workers} needs counters shared by the workers: add --counters redis://host:port (or counters.url in the config file).`);
    const primary = await runClusterPrimary({ workers: Math.floor(opts.workers!), dataDir, inMemory: opts.inMemory, identity: defaultAppInsightsIdentity(config.appInsights), out });
    return { emulator: undefined as unknown as Emulator, url: primary.url, close: primary.close };
  }
  if (workerId !== undefined && workerId > 1) out = () => {}; // worker 1 prints the banner, the primary the Workers line
  const storeOptions = { dataDir, inMemory: opts.inMemory, identity: defaultAppInsightsIdentity(config.appInsights), ...(opts.telemetryMaxMb ? { maxPageCount: Math.ceil(opts.telemetryMaxMb * 256) } : {}) };
  let telemetry;
  if (opts.recoverTelemetry && !opts.inMemory) {
    const opened = createSqliteTelemetryStoreRecovering(storeOptions, clock.now());
    if (opened.movedAside) out(`warning: telemetry: the corrupt database was moved to ${opened.movedAside}; starting with an empty one`);
    telemetry = opened.store;
  } else if (workerId !== undefined) {
    telemetry = createWorkerTelemetryStore(dataDir, storeOptions.identity);
  } else {
    telemetry = createSqliteTelemetryStore(storeOptions);
  }
  const deployments = opts.inMemory ? createMemoryDeploymentStore() : createFileDeploymentStore(join(dataDir, 'deployments.json'));
  const log = opts.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const counters = await counterStoreFromCli(opts, config.counters, `${hostname()}-${process.pid}`, log);
  const emulator = createEmulator({
    ...(counters ? { counters: counters.store } : {}),
    config,
    clock,
    telemetry,
    deployments,
    // The identity signing key lives beside the telemetry, so tokens minted with `tokens mint --data` stay valid.
    ...(opts.inMemory ? {} : { identityKeyDir: dataDir }),
    // Flags override the config file's policyEngine settings only when given.
    engineOptions: { ...(opts.loose ? { strict: false } : {}), ...(opts.tokenLimitAlgorithm ? { tokenLimitAlgorithm: opts.tokenLimitAlgorithm } : {}) },
    controlPlaneRemote: opts.controlPlaneRemote,
    ...(opts.adminKey === undefined ? {} : { adminKey: opts.adminKey }),
    log: opts.quiet ? () => {} : (line) => process.stderr.write(`${line}\n`),
  });
  // The most recent lab deployment (az deployment group create) configures the gateway again after a restart.
  const deployed = await applyActiveDeployment(emulator, deployments).catch((error: unknown) => {
    out(`warning: deployments: ${deployments.path}: ${error instanceof Error ? error.message : String(error)}; using the start configuration`);
    return undefined;
  });
  // OTLP push of the /metrics registry (the OpenTelemetry SDK is imported only when an endpoint is set).
  const otlp = await otlpExportFromCli(opts, config.otlp, emulator.prometheus.registry, `${hostname()}-${process.pid}`, log);
  for (const { policy } of emulator.engine.listPolicies()) {
    for (const w of policy.warnings) out(`warning: ${policy.name}: ${w.code}: ${w.message}`);
  }
  // Not in a cluster worker: a worker's listen(0) shares one handle with the other workers' gateways.
  await warmUp(emulator, config, { twin: workerId === undefined });
  const { url } = await emulator.listen(opts.port, opts.host);
  await warmHttp(url);
  let httpsUrl: string | undefined;
  let httpsServer: HttpsServer | undefined;
  let tlsNote = '';
  if (opts.https) {
    const tls =
      opts.cert && opts.key
        ? { cert: readFileSync(opts.cert, 'utf8'), key: readFileSync(opts.key, 'utf8'), certPath: resolve(opts.cert), generated: false }
        : await ensureSelfSignedCertificate(dataDir); // real time: TLS clients check validity against the wall clock
    httpsServer = createHttpsServer({ cert: tls.cert, key: tls.key, ...CLIENT_CERTIFICATE_TLS, ...slowClientTimeouts(emulator.config.gateway) }, emulator.listener);
    await new Promise<void>((res, rej) => {
      httpsServer!.once('error', rej);
      httpsServer!.listen(opts.httpsPort, opts.host, () => res());
    });
    const address = httpsServer.address() as AddressInfo;
    httpsUrl = `https://${opts.host === '127.0.0.1' || opts.host === '0.0.0.0' ? 'localhost' : opts.host}:${address.port}`;
    tlsNote = `  HTTPS: ${httpsUrl}  (certificate ${tls.certPath}${tls.generated ? ', generated' : ''}; trust it with ${trustHint(tls.certPath)})`;
  }
  const source = opts.config ? `config ${opts.config}` : `preset ${presetName}`;
  out(describeStartup(emulator, url, deployed ? `deployment ${deployed.resourceGroup}/${deployed.name}, start ${source}` : source));
  const ai = emulator.config.appInsights;
  out(`  App Insights: name ${ai.name}, appId ${ai.appId}, workspaceId ${ai.workspaceId}`);
  out(`    query: POST ${httpsUrl ?? url}/v1/apps/${ai.appId}/query  |  connection string: ${connectionString(ai, httpsUrl ?? url)}`);
  out(`    telemetry: ${opts.inMemory ? 'in memory' : telemetry.path}`);
  out(`  Counters: ${counters ? counters.description : 'in memory (this process)'}`);
  out(`  az stand-in: ${envLine('sh', url)}  (or: ai-gateway-emulator shell --url ${url})`);
  out(`  Identity: ${url}/_emulator/identity/.well-known/openid-configuration (tenant ${emulator.identity.tenantId}); test tokens: ai-gateway-emulator tokens mint --url ${url}`);
  if (tlsNote) out(tlsNote);
  if (otlp) out(`  OTLP metrics: ${otlp.description}`);
  if (workerId !== undefined) reportListening(url);
  const close = async () => {
    // Both listeners stop accepting at once and drain their in-flight requests; then telemetry is flushed.
    await Promise.all([httpsServer ? closeGracefully(httpsServer) : Promise.resolve(), emulator.close()]);
    await telemetry.close();
    await counters?.store.close();
    await otlp?.exporter.shutdown(); // a last export with the final values (bounded by the export timeout)
  };
  return { emulator, url, ...(httpsUrl ? { httpsUrl } : {}), close };
}

function namedValuePair(value: string, previous: string[] = []): string[] {
  if (value.indexOf('=') <= 0) throw new InvalidArgumentError(`expected NAME=VALUE, got '${value}'`);
  return [...previous, value];
}

/** --named-value name=value pairs over the configuration's namedValues. */
function withNamedValues(config: EmulatorConfig, pairs: readonly string[]): EmulatorConfig {
  if (pairs.length === 0) return config;
  const namedValues = { ...config.namedValues };
  for (const pair of pairs) namedValues[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
  return { ...config, namedValues };
}

/** --model-latency overrides the latency of every mock backend. */
function withModelLatency(config: EmulatorConfig, latency: 'none' | 'realistic' | undefined): EmulatorConfig {
  if (latency === undefined) return config;
  return { ...config, backends: (config.backends ?? []).map((b) => ({ ...b, latency })) };
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
  lines.push(`  Control plane: ${url}/_emulator/ (health, subscriptions, reset, clock, policies, appinsights)`);
  lines.push(`  Dashboard: ${url}/_emulator/ui/  (metrics, KQL, token limits, requests, policies)`);
  return lines.join('\n');
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
