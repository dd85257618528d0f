/**
 * JavaScript functions and aggregates the generated SQL calls (`kql_*`). All are deterministic: none
 * reads the clock (now()/ago() arrive as parameters). Integers are returned as BigInt so SQLite keeps
 * INTEGER affinity (integer division, exact comparisons).
 */
import type { Database } from 'better-sqlite3';
import { dynamicToString, formatDatetime as formatDatetimeJson, formatReal, formatTimespan, parseDatetimeText, parseTimespanText } from './values.js';

type Scalar = number | string | bigint | null | Buffer;

const MS_DAY = 86_400_000;
const REGEX_CACHE = new Map<string, RegExp | null>();

/** Compiles a Kusto (RE2) pattern as a JS RegExp; named groups `(?P<n>…)` are rewritten. Invalid → null. */
function regex(pattern: string, flags = ''): RegExp | null {
  const key = `${flags}/${pattern}`;
  if (REGEX_CACHE.has(key)) return REGEX_CACHE.get(key)!;
  let re: RegExp | null;
  try {
    let p = pattern.replace(/\(\?P</g, '(?<');
    let f = flags;
    const inline = /^\(\?([imsU]+)\)/.exec(p);
    if (inline) {
      p = p.slice(inline[0].length);
      for (const ch of inline[1]!) if (ch !== 'U' && !f.includes(ch)) f += ch;
    }
    re = new RegExp(p, f + 'u');
  } catch {
    re = null;
  }
  if (REGEX_CACHE.size > 500) REGEX_CACHE.clear();
  REGEX_CACHE.set(key, re);
  return re;
}

const text = (v: Scalar): string => (v === null || v === undefined ? '' : typeof v === 'string' ? v : String(v));
const isTermChar = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);

/** Kusto `has`-family term matching (case-insensitive unless cs). */
function hasTerm(haystack: string, needle: string, mode: 'has' | 'prefix' | 'suffix', cs: boolean): boolean {
  if (needle === '') return true;
  const h = cs ? haystack : haystack.toLowerCase();
  const n = cs ? needle : needle.toLowerCase();
  const checkStart = mode !== 'suffix' && isTermChar(n[0]);
  const checkEnd = mode !== 'prefix' && isTermChar(n[n.length - 1]);
  let from = 0;
  for (;;) {
    const i = h.indexOf(n, from);
    if (i < 0) return false;
    const okStart = !checkStart || !isTermChar(h[i - 1]);
    const okEnd = !checkEnd || !isTermChar(h[i + n.length]);
    if (okStart && okEnd) return true;
    from = i + 1;
  }
}

function stringOperator(op: string, a: string, b: string): boolean {
  switch (op) {
    case 'contains': return a.toLowerCase().includes(b.toLowerCase());
    case 'contains_cs': return a.includes(b);
    case 'startswith': return a.toLowerCase().startsWith(b.toLowerCase());
    case 'startswith_cs': return a.startsWith(b);
    case 'endswith': return a.toLowerCase().endsWith(b.toLowerCase());
    case 'endswith_cs': return a.endsWith(b);
    case 'has': return hasTerm(a, b, 'has', false);
    case 'has_cs': return hasTerm(a, b, 'has', true);
    case 'hasprefix': return hasTerm(a, b, 'prefix', false);
    case 'hasprefix_cs': return hasTerm(a, b, 'prefix', true);
    case 'hassuffix': return hasTerm(a, b, 'suffix', false);
    case 'hassuffix_cs': return hasTerm(a, b, 'suffix', true);
    default: return false;
  }
}

function parseJsonOrUndefined(json: Scalar): unknown {
  if (typeof json !== 'string') return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

const big = (n: number | null): bigint | null => (n === null || !Number.isFinite(n) ? null : BigInt(Math.trunc(n)));
const num = (v: Scalar): number | null => (v === null ? null : typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : null);

// ----- datetime helpers (UTC, epoch ms) -----

function startOf(ms: number, unit: string, offset: number): number {
  const d = new Date(ms);
  switch (unit) {
    case 'day':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + offset);
    case 'week': {
      const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      return day - d.getUTCDay() * MS_DAY + offset * 7 * MS_DAY;
    }
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1);
    case 'year':
      return Date.UTC(d.getUTCFullYear() + offset, 0, 1);
    default:
      return NaN;
  }
}

function datePart(ms: number, part: string): number | null {
  const d = new Date(ms);
  switch (part) {
    case 'year': return d.getUTCFullYear();
    case 'quarter': return Math.floor(d.getUTCMonth() / 3) + 1;
    case 'month': return d.getUTCMonth() + 1;
    case 'week':
    case 'week_of_year': {
      // ISO 8601 week number.
      const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      const dayNum = t.getUTCDay() || 7;
      t.setUTCDate(t.getUTCDate() + 4 - dayNum);
      const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
      return Math.ceil(((t.getTime() - yearStart) / MS_DAY + 1) / 7);
    }
    case 'day': return d.getUTCDate();
    case 'dayofyear': return Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / MS_DAY) + 1;
    case 'hour': return d.getUTCHours();
    case 'minute': return d.getUTCMinutes();
    case 'second': return d.getUTCSeconds();
    case 'millisecond': return d.getUTCMilliseconds();
    case 'microsecond': return d.getUTCMilliseconds() * 1000;
    case 'nanosecond': return d.getUTCMilliseconds() * 1_000_000;
    default: return null;
  }
}

const PERIOD_MS: Record<string, number> = { week: 7 * MS_DAY, day: MS_DAY, hour: 3_600_000, minute: 60_000, second: 1000, millisecond: 1 };

function datetimeDiff(part: string, a: number, b: number): number | null {
  const p = part.toLowerCase();
  const da = new Date(a);
  const db = new Date(b);
  if (p === 'year') return da.getUTCFullYear() - db.getUTCFullYear();
  if (p === 'quarter') return (da.getUTCFullYear() - db.getUTCFullYear()) * 4 + Math.floor(da.getUTCMonth() / 3) - Math.floor(db.getUTCMonth() / 3);
  if (p === 'month') return (da.getUTCFullYear() - db.getUTCFullYear()) * 12 + da.getUTCMonth() - db.getUTCMonth();
  if (p === 'week') return Math.round((startOf(a, 'week', 0) - startOf(b, 'week', 0)) / PERIOD_MS['week']!);
  const size = PERIOD_MS[p];
  if (size === undefined) return null;
  return Math.floor(a / size) - Math.floor(b / size);
}

function datetimeAdd(part: string, n: number, ms: number): number | null {
  const p = part.toLowerCase();
  const d = new Date(ms);
  const months = p === 'year' ? n * 12 : p === 'quarter' ? n * 3 : p === 'month' ? n : undefined;
  if (months !== undefined) {
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth() + months;
    const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    const day = Math.min(d.getUTCDate(), lastDay);
    return Date.UTC(y, m, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
  }
  const size = PERIOD_MS[p];
  return size === undefined ? null : ms + n * size;
}

/** .NET-style custom date format (yyyy, MM, dd, HH, hh, mm, ss, f…, tt). */
function formatDatetime(ms: number, fmt: string): string {
  const d = new Date(ms);
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return fmt.replace(/yyyy|yy|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|f{1,7}|F{1,7}|tt/g, (t) => {
    switch (t) {
      case 'yyyy': return pad(d.getUTCFullYear(), 4);
      case 'yy': return pad(d.getUTCFullYear() % 100, 2);
      case 'MM': return pad(d.getUTCMonth() + 1, 2);
      case 'M': return String(d.getUTCMonth() + 1);
      case 'dd': return pad(d.getUTCDate(), 2);
      case 'd': return String(d.getUTCDate());
      case 'HH': return pad(d.getUTCHours(), 2);
      case 'H': return String(d.getUTCHours());
      case 'hh': return pad(d.getUTCHours() % 12 || 12, 2);
      case 'h': return String(d.getUTCHours() % 12 || 12);
      case 'mm': return pad(d.getUTCMinutes(), 2);
      case 'm': return String(d.getUTCMinutes());
      case 'ss': return pad(d.getUTCSeconds(), 2);
      case 's': return String(d.getUTCSeconds());
      case 'tt': return d.getUTCHours() < 12 ? 'AM' : 'PM';
      default: {
        const frac = pad(d.getUTCMilliseconds(), 3) + '0000';
        const out = frac.slice(0, t.length);
        return t[0] === 'F' ? out.replace(/0+$/, '') : out;
      }
    }
  });
}

function formatTimespanCustom(ms: number, fmt: string): string {
  const abs = Math.abs(ms);
  const days = Math.floor(abs / MS_DAY);
  const h = Math.floor((abs % MS_DAY) / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = Math.floor((abs % 60_000) / 1000);
  const f = abs % 1000;
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return (ms < 0 ? '-' : '') + fmt.replace(/d{1,8}|hh|h|HH|H|mm|m|ss|s|f{1,7}|F{1,7}/g, (t) => {
    switch (t[0]) {
      case 'd': return pad(days, t.length);
      case 'h':
      case 'H': return t.length === 2 ? pad(h, 2) : String(h);
      case 'm': return t.length === 2 ? pad(m, 2) : String(m);
      case 's': return t.length === 2 ? pad(s, 2) : String(s);
      default: {
        const out = (pad(f, 3) + '0000').slice(0, t.length);
        return t[0] === 'F' ? out.replace(/0+$/, '') : out;
      }
    }
  });
}

function datetimeToString(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  const iso = d.toISOString();
  return d.getUTCMilliseconds() === 0 ? iso.replace(/\.000Z$/, 'Z') : iso.replace(/\.(\d{3})Z$/, '.$10000Z');
}

function toDoubleValue(v: Scalar): number | null {
  if (v === null) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const s = text(v).trim();
  if (s === '') return null;
  if (/^(nan)$/i.test(s)) return NaN;
  if (/^[+]?inf(inity)?$/i.test(s)) return Infinity;
  if (/^-inf(inity)?$/i.test(s)) return -Infinity;
  const n = Number(s);
  return Number.isNaN(n) ? null : n;
}

type AggregateOptions = Parameters<Database['aggregate']>[1];

/** better-sqlite3's typings allow one step argument; our aggregates take several. */
function asAggregate<T>(options: { deterministic: boolean; start: () => T; step: (state: T, ...args: Scalar[]) => T; result: (state: T) => unknown }): AggregateOptions {
  return options as unknown as AggregateOptions;
}

export function registerKqlFunctions(db: Database): void {
  const det = { deterministic: true } as const;
  const vdet = { deterministic: true, varargs: true } as const;

  db.function('kql_real_tostring', det, (v: Scalar) => (v === null ? '' : formatReal(Number(v))));
  db.function('kql_datetime_tostring', det, (v: Scalar) => (v === null ? '' : datetimeToString(Number(v))));
  db.function('kql_datetime_iso', det, (v: Scalar) => {
    if (v === null) return null;
    const d = new Date(Number(v));
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  });
  // Datetimes inside dynamic values as Kusto serializes them (7 fractional digits).
  db.function('kql_datetime_json', det, (v: Scalar) => (v === null ? null : formatDatetimeJson(Number(v)) || null));
  db.function('kql_timespan_tostring', det, (v: Scalar) => (v === null ? '' : formatTimespan(Number(v))));
  db.function('kql_timespan_tostring_or_null', det, (v: Scalar) => (v === null ? null : formatTimespan(Number(v))));
  db.function('kql_dynamic_tostring', det, (v: Scalar) => dynamicToString(v === null ? null : text(v)));

  db.function('kql_strop', det, (op: Scalar, a: Scalar, b: Scalar) => (stringOperator(text(op), text(a), text(b)) ? 1n : 0n));
  db.function('kql_lower', det, (a: Scalar) => text(a).toLowerCase());
  db.function('kql_upper', det, (a: Scalar) => text(a).toUpperCase());
  db.function('kql_matches', det, (s: Scalar, p: Scalar) => {
    const re = regex(text(p));
    return re && re.test(text(s)) ? 1n : 0n;
  });
  db.function('kql_extract', det, (p: Scalar, g: Scalar, s: Scalar) => {
    const re = regex(text(p));
    const m = re ? re.exec(text(s)) : null;
    const v = m ? m[Number(g)] : undefined;
    return v === undefined ? '' : v;
  });
  // parse operator: captures of the groups kqlp0, kqlp1… as a JSON array, or NULL when the row does not match.
  // SQLite inlines the CTE, so one row may call it once per reference: the last answer is memoized.
  let lastParse: { s: string; p: string; f: string; out: string | null } | undefined;
  db.function('kql_parse', det, (s: Scalar, p: Scalar, f: Scalar) => {
    const [st, pt, ft] = [text(s), text(p), text(f)];
    if (lastParse && lastParse.s === st && lastParse.p === pt && lastParse.f === ft) return lastParse.out;
    const re = regex(pt, ft);
    const m = re ? re.exec(st) : null;
    let out: string | null = null;
    if (m) {
      const groups = m.groups ?? {};
      const values: Array<string | null> = [];
      for (let i = 0; `kqlp${i}` in groups; i++) values.push(groups[`kqlp${i}`] ?? null);
      out = JSON.stringify(values);
    }
    lastParse = { s: st, p: pt, f: ft, out };
    return out;
  });
  db.function('kql_replace_regex', det, (s: Scalar, p: Scalar, r: Scalar) => {
    const re = regex(text(p), 'g');
    return re ? text(s).replace(re, text(r).replace(/\\(\d)/g, '$$$1')) : text(s);
  });
  db.function('kql_trim', det, (p: Scalar, s: Scalar, mode: Scalar) => {
    const src = `(?:${text(p)})`;
    const m = Number(mode);
    let out = text(s);
    if (m & 1) {
      const re = regex(`^${src}+`);
      if (re) out = out.replace(re, '');
    }
    if (m & 2) {
      const re = regex(`${src}+$`);
      if (re) out = out.replace(re, '');
    }
    return out;
  });
  db.function('kql_substring', det, (s: Scalar, start: Scalar, len: Scalar) => {
    const str = Array.from(text(s));
    let st = Math.trunc(Number(start));
    if (st < 0) st = 0;
    if (st > str.length) return '';
    const l = len === null ? str.length - st : Math.max(0, Math.trunc(Number(len)));
    return str.slice(st, st + l).join('');
  });
  db.function('kql_split', det, (s: Scalar, d: Scalar, i: Scalar) => {
    const parts = text(d) === '' ? [text(s)] : text(s).split(text(d));
    if (i === null) return JSON.stringify(parts);
    const idx = Number(i);
    return idx >= 0 && idx < parts.length ? JSON.stringify([parts[idx]]) : null;
  });
  db.function('kql_replace_string', det, (s: Scalar, a: Scalar, b: Scalar) => (text(a) === '' ? text(s) : text(s).split(text(a)).join(text(b))));
  db.function('kql_indexof', det, (s: Scalar, l: Scalar, start: Scalar, length: Scalar, occurrence: Scalar) => {
    const str = text(s);
    const lookup = text(l);
    let from = start === null ? 0 : Number(start);
    if (from < 0) from = Math.max(0, str.length + from);
    const end = length === null || Number(length) < 0 ? str.length : Math.min(str.length, from + Number(length));
    let occ = occurrence === null ? 1 : Number(occurrence);
    let idx = -1;
    while (occ-- > 0) {
      idx = str.indexOf(lookup, idx < 0 ? from : idx + 1);
      if (idx < 0 || idx + lookup.length > end) return -1n;
    }
    return BigInt(idx);
  });
  db.function('kql_strrep', det, (s: Scalar, n: Scalar, d: Scalar) => Array.from({ length: Math.max(0, Math.min(1024, Number(n))) }, () => text(s)).join(text(d)));
  db.function('kql_reverse', det, (s: Scalar) => Array.from(text(s)).reverse().join(''));
  db.function('kql_countof', det, (s: Scalar, x: Scalar) => {
    const needle = text(x);
    if (needle === '') return 0n;
    return BigInt(text(s).split(needle).length - 1);
  });
  db.function('kql_strcat_array', det, (json: Scalar, sep: Scalar) => {
    const arr = parseJsonOrUndefined(json);
    if (!Array.isArray(arr)) return '';
    return arr.map((v) => dynamicToString(v === undefined ? null : JSON.stringify(v))).join(text(sep));
  });
  db.function('kql_bag_keys', det, (json: Scalar) => {
    const v = parseJsonOrUndefined(json);
    return v && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(Object.keys(v)) : null;
  });
  db.function('kql_gettype', det, (json: Scalar) => {
    if (json === null) return 'null';
    const v = parseJsonOrUndefined(json);
    if (v === null) return 'null';
    if (Array.isArray(v)) return 'array';
    if (typeof v === 'object') return 'dictionary';
    if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'real';
    if (typeof v === 'boolean') return 'bool';
    return 'string';
  });
  db.function('kql_get', det, (json: Scalar, key: Scalar) => {
    const v = parseJsonOrUndefined(json);
    if (v === null || typeof v !== 'object') return null;
    let out: unknown;
    if (Array.isArray(v)) {
      const i = Number(key);
      if (!Number.isInteger(i)) return null;
      out = v[i < 0 ? v.length + i : i];
    } else {
      out = (v as Record<string, unknown>)[text(key)];
    }
    return out === undefined ? null : JSON.stringify(out);
  });
  const hasList = (all: boolean) => (s: Scalar, terms: Scalar) => {
    const list = parseJsonOrUndefined(terms);
    if (!Array.isArray(list)) return 0n;
    const flat = list.flat(2).filter((t) => t !== null && t !== undefined).map((t) => (typeof t === 'string' ? t : JSON.stringify(t)));
    const str = text(s);
    const ok = all ? flat.every((t) => hasTerm(str, t, 'has', false)) : flat.some((t) => hasTerm(str, t, 'has', false));
    return ok ? 1n : 0n;
  };
  db.function('kql_has_any', det, hasList(false));
  db.function('kql_has_all', det, hasList(true));

  db.function('kql_todouble', det, (v: Scalar) => toDoubleValue(v));
  db.function('kql_tolong', det, (v: Scalar) => big(toDoubleValue(v)));
  db.function('kql_todatetime', det, (v: Scalar) => {
    if (v === null) return null;
    if (typeof v !== 'string') return null;
    const ms = parseDatetimeText(v);
    return ms === undefined ? null : big(ms);
  });
  db.function('kql_totimespan', det, (v: Scalar) => {
    if (v === null || typeof v !== 'string') return null;
    const ms = parseTimespanText(v);
    return ms === undefined ? null : Number.isInteger(ms) ? BigInt(ms) : ms;
  });
  db.function('kql_tobool', det, (v: Scalar) => {
    if (v === null) return null;
    if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0 ? 1n : 0n;
    const s = text(v).trim().toLowerCase();
    return s === 'true' || s === '1' ? 1n : s === 'false' || s === '0' ? 0n : null;
  });
  db.function('kql_toguid', det, (v: Scalar) => {
    const s = text(v).trim();
    return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s) ? s.toLowerCase() : null;
  });
  db.function('kql_parse_json', det, (v: Scalar) => {
    if (v === null) return null;
    const s = text(v);
    if (s.trim() === '') return null;
    try {
      return JSON.stringify(JSON.parse(s));
    } catch {
      return JSON.stringify(s);
    }
  });

  db.function('kql_startof', det, (ms: Scalar, unit: Scalar, offset: Scalar) => (ms === null ? null : big(startOf(Number(ms), text(unit), Number(offset ?? 0)))));
  db.function('kql_endof', det, (ms: Scalar, unit: Scalar, offset: Scalar) => (ms === null ? null : big(startOf(Number(ms), text(unit), Number(offset ?? 0) + 1) - 1)));
  db.function('kql_datepart', det, (ms: Scalar, part: Scalar) => (ms === null ? null : big(datePart(Number(ms), text(part)))));
  db.function('kql_dayofweek', det, (ms: Scalar) => (ms === null ? null : BigInt(new Date(Number(ms)).getUTCDay() * MS_DAY)));
  db.function('kql_format_datetime', det, (ms: Scalar, fmt: Scalar) => (ms === null ? '' : formatDatetime(Number(ms), text(fmt))));
  db.function('kql_format_timespan', det, (ms: Scalar, fmt: Scalar) => (ms === null ? '' : formatTimespanCustom(Number(ms), text(fmt))));
  db.function('kql_datetime_diff', det, (part: Scalar, a: Scalar, b: Scalar) => (a === null || b === null ? null : big(datetimeDiff(text(part), Number(a), Number(b)))));
  db.function('kql_datetime_add', det, (part: Scalar, n: Scalar, ms: Scalar) => (n === null || ms === null ? null : big(datetimeAdd(text(part), Number(n), Number(ms)))));
  db.function('kql_make_datetime', vdet, (...a: Scalar[]) => {
    const [y, mo, d, h, mi, s] = a.map((x) => num(x) ?? 0) as [number, number, number, number, number, number];
    const ms = Date.UTC(y, mo - 1, d, h, mi, Math.floor(s), Math.round((s % 1) * 1000));
    return big(ms);
  });
  db.function('kql_url_decode', det, (s: Scalar) => {
    try {
      return decodeURIComponent(text(s).replace(/\+/g, ' '));
    } catch {
      return null;
    }
  });
  db.function('kql_url_encode', det, (s: Scalar) => encodeURIComponent(text(s)));
  db.function('kql_base64', det, (s: Scalar, encode: Scalar) => (Number(encode) ? Buffer.from(text(s), 'utf8').toString('base64') : Buffer.from(text(s), 'base64').toString('utf8')));

  // ----- aggregates -----
  db.aggregate('kql_percentile', asAggregate({
    deterministic: true,
    start: () => ({ values: [] as number[], p: 0 }),
    step: (state: { values: number[]; p: number }, v: Scalar, p: Scalar) => {
      if (v !== null) state.values.push(Number(v));
      state.p = Number(p);
      return state;
    },
    result: (state: { values: number[]; p: number }) => {
      const values = state.values;
      if (values.length === 0) return null;
      values.sort((a, b) => a - b);
      // Nearest rank: the smallest value with at least p% of the values at or below it.
      const rank = state.p <= 0 ? 1 : Math.ceil((state.p / 100) * values.length);
      const v = values[Math.min(values.length, Math.max(1, rank)) - 1]!;
      return Number.isInteger(v) ? BigInt(v) : v;
    },
  }));
  db.aggregate('kql_variance', asAggregate({
    deterministic: true,
    start: () => ({ n: 0, mean: 0, m2: 0, sample: 1, sqrt: 0 }),
    step: (st: { n: number; mean: number; m2: number; sample: number; sqrt: number }, v: Scalar, sample: Scalar, sqrt: Scalar) => {
      st.sample = Number(sample);
      st.sqrt = Number(sqrt);
      if (v === null) return st;
      const x = Number(v);
      st.n++;
      const d = x - st.mean;
      st.mean += d / st.n;
      st.m2 += d * (x - st.mean);
      return st;
    },
    result: (st: { n: number; mean: number; m2: number; sample: number; sqrt: number }) => {
      const denom = st.sample ? st.n - 1 : st.n;
      if (st.n === 0) return null;
      const variance = denom <= 0 ? 0 : st.m2 / denom;
      return st.sqrt ? Math.sqrt(variance) : variance;
    },
  }));
  db.aggregate('kql_make_bag', asAggregate({
    deterministic: true,
    start: () => ({} as Record<string, unknown>),
    step: (bag: Record<string, unknown>, json: Scalar) => {
      const v = parseJsonOrUndefined(json);
      if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) if (!(k in bag)) bag[k] = x;
      return bag;
    },
    result: (bag: Record<string, unknown>) => JSON.stringify(bag),
  }));
}
