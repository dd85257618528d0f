import { clrErrors } from './errors.js';
import { declareMethods, TYPE_NAME } from './protocol.js';
import { CsEnum } from './values.js';

/** Milliseconds from 0001-01-01 to 1970-01-01. */
const EPOCH_OFFSET_MS = 62135596800000;
const MS_PER_DAY = 86400000;
const MIN_MS = -EPOCH_OFFSET_MS;
const MAX_MS = 253402300799999;

export type DateTimeKindName = 'Unspecified' | 'Utc' | 'Local';
export const DateTimeKind = CsEnum.define('DateTimeKind', { Unspecified: 0, Utc: 1, Local: 2 });
export const DayOfWeek = CsEnum.define('DayOfWeek', { Sunday: 0, Monday: 1, Tuesday: 2, Wednesday: 3, Thursday: 4, Friday: 5, Saturday: 6 });

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function checkRange(ms: number): number {
  if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS) {
    throw clrErrors.argumentOutOfRange('value', 'The added or subtracted value results in an un-representable DateTime.');
  }
  return ms;
}

/**
 * `System.DateTime` (and `DateTimeOffset`, with `offset` set and always +00:00 in the emulator). Millisecond
 * precision; the emulator's local time zone is UTC, so `Now` equals `UtcNow` apart from `Kind`.
 */
export class CsDateTime {
  readonly [TYPE_NAME]: string;
  constructor(
    /** Epoch milliseconds (UTC). */
    readonly ms: number,
    readonly kind: DateTimeKindName = 'Utc',
    /** True for DateTimeOffset. */
    readonly offset = false,
  ) {
    this[TYPE_NAME] = offset ? 'System.DateTimeOffset' : 'System.DateTime';
  }

  static fromDate(d: Date): CsDateTime {
    return new CsDateTime(d.getTime(), 'Utc');
  }

  private get d(): Date {
    return new Date(this.ms);
  }
  private with(ms: number): CsDateTime {
    return new CsDateTime(checkRange(ms), this.kind, this.offset);
  }

  get Year(): number { return this.d.getUTCFullYear(); }
  get Month(): number { return this.d.getUTCMonth() + 1; }
  get Day(): number { return this.d.getUTCDate(); }
  get Hour(): number { return this.d.getUTCHours(); }
  get Minute(): number { return this.d.getUTCMinutes(); }
  get Second(): number { return this.d.getUTCSeconds(); }
  get Millisecond(): number { return this.d.getUTCMilliseconds(); }
  get DayOfWeek(): CsEnum { return CsEnum.fromValue('DayOfWeek', this.d.getUTCDay()); }
  get DayOfYear(): number {
    return Math.floor((this.ms - Date.UTC(this.Year, 0, 1)) / MS_PER_DAY) + 1;
  }
  get Ticks(): number { return (this.ms + EPOCH_OFFSET_MS) * 10000; }
  get Kind(): CsEnum { return DateTimeKind[this.kind]!; }
  get Date(): CsDateTime { return new CsDateTime(Math.floor(this.ms / MS_PER_DAY) * MS_PER_DAY, this.kind, this.offset); }
  get TimeOfDay(): CsTimeSpan { return new CsTimeSpan(this.ms - Math.floor(this.ms / MS_PER_DAY) * MS_PER_DAY); }
  // DateTimeOffset members
  get UtcDateTime(): CsDateTime { return new CsDateTime(this.ms, 'Utc'); }
  get DateTime(): CsDateTime { return new CsDateTime(this.ms, 'Unspecified'); }
  get LocalDateTime(): CsDateTime { return new CsDateTime(this.ms, 'Local'); }
  get Offset(): CsTimeSpan { return new CsTimeSpan(0); }
  get UtcTicks(): number { return this.Ticks; }

  AddMilliseconds(v: number): CsDateTime { return this.with(this.ms + Math.round(v)); }
  AddSeconds(v: number): CsDateTime { return this.with(this.ms + Math.round(v * 1000)); }
  AddMinutes(v: number): CsDateTime { return this.with(this.ms + Math.round(v * 60000)); }
  AddHours(v: number): CsDateTime { return this.with(this.ms + Math.round(v * 3600000)); }
  AddDays(v: number): CsDateTime { return this.with(this.ms + Math.round(v * MS_PER_DAY)); }
  AddTicks(v: number): CsDateTime { return this.with(this.ms + v / 10000); }
  AddMonths(v: number): CsDateTime {
    const d = this.d;
    const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + Math.trunc(v);
    const year = Math.floor(total / 12);
    const month = total - year * 12;
    const day = Math.min(d.getUTCDate(), daysInMonth(year, month + 1));
    const r = new Date(this.ms);
    r.setUTCFullYear(year, month, day);
    return this.with(r.getTime());
  }
  AddYears(v: number): CsDateTime { return this.AddMonths(Math.trunc(v) * 12); }
  Add(t: CsTimeSpan): CsDateTime { return this.with(this.ms + t.ms); }
  Subtract(other: CsDateTime | CsTimeSpan): CsDateTime | CsTimeSpan {
    if (other instanceof CsTimeSpan) return this.with(this.ms - other.ms);
    return new CsTimeSpan(this.ms - other.ms);
  }
  ToUniversalTime(): CsDateTime { return new CsDateTime(this.ms, 'Utc', this.offset); }
  ToLocalTime(): CsDateTime { return new CsDateTime(this.ms, 'Local', this.offset); }
  ToUnixTimeSeconds(): number { return Math.floor(this.ms / 1000); }
  ToUnixTimeMilliseconds(): number { return this.ms; }
  ToShortDateString(): string { return formatDateTime(this, 'd'); }
  ToShortTimeString(): string { return formatDateTime(this, 't'); }
  ToLongDateString(): string { return formatDateTime(this, 'D'); }
  ToLongTimeString(): string { return formatDateTime(this, 'T'); }
  ToString(format?: string | null): string {
    return formatDateTime(this, format || (this.offset ? 'G zzz' : 'G'));
  }
  ToFileTimeUtc(): number { return (this.ms + 11644473600000) * 10000; }
  CompareTo(other: CsDateTime): number { return this.compareValue(other); }
  Equals(other: unknown): boolean { return this.equalsValue(other); }

  equalsValue(o: unknown): boolean { return o instanceof CsDateTime && o.ms === this.ms; }
  compareValue(o: unknown): number {
    if (!(o instanceof CsDateTime)) throw clrErrors.argument('Object must be of type DateTime.');
    return Math.sign(this.ms - o.ms);
  }
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `System.TimeSpan` in milliseconds. */
export class CsTimeSpan {
  readonly [TYPE_NAME] = 'System.TimeSpan';
  constructor(readonly ms: number) {}

  get Days(): number { return Math.trunc(this.ms / MS_PER_DAY); }
  get Hours(): number { return Math.trunc(this.ms / 3600000) % 24; }
  get Minutes(): number { return Math.trunc(this.ms / 60000) % 60; }
  get Seconds(): number { return Math.trunc(this.ms / 1000) % 60; }
  get Milliseconds(): number { return Math.trunc(this.ms) % 1000; }
  get Ticks(): number { return Math.round(this.ms * 10000); }
  get TotalDays(): number { return this.ms / MS_PER_DAY; }
  get TotalHours(): number { return this.ms / 3600000; }
  get TotalMinutes(): number { return this.ms / 60000; }
  get TotalSeconds(): number { return this.ms / 1000; }
  get TotalMilliseconds(): number { return this.ms; }
  Add(t: CsTimeSpan): CsTimeSpan { return new CsTimeSpan(this.ms + t.ms); }
  Subtract(t: CsTimeSpan): CsTimeSpan { return new CsTimeSpan(this.ms - t.ms); }
  Negate(): CsTimeSpan { return new CsTimeSpan(-this.ms); }
  Duration(): CsTimeSpan { return new CsTimeSpan(Math.abs(this.ms)); }
  CompareTo(o: CsTimeSpan): number { return this.compareValue(o); }
  Equals(o: unknown): boolean { return this.equalsValue(o); }
  /** `[-][d.]hh:mm:ss[.fffffff]` */
  ToString(): string {
    const neg = this.ms < 0;
    const ticks = Math.abs(Math.round(this.ms * 10000));
    const totalSeconds = Math.floor(ticks / 1e7);
    const frac = ticks - totalSeconds * 1e7;
    const days = Math.floor(totalSeconds / 86400);
    const h = Math.floor(totalSeconds / 3600) % 24;
    const m = Math.floor(totalSeconds / 60) % 60;
    const s = totalSeconds % 60;
    const p2 = (n: number) => String(n).padStart(2, '0');
    return `${neg ? '-' : ''}${days ? `${days}.` : ''}${p2(h)}:${p2(m)}:${p2(s)}${frac ? `.${String(frac).padStart(7, '0')}` : ''}`;
  }
  equalsValue(o: unknown): boolean { return o instanceof CsTimeSpan && o.ms === this.ms; }
  compareValue(o: unknown): number {
    if (!(o instanceof CsTimeSpan)) throw clrErrors.argument('Object must be of type TimeSpan.');
    return Math.sign(this.ms - o.ms);
  }
}

/** `System.Guid`. */
export class CsGuid {
  readonly [TYPE_NAME] = 'System.Guid';
  /** 32 lowercase hex digits. */
  readonly hex: string;
  constructor(hex: string) {
    this.hex = hex;
  }

  static parse(s: string): CsGuid | undefined {
    const m = /^\s*[{(]?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})[})]?\s*$/.exec(s);
    return m ? new CsGuid(m.slice(1).join('').toLowerCase()) : undefined;
  }

  static fromBytes(bytes: ArrayLike<number>): CsGuid {
    return new CsGuid(Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(''));
  }

  /** `new Guid(byte[16])`: .NET's layout, the first three fields little-endian. */
  static fromDotNetBytes(bytes: ArrayLike<number>): CsGuid {
    const b = Array.from(bytes);
    return CsGuid.fromBytes([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.slice(8)]);
  }

  /** `Guid.ToByteArray()` in .NET's layout (the inverse of `new Guid(byte[])`). */
  ToByteArray(): Uint8Array {
    const b = Uint8Array.from(this.hex.match(/../g)!, (h) => parseInt(h, 16));
    return Uint8Array.from([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.slice(8)]);
  }

  ToString(format?: string | null): string {
    const h = this.hex;
    const d = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    switch (format || 'D') {
      case 'N': case 'n': return h;
      case 'D': case 'd': return d;
      case 'B': case 'b': return `{${d}}`;
      case 'P': case 'p': return `(${d})`;
      default:
        throw clrErrors.format('Format string can be only "D", "d", "N", "n", "P", "p", "B", "b", "X" or "x".');
    }
  }
  Equals(o: unknown): boolean { return this.equalsValue(o); }
  equalsValue(o: unknown): boolean { return o instanceof CsGuid && o.hex === this.hex; }
  compareValue(o: unknown): number {
    if (!(o instanceof CsGuid)) throw clrErrors.argument('Object must be of type Guid.');
    return this.hex < o.hex ? -1 : this.hex > o.hex ? 1 : 0;
  }
}

declareMethods(CsDateTime.prototype, { ToString: { parameters: ['format'] } });
declareMethods(CsGuid.prototype, { ToString: { parameters: ['format'] } });

const STANDARD_FORMATS: Record<string, string> = {
  d: 'MM/dd/yyyy',
  D: 'dddd, dd MMMM yyyy',
  f: 'dddd, dd MMMM yyyy HH:mm',
  F: 'dddd, dd MMMM yyyy HH:mm:ss',
  g: 'MM/dd/yyyy HH:mm',
  G: 'MM/dd/yyyy HH:mm:ss',
  m: 'MMMM dd',
  M: 'MMMM dd',
  o: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  O: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  r: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  R: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  s: "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
  t: 'HH:mm',
  T: 'HH:mm:ss',
  u: "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
  U: 'dddd, dd MMMM yyyy HH:mm:ss',
  y: 'yyyy MMMM',
  Y: 'yyyy MMMM',
};

/** .NET DateTime formatting with the invariant culture: standard ("o", "s", "u", "R"…) and custom ("yyyyMMddTHHmmssZ") formats. */
export function formatDateTime(dt: CsDateTime, format: string): string {
  let pattern = format;
  if (format.length === 1) {
    const std = STANDARD_FORMATS[format];
    if (!std) throw clrErrors.format('Input string was not in a correct format.');
    pattern = std;
  } else if (format === 'G zzz') {
    pattern = 'MM/dd/yyyy HH:mm:ss zzz';
  }
  const d = new Date(dt.ms);
  const Y = d.getUTCFullYear();
  const M = d.getUTCMonth() + 1;
  const D = d.getUTCDate();
  const H = d.getUTCHours();
  const mi = d.getUTCMinutes();
  const s = d.getUTCSeconds();
  const ms = d.getUTCMilliseconds();
  const frac = String(ms).padStart(3, '0') + '0000';
  const p = (n: number, w: number) => String(n).padStart(w, '0');
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    let n = 1;
    while (pattern[i + n] === c) n++;
    switch (c) {
      case 'y':
        out += n === 1 ? String(Y % 100) : n === 2 ? p(Y % 100, 2) : p(Y, n);
        break;
      case 'M':
        out += n === 1 ? String(M) : n === 2 ? p(M, 2) : n === 3 ? MONTH_NAMES[M - 1]!.slice(0, 3) : MONTH_NAMES[M - 1]!;
        break;
      case 'd':
        out += n === 1 ? String(D) : n === 2 ? p(D, 2) : n === 3 ? DAY_NAMES[d.getUTCDay()]!.slice(0, 3) : DAY_NAMES[d.getUTCDay()]!;
        break;
      case 'H':
        out += n === 1 ? String(H) : p(H, 2);
        break;
      case 'h': {
        const h12 = H % 12 || 12;
        out += n === 1 ? String(h12) : p(h12, 2);
        break;
      }
      case 'm':
        out += n === 1 ? String(mi) : p(mi, 2);
        break;
      case 's':
        out += n === 1 ? String(s) : p(s, 2);
        break;
      case 'f':
        out += frac.slice(0, Math.min(n, 7));
        break;
      case 'F': {
        const t = frac.slice(0, Math.min(n, 7)).replace(/0+$/, '');
        if (t === '' && out.endsWith('.')) out = out.slice(0, -1);
        out += t;
        break;
      }
      case 't':
        out += n === 1 ? (H < 12 ? 'A' : 'P') : H < 12 ? 'AM' : 'PM';
        break;
      case 'K':
        out += dt.offset || dt.kind === 'Local' ? '+00:00' : dt.kind === 'Utc' ? 'Z' : '';
        n = 1;
        break;
      case 'z':
        out += n === 1 ? '+0' : n === 2 ? '+00' : '+00:00';
        break;
      case 'g':
        out += 'A.D.';
        break;
      case ':':
      case '/':
        out += c;
        n = 1;
        break;
      case "'":
      case '"': {
        const close = pattern.indexOf(c, i + 1);
        if (close < 0) throw clrErrors.format(`Cannot find a matching quote character for the character '${c}'.`);
        out += pattern.slice(i + 1, close);
        i = close + 1;
        continue;
      }
      case '\\':
        out += pattern[i + 1] ?? '';
        i += 2;
        continue;
      case '%':
        i += 1;
        continue;
      default:
        out += c.repeat(n);
    }
    i += n;
  }
  return out;
}

const ISO = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$/i;
const US = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?)?\s*$/i;

/** `DateTime.Parse` for ISO 8601 and invariant `MM/dd/yyyy HH:mm:ss`; an explicit zone yields a Local (= UTC) value. */
export function parseDateTime(s: string, offset = false): CsDateTime | undefined {
  let m = ISO.exec(s);
  if (m) {
    const [, y, mo, d, h = '0', mi = '0', se = '0', f = '0', zone] = m;
    let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se), Math.round(Number(`0.${f}`) * 1000));
    if (Number.isNaN(ms) || Number(mo) > 12 || Number(d) > daysInMonth(Number(y), Number(mo))) return undefined;
    if (zone && zone.toUpperCase() !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60000;
    }
    return new CsDateTime(ms, offset ? 'Utc' : zone ? 'Local' : 'Unspecified', offset);
  }
  m = US.exec(s);
  if (m) {
    const [, mo, d, y, h = '0', mi = '0', se = '0', ampm] = m;
    let hour = Number(h);
    if (ampm) hour = (hour % 12) + (ampm.toUpperCase() === 'PM' ? 12 : 0);
    const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), hour, Number(mi), Number(se));
    if (Number(mo) > 12 || Number(d) > daysInMonth(Number(y), Number(mo))) return undefined;
    return new CsDateTime(ms, offset ? 'Utc' : 'Unspecified', offset);
  }
  return undefined;
}

/** `TimeSpan.Parse`: `[-][d.]hh:mm[:ss[.fffffff]]` or a number of days. */
export function parseTimeSpan(s: string): CsTimeSpan | undefined {
  const m = /^\s*(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?\s*$/.exec(s);
  if (m) {
    const [, neg, d = '0', h, mi, se = '0', f = '0'] = m;
    if (Number(h) > 23 || Number(mi) > 59 || Number(se) > 59) return undefined;
    const ms = ((Number(d) * 24 + Number(h)) * 60 + Number(mi)) * 60000 + Number(se) * 1000 + Number(`0.${f}`) * 1000;
    return new CsTimeSpan(neg ? -ms : ms);
  }
  if (/^\s*-?\d+\s*$/.test(s)) return new CsTimeSpan(Number(s) * MS_PER_DAY);
  return undefined;
}

export function dateTimeFromParts(parts: number[], kind: DateTimeKindName = 'Unspecified'): CsDateTime {
  const [y = 1, mo = 1, d = 1, h = 0, mi = 0, s = 0, ms = 0] = parts;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59 || y < 1 || y > 9999) {
    throw clrErrors.argumentOutOfRange('', 'Year, Month, and Day parameters describe an un-representable DateTime.');
  }
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s, ms));
  date.setUTCFullYear(y);
  return new CsDateTime(date.getTime(), kind);
}
