/**
 * vitest integration: `useEmulator()` starts one emulator per test file and resets it before each test;
 * importing this module also installs the matchers `toBeTokenLimited` and `toHaveEmittedMetric`.
 *
 * @example
 * import { useEmulator } from 'ai-gateway-emulator/testing/vitest';
 * const gw = useEmulator({ preset: 'token-rate-limiting' });
 * it('refuses the third call', async () => { … expect(res).toBeTokenLimited({ retryAfter: 60 }); });
 */
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { MetricFilter, RunningEmulator, StartEmulatorOptions } from './start-emulator.js';
import { startEmulator } from './start-emulator.js';

/**
 * A handle whose members work inside tests (the emulator starts in beforeAll, resets in beforeEach and
 * closes in afterAll). Accessing it outside a test throws a clear error.
 */
export function useEmulator(options: StartEmulatorOptions = {}): RunningEmulator {
  let running: RunningEmulator | undefined;
  beforeAll(async () => {
    running = await startEmulator(options);
  });
  beforeEach(async () => {
    await running?.reset();
  });
  afterAll(async () => {
    await running?.close();
    running = undefined;
  });
  return new Proxy({} as RunningEmulator, {
    get(_target, property) {
      if (!running) throw new Error(`useEmulator(): '${String(property)}' was read outside a test (the emulator starts in beforeAll).`);
      const value = (running as unknown as Record<string | symbol, unknown>)[property];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(running) : value;
    },
  });
}

const TOKEN_LIMIT_BODY = /^\{ "statusCode": 429, "message": "Token limit is exceeded\.(?: Try again in (\d+) seconds\.)?" \}$/;

interface TokenLimitedExpectation {
  /** Expected Retry-After seconds (also the N in the message). */
  retryAfter?: number;
  /** Name of the header carrying the retry time (default Retry-After). */
  header?: string;
}

expect.extend({
  /** A fetch Response that APIM's llm-token-limit refused: 429, the exact body, Retry-After = N. Reads the body. */
  async toBeTokenLimited(received: Response, expected: TokenLimitedExpectation = {}) {
    if (!(received instanceof Response)) return { pass: false, message: () => 'toBeTokenLimited expects a fetch Response' };
    const body = await received.clone().text();
    const header = received.headers.get(expected.header ?? 'retry-after');
    const match = TOKEN_LIMIT_BODY.exec(body);
    const n = match?.[1] === undefined ? undefined : Number(match[1]);
    const problems: string[] = [];
    if (received.status !== 429) problems.push(`status ${received.status} (expected 429)`);
    if (!match) problems.push(`body ${JSON.stringify(body)} is not APIM's token-limit body`);
    if (n !== undefined && String(n) !== header) problems.push(`${expected.header ?? 'Retry-After'} ${header} differs from the message's ${n} seconds`);
    if (expected.retryAfter !== undefined && header !== String(expected.retryAfter)) problems.push(`${expected.header ?? 'Retry-After'} is ${header}, expected ${expected.retryAfter}`);
    const pass = problems.length === 0;
    return {
      pass,
      message: () => (pass ? `expected the response not to be token-limited (429, Retry-After ${header})` : `expected a token-limited response: ${problems.join('; ')}`),
    };
  },

  /** An emulator (or useEmulator handle) that emitted a metric sample matching the filter (and value, if given). */
  toHaveEmittedMetric(received: RunningEmulator, expected: MetricFilter & { value?: number; count?: number }) {
    const { value, count, ...filter } = expected;
    const matches = received.metrics(filter).filter((s) => value === undefined || s.value === value);
    const pass = count === undefined ? matches.length > 0 : matches.length === count;
    const seen = received.metrics({ ...(filter.name ? { name: filter.name } : {}) }).map((s) => ({ name: s.name, value: s.value, dimensions: s.dimensions }));
    return {
      pass,
      message: () =>
        pass
          ? `expected no metric matching ${JSON.stringify(expected)}`
          : `expected ${count ?? 'a'} metric sample(s) matching ${JSON.stringify(expected)}, found ${matches.length}; samples: ${JSON.stringify(seen).slice(0, 2000)}`,
    };
  },
});

interface EmulatorMatchers<R = unknown> {
  toBeTokenLimited(expected?: TokenLimitedExpectation): Promise<R>;
  toHaveEmittedMetric(expected: MetricFilter & { value?: number; count?: number }): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Assertion<T = any> extends EmulatorMatchers<T> {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface AsymmetricMatchersContaining extends EmulatorMatchers {}
}
