/**
 * The query APIs' `timespan`: an ISO 8601 duration (`PT1H`, `P1D`, `P1DT12H`, `PT3600.0S`, `P1W`) meaning
 * [now − d, now], or an interval `start/end`, `start/duration`, `duration/end`. Timestamps without an offset
 * (the az CLI's naive UTC) are UTC.
 */
export class TimespanError extends Error {
  override name = 'TimespanError';
}

const DURATION = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

export function parseIsoDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim().toUpperCase() === 'P' || /T$/i.test(text.trim())) return undefined;
  const [, w, d, h, min, s] = m;
  const n = (v: string | undefined) => (v === undefined ? 0 : Number(v));
  return Math.round(((n(w) * 7 + n(d)) * 86_400 + n(h) * 3_600 + n(min) * 60 + n(s)) * 1000);
}

function parseInstant(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return undefined;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(t);
  // Date.parse keeps only milliseconds; trim longer fractions (az sends microseconds).
  const normalized = t.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(hasZone ? normalized : `${normalized}${normalized.includes('T') ? '' : 'T00:00:00'}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

export function parseTimespan(text: string, nowMs: number): { startMs: number; endMs: number } {
  const parts = text.split('/');
  const fail = (): never => {
    throw new TimespanError(`Invalid timespan '${text}': use an ISO 8601 duration (PT1H, P1D) or an interval (start/end, start/PT1H, PT1H/end).`);
  };
  if (parts.length === 1) {
    const d = parseIsoDuration(parts[0]!);
    if (d === undefined) return fail();
    return { startMs: nowMs - d, endMs: nowMs + 1 };
  }
  if (parts.length !== 2) return fail();
  const [a, b] = parts as [string, string];
  const aInstant = parseInstant(a);
  const bInstant = parseInstant(b);
  if (aInstant !== undefined && bInstant !== undefined) return aInstant <= bInstant ? { startMs: aInstant, endMs: bInstant } : fail();
  if (aInstant !== undefined) {
    const d = parseIsoDuration(b);
    return d === undefined ? fail() : { startMs: aInstant, endMs: aInstant + d };
  }
  if (bInstant !== undefined) {
    const d = parseIsoDuration(a);
    return d === undefined ? fail() : { startMs: bInstant - d, endMs: bInstant };
  }
  return fail();
}
