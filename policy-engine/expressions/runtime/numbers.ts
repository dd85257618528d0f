import { CsDateTime, formatDateTime } from './datetime.js';
import { clrErrors } from './errors.js';
import { INTEGRAL_RANGES } from './types.js';
import { CsEnum, formatDouble, toCSharpString } from './values.js';

/** Rounds half to even (banker's rounding), .NET's default for Math.Round and Convert.ToInt32. */
export function roundHalfEven(x: number, digits = 0): number {
  const f = 10 ** digits;
  const y = x * f;
  const t = Math.trunc(y);
  const diff = Math.abs(y - t);
  let r: number;
  if (diff === 0.5) r = t % 2 === 0 ? t : t + Math.sign(y);
  else r = Math.round(y);
  if (r === 0) r = 0;
  return digits ? r / f : r;
}

export function roundAwayFromZero(x: number, digits = 0): number {
  const f = 10 ** digits;
  const y = x * f;
  const r = Math.sign(y) * Math.round(Math.abs(y));
  return digits ? r / f : r;
}

/** `int.Parse`/`long.Parse`: optional whitespace and sign, digits only. */
export function parseInteger(s: unknown, type = 'Int32'): number {
  if (s === null || s === undefined) throw clrErrors.argumentNull('s');
  const str = String(s);
  if (!/^\s*[+-]?\d+\s*$/.test(str)) throw clrErrors.format();
  const n = Number(str.trim());
  const [min, max] = INTEGRAL_RANGES[type] ?? INTEGRAL_RANGES.Int32!;
  if (n < min || n > max) throw clrErrors.overflow(type === 'Int32' ? 'an Int32' : type === 'Int64' ? 'an Int64' : `a ${type}`);
  return n;
}

/** `double.Parse`: invariant culture, thousands separators allowed. */
export function parseFloating(s: unknown): number {
  if (s === null || s === undefined) throw clrErrors.argumentNull('s');
  const str = String(s).trim();
  if (/^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d*)?([eE][+-]?\d+)?$/.test(str) && /\d/.test(str)) return Number(str.replace(/,/g, ''));
  if (str === 'NaN') return NaN;
  if (str === 'Infinity' || str === '∞') return Infinity;
  if (str === '-Infinity' || str === '-∞') return -Infinity;
  throw clrErrors.format();
}

export function parseBoolean(s: unknown): boolean {
  if (s === null || s === undefined) throw clrErrors.argumentNull('value');
  const t = String(s).trim().toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw clrErrors.format('String was not recognized as a valid Boolean.');
}

function group(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function fixed(n: number, digits: number): string {
  const s = Math.abs(n).toFixed(digits);
  return (n < 0 && Number(s) !== 0 ? '-' : '') + s;
}

/** `ToString(format)` on a number: standard (N2, F0, D5, X, P1, E3, G) and simple custom ("0.00", "#,##0") formats. */
export function formatNumber(n: number, format: string | null | undefined, integral = Number.isInteger(n)): string {
  if (!format) return formatDouble(n);
  const m = /^([A-Za-z])(\d{0,2})$/.exec(format);
  if (m) {
    const spec = m[1]!;
    const p = m[2] === '' ? undefined : Number(m[2]);
    switch (spec.toUpperCase()) {
      case 'D': {
        if (!integral) throw clrErrors.format('Format specifier was invalid.');
        const digits = Math.abs(n).toString().padStart(p ?? 0, '0');
        return n < 0 ? `-${digits}` : digits;
      }
      case 'F':
        return fixed(n, p ?? 2);
      case 'N': {
        const [i, f] = fixed(n, p ?? 2).split('.') as [string, string | undefined];
        return group(i) + (f !== undefined ? `.${f}` : '');
      }
      case 'P': {
        const [i, f] = fixed(n * 100, p ?? 2).split('.') as [string, string | undefined];
        return `${group(i)}${f !== undefined ? `.${f}` : ''} %`;
      }
      case 'C': {
        const [i, f] = fixed(Math.abs(n), p ?? 2).split('.') as [string, string | undefined];
        return `${n < 0 ? '-' : ''}¤${group(i)}${f !== undefined ? `.${f}` : ''}`;
      }
      case 'E': {
        const [mant, exp] = n.toExponential(p ?? 6).split('e') as [string, string];
        const e = Number(exp);
        return `${mant}${spec}${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(3, '0')}`;
      }
      case 'G':
      case 'R':
        return p ? formatDouble(Number(n.toPrecision(p))) : formatDouble(n);
      case 'X': {
        if (!integral) throw clrErrors.format('Format specifier was invalid.');
        const h = (n < 0 ? n >>> 0 : n).toString(16).padStart(p ?? 0, '0');
        return spec === 'X' ? h.toUpperCase() : h;
      }
      default:
        throw clrErrors.format('Format specifier was invalid.');
    }
  }
  return formatCustom(n, format);
}

function formatCustom(n: number, format: string): string {
  const section = format.split(';');
  let fmt = section[0]!;
  if (n < 0 && section[1]) {
    fmt = section[1];
    n = -n;
  } else if (n === 0 && section[2]) fmt = section[2];
  let value = n;
  if (fmt.includes('%')) value *= 100;
  const firstDigit = fmt.search(/[0#]/);
  if (firstDigit < 0) return fmt;
  let lastDigit = firstDigit;
  for (let i = firstDigit; i < fmt.length; i++) if (/[0#.,]/.test(fmt[i]!)) lastDigit = i;
  const prefix = fmt.slice(0, firstDigit);
  const suffix = fmt.slice(lastDigit + 1);
  const body = fmt.slice(firstDigit, lastDigit + 1);
  const dot = body.indexOf('.');
  const intSpec = dot < 0 ? body : body.slice(0, dot);
  const fracSpec = dot < 0 ? '' : body.slice(dot + 1);
  const minFrac = (fracSpec.match(/0/g) ?? []).length;
  const maxFrac = (fracSpec.match(/[0#]/g) ?? []).length;
  const minInt = (intSpec.match(/0/g) ?? []).length;
  const grouping = intSpec.includes(',');
  let s = Math.abs(value).toFixed(maxFrac);
  let [i, f = ''] = s.split('.') as [string, string | undefined];
  while (f.length > minFrac && f.endsWith('0')) f = f.slice(0, -1);
  i = i.replace(/^0+/, '');
  i = i.padStart(minInt, '0');
  if (grouping) i = group(i);
  s = i + (f ? `.${f}` : '');
  const negative = value < 0 && Number(s.replace(/,/g, '')) !== 0;
  return `${negative ? '-' : ''}${prefix}${s}${suffix}`;
}

/** `{0:fmt}` / `ToString(fmt)` for any value. */
export function formatValue(v: unknown, format: string | undefined): string {
  if (format === undefined || format === '') return toCSharpString(v);
  if (typeof v === 'number') return formatNumber(v, format);
  if (v instanceof CsDateTime) return formatDateTime(v, format);
  if (v instanceof CsEnum) return format.toUpperCase() === 'D' ? String(v.value) : v.name;
  const toString = (v as { ToString?: (f: string) => string } | null)?.ToString;
  if (typeof toString === 'function') return String(toString.call(v, format));
  return toCSharpString(v);
}

/** `string.Format(format, args)`: `{index[,alignment][:format]}` with `{{`/`}}` escapes. */
export function formatComposite(format: string, args: unknown[]): string {
  let out = '';
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c === '{') {
      if (format[i + 1] === '{') {
        out += '{';
        i += 2;
        continue;
      }
      const close = format.indexOf('}', i);
      if (close < 0) throw clrErrors.format();
      const m = /^\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?(?::(.*))?$/s.exec(format.slice(i + 1, close));
      if (!m) throw clrErrors.format();
      const index = Number(m[1]);
      if (index >= args.length) throw clrErrors.format('Index (zero based) must be greater than or equal to zero and less than the size of the argument list.');
      out += align(formatValue(args[index], m[3]), m[2] === undefined ? 0 : Number(m[2]));
      i = close + 1;
    } else if (c === '}') {
      if (format[i + 1] !== '}') throw clrErrors.format();
      out += '}';
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

export function align(s: string, width: number): string {
  return width >= 0 ? s.padStart(width) : s.padEnd(-width);
}
