import { startEmulator, type RunningEmulator } from '../../emulator/testing/start-emulator.js';

/**
 * Where the lab-level suite runs: the emulator (default, virtual clock) or a real Azure deployment of the lab
 * (`npm run test:live`). Everything that must differ between the two lives here, and only here:
 * - time: the emulator's clock jumps; on Azure the suite really waits;
 * - telemetry: the emulator answers at once; App Insights ingests in minutes, so queries poll until a deadline;
 * - keys and URLs: the emulator's well-known keys; on Azure the deployment's outputs, from the environment.
 */
export interface LabTarget {
  readonly mode: 'emulator' | 'live';
  readonly gatewayUrl: string;
  /** Subscription keys in the order the lab defines its subscriptions. */
  readonly keys: string[];
  /** Lets `seconds` pass (virtual clock jump, or a real wait). */
  wait(seconds: number): Promise<void>;
  /** Runs KQL until `ready(rows)` holds or the ingestion deadline passes (returns the last rows either way). */
  query(kql: string, ready: (rows: Array<Record<string, unknown>>) => boolean): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** The environment contract of the live suite (also in the README, "Live mode"). */
export const LIVE_VARIABLES = {
  url: 'AI_GATEWAY_LIVE_URL', // the APIM gateway URL, e.g. https://apim-xyz.azure-api.net
  keys: 'AI_GATEWAY_LIVE_KEYS', // comma-separated subscription keys, in the lab's order
  appId: 'AI_GATEWAY_LIVE_APP_ID', // App Insights application id (metrics lab)
  apiKey: 'AI_GATEWAY_LIVE_APP_KEY', // App Insights API key with Read telemetry
  ingestionTimeout: 'AI_GATEWAY_LIVE_INGESTION_TIMEOUT_S', // optional, default 600
} as const;

/** `npm run test:live` (vitest --mode live), or AI_GATEWAY_LIVE=1. */
export const liveRequested = (import.meta as { env?: { MODE?: string } }).env?.MODE === 'live' || process.env.AI_GATEWAY_LIVE === '1';

/** Why the live run cannot start (one line), or undefined when it can. */
export function liveMissing(needsAppInsights: boolean): string | undefined {
  const needed = [LIVE_VARIABLES.url, LIVE_VARIABLES.keys, ...(needsAppInsights ? [LIVE_VARIABLES.appId, LIVE_VARIABLES.apiKey] : [])];
  const missing = needed.filter((name) => !process.env[name]);
  return missing.length ? `live suite skipped: set ${missing.join(', ')} (README, "Live mode") to run it against a real Azure gateway` : undefined;
}

export async function labTarget(preset: 'token-rate-limiting' | 'token-metrics-emitting', subscriptions: string[]): Promise<LabTarget> {
  if (liveRequested) return liveTarget();
  const gw: RunningEmulator = await startEmulator({ preset });
  return {
    mode: 'emulator',
    gatewayUrl: gw.url,
    keys: subscriptions.map((s) => gw.keyFor(s)),
    wait: async (seconds) => gw.clock.advance(seconds * 1000),
    query: async (kql) => {
      await gw.emulator.settled();
      return gw.query(kql, { timespan: 'PT1H' });
    },
    close: () => gw.close(),
  };
}

function liveTarget(): LabTarget {
  const env = (name: string) => process.env[name] ?? '';
  const deadlineMs = Number(env(LIVE_VARIABLES.ingestionTimeout) || 600) * 1000;
  return {
    mode: 'live',
    gatewayUrl: env(LIVE_VARIABLES.url).replace(/\/+$/, ''),
    keys: env(LIVE_VARIABLES.keys).split(',').map((k) => k.trim()),
    wait: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)),
    async query(kql, ready) {
      const started = performance.now();
      for (;;) {
        const res = await fetch(`https://api.applicationinsights.io/v1/apps/${env(LIVE_VARIABLES.appId)}/query`, {
          method: 'POST',
          headers: { 'x-api-key': env(LIVE_VARIABLES.apiKey), 'content-type': 'application/json' },
          body: JSON.stringify({ query: kql, timespan: 'PT1H' }),
        });
        if (!res.ok) throw new Error(`App Insights query failed: ${res.status} ${await res.text()}`);
        const table = ((await res.json()) as { tables: Array<{ columns: Array<{ name: string }>; rows: unknown[][] }> }).tables[0]!;
        const rows = table.rows.map((row) => Object.fromEntries(table.columns.map((c, i) => [c.name, row[i]])));
        if (ready(rows) || performance.now() - started > deadlineMs) return rows;
        await new Promise((resolve) => setTimeout(resolve, 15_000)); // App Insights ingests in minutes
      }
    },
    close: async () => undefined,
  };
}
