/**
 * Under the virtual clock the token limiter is exact: random request sequences sent over HTTP to a gateway with
 * `llm-token-limit` get the same admission decisions, Retry-After and remaining/consumed headers as a
 * straightforward reference implementation of policies.md §5.9, written here independently of the policy code.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { apiPolicy, httpBackendConfig } from '../../support/configs.js';
import { labPost } from '../../support/lab.js';
import { startScriptedBackend, type ScriptedBackend } from '../../support/scripted-backend.js';

const TPM = 600;
/** The gateway's estimate of the lab prompt (o200k, chat formula); asserted by llm-token-limit.int.test.ts. */
const LAB_PROMPT_ESTIMATE = 31;
const T0 = Date.parse('2026-01-01T00:00:00Z');

type Algorithm = 'sliding-window' | 'token-bucket';
interface Step {
  /** Emulated ms since the previous request. */
  gapMs: number;
  prompt: number;
  completion: number;
}
interface Outcome {
  status: number;
  retryAfter: string | null;
  consumed: string | null;
  remaining: string | null;
}

/**
 * §5.9 as a plain model. Admission edge as decided in docs/design/token-limits.md: with an estimate E the
 * request is admitted when used + E <= TPM; without one while used < TPM (the seed lab's observed run).
 */
abstract class Reference {
  protected constructor(protected readonly estimate: number) {}
  protected admits(used: number): boolean {
    return this.estimate > 0 ? used + this.estimate <= TPM : used < TPM;
  }
  abstract send(now: number, actual: number): Outcome;
}

/** Sliding 60 s window of (time, tokens) charges, each charge at the request's (inbound) timestamp. */
class SlidingWindowReference extends Reference {
  private charges: Array<{ at: number; tokens: number }> = [];
  constructor(estimate: number) {
    super(estimate);
  }
  send(now: number, actual: number): Outcome {
    const live = this.charges.filter((c) => c.at > now - 60_000);
    const used = live.reduce((sum, c) => sum + c.tokens, 0);
    if (!this.admits(used)) {
      // The earliest instant at which enough of the oldest charges have left the window.
      let left = used;
      for (const c of live) {
        left -= c.tokens;
        if (this.admits(left)) return refusal(c.at + 60_000 - now);
      }
      return refusal(Number.POSITIVE_INFINITY);
    }
    this.charges.push({ at: now, tokens: actual });
    return { status: 200, retryAfter: null, consumed: String(actual), remaining: String(Math.max(0, TPM - used - actual)) };
  }
}

/** Token bucket: capacity TPM, refilled TPM/60 per second, may go into debt (v2 tiers). */
class TokenBucketReference extends Reference {
  private level = TPM;
  private at: number | undefined;
  constructor(estimate: number) {
    super(estimate);
  }
  send(now: number, actual: number): Outcome {
    if (this.at !== undefined) this.level = Math.min(TPM, this.level + ((now - this.at) * TPM) / 60_000);
    this.at = now;
    const used = TPM - this.level;
    if (!this.admits(used)) {
      if (this.estimate > TPM) return refusal(Number.POSITIVE_INFINITY);
      const needed = this.estimate > 0 ? this.estimate : Number.EPSILON;
      return refusal(Math.max(1, ((needed - this.level) * 60_000) / TPM));
    }
    this.level -= actual;
    return { status: 200, retryAfter: null, consumed: String(actual), remaining: String(Math.max(0, TPM - Math.max(0, used) - actual)) };
  }
}

function refusal(waitMs: number): Outcome {
  const retryAfter = Number.isFinite(waitMs) ? String(Math.max(1, Math.ceil(waitMs / 1000))) : null;
  return { status: 429, retryAfter, consumed: null, remaining: null };
}

const stepArb = (algorithm: Algorithm) =>
  fc.record({
    // The bucket refills 1 token per 100 ms at TPM 600: whole multiples keep both sides in exact integers.
    gapMs: algorithm === 'token-bucket' ? fc.integer({ min: 0, max: 300 }).map((n) => n * 100) : fc.integer({ min: 0, max: 30_000 }),
    // Often 150 or 200 tokens (divisors of TPM), so sums land exactly on the limit and test the equality edge.
  }).chain((s) =>
    fc
      .oneof(
        fc.record({ prompt: fc.integer({ min: 1, max: 120 }), completion: fc.integer({ min: 0, max: 200 }) }),
        fc.constantFrom({ prompt: 50, completion: 100 }, { prompt: 31, completion: 169 }),
      )
      .map((usage) => ({ ...s, ...usage })),
  );

describe('llm-token-limit matches a reference implementation of policies.md §5.9 (fast-check, virtual clock)', () => {
  let backend: ScriptedBackend;
  const gateways = new Map<string, RunningEmulator>();
  let run = 0;
  let refusals = 0;

  beforeAll(async () => {
    backend = await startScriptedBackend();
    for (const algorithm of ['sliding-window', 'token-bucket'] as const) {
      for (const estimate of [false, true]) {
        const policy = apiPolicy(
          `<llm-token-limit counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-run&quot;, &quot;&quot;))" tokens-per-minute="${TPM}"
             estimate-prompt-tokens="${estimate}" tokens-consumed-header-name="x-consumed" remaining-tokens-header-name="x-remaining" />`,
        );
        const config = { ...httpBackendConfig(backend.url, policy), policyEngine: { tokenLimitAlgorithm: algorithm } };
        gateways.set(`${algorithm}/${estimate}`, await startEmulator({ config }));
      }
    }
  });
  afterAll(async () => {
    for (const g of gateways.values()) await g.close();
    await backend?.close();
  });

  describe.each(['sliding-window', 'token-bucket'] as const)('%s', (algorithm) => {
    it.each([false, true])('estimate-prompt-tokens=%s: same decisions, Retry-After and headers', async (estimate) => {
      const g = gateways.get(`${algorithm}/${estimate}`)!;
      const key = g.keyFor('subscription1');
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb(algorithm), { minLength: 1, maxLength: 14 }), async (steps: Step[]) => {
          // A fresh counter key per run: no state carries over between generated sequences.
          const runKey = `run-${++run}`;
          const reference = algorithm === 'sliding-window' ? new SlidingWindowReference(estimate ? LAB_PROMPT_ESTIMATE : 0) : new TokenBucketReference(estimate ? LAB_PROMPT_ESTIMATE : 0);
          let now = T0 + run * 3_600_000;
          for (const [i, step] of steps.entries()) {
            now += step.gapMs;
            g.clock.set(now);
            const expected = reference.send(now, step.prompt + step.completion);
            if (expected.status === 200) backend.queue({ prompt: step.prompt, completion: step.completion });
            const res = await labPost(g.url, key, { 'x-run': runKey });
            await res.arrayBuffer();
            const actual: Outcome = {
              status: res.status,
              retryAfter: res.headers.get('retry-after'),
              consumed: res.headers.get('x-consumed'),
              remaining: res.headers.get('x-remaining'),
            };
            if (actual.status === 429) refusals++;
            expect({ step: i, ...actual }).toEqual({ step: i, ...expected });
          }
        }),
        { numRuns: 20 },
      );
    });
  });

  it('the generated sequences exercise refusals, not just admissions', () => {
    // Guards the generator: with TPM 600 and up to 320 tokens per request, refusals must have occurred.
    expect(run).toBeGreaterThanOrEqual(80);
    expect(refusals).toBeGreaterThan(0);
    expect(backend.received.length).toBeGreaterThan(refusals / 10);
  });
});
