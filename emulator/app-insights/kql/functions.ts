/**
 * Scalar functions and aggregates: one table each (jsep-style data, not code paths). Each entry gives
 * its arity, how Kusto names an unnamed result (ResultNameKind), and how it types and lowers to SQL.
 */
import type { KqlDiagnosticName } from './errors.js';
import { dynamicScalarSql, INTEGER_TYPES, isNumeric, toJsonSql, toStringSql } from './sql.js';
import type { Bound } from './sql.js';
import type { KqlType } from './types.js';

export interface FunctionContext {
  param(value: unknown, type?: KqlType): string;
  /** Throws a semantic KqlError positioned at the call (or at argument `argIndex`). */
  fail(name: KqlDiagnosticName, args: ReadonlyArray<string | number>, argIndex?: number): never;
  nowMs: number;
  /** Input rows carry a serial order (`_o`), required by the window functions. */
  orderSql: string | undefined;
  fnName: string;
}

/** Kusto's ResultNameKind for unnamed results: FirstArgument, NameAndFirstArgument, PrefixAndFirstArgument. */
export type ResultNameKind = 'first' | 'nameAndFirst' | 'prefixAndFirst' | 'none';

export interface ScalarFunction {
  minArgs: number;
  maxArgs: number;
  resultName: ResultNameKind;
  bind(args: Bound[], ctx: FunctionContext): { sql: string; type: KqlType };
}

export interface AggregateFunction {
  minArgs: number;
  maxArgs: number;
  resultName: ResultNameKind;
  prefix: string;
  bind(args: Bound[], ctx: FunctionContext): { sql: string; type: KqlType };
}

// ----- argument helpers -----

function str(b: Bound): string {
  return b.type === 'string' ? `coalesce(${b.sql}, '')` : toStringSql(b);
}

function num(b: Bound, ctx: FunctionContext, i: number): string {
  if (isNumeric(b.type) || b.type === 'bool') return b.sql;
  if (b.type === 'dynamic') return `kql_todouble(${dynamicScalarSql(b.sql)})`;
  return ctx.fail('ArgumentType', [ctx.fnName, i + 1, 'a number', b.type], i);
}

function requireType(b: Bound, ctx: FunctionContext, i: number, ...types: KqlType[]): string {
  if (types.includes(b.type)) return b.sql;
  if (b.type === 'dynamic' && types.includes('string')) return toStringSql(b);
  if (b.type === 'dynamic' && types.includes('datetime')) return `kql_todatetime(${dynamicScalarSql(b.sql)})`;
  return ctx.fail('ArgumentType', [ctx.fnName, i + 1, types.join(' or '), b.type], i);
}

function constantString(b: Bound, ctx: FunctionContext, i: number, what: string): string {
  if (!b.constant || typeof b.constant.value !== 'string') return ctx.fail('ExpectedConstant', [`${ctx.fnName}()`, what], i);
  return b.constant.value;
}

/** Common result type of branches (iff/case/coalesce/max_of): real wins over integers, long over int. */
export function commonType(types: KqlType[], ctx: FunctionContext): KqlType {
  let t: KqlType = types[0]!;
  for (const u of types.slice(1)) {
    if (u === t) continue;
    if (isNumeric(u) && isNumeric(t)) t = u === 'real' || t === 'real' ? 'real' : 'long';
    else if (u === 'dynamic' || t === 'dynamic') t = 'dynamic';
    else ctx.fail('ArgumentType', [ctx.fnName, 2, `type '${t}'`, u], types.indexOf(u));
  }
  return t;
}

/** Brings a branch value to the common type (dynamic branches hold JSON text). */
function coerce(b: Bound, to: KqlType): string {
  if (b.type === to) return b.sql;
  if (to === 'dynamic') return toJsonSql(b);
  if (to === 'real') return `CAST(${b.sql} AS REAL)`;
  return b.sql;
}

const dt = (ctx: FunctionContext, b: Bound, i: number) => requireType(b, ctx, i, 'datetime');

function udf(name: string, type: KqlType, conv: (b: Bound, ctx: FunctionContext, i: number) => string = (b) => b.sql): (args: Bound[], ctx: FunctionContext) => { sql: string; type: KqlType } {
  return (args, ctx) => ({ sql: `${name}(${args.map((a, i) => conv(a, ctx, i)).join(', ')})`, type });
}

function fn(minArgs: number, maxArgs: number, resultName: ResultNameKind, bind: ScalarFunction['bind']): ScalarFunction {
  return { minArgs, maxArgs, resultName, bind };
}

function startOf(unit: string, kind: 'start' | 'end'): ScalarFunction {
  return fn(1, 2, kind === 'start' && unit === 'day' ? 'first' : 'none', (args, ctx) => ({
    sql: `kql_${kind}of(${dt(ctx, args[0]!, 0)}, '${unit}', ${args[1] ? num(args[1], ctx, 1) : '0'})`,
    type: 'datetime',
  }));
}

function binSql(args: Bound[], ctx: FunctionContext): { sql: string; type: KqlType } {
  const [x, size] = args as [Bound, Bound];
  if (x.type === 'datetime') {
    if (size.type !== 'timespan') ctx.fail('ArgumentType', [ctx.fnName, 2, 'a timespan', size.type], 1);
    return { sql: `(((${x.sql} + 62135596800000) / ${size.sql}) * ${size.sql} - 62135596800000)`, type: 'datetime' };
  }
  if (x.type === 'timespan') return { sql: `(CAST(floor(${x.sql} * 1.0 / ${size.sql}) AS INTEGER) * ${size.sql})`, type: 'timespan' };
  if (INTEGER_TYPES.has(x.type) && INTEGER_TYPES.has(size.type)) return { sql: `(CAST(floor(${x.sql} * 1.0 / ${size.sql}) AS INTEGER) * ${size.sql})`, type: 'long' };
  const xs = num(x, ctx, 0);
  return { sql: `(floor(${xs} * 1.0 / ${num(size, ctx, 1)}) * ${size.sql})`, type: 'real' };
}

const ISEMPTY_SQL = (b: Bound) =>
  b.type === 'string' ? `(${b.sql} IS NULL OR ${b.sql} = '')` : b.type === 'dynamic' ? `(${b.sql} IS NULL OR ${b.sql} IN ('null', '""'))` : `(${b.sql} IS NULL)`;
const ISNULL_SQL = (b: Bound) => (b.type === 'string' ? '0' : b.type === 'dynamic' ? `(${b.sql} IS NULL OR ${b.sql} = 'null')` : `(${b.sql} IS NULL)`);

function toDouble(b: Bound, ctx: FunctionContext): string {
  if (isNumeric(b.type) || b.type === 'bool') return `CAST(${b.sql} AS REAL)`;
  if (b.type === 'string') return `kql_todouble(${b.sql})`;
  if (b.type === 'dynamic') return `kql_todouble(${dynamicScalarSql(b.sql)})`;
  if (b.type === 'timespan') return `CAST(${b.sql} * 10000 AS REAL)`;
  return ctx.fail('ArgumentType', [ctx.fnName, 1, 'a number, string or dynamic', b.type], 0);
}

function toLong(b: Bound, ctx: FunctionContext): string {
  if (isNumeric(b.type) || b.type === 'bool') return `CAST(${b.sql} AS INTEGER)`;
  if (b.type === 'string') return `kql_tolong(${b.sql})`;
  if (b.type === 'dynamic') return `kql_tolong(${dynamicScalarSql(b.sql)})`;
  if (b.type === 'datetime') return `((${b.sql} + 62135596800000) * 10000)`;
  if (b.type === 'timespan') return `(${b.sql} * 10000)`;
  return ctx.fail('ArgumentType', [ctx.fnName, 1, 'a number, string or dynamic', b.type], 0);
}

function windowFn(ctx: FunctionContext): string {
  if (ctx.orderSql === undefined) {
    return ctx.fail('Query', [`Function '${ctx.fnName}' cannot be invoked in current context: the row set must be serialized (use serialize or order by first)`]);
  }
  return ctx.orderSql;
}

function prevNext(dir: 'LAG' | 'LEAD'): ScalarFunction {
  return fn(1, 3, 'none', (args, ctx) => {
    const order = windowFn(ctx);
    const [x, offset, dflt] = args as [Bound, Bound | undefined, Bound | undefined];
    return { sql: `${dir}(${x.sql}, ${offset ? offset.sql : '1'}${dflt ? `, ${coerce(dflt, x.type)}` : ''}) OVER (ORDER BY ${order})`, type: x.type };
  });
}

export const SCALAR_FUNCTIONS: Record<string, ScalarFunction> = {
  // conversions
  tostring: fn(1, 1, 'first', ([a]) => ({ sql: toStringSql(a!), type: 'string' })),
  todouble: fn(1, 1, 'first', ([a], ctx) => ({ sql: toDouble(a!, ctx), type: 'real' })),
  toreal: fn(1, 1, 'first', ([a], ctx) => ({ sql: toDouble(a!, ctx), type: 'real' })),
  todecimal: fn(1, 1, 'first', ([a], ctx) => ({ sql: toDouble(a!, ctx), type: 'real' })),
  toint: fn(1, 1, 'first', ([a], ctx) => ({ sql: toLong(a!, ctx), type: 'int' })),
  tolong: fn(1, 1, 'first', ([a], ctx) => ({ sql: toLong(a!, ctx), type: 'long' })),
  todatetime: fn(1, 1, 'first', ([a], ctx) => ({
    sql: a!.type === 'datetime' ? a!.sql : a!.type === 'string' ? `kql_todatetime(${a!.sql})` : a!.type === 'dynamic' ? `kql_todatetime(${dynamicScalarSql(a!.sql)})` : ctx.fail('ArgumentType', ['todatetime', 1, 'a string, datetime or dynamic', a!.type], 0),
    type: 'datetime',
  })),
  totimespan: fn(1, 1, 'first', ([a], ctx) => ({
    sql: a!.type === 'timespan' ? a!.sql : a!.type === 'string' ? `kql_totimespan(${a!.sql})` : a!.type === 'dynamic' ? `kql_totimespan(${dynamicScalarSql(a!.sql)})` : isNumeric(a!.type) ? `CAST(${a!.sql} / 10000 AS INTEGER)` : ctx.fail('ArgumentType', ['totimespan', 1, 'a string or dynamic', a!.type], 0),
    type: 'timespan',
  })),
  tobool: fn(1, 1, 'first', ([a]) => ({
    sql: a!.type === 'bool' ? a!.sql : a!.type === 'string' ? `kql_tobool(${a!.sql})` : a!.type === 'dynamic' ? `kql_tobool(${dynamicScalarSql(a!.sql)})` : `(CASE WHEN ${a!.sql} IS NULL THEN NULL WHEN ${a!.sql} <> 0 THEN 1 ELSE 0 END)`,
    type: 'bool',
  })),
  toguid: fn(1, 1, 'first', ([a]) => ({ sql: `kql_toguid(${str(a!)})`, type: 'guid' })),
  parse_json: fn(1, 1, 'first', ([a]) => ({ sql: a!.type === 'dynamic' ? a!.sql : a!.type === 'string' ? `kql_parse_json(${a!.sql})` : toJsonSql(a!), type: 'dynamic' })),
  // string functions
  strlen: fn(1, 1, 'nameAndFirst', ([a]) => ({ sql: `length(${str(a!)})`, type: 'long' })),
  strcat: fn(1, 64, 'none', (args) => ({ sql: `(${args.map((a) => str(a)).join(' || ')})`, type: 'string' })),
  strcat_delim: fn(3, 64, 'none', ([d, ...rest]) => ({ sql: `(${rest.map((a) => str(a)).join(` || ${str(d!)} || `)})`, type: 'string' })),
  substring: fn(2, 3, 'none', ([s, start, len], ctx) => ({ sql: `kql_substring(${str(s!)}, ${num(start!, ctx, 1)}${len ? `, ${num(len, ctx, 2)}` : ', NULL'})`, type: 'string' })),
  tolower: fn(1, 1, 'none', ([a]) => ({ sql: `kql_lower(${str(a!)})`, type: 'string' })),
  toupper: fn(1, 1, 'none', ([a]) => ({ sql: `kql_upper(${str(a!)})`, type: 'string' })),
  trim: fn(2, 2, 'none', ([re, s]) => ({ sql: `kql_trim(${str(re!)}, ${str(s!)}, 3)`, type: 'string' })),
  trim_start: fn(2, 2, 'none', ([re, s]) => ({ sql: `kql_trim(${str(re!)}, ${str(s!)}, 1)`, type: 'string' })),
  trim_end: fn(2, 2, 'none', ([re, s]) => ({ sql: `kql_trim(${str(re!)}, ${str(s!)}, 2)`, type: 'string' })),
  split: fn(2, 3, 'first', ([s, d, i], ctx) => ({ sql: `kql_split(${str(s!)}, ${str(d!)}${i ? `, ${num(i, ctx, 2)}` : ', NULL'})`, type: 'dynamic' })),
  replace_string: fn(3, 3, 'none', ([s, a, b]) => ({ sql: `kql_replace_string(${str(s!)}, ${str(a!)}, ${str(b!)})`, type: 'string' })),
  replace_regex: fn(3, 3, 'none', ([s, a, b]) => ({ sql: `kql_replace_regex(${str(s!)}, ${str(a!)}, ${str(b!)})`, type: 'string' })),
  indexof: fn(2, 5, 'none', (args, ctx) => ({
    sql: `kql_indexof(${str(args[0]!)}, ${str(args[1]!)}, ${args.slice(2).map((a, i) => num(a, ctx, i + 2)).concat(['NULL', 'NULL', 'NULL']).slice(0, 3).join(', ')})`,
    type: 'long',
  })),
  extract: fn(3, 4, 'none', ([re, g, s], ctx) => ({ sql: `kql_extract(${str(re!)}, ${num(g!, ctx, 1)}, ${str(s!)})`, type: 'string' })),
  strrep: fn(2, 3, 'none', ([s, n, d], ctx) => ({ sql: `kql_strrep(${str(s!)}, ${num(n!, ctx, 1)}, ${d ? str(d) : "''"})`, type: 'string' })),
  reverse: fn(1, 1, 'none', ([s]) => ({ sql: `kql_reverse(${str(s!)})`, type: 'string' })),
  countof: fn(2, 3, 'none', ([s, x]) => ({ sql: `kql_countof(${str(s!)}, ${str(x!)})`, type: 'long' })),
  strcat_array: fn(2, 2, 'none', ([a, d], ctx) => ({ sql: `kql_strcat_array(${requireType(a!, ctx, 0, 'dynamic')}, ${str(d!)})`, type: 'string' })),
  // dynamic
  todynamic: fn(1, 1, 'first', ([a]) => ({ sql: a!.type === 'dynamic' ? a!.sql : a!.type === 'string' ? `kql_parse_json(${a!.sql})` : toJsonSql(a!), type: 'dynamic' })),
  array_length: fn(1, 1, 'none', ([a], ctx) => ({ sql: `(CASE json_type(${requireType(a!, ctx, 0, 'dynamic')}) WHEN 'array' THEN json_array_length(${a!.sql}) END)`, type: 'long' })),
  bag_keys: fn(1, 1, 'none', ([a], ctx) => ({ sql: `kql_bag_keys(${requireType(a!, ctx, 0, 'dynamic')})`, type: 'dynamic' })),
  pack_array: fn(0, 64, 'none', (args) => ({ sql: `json_array(${args.map((a) => toJsonSql(a)).join(', ')})`, type: 'dynamic' })),
  pack: fn(0, 128, 'none', (args, ctx) => {
    if (args.length % 2 !== 0) ctx.fail('ArgumentCount', [ctx.fnName, 'an even number of']);
    const parts: string[] = [];
    for (let i = 0; i < args.length; i += 2) parts.push(`${requireType(args[i]!, ctx, i, 'string')}, ${toJsonSql(args[i + 1]!)}`);
    return { sql: `json_object(${parts.join(', ')})`, type: 'dynamic' };
  }),
  gettype: fn(1, 1, 'none', ([a]) => ({ sql: a!.type === 'dynamic' ? `kql_gettype(${a!.sql})` : `CASE WHEN ${a!.sql} IS NULL THEN 'null' ELSE '${a!.type === 'real' ? 'real' : a!.type}' END`, type: 'string' })),
  // logic
  iff: fn(3, 3, 'none', ([c, a, b], ctx) => {
    const t = commonType([a!.type, b!.type], ctx);
    return { sql: `(CASE WHEN ${c!.sql} THEN ${coerce(a!, t)} ELSE ${coerce(b!, t)} END)`, type: t };
  }),
  case: fn(3, 255, 'none', (args, ctx) => {
    if (args.length % 2 === 0) ctx.fail('ArgumentCount', [ctx.fnName, 'an odd number of']);
    const values = args.filter((_, i) => i % 2 === 1 || i === args.length - 1);
    const t = commonType(values.map((v) => v.type), ctx);
    let sql = '(CASE';
    for (let i = 0; i + 1 < args.length; i += 2) sql += ` WHEN ${args[i]!.sql} THEN ${coerce(args[i + 1]!, t)}`;
    return { sql: `${sql} ELSE ${coerce(args[args.length - 1]!, t)} END)`, type: t };
  }),
  coalesce: fn(2, 64, 'none', (args, ctx) => {
    const t = commonType(args.map((a) => a.type), ctx);
    if (t === 'string') return { sql: `coalesce(${args.map((a) => `nullif(${a.sql}, '')`).join(', ')}, '')`, type: t };
    if (t === 'dynamic') return { sql: `coalesce(${args.map((a) => `nullif(${coerce(a, t)}, 'null')`).join(', ')})`, type: t };
    return { sql: `coalesce(${args.map((a) => coerce(a, t)).join(', ')})`, type: t };
  }),
  isempty: fn(1, 1, 'none', ([a]) => ({ sql: ISEMPTY_SQL(a!), type: 'bool' })),
  isnotempty: fn(1, 1, 'none', ([a]) => ({ sql: `(NOT ${ISEMPTY_SQL(a!)})`, type: 'bool' })),
  isnull: fn(1, 1, 'none', ([a]) => ({ sql: ISNULL_SQL(a!), type: 'bool' })),
  isnotnull: fn(1, 1, 'none', ([a]) => ({ sql: `(NOT ${ISNULL_SQL(a!)})`, type: 'bool' })),
  not: fn(1, 1, 'none', ([a], ctx) => ({ sql: `(NOT ${requireType(a!, ctx, 0, 'bool')})`, type: 'bool' })),
  max_of: fn(2, 64, 'none', (args, ctx) => {
    const t = commonType(args.map((a) => a.type), ctx);
    return { sql: `max(${args.map((a) => coerce(a, t)).join(', ')})`, type: t };
  }),
  min_of: fn(2, 64, 'none', (args, ctx) => {
    const t = commonType(args.map((a) => a.type), ctx);
    return { sql: `min(${args.map((a) => coerce(a, t)).join(', ')})`, type: t };
  }),
  // math
  round: fn(1, 2, 'first', ([x, n], ctx) => {
    const xs = num(x!, ctx, 0);
    if (INTEGER_TYPES.has(x!.type)) return { sql: n ? `CAST(round(${xs}, ${num(n, ctx, 1)}) AS INTEGER)` : xs, type: x!.type };
    return { sql: `round(${xs}${n ? `, ${num(n, ctx, 1)}` : ''})`, type: 'real' };
  }),
  abs: fn(1, 1, 'first', ([x], ctx) => ({ sql: `abs(${num(x!, ctx, 0)})`, type: x!.type === 'real' ? 'real' : x!.type === 'timespan' ? 'timespan' : 'long' })),
  sqrt: fn(1, 1, 'first', ([x], ctx) => ({ sql: `sqrt(${num(x!, ctx, 0)})`, type: 'real' })),
  exp: fn(1, 1, 'first', ([x], ctx) => ({ sql: `exp(${num(x!, ctx, 0)})`, type: 'real' })),
  log: fn(1, 1, 'first', ([x], ctx) => ({ sql: `ln(${num(x!, ctx, 0)})`, type: 'real' })),
  log10: fn(1, 1, 'first', ([x], ctx) => ({ sql: `log10(${num(x!, ctx, 0)})`, type: 'real' })),
  log2: fn(1, 1, 'first', ([x], ctx) => ({ sql: `log2(${num(x!, ctx, 0)})`, type: 'real' })),
  pow: fn(2, 2, 'first', ([x, y], ctx) => ({ sql: `pow(${num(x!, ctx, 0)}, ${num(y!, ctx, 1)})`, type: 'real' })),
  ceiling: fn(1, 1, 'first', ([x], ctx) => ({ sql: `ceil(${num(x!, ctx, 0)})`, type: x!.type === 'real' ? 'real' : 'long' })),
  bin: fn(2, 2, 'first', binSql),
  floor: fn(1, 2, 'first', (args, ctx) => (args.length === 2 ? binSql(args, ctx) : { sql: `floor(${num(args[0]!, ctx, 0)})`, type: args[0]!.type === 'real' ? 'real' : 'long' })),
  // datetime
  now: fn(0, 1, 'none', (args, ctx) => ({ sql: args[0] ? `(${ctx.param(ctx.nowMs, 'datetime')} + ${args[0].sql})` : ctx.param(ctx.nowMs, 'datetime'), type: 'datetime' })),
  ago: fn(1, 1, 'none', ([a], ctx) => {
    if (a!.type !== 'timespan') ctx.fail('ArgumentType', ['ago', 1, 'a timespan', a!.type], 0);
    if (a!.constant && typeof a!.constant.value === 'number') return { sql: ctx.param(ctx.nowMs - a!.constant.value, 'datetime'), type: 'datetime' };
    return { sql: `(${ctx.param(ctx.nowMs, 'datetime')} - ${a!.sql})`, type: 'datetime' };
  }),
  startofday: startOf('day', 'start'),
  startofweek: startOf('week', 'start'),
  startofmonth: startOf('month', 'start'),
  startofyear: startOf('year', 'start'),
  endofday: startOf('day', 'end'),
  endofweek: startOf('week', 'end'),
  endofmonth: startOf('month', 'end'),
  endofyear: startOf('year', 'end'),
  hourofday: fn(1, 1, 'none', ([a], ctx) => ({ sql: `kql_datepart(${dt(ctx, a!, 0)}, 'hour')`, type: 'int' })),
  dayofmonth: fn(1, 1, 'none', ([a], ctx) => ({ sql: `kql_datepart(${dt(ctx, a!, 0)}, 'day')`, type: 'int' })),
  dayofyear: fn(1, 1, 'none', ([a], ctx) => ({ sql: `kql_datepart(${dt(ctx, a!, 0)}, 'dayofyear')`, type: 'int' })),
  getmonth: fn(1, 1, 'none', ([a], ctx) => ({ sql: `kql_datepart(${dt(ctx, a!, 0)}, 'month')`, type: 'int' })),
  monthofyear: fn(1, 1, 'none', ([a], ctx) => ({ sql: `kql_datepart(${dt(ctx, a!, 0)}, 'month')`, type: 'int' })),
  getyear: fn(1, 1, 'none', ([a], ctx) => ({ sql: `kql_datepart(${dt(ctx, a!, 0)}, 'year')`, type: 'int' })),
  week_of_year: fn(1, 1, 'none', ([a], ctx) => ({ sql: `kql_datepart(${dt(ctx, a!, 0)}, 'week')`, type: 'int' })),
  dayofweek: fn(1, 1, 'none', ([a], ctx) => ({ sql: `kql_dayofweek(${dt(ctx, a!, 0)})`, type: 'timespan' })),
  datetime_part: fn(2, 2, 'none', ([p, a], ctx) => ({ sql: `kql_datepart(${dt(ctx, a!, 1)}, kql_lower(${str(p!)}))`, type: 'int' })),
  format_datetime: fn(2, 2, 'first', ([a, f], ctx) => ({ sql: `kql_format_datetime(${dt(ctx, a!, 0)}, ${str(f!)})`, type: 'string' })),
  format_timespan: fn(2, 2, 'first', ([a, f], ctx) => ({ sql: `kql_format_timespan(${requireType(a!, ctx, 0, 'timespan')}, ${str(f!)})`, type: 'string' })),
  datetime_diff: fn(3, 3, 'none', ([p, a, b], ctx) => ({ sql: `kql_datetime_diff(${str(p!)}, ${dt(ctx, a!, 1)}, ${dt(ctx, b!, 2)})`, type: 'long' })),
  datetime_add: fn(3, 3, 'none', ([p, n, a], ctx) => ({ sql: `kql_datetime_add(${str(p!)}, ${num(n!, ctx, 1)}, ${dt(ctx, a!, 2)})`, type: 'datetime' })),
  make_datetime: fn(3, 7, 'none', (args, ctx) => ({ sql: `kql_make_datetime(${args.map((a, i) => num(a, ctx, i)).concat(['0', '0', '0', '0']).slice(0, 6).join(', ')})`, type: 'datetime' })),
  unixtime_milliseconds_todatetime: fn(1, 1, 'none', ([a], ctx) => ({ sql: `CAST(${num(a!, ctx, 0)} AS INTEGER)`, type: 'datetime' })),
  unixtime_seconds_todatetime: fn(1, 1, 'none', ([a], ctx) => ({ sql: `CAST(${num(a!, ctx, 0)} * 1000 AS INTEGER)`, type: 'datetime' })),
  // window functions (need serialized input)
  row_number: fn(0, 1, 'none', (args, ctx) => ({ sql: `(ROW_NUMBER() OVER (ORDER BY ${windowFn(ctx)})${args[0] ? ` - 1 + ${args[0].sql}` : ''})`, type: 'long' })),
  prev: prevNext('LAG'),
  next: prevNext('LEAD'),
  row_cumsum: fn(1, 1, 'none', ([x], ctx) => ({ sql: `sum(${num(x!, ctx, 0)}) OVER (ORDER BY ${windowFn(ctx)} ROWS UNBOUNDED PRECEDING)`, type: x!.type })),
  // regex and misc
  url_decode: fn(1, 1, 'none', ([a]) => ({ sql: `kql_url_decode(${str(a!)})`, type: 'string' })),
  url_encode: fn(1, 1, 'none', ([a]) => ({ sql: `kql_url_encode(${str(a!)})`, type: 'string' })),
  base64_encode_tostring: fn(1, 1, 'none', ([a]) => ({ sql: `kql_base64(${str(a!)}, 1)`, type: 'string' })),
  base64_decode_tostring: fn(1, 1, 'none', ([a]) => ({ sql: `kql_base64(${str(a!)}, 0)`, type: 'string' })),
};

// aliases
SCALAR_FUNCTIONS['iif'] = SCALAR_FUNCTIONS['iff']!;
SCALAR_FUNCTIONS['bag_pack'] = SCALAR_FUNCTIONS['pack']!;
SCALAR_FUNCTIONS['parsejson'] = SCALAR_FUNCTIONS['parse_json']!;
SCALAR_FUNCTIONS['toboolean'] = SCALAR_FUNCTIONS['tobool']!;
SCALAR_FUNCTIONS['ceil'] = SCALAR_FUNCTIONS['ceiling']!;
SCALAR_FUNCTIONS['datepart'] = SCALAR_FUNCTIONS['datetime_part']!;
SCALAR_FUNCTIONS['weekofyear'] = SCALAR_FUNCTIONS['week_of_year']!;
SCALAR_FUNCTIONS['strcat_array'] = SCALAR_FUNCTIONS['strcat_array']!;

// ----- aggregates -----

function agg(prefix: string, minArgs: number, maxArgs: number, bind: AggregateFunction['bind'], resultName: ResultNameKind = 'prefixAndFirst'): AggregateFunction {
  return { prefix, minArgs, maxArgs, resultName, bind };
}

function sumType(t: KqlType): KqlType {
  return t === 'real' || t === 'decimal' ? 'real' : t === 'timespan' ? 'timespan' : 'long';
}

function summable(b: Bound, ctx: FunctionContext, i: number): string {
  if (isNumeric(b.type) || b.type === 'timespan') return b.sql;
  if (b.type === 'dynamic') return `kql_todouble(${dynamicScalarSql(b.sql)})`;
  return ctx.fail('ArgumentType', [ctx.fnName, i + 1, 'a number or timespan', b.type], i);
}

function orderable(b: Bound, ctx: FunctionContext, i: number): string {
  if (b.type === 'guid') return ctx.fail('ArgumentType', [ctx.fnName, i + 1, 'a number, timespan, datetime, string or bool', b.type], i);
  return b.sql;
}

function avgSql(x: Bound, ctx: FunctionContext, filter?: Bound): { sql: string; type: KqlType } {
  if (x.type === 'bool' || x.type === 'string') ctx.fail('ArgumentType', [ctx.fnName, 1, 'a number or timespan', x.type], 0);
  const f = filter ? ` FILTER (WHERE ${filter.sql})` : '';
  if (x.type === 'timespan') return { sql: `CAST(avg(${x.sql})${f} AS INTEGER)`, type: 'timespan' };
  return { sql: `avg(${summable(x, ctx, 0)})${f}`, type: 'real' };
}

function minMax(fnName: 'min' | 'max', x: Bound, ctx: FunctionContext, filter?: Bound): { sql: string; type: KqlType } {
  const f = filter ? ` FILTER (WHERE ${filter.sql})` : '';
  return { sql: `${fnName}(${orderable(x, ctx, 0)})${f}`, type: x.type };
}

function takeAny(x: Bound, filter?: Bound): { sql: string; type: KqlType } {
  const f = filter ? ` FILTER (WHERE ${filter.sql})` : '';
  if (x.type === 'string') return { sql: `coalesce(min(nullif(${x.sql}, ''))${f}, '')`, type: x.type };
  return { sql: `min(${x.sql})${f}`, type: x.type };
}

function percentileType(t: KqlType): KqlType {
  return t === 'int' ? 'long' : t;
}

function listSql(x: Bound, distinct: boolean, filter?: Bound, withNulls = false): { sql: string; type: KqlType } {
  const conds = [withNulls ? undefined : `${x.sql} IS NOT NULL`, filter ? filter.sql : undefined].filter(Boolean);
  const f = conds.length ? ` FILTER (WHERE ${conds.join(' AND ')})` : '';
  return { sql: `json_group_array(${distinct ? 'DISTINCT ' : ''}${toJsonSql(x)})${f}`, type: 'dynamic' };
}

export const AGGREGATE_FUNCTIONS: Record<string, AggregateFunction> = {
  count: agg('count', 0, 1, (args) => ({ sql: args[0] ? `count(${args[0].sql})` : 'count(*)', type: 'long' })),
  countif: agg('countif', 1, 1, ([p]) => ({ sql: `count(*) FILTER (WHERE ${p!.sql})`, type: 'long' })),
  sum: agg('sum', 1, 1, ([x], ctx) => ({ sql: `coalesce(sum(${summable(x!, ctx, 0)}), 0)`, type: sumType(x!.type) })),
  sumif: agg('sumif', 2, 2, ([x, p], ctx) => ({ sql: `coalesce(sum(${summable(x!, ctx, 0)}) FILTER (WHERE ${p!.sql}), 0)`, type: sumType(x!.type) })),
  avg: agg('avg', 1, 1, ([x], ctx) => avgSql(x!, ctx)),
  avgif: agg('avgif', 2, 2, ([x, p], ctx) => avgSql(x!, ctx, p)),
  min: agg('min', 1, 1, ([x], ctx) => minMax('min', x!, ctx)),
  max: agg('max', 1, 1, ([x], ctx) => minMax('max', x!, ctx)),
  minif: agg('minif', 2, 2, ([x, p], ctx) => minMax('min', x!, ctx, p)),
  maxif: agg('maxif', 2, 2, ([x, p], ctx) => minMax('max', x!, ctx, p)),
  dcount: agg('dcount', 1, 2, ([x]) => ({ sql: `count(DISTINCT ${x!.sql})`, type: 'long' })),
  dcountif: agg('dcountif', 2, 3, ([x, p]) => ({ sql: `count(DISTINCT ${x!.sql}) FILTER (WHERE ${p!.sql})`, type: 'long' })),
  count_distinct: agg('count_distinct', 1, 1, ([x]) => ({ sql: `count(DISTINCT ${x!.sql})`, type: 'long' })),
  count_distinctif: agg('count_distinctif', 2, 2, ([x, p]) => ({ sql: `count(DISTINCT ${x!.sql}) FILTER (WHERE ${p!.sql})`, type: 'long' })),
  take_any: agg('', 1, 1, ([x]) => takeAny(x!), 'first'),
  take_anyif: agg('', 2, 2, ([x, p]) => takeAny(x!, p), 'first'),
  any: agg('any', 1, 1, ([x]) => takeAny(x!)),
  anyif: agg('anyif', 2, 2, ([x, p]) => takeAny(x!, p)),
  make_list: agg('list', 1, 2, ([x]) => listSql(x!, false)),
  make_list_if: agg('list', 2, 3, ([x, p]) => listSql(x!, false, p)),
  make_list_with_nulls: agg('list', 1, 2, ([x]) => listSql(x!, false, undefined, true)),
  make_set: agg('set', 1, 2, ([x]) => listSql(x!, true)),
  make_set_if: agg('set', 2, 3, ([x, p]) => listSql(x!, true, p)),
  make_bag: agg('bag', 1, 2, ([x], ctx) => ({ sql: `kql_make_bag(${requireType(x!, ctx, 0, 'dynamic')})`, type: 'dynamic' })),
  stdev: agg('stdev', 1, 1, ([x], ctx) => ({ sql: `coalesce(kql_variance(${summable(x!, ctx, 0)}, 1, 1), 0)`, type: 'real' })),
  stdevp: agg('stdevp', 1, 1, ([x], ctx) => ({ sql: `kql_variance(${summable(x!, ctx, 0)}, 0, 1)`, type: 'real' })),
  variance: agg('variance', 1, 1, ([x], ctx) => ({ sql: `coalesce(kql_variance(${summable(x!, ctx, 0)}, 1, 0), 0)`, type: 'real' })),
  variancep: agg('variancep', 1, 1, ([x], ctx) => ({ sql: `kql_variance(${summable(x!, ctx, 0)}, 0, 0)`, type: 'real' })),
  stdevif: agg('stdevif', 2, 2, ([x, p], ctx) => ({ sql: `coalesce(kql_variance(${summable(x!, ctx, 0)}, 1, 1) FILTER (WHERE ${p!.sql}), 0)`, type: 'real' })),
  varianceif: agg('varianceif', 2, 2, ([x, p], ctx) => ({ sql: `coalesce(kql_variance(${summable(x!, ctx, 0)}, 1, 0) FILTER (WHERE ${p!.sql}), 0)`, type: 'real' })),
  percentile: agg('percentile', 2, 2, ([x, p], ctx) => {
    if (!p!.constant || typeof p!.constant.value !== 'number') ctx.fail('ExpectedConstant', ['percentile()', 'number'], 1);
    if (x!.type === 'string' || x!.type === 'bool' || x!.type === 'dynamic' || x!.type === 'guid') ctx.fail('ArgumentType', ['percentile', 1, 'a number, datetime or timespan', x!.type], 0);
    return { sql: `kql_percentile(${x!.sql}, ${p!.sql})`, type: percentileType(x!.type) };
  }, 'none'),
};

AGGREGATE_FUNCTIONS['makelist'] = AGGREGATE_FUNCTIONS['make_list']!;
AGGREGATE_FUNCTIONS['makeset'] = AGGREGATE_FUNCTIONS['make_set']!;
AGGREGATE_FUNCTIONS['cnt'] = AGGREGATE_FUNCTIONS['count']!;

/** Defaults on empty input follow Kusto's table: count/sum/variance/stdev families → 0, make_* → [], others → null. */

/** Aggregates handled by the summarize translator itself (several output columns). */
export const MULTI_COLUMN_AGGREGATES = new Set(['arg_max', 'arg_min', 'percentiles']);

/** Known Kusto functions this engine does not implement (semantic error naming them). */
export const UNSUPPORTED_FUNCTIONS = new Set([
  'materialize', 'toscalar_', 'ingestion_time', 'cursor_after', 'series_stats', 'series_fir', 'series_iir', 'series_decompose',
  'series_outliers', 'series_fill_linear', 'series_fill_const', 'series_fill_forward', 'series_fill_backward', 'hll', 'hll_merge',
  'dcount_hll', 'tdigest', 'tdigest_merge', 'percentile_tdigest', 'ipv4_is_in_range', 'ipv4_compare', 'parse_ipv4', 'geo_point_to_s2cell',
  'parse_url', 'parse_path', 'parse_csv', 'parse_xml', 'parse_user_agent', 'zip', 'array_concat', 'array_slice', 'array_sort_asc',
  'array_sort_desc', 'array_sum', 'array_iff', 'array_index_of', 'set_union', 'set_intersect', 'set_difference', 'set_has_element',
  'bag_merge', 'bag_remove_keys', 'bag_has_key', 'treepath', 'extract_all', 'extract_json', 'extractjson', 'column_ifexists',
  'current_principal', 'current_cluster_endpoint', 'current_database', 'new_guid', 'rand', 'make_timespan', 'binary_and', 'binary_or',
  'binary_xor', 'binary_not', 'percentrank_tdigest', 'rank_tdigest', 'bin_at', 'bin_auto', 'datetime_local_to_utc', 'datetime_utc_to_local',
  'format_bytes', 'tohex', 'isascii', 'isutf8', 'unicode_codepoints_from_string', 'has_any_index', 'estimate_data_size', 'row_rank_dense',
  'row_rank_min', 'row_window_session', 'arg_max_if', 'binary_all_and', 'make_bag_if', 'buildschema', 'covariance', 'hll_if', 'sign',
  'hash', 'isnan', 'isinf', 'isfinite', 'trim_', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'pi', 'degrees', 'radians', 'gamma',
  'loggamma', 'exp2', 'exp10', 'erf', 'erfc', 'toupper_', 'tdigest_', 'welch_test', 'series_add', 'range',
]);
