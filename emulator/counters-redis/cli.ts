/**
 * Counter-store settings from the command line (`start --counters redis://host:port …`) or the configuration
 * file's `counters` section; the flags win. Without either, counters stay in the process's memory.
 */
import { Option, type Command } from 'commander';
import { ConfigError } from '../config/load.js';
import type { CounterTopology, RedisCounterStore, RedisFailureMode } from './redis-store.js';

/** The configuration file's `counters` section. */
export interface CountersConfig {
  /** redis://host:port[/db] (absent: in-memory counters). */
  url?: string;
  /** shared (default: one limit across the group's gateways) or per-gateway (each gateway counts alone, as APIM). */
  topology?: CounterTopology;
  /** Gateways of one group share a key namespace (default 'default'). */
  group?: string;
  /** This gateway's name (per-gateway topology; default: the host name and process id). */
  instance?: string;
  /** open (default, APIM-like) or closed. */
  failureMode?: RedisFailureMode;
  /** Longest wait for one counter operation, ms (default 250). */
  timeoutMs?: number;
}

export interface CounterCliOptions {
  counters?: string;
  countersTopology?: CounterTopology;
  countersGroup?: string;
  gatewayName?: string;
  countersFailure?: RedisFailureMode;
  countersTimeoutMs?: number;
}

export class CountersConfigError extends ConfigError {}

export function addCounterOptions(command: Command, positiveNumber: (value: string) => number): Command {
  return command
    .addOption(new Option('--counters <url>', 'share token/rate counters through Redis (redis://host:port); default: in memory'))
    .addOption(new Option('--counters-topology <name>', 'shared: one limit across the group; per-gateway: each gateway counts alone (APIM)').choices(['shared', 'per-gateway']))
    .addOption(new Option('--counters-group <name>', 'Redis key namespace shared by one group of gateways (default: default)'))
    .addOption(new Option('--gateway-name <name>', 'this gateway in the group (per-gateway counters; default: host-pid)'))
    .addOption(new Option('--counters-failure <mode>', 'when Redis is unreachable: open (serve uncounted, APIM-like) or closed (503)').choices(['open', 'closed']))
    .addOption(new Option('--counters-timeout-ms <ms>', 'longest wait for one counter operation (default 250)').argParser(positiveNumber));
}

/** The effective settings (flags over the file), or undefined for in-memory counters. */
export function resolveCounters(opts: CounterCliOptions, file: CountersConfig | undefined, defaultInstance: string): Required<Omit<CountersConfig, 'url'>> & { url: string } | undefined {
  const url = opts.counters ?? file?.url;
  if (url === undefined || url === 'memory') return undefined;
  if (!/^rediss?:\/\/[^/]+/.test(url)) throw new CountersConfigError(`--counters: '${url}' is not a Redis URL; expected redis://host:port (or rediss://)`);
  return {
    url,
    topology: opts.countersTopology ?? file?.topology ?? 'shared',
    group: opts.countersGroup ?? file?.group ?? 'default',
    instance: opts.gatewayName ?? file?.instance ?? defaultInstance,
    failureMode: opts.countersFailure ?? file?.failureMode ?? 'open',
    timeoutMs: opts.countersTimeoutMs ?? file?.timeoutMs ?? 250,
  };
}

/** Connects (waits up to 2 s; an unreachable Redis is reported, not fatal: the failure mode then applies). */
export async function counterStoreFromCli(
  opts: CounterCliOptions,
  file: CountersConfig | undefined,
  defaultInstance: string,
  log: (line: string) => void,
): Promise<{ store: RedisCounterStore; description: string } | undefined> {
  const settings = resolveCounters(opts, file, defaultInstance);
  if (!settings) return undefined;
  const { createRedisCounterStore } = await import('./redis-store.js'); // ioredis loads only when asked for
  const store = createRedisCounterStore({ ...settings, log });
  await store.ready(2000).catch((error: Error) => log(`warning: counters: ${error.message}; fail-${settings.failureMode} until it answers`));
  const scope = settings.topology === 'shared' ? `shared by group '${settings.group}'` : `per gateway '${settings.instance}' in group '${settings.group}'`;
  return { store, description: `Redis ${settings.url} (${scope}, fail-${settings.failureMode}, ${settings.timeoutMs} ms timeout)` };
}
