import { MultiBar, Presets } from 'cli-progress';

export interface RetryProgress {
  /** After each notebook run: runs done, SDK retries so far, seconds waited on Retry-After. */
  update(runsDone: number, retries: number, waitedSeconds: number): void;
  /** Prints a line above the bar (when the bar shares the terminal with stdout), else undefined. */
  readonly log: ((line: string) => void) | undefined;
  stop(): void;
}

const NO_PROGRESS: RetryProgress = { update() {}, log: undefined, stop() {} };

/** A cli-progress bar on stderr for the SDK-retry step; nothing when stderr is not a terminal or when quiet. */
export function createRetryProgress(options: { total: number; label: string; enabled: boolean; clockNote: string }): RetryProgress {
  if (!options.enabled || !process.stderr.isTTY) return NO_PROGRESS;
  const multi = new MultiBar(
    {
      stream: process.stderr,
      format: `${options.label} |{bar}| {value}/{total} runs | {retries} retries | {waited} s Retry-After (${options.clockNote})`,
      barsize: 20,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
    },
    Presets.shades_classic,
  );
  const bar = multi.create(options.total, 0, { retries: 0, waited: 0 });
  return {
    update(runsDone, retries, waitedSeconds) {
      bar.update(runsDone, { retries, waited: Math.round(waitedSeconds) });
    },
    // Lines printed to a terminal stdout while the bar is drawn go through the bar, so they do not tear it.
    log: process.stdout.isTTY ? (line) => multi.log(`${line}\n`) : undefined,
    stop() {
      multi.stop();
    },
  };
}
