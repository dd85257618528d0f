import { PolicyError } from './last-error.js';

/** Default of `policyEngine.pipelineTimeBudgetMs`: expression time one request may use (emulator guard). */
export const DEFAULT_PIPELINE_TIME_BUDGET_MS = 1000;
/** Synchronous work after which a request lets the event loop serve others before its next step. */
export const PIPELINE_YIELD_SLICE_MS = 10;
/** A loop turn shorter than this did no other work: the request stops yielding. */
const IDLE_TURN_MS = 0.2;
export const PIPELINE_BUDGET_REASON = 'PipelineTimeBudgetExceeded';

const defaultClock = (): number => performance.now();

/**
 * The time budget of one request's policy pipeline, on the same monotonic clock as the expression budget.
 *
 * Charged: the wall time of every expression evaluation of the request, wherever it runs (steps, retry
 * conditions, end-of-pipeline hooks). Not charged: time spent awaiting (backend, send-request, retry and wait
 * timers), and the steps' own code — a cold start's one-off work (the first tokenizer load takes ~1 s inside
 * llm-token-limit) would otherwise fail ordinary requests.
 *
 * Fairness: each step's synchronous run (its expressions included) counts towards a slice; past it, the executor
 * yields to the event loop before the next step. Step segments nest (a choose's children run inside its own
 * synchronous run): only the outermost one counts.
 */
export class PipelineBudget {
  private used = 0;
  private sinceYield = 0;
  private stepOpen = false;
  private stepStart = 0;

  constructor(
    /** Expression milliseconds the request may use (on-error gets a fresh allowance of the same size). */
    readonly limitMs: number = DEFAULT_PIPELINE_TIME_BUDGET_MS,
    readonly clock: () => number = defaultClock,
    readonly sliceMs: number = PIPELINE_YIELD_SLICE_MS,
  ) {}

  /** Milliseconds of expression time left (negative once overspent). */
  remaining(): number {
    return this.limitMs - this.used;
  }

  /** Charges one evaluation that ran `ms` (outside a step it counts towards the slice too). */
  charge(ms: number): void {
    this.used += ms;
    if (!this.stepOpen) this.sinceYield += ms;
  }

  /** Opens a step's synchronous run unless one is open; returns whether it did (then the caller calls endStep()). */
  beginStep(): boolean {
    if (this.stepOpen) return false;
    this.stepOpen = true;
    this.stepStart = this.clock();
    return true;
  }

  endStep(): void {
    this.stepOpen = false;
    this.sinceYield += this.clock() - this.stepStart;
  }

  /**
   * Before a step: 'spent' when the budget is used up (the caller throws exceeded()), 'yield' when the request has
   * worked a slice since it last yielded (the caller awaits yieldNow()). Reads the clock only inside a step's run.
   */
  checkpoint(): 'go' | 'yield' | 'spent' {
    if (this.used > this.limitMs) return 'spent';
    const live = this.stepOpen ? this.clock() - this.stepStart : 0;
    return this.sinceYield + live >= this.sliceMs ? 'yield' : 'go';
  }

  /**
   * Lets the event loop run (I/O, timers, other requests) before the request goes on: one setImmediate turn, and
   * more while the turns are busy, up to one slice. An HTTP exchange needs several turns (accept, read, answer; an
   * in-process client more), so one turn per slow step let a concurrent health check advance one hop per step
   * (measured median 36–41 ms behind 10 ms steps; 16–17 ms with this).
   */
  async yieldNow(): Promise<void> {
    const until = this.clock() + this.sliceMs;
    for (;;) {
      const before = this.clock();
      await new Promise<void>((resolve) => setImmediate(resolve));
      const after = this.clock();
      if (after - before < IDLE_TURN_MS || after >= until) break;
    }
    this.sinceYield = 0;
  }

  /** on-error runs with a fresh allowance, so it still runs after the budget ended the main sections. */
  restart(): void {
    this.used = 0;
  }

  exceeded(policy: string, cause?: unknown): PolicyError {
    return new PolicyError({
      source: policy,
      reason: PIPELINE_BUDGET_REASON,
      message: `The request's policy expressions exceeded the emulator's pipeline time budget of ${this.limitMs} ms (policyEngine.pipelineTimeBudgetMs).`,
      cause,
    });
  }
}
