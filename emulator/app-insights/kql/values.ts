/** Value conversions shared by the parser, the SQL UDFs and the wire encoder. No clock access here. */

const MS_PER_DAY = 86_400_000;

/** Parses the text of `datetime(…)` / `todatetime('…')`; UTC unless an offset is given. */
export function parseDatetimeText(raw: string): number | undefined {
  const s = raw.trim();
  if (s === '') return undefined;
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (iso) {
    const [, y, mo, d, h, mi, se, frac, tz] = iso;
    let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(se ?? 0), frac ? Math.floor(Number(`0.${frac}`) * 1000 + 1e-9) : 0);
    if (Number(y) < 100) ms = new Date(ms).setUTCFullYear(Number(y));
    if (tz && tz.toUpperCase() !== 'Z') {
      const sign = tz[0] === '-' ? -1 : 1;
      const digits = tz.slice(1).replace(':', '');
      ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
    if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31) return undefined;
    return Number.isNaN(ms) ? undefined : ms;
  }
  // Invariant-culture US form ("02/17/2016 08:40:01"), as the parse operator docs feed todatetime.
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?$/.exec(s);
  if (us) {
    const [, mo, d, y, h, mi, se, frac] = us;
    return parseDatetimeText(`${y}-${mo}-${d}T${h ?? '00'}:${mi ?? '00'}:${se ?? '00'}${frac ? `.${frac}` : ''}Z`);
  }
  if (/^\d{4}\d{2}\d{2}$/.test(s)) return parseDatetimeText(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6)}`);
  // RFC 822/1123 forms ("Sat, 8 Nov 2014 15:05:02 GMT").
  if (/[a-z]{3}/i.test(s) && /(GMT|UTC|Z|[+-]\d{4})$/i.test(s)) {
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

const TIMESPAN_UNIT_MS: Record<string, number> = {
  d: MS_PER_DAY, day: MS_PER_DAY, days: MS_PER_DAY, h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, s: 1000, sec: 1000, second: 1000, seconds: 1000,
  ms: 1, milli: 1, millis: 1, millisecond: 1, milliseconds: 1, microsecond: 0.001, microseconds: 0.001, tick: 0.0001, ticks: 0.0001,
};

/** Parses `1d`, `1.5h`, `2.03:04:05.123`, `00:05:00`, `-1d` into milliseconds. */
export function parseTimespanText(raw: string): number | undefined {
  const s = raw.trim();
  const unit = /^([+-]?\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(s);
  if (unit) {
    const per = TIMESPAN_UNIT_MS[unit[2]!.toLowerCase()];
    return per === undefined ? undefined : Number(unit[1]) * per;
  }
  const clock = /^([+-])?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/.exec(s);
  if (clock) {
    const [, sign, d, h, m, sec, frac] = clock;
    const ms = Number(d ?? 0) * MS_PER_DAY + Number(h) * 3_600_000 + Number(m) * 60_000 + Number(sec ?? 0) * 1000 + (frac ? Number(`0.${frac}`) * 1000 : 0);
    return sign === '-' ? -ms : ms;
  }
  if (/^[+-]?\d+$/.test(s)) return Number(s) * MS_PER_DAY;
  return undefined;
}

/** Kusto's timespan text: `[-][d.]hh:mm:ss[.fffffff]`. */
export function formatTimespan(ms: number): string {
  const negative = ms < 0;
  let rest = Math.abs(ms);
  const days = Math.floor(rest / MS_PER_DAY);
  rest -= days * MS_PER_DAY;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  rest -= seconds * 1000;
  const ticks = Math.round(rest * 10_000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  let out = `${negative ? '-' : ''}${days > 0 ? `${days}.` : ''}${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
  if (ticks > 0) out += `.${pad(ticks, 7)}`;
  return out;
}

/** Kusto's `tostring()` of a real: integral values print without a decimal point. */
export function formatReal(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e15 || abs < 1e-5)) {
    const [mant, exp] = n.toExponential().split('e') as [string, string];
    const e = Number(exp);
    return `${mant}E${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(n);
}

export function formatDatetime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** The text of a JSON value as `tostring(dynamic)` gives it. */
export function dynamicToString(json: string | null | undefined): string {
  if (json === null || json === undefined) return '';
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return json;
  }
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : formatReal(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v);
}
