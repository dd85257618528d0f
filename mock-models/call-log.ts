/** Calls a mock keeps unless `maxCalls` says otherwise: the most recent 5,000 (a long-running server must not grow with every request). */
export const MAX_CALL_LOG = 5_000;

/** A bounded log of a mock's calls, oldest first: once `max` are kept, the oldest tenth goes before the next. */
export function createCallLog<T>(max: number = MAX_CALL_LOG): { readonly calls: T[]; record(call: T): void } {
  const limit = Math.max(1, max);
  const calls: T[] = [];
  return {
    calls,
    record(call) {
      if (calls.length >= limit) calls.splice(0, Math.max(1, Math.floor(limit / 10)));
      calls.push(call);
    },
  };
}
