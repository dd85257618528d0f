/**
 * OTLP export settings from the command line (`start --otlp-endpoint <url> …`) or the configuration file's `otlp`
 * section; the flags win. Without an endpoint nothing is exported and the OpenTelemetry SDK is never loaded.
 */
import { Option, type Command } from 'commander';
import type { Registry } from 'prom-client';
import { ConfigError } from '../config/load.js';
import type { OtlpExport } from './otlp.js';

/** The configuration file's `otlp` section. */
export interface OtlpConfig {
  /** OTLP/HTTP metrics endpoint: a URL with a path is used as given; a bare origin gets `/v1/metrics`. */
  endpoint?: string;
  /** Wall milliseconds between exports (default 10,000). */
  intervalMs?: number;
  /** Extra headers on every export (e.g. a collector's API key). */
  headers?: Record<string, string>;
}

export interface OtlpCliOptions {
  otlpEndpoint?: string;
  otlpIntervalMs?: number;
  otlpHeader?: string[];
}

export const DEFAULT_OTLP_INTERVAL_MS = 10_000;

export function addOtlpOptions(command: Command, positiveNumber: (value: string) => number): Command {
  return command
    .addOption(new Option('--otlp-endpoint <url>', 'also push the /metrics metrics to an OTLP/HTTP collector (e.g. http://localhost:4318; a bare origin gets /v1/metrics)'))
    .addOption(new Option('--otlp-interval-ms <ms>', `OTLP export interval (default ${DEFAULT_OTLP_INTERVAL_MS})`).argParser(positiveNumber))
    .addOption(
      new Option('--otlp-header <name=value>', 'a header on every OTLP export; repeatable').argParser((value: string, previous: string[] = []) => [...previous, value]),
    );
}

/** The effective settings (flags over the file), or undefined when no endpoint is configured. */
export function resolveOtlp(opts: OtlpCliOptions, file: OtlpConfig | undefined): { url: string; intervalMs: number; headers: Record<string, string> } | undefined {
  const endpoint = opts.otlpEndpoint ?? file?.endpoint;
  if (endpoint === undefined || endpoint === '') return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigError(`--otlp-endpoint: '${endpoint}' is not a URL; expected http(s)://host:port[/v1/metrics]`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--otlp-endpoint: '${endpoint}' is not an http(s) URL (OTLP/HTTP)`);
  if (url.pathname === '/') url.pathname = '/v1/metrics';
  const intervalMs = opts.otlpIntervalMs ?? file?.intervalMs ?? DEFAULT_OTLP_INTERVAL_MS;
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) throw new ConfigError(`otlp.intervalMs: expected a positive number of milliseconds, got ${String(intervalMs)}`);
  const headers: Record<string, string> = { ...file?.headers };
  for (const pair of opts.otlpHeader ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ConfigError(`--otlp-header: expected NAME=VALUE, got '${pair}'`);
    headers[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return { url: url.href, intervalMs, headers };
}

/** Starts the export when configured; the SDK is imported only then. */
export async function otlpExportFromCli(
  opts: OtlpCliOptions,
  file: OtlpConfig | undefined,
  registry: Registry,
  instanceId: string,
  log: (line: string) => void,
): Promise<{ exporter: OtlpExport; description: string } | undefined> {
  const settings = resolveOtlp(opts, file);
  if (!settings) return undefined;
  const { startOtlpExport } = await import('./otlp.js');
  const exporter = startOtlpExport(registry, { ...settings, instanceId, log });
  return { exporter, description: `${settings.url} every ${settings.intervalMs} ms (service.instance.id ${instanceId})` };
}
