/**
 * The one source of time for the gateway, the policies, the stores and the mock models.
 * Nothing else in the project reads the wall clock: `wallNow` below is the only `Date.now()`.
 */
export interface Clock {
  /** Emulated epoch milliseconds. */
  now(): number;
  /** Resolves once emulated time has moved forward by `ms` (timers, advance or set). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Emulated milliseconds per wall millisecond (1 = real time). Used to report Retry-After in wall seconds. */
  readonly timeScale: number;
}

export type ClockMode = 'system' | 'virtual';

export interface ClockState {
  mode: ClockMode;
  nowMs: number;
  iso: string;
  frozen: boolean;
  timeScale: number;
}

export interface ControllableClock extends Clock {
  readonly mode: ClockMode;
  readonly frozen: boolean;
  freeze(): void;
  unfreeze(): void;
  /** Moves emulated time forward; accepts milliseconds or a duration such as '61s', '1m30s', '2h', '1d'. */
  advance(by: number | string): void;
  /** Jumps to an absolute emulated time (epoch ms, Date or ISO string). Going backwards is allowed. */
  set(to: number | string | Date): void;
  state(): ClockState;
}

export interface CreateClockOptions {
  mode?: ClockMode;
  /** Emulated time runs this many times faster than wall time (system and virtual). Default 1. */
  timeScale?: number;
  /** Start time for a virtual clock (default: the wall time at creation). */
  startMs?: number | string | Date;
  /** Start frozen (virtual clocks only). */
  frozen?: boolean;
  /** Wall time source; tests may inject one. */
  wallNow?: () => number;
}

export class ClockControlError extends Error {}

const wallNowDefault = (): number => Date.now();

interface Sleeper {
  deadline: number;
  resolve: () => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A clock whose emulated time is `anchorEmu + (wall - anchorWall) * timeScale` while running,
 * or a fixed instant while frozen. In `system` mode it cannot be frozen, advanced or set.
 */
class EmulatorClock implements ControllableClock {
  readonly mode: ClockMode;
  readonly timeScale: number;
  private readonly wallNow: () => number;
  private anchorWall: number;
  private anchorEmu: number;
  private frozenAt: number | undefined;
  private sleepers: Sleeper[] = [];

  constructor(options: CreateClockOptions) {
    this.mode = options.mode ?? 'system';
    this.timeScale = options.timeScale ?? 1;
    if (!(this.timeScale > 0) || !Number.isFinite(this.timeScale)) {
      throw new ClockControlError(`timeScale must be a positive number, got ${options.timeScale}`);
    }
    this.wallNow = options.wallNow ?? wallNowDefault;
    this.anchorWall = this.wallNow();
    this.anchorEmu = options.startMs === undefined ? this.anchorWall : toEpochMs(options.startMs);
    if (options.frozen) {
      this.assertControllable('freeze');
      this.frozenAt = this.anchorEmu;
    }
  }

  get frozen(): boolean {
    return this.frozenAt !== undefined;
  }

  now(): number {
    if (this.frozenAt !== undefined) return this.frozenAt;
    return Math.floor(this.anchorEmu + (this.wallNow() - this.anchorWall) * this.timeScale);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (!(ms > 0)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = { deadline: this.now() + ms, resolve, timer: undefined, signal, onAbort: undefined };
      if (signal) {
        sleeper.onAbort = () => {
          this.removeSleeper(sleeper);
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', sleeper.onAbort, { once: true });
      }
      this.sleepers.push(sleeper);
      this.sleepers.sort((a, b) => a.deadline - b.deadline);
      this.armTimer(sleeper);
    });
  }

  freeze(): void {
    this.assertControllable('freeze');
    if (this.frozenAt !== undefined) return;
    this.frozenAt = this.now();
    for (const s of this.sleepers) this.disarmTimer(s);
  }

  unfreeze(): void {
    this.assertControllable('unfreeze');
    if (this.frozenAt === undefined) return;
    this.anchorEmu = this.frozenAt;
    this.anchorWall = this.wallNow();
    this.frozenAt = undefined;
    for (const s of this.sleepers) this.armTimer(s);
  }

  advance(by: number | string): void {
    this.assertControllable('advance');
    const ms = typeof by === 'number' ? by : parseDurationMs(by);
    if (!Number.isFinite(ms) || ms < 0) throw new ClockControlError(`advance needs a non-negative duration, got ${by}`);
    this.set(this.now() + ms);
  }

  set(to: number | string | Date): void {
    this.assertControllable('set');
    const target = toEpochMs(to);
    if (this.frozenAt !== undefined) {
      this.frozenAt = target;
    } else {
      this.anchorEmu = target;
      this.anchorWall = this.wallNow();
      for (const s of this.sleepers) this.armTimer(s);
    }
    this.wakeDue();
  }

  state(): ClockState {
    const nowMs = this.now();
    return { mode: this.mode, nowMs, iso: new Date(nowMs).toISOString(), frozen: this.frozen, timeScale: this.timeScale };
  }

  private assertControllable(action: string): void {
    if (this.mode !== 'virtual') {
      throw new ClockControlError(`Cannot ${action} the system clock; start the emulator with --clock virtual.`);
    }
  }

  private wakeDue(): void {
    const now = this.now();
    while (this.sleepers.length > 0 && this.sleepers[0]!.deadline <= now) {
      const s = this.sleepers.shift()!;
      this.release(s);
    }
  }

  private release(s: Sleeper): void {
    this.disarmTimer(s);
    if (s.signal && s.onAbort) s.signal.removeEventListener('abort', s.onAbort);
    s.resolve();
  }

  private removeSleeper(s: Sleeper): void {
    this.disarmTimer(s);
    this.sleepers = this.sleepers.filter((x) => x !== s);
  }

  private armTimer(s: Sleeper): void {
    this.disarmTimer(s);
    if (this.frozenAt !== undefined) return;
    const wallMs = Math.max(0, (s.deadline - this.now()) / this.timeScale);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      this.wakeDue();
      // Timer precision: if it fired a hair early, re-arm.
      if (this.sleepers.includes(s)) this.armTimer(s);
    }, Math.ceil(wallMs));
    s.timer.unref?.();
  }

  private disarmTimer(s: Sleeper): void {
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timer = undefined;
  }
}

export function createClock(options: CreateClockOptions = {}): ControllableClock {
  return new EmulatorClock(options);
}

/** A virtual clock, frozen by default: the test harness default. */
export function createVirtualClock(options: Omit<CreateClockOptions, 'mode'> = {}): ControllableClock {
  return new EmulatorClock({ frozen: true, ...options, mode: 'virtual' });
}

export const systemClock: ControllableClock = createClock({ mode: 'system' });

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

function toEpochMs(value: number | string | Date): number {
  const ms = typeof value === 'number' ? value : value instanceof Date ? value.getTime() : Date.parse(value);
  if (!Number.isFinite(ms)) throw new ClockControlError(`Not a valid time: ${String(value)}`);
  return ms;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses '61s', '1m30s', '250ms', '2h', '1d', or a plain number of milliseconds. */
export function parseDurationMs(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== trimmed.length) throw new ClockControlError(`Not a duration: '${text}' (use e.g. 61s, 1m30s, 250ms)`);
  return total;
}
