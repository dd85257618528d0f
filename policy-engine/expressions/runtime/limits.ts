import { ExpressionRuntimeError } from './errors.js';

/**
 * Bounds on one expression evaluation (emulator guards; APIM documents no such numbers, so they are settings).
 *
 * The time budget is CPU work, so it reads a monotonic wall source (`performance.now()` by default), not the
 * emulator clock: the virtual clock may be frozen or stepped by tests, and a frozen clock would let a runaway
 * loop block the event loop forever. Tests inject `deadlineClock` to make the budget deterministic.
 */
export interface EvaluationLimits {
  /** Wall milliseconds one evaluation may run (default 50). */
  timeBudgetMs: number;
  /** Nested delegate/lambda calls (default 200). */
  maxCallDepth: number;
  /** Characters in one string value built by the expression (default 4,194,304). */
  maxStringLength: number;
  /** Items in one collection built by the expression (default 1,000,000). */
  maxCollectionSize: number;
  /** Monotonic milliseconds for the time budget (default performance.now). */
  deadlineClock?: () => number;
}

export const DEFAULT_EVALUATION_LIMITS: Readonly<EvaluationLimits> = {
  timeBudgetMs: 50,
  maxCallDepth: 200,
  maxStringLength: 4 * 1024 * 1024,
  maxCollectionSize: 1_000_000,
};

/**
 * An evaluation limit was hit. C# `catch` blocks never see it (a runaway loop inside `try { } catch { }` must still
 * stop), so it always ends the evaluation; the gateway turns it into ExpressionValueEvaluationFailure.
 */
export class ExpressionLimitError extends ExpressionRuntimeError {
  constructor(
    exceptionType: string,
    message: string,
    readonly limit: 'time' | 'depth' | 'string' | 'collection',
  ) {
    super(exceptionType, message);
  }
}

/** How many loop iterations or calls pass between two reads of the deadline clock (keeps the check cheap). */
export const TICKS_PER_CLOCK_READ = 1024;

interface ActiveBudget {
  limits: EvaluationLimits;
  clock: () => number;
  deadline: number;
  depth: number;
}

const defaultClock = (): number => performance.now();
let active: ActiveBudget | undefined;

/** Runs `fn` under `limits`; evaluation is synchronous, so one active budget at a time (nested calls restore). */
export function withinBudget<T>(limits: EvaluationLimits, fn: () => T): T {
  const previous = active;
  const clock = limits.deadlineClock ?? defaultClock;
  active = { limits, clock, deadline: clock() + limits.timeBudgetMs, depth: 0 };
  try {
    return fn();
  } finally {
    active = previous;
  }
}

/** Throws once the time budget is spent. Call every TICKS_PER_CLOCK_READ steps, not every step. */
export function checkDeadline(): void {
  const b = active;
  if (b && b.clock() > b.deadline) {
    throw new ExpressionLimitError(
      'System.TimeoutException',
      `The expression exceeded the emulator's evaluation time budget of ${b.limits.timeBudgetMs} ms (policyEngine.expressionTimeBudgetMs).`,
      'time',
    );
  }
}

export function enterCall(): void {
  const b = active;
  if (!b) return;
  if (++b.depth > b.limits.maxCallDepth) {
    b.depth = 0;
    throw new ExpressionLimitError(
      'System.InsufficientExecutionStackException',
      `The expression exceeded the emulator's call depth limit of ${b.limits.maxCallDepth} (policyEngine.expressionMaxCallDepth).`,
      'depth',
    );
  }
}

export function exitCall(): void {
  if (active && active.depth > 0) active.depth--;
}

/** Returns `s` when within the string limit; throws OutOfMemoryException otherwise. */
export function checkString<T>(s: T): T {
  const b = active;
  if (b && typeof s === 'string' && s.length > b.limits.maxStringLength) {
    throw new ExpressionLimitError(
      'System.OutOfMemoryException',
      `A string of ${s.length} characters exceeds the emulator's limit of ${b.limits.maxStringLength} (policyEngine.expressionMaxStringLength).`,
      'string',
    );
  }
  return s;
}

/** Throws before a collection grows past the limit (call with the size it would have). */
export function checkCollectionSize(size: number): void {
  const b = active;
  if (b && size > b.limits.maxCollectionSize) {
    throw new ExpressionLimitError(
      'System.OutOfMemoryException',
      `A collection of ${size} items exceeds the emulator's limit of ${b.limits.maxCollectionSize} (policyEngine.expressionMaxCollectionSize).`,
      'collection',
    );
  }
}

/** Checks a requested string length before allocating it (PadLeft, new string(c, n)). */
export function checkStringLength(length: number): void {
  const b = active;
  if (b && length > b.limits.maxStringLength) {
    throw new ExpressionLimitError(
      'System.OutOfMemoryException',
      `A string of ${length} characters exceeds the emulator's limit of ${b.limits.maxStringLength} (policyEngine.expressionMaxStringLength).`,
      'string',
    );
  }
}
