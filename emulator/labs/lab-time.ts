import { createClock, type ControllableClock } from '../../policy-engine/index.js';

/** One HTTP attempt an SDK client made (retries included). */
export interface SdkAttempt {
  status: number;
  /** `x-stainless-retry-count` of the request: 0 for the first attempt. */
  retryCount: number;
  /** The response's Retry-After (seconds), when it had one. */
  retryAfterSeconds?: number;
}

/**
 * Time as a lab replay sees it. Accelerated (the default): a virtual clock that runs at wall speed and jumps over
 * every wait (`time.sleep`, the SDK's Retry-After waits). Real time: the system clock, and waits really wait.
 */
export interface LabTime {
  readonly clock: ControllableClock;
  readonly realTime: boolean;
  /** `time.sleep(ms / 1000)` in the notebook. */
  wait(ms: number): Promise<void>;
  /** Emulated milliseconds spent waiting (sleeps and Retry-After waits). */
  readonly waitedMs: number;
  /**
   * The `fetch` handed to an openai SDK client. It reports every attempt. Accelerated, the SDK still decides
   * whether and when to retry, but its Retry-After wait passes on the virtual clock: the response also carries
   * `retry-after-ms: 1` (which the SDK reads before `retry-after`), and the clock is moved forward by Retry-After
   * when the SDK sends the retry.
   */
  sdkFetch(onAttempt: (attempt: SdkAttempt) => void): typeof fetch;
}

const RETRYABLE = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;

export function createLabTime(options: { realTime?: boolean; startTime?: number | string | Date } = {}): LabTime {
  const realTime = options.realTime ?? false;
  const clock = realTime
    ? createClock({ mode: 'system' })
    : createClock({ mode: 'virtual', ...(options.startTime === undefined ? {} : { startMs: options.startTime }) });
  let waitedMs = 0;

  return {
    clock,
    realTime,
    get waitedMs() {
      return waitedMs;
    },
    async wait(ms) {
      waitedMs += ms;
      if (realTime) await clock.sleep(ms);
      else clock.advance(ms);
    },
    sdkFetch(onAttempt) {
      let owedMs = 0;
      return async function labSdkFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
        const retryCount = Number(new Headers(init?.headers).get('x-stainless-retry-count') ?? '0') || 0;
        if (retryCount > 0 && owedMs > 0) {
          // The SDK waited Retry-After before this retry (accelerated: on the virtual clock).
          waitedMs += owedMs;
          if (!realTime) clock.advance(owedMs);
        }
        owedMs = 0;
        const response = await fetch(input, init);
        const retryAfter = response.headers.get('retry-after');
        const seconds = retryAfter === null ? NaN : Number(retryAfter);
        onAttempt({ status: response.status, retryCount, ...(Number.isFinite(seconds) ? { retryAfterSeconds: seconds } : {}) });
        if (!Number.isFinite(seconds) || !RETRYABLE(response.status) || response.headers.has('retry-after-ms')) return response;
        owedMs = seconds * 1000;
        if (realTime) return response;
        const headers = new Headers(response.headers);
        headers.set('retry-after-ms', '1');
        return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
      };
    },
  };
}
