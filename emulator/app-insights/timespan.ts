/**
 * The query APIs' `timespan` (kql-and-clients.md §1.3): an ISO 8601 duration (`PT1H`, `P1D`, `P1DT12H`,
 * `PT3600.0S`, `P1W`) meaning [now − d, now], or an interval `start/end`, `start/duration`, `duration/end`.
 * Instants without an offset (the az CLI's naive `2024-01-01T10:00:00.123456`) are UTC. Calendar units
 * (`P1M`, `P1Y`) are rejected: their length depends on the date.
 */
export class TimespanError extends Error {
  override name = 'TimespanError';
  constructor(readonly text: string, detail: string) {
    super(`Invalid timespan '${text}': ${detail} Use an ISO 8601 duration (PT1H, P1D, PT3600.0S) or an interval (start/end, start/PT1H, PT1H/end).`);
  }
}

export interface TimespanInterval {
  startMs: number;
  /** Exclusive. */
  endMs: number;
}

const NUMBER = String.raw`(\d+(?:[.,]\d+)?)`;
const DURATION = new RegExp(`^P(?:${NUMBER}W)?(?:${NUMBER}D)?(?:T(?:${NUMBER}H)?(?:${NUMBER}M)?(?:${NUMBER}S)?)?$`, 'i');
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Milliseconds of an ISO 8601 duration, or undefined when `text` is not one. */
export function parseIsoDuration(text: string): number | undefined {
  const t = text.trim();
  const m = DURATION.exec(t);
  if (!m || /^P$/i.test(t) || /T$/i.test(t)) return undefined;
  const n = (v: string | undefined) => (v === undefined ? 0 : Number(v.replace(',', '.')));
  const [, w, d, h, min, s] = m;
  return Math.round(((n(w) * 7 + n(d)) * 86_400 + n(h) * 3_600 + n(min) * 60 + n(s)) * 1000);
}

/** Epoch ms of an ISO 8601 date or date-time (UTC unless it carries an offset), or undefined. */
export function parseIsoInstant(text: string): number | undefined {
  const m = INSTANT.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const base = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(base).getUTCDate() !== day) return undefined; // 2024-02-30
  const ms = fraction === '' ? 0 : Math.round(Number(`0.${fraction}`) * 1000);
  let offsetMs = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offsetMs = (zm[1] === '-' ? -1 : 1) * (Number(zm[2]) * 60 + Number(zm[3] ?? 0)) * 60_000;
  }
  return base + ms - offsetMs;
}

/** Parses a timespan into [startMs, endMs); a bare duration ends at (and includes) `nowMs`. */
export function parseTimespan(text: string, nowMs: number): TimespanInterval {
  if (typeof text !== 'string' || text.trim() === '') throw new TimespanError(String(text), 'it is empty.');
  const parts = text.split('/');
  if (parts.length === 1) {
    const d = parseIsoDuration(parts[0]!);
    if (d === undefined) throw new TimespanError(text, /^P[^T]*\d[YM]/i.test(text.trim()) ? 'months and years are not supported.' : 'it is not an ISO 8601 duration.');
    return { startMs: nowMs - d, endMs: nowMs + 1 };
  }
  if (parts.length !== 2) throw new TimespanError(text, 'an interval has exactly one "/".');
  const [a, b] = parts as [string, string];
  const start = parseIsoInstant(a);
  const end = parseIsoInstant(b);
  if (start !== undefined && end !== undefined) {
    if (start > end) throw new TimespanError(text, 'the start is after the end.');
    return { startMs: start, endMs: end };
  }
  if (start !== undefined) {
    const d = parseIsoDuration(b);
    if (d === undefined) throw new TimespanError(text, `'${b}' is neither an instant nor a duration.`);
    return { startMs: start, endMs: start + d };
  }
  if (end !== undefined) {
    const d = parseIsoDuration(a);
    if (d === undefined) throw new TimespanError(text, `'${a}' is neither an instant nor a duration.`);
    return { startMs: end - d, endMs: end };
  }
  throw new TimespanError(text, 'neither side is an ISO 8601 instant.');
}
