/** The part of autocannon's API the benchmarks use (the package ships no types). */
declare module 'autocannon' {
  interface Histogram {
    average: number;
    mean: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
    total: number;
  }
  interface Result {
    requests: Histogram;
    latency: Histogram;
    throughput: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    duration: number;
  }
  interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    duration?: number;
    amount?: number;
    connections?: number;
    pipelining?: number;
    setupClient?: (client: unknown) => void;
    requests?: Array<{ method?: string; path?: string; headers?: Record<string, string>; body?: string; onResponse?: (status: number, body: string, context: unknown, headers: Record<string, string | string[]>) => void }>;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
