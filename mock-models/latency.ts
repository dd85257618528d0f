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
