import type { RequestContext, SectionName } from '../../pipeline/types.js';

export type TraceSeverity = 'verbose' | 'information' | 'error';

/** One `<trace>` output: what APIM sends to the test console's trace, Application Insights and resource logs. */
export interface TraceRecord {
  timestamp: number;
  source: string;
  severity: TraceSeverity;
  message: string;
  metadata: Record<string, string>;
  section: SectionName;
}

const traces = new WeakMap<RequestContext, TraceRecord[]>();

export function recordTrace(ctx: RequestContext, record: TraceRecord): void {
  let list = traces.get(ctx);
  if (!list) traces.set(ctx, (list = []));
  list.push(record);
}

/** The traces written by `<trace>` policies during one request, in order. */
export function tracesOf(ctx: RequestContext): readonly TraceRecord[] {
  return traces.get(ctx) ?? [];
}
