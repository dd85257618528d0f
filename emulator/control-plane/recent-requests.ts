import type { StepTraceEntry } from '../../policy-engine/index.js';
import type { CompletedRequest } from '../gateway/handler.js';

/** A gateway request as the dashboard's requests log shows it, with the policy steps that ran. */
export interface RecentRequest {
  requestId: string;
  startedAt: number;
  durationMs: number;
  method: string;
  url: string;
  statusCode: number;
  apiId: string | null;
  operationId: string | null;
  subscription: string | null;
  steps: StepTraceEntry[];
  lastError: { source: string; reason: string; message: string; section: string; scope: string; path: string } | null;
}

export interface RecentRequests {
  add(record: CompletedRequest): void;
  /** Newest first. */
  list(limit?: number): RecentRequest[];
  get(requestId: string): RecentRequest | undefined;
  clear(): void;
}

/** The last `capacity` requests in memory (summaries only: no bodies are kept). */
export function createRecentRequests(capacity = 500): RecentRequests {
  const ring: RecentRequest[] = [];
  return {
    add(r) {
      const e = r.ctx?.lastError;
      ring.push({
        requestId: r.requestId,
        startedAt: r.startedAt,
        durationMs: r.durationMs,
        method: r.method,
        url: r.url,
        statusCode: r.statusCode,
        apiId: r.api?.id ?? null,
        operationId: r.operationId ?? null,
        subscription: r.subscription?.name ?? null,
        steps: r.ctx?.stepTrace ?? [],
        lastError: e ? { source: e.Source, reason: e.Reason, message: e.Message, section: e.Section, scope: e.Scope, path: e.Path } : null,
      });
      if (ring.length > capacity) ring.splice(0, ring.length - capacity);
    },
    list(limit = capacity) {
      return ring.slice(-limit).reverse();
    },
    get(requestId) {
      return ring.find((r) => r.requestId === requestId);
    },
    clear() {
      ring.length = 0;
    },
  };
}
