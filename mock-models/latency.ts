/** Latency model: time to first token and per-token delay, fixed or seeded normal; zero by default. */
import type { Random } from './random.js';

/** Milliseconds, or a normal distribution (clamped at 0). */
export type Delay = number | { mean: number; std?: number };

export interface LatencyOptions {
  /** Before the first token (non-streamed: added once). */
  ttftMs?: Delay;
  /** Before each further token (non-streamed: × completion tokens − 1). */
  perTokenMs?: Delay;
}

/**
 * Named latency models: `none` (the default, and what tests want) and `realistic`, roughly a GlobalStandard
 * gpt-4.1-mini deployment (about 450 ms to the first token, then about 80 tokens per second).
 */
export const LATENCY_PRESETS = {
  none: {},
  realistic: { ttftMs: { mean: 450, std: 120 }, perTokenMs: { mean: 12, std: 3 } },
} as const satisfies Record<string, LatencyOptions>;

export type LatencyPreset = keyof typeof LATENCY_PRESETS;

/** A latency option or a preset name → options (unknown names are an error naming the presets). */
export function resolveLatency(latency: LatencyOptions | string | undefined): LatencyOptions | undefined {
  if (latency === undefined || typeof latency === 'object') return latency;
  const preset = (LATENCY_PRESETS as Record<string, LatencyOptions>)[latency];
  if (!preset) throw new Error(`Unknown latency preset '${latency}'; use ${Object.keys(LATENCY_PRESETS).join(' or ')}.`);
  return preset;
}

export interface Latency {
  ttft(): number;
  perToken(): number;
  /** Whole-response delay for a non-streamed answer of `tokens` completion tokens. */
  total(tokens: number): number;
}

function sample(delay: Delay | undefined, random: Random): number {
  if (delay === undefined) return 0;
  if (typeof delay === 'number') return Math.max(0, delay);
  return Math.max(0, delay.mean + (delay.std ?? 0) * random.normal());
}

export function createLatency(options: LatencyOptions | undefined, random: Random): Latency {
  const ttft = (): number => sample(options?.ttftMs, random);
  const perToken = (): number => sample(options?.perTokenMs, random);
  return {
    ttft,
    perToken,
    total(tokens) {
      let ms = ttft();
      for (let i = 1; i < tokens; i++) ms += perToken();
      return ms;
    },
  };
}
