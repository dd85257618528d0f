import { useEffect, useRef, useState } from 'preact/hooks';

export interface AsyncState<T> {
  value?: T;
  error?: Error;
  loading: boolean;
  /** Wall milliseconds the last load took. */
  ms?: number;
  reload: () => void;
}

/** Runs `load` when `deps` change (and every `refreshMs` when given); the latest call wins. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number): AsyncState<T> {
  const [state, setState] = useState<Omit<AsyncState<T>, 'reload'>>({ loading: true });
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    const started = performance.now();
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (value) => mine === generation.current && setState({ value, loading: false, ms: performance.now() - started }),
      (error: unknown) => mine === generation.current && setState({ error: error instanceof Error ? error : new Error(String(error)), loading: false }),
    );
  }, [...deps, tick]);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(() => setTick((t) => t + 1), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export const TIME_RANGES = [
  { value: 'PT30M', label: 'Last 30 minutes', bin: '1m' },
  { value: 'PT1H', label: 'Last hour', bin: '1m' },
  { value: 'PT4H', label: 'Last 4 hours', bin: '5m' },
  { value: 'PT12H', label: 'Last 12 hours', bin: '15m' },
  { value: 'P1D', label: 'Last 24 hours', bin: '30m' },
  { value: 'P7D', label: 'Last 7 days', bin: '6h' },
] as const;

/** Datetime cell → epoch ms. */
export function toMs(value: unknown): number {
  return typeof value === 'number' ? value : Date.parse(String(value));
}
