import { createRequire } from 'node:module';
import type { FilterImplOptions, Liquid, Template } from 'liquidjs';
import { CsDateTime, formatDateTime, parseDateTime } from '../../expressions/runtime/datetime.js';
import { toCSharpString } from '../../expressions/index.js';
import type { RequestContext } from '../../pipeline/types.js';
import type { PolicyElement } from '../../xml/model.js';
import type { CompileEnv } from '../define.js';
import { isJsonMediaType, isXmlMediaType, xmlToJsonValue } from './xml-json.js';

/**
 * API Management's Liquid (DotLiquid in "C# mode"): the filters the set-body reference lists, in Pascal case, and
 * DotLiquid's standard tags. Other filters and tags (include, render, layout, echo, liquid …) are refused at load.
 */
function filtersOf(builtin: typeof import('liquidjs').filters): Record<string, FilterImplOptions> {
  return {
    Abs: builtin.abs!,
    Append: builtin.append!,
    AtLeast: builtin.at_least!,
    AtMost: builtin.at_most!,
    Capitalize: builtin.capitalize!,
    Compact: builtin.compact!,
    Currency: (value: unknown) => currency(value),
    Date: (value: unknown, format?: unknown) => liquidDate(value, format),
    Default: builtin.default!,
    // C#: integer / integer is integer division (toward zero)
    DividedBy: (value: unknown, divisor: unknown) => (Number.isInteger(Number(value)) && Number.isInteger(Number(divisor)) ? Math.trunc(Number(value) / Number(divisor)) : Number(value) / Number(divisor)),
    Downcase: builtin.downcase!,
    Escape: builtin.escape!,
    First: builtin.first!,
    H: builtin.escape!,
    Join: builtin.join!,
    Last: builtin.last!,
    Lstrip: builtin.lstrip!,
    Map: builtin.map!,
    Minus: builtin.minus!,
    Modulo: builtin.modulo!,
    NewlineToBr: builtin.newline_to_br!,
    Plus: builtin.plus!,
    Prepend: builtin.prepend!,
    Remove: builtin.remove!,
    RemoveFirst: builtin.remove_first!,
    Replace: builtin.replace!,
    ReplaceFirst: builtin.replace_first!,
    Round: builtin.round!,
    Rstrip: builtin.rstrip!,
    Size: builtin.size!,
    Slice: builtin.slice!,
    Sort: builtin.sort!,
    Split: builtin.split!,
    Strip: builtin.strip!,
    StripHtml: builtin.strip_html!,
    StripNewlines: builtin.strip_newlines!,
    Times: builtin.times!,
    Truncate: builtin.truncate!,
    TruncateWords: builtin.truncatewords!,
    Uniq: builtin.uniq!,
    Upcase: builtin.upcase!,
    UrlDecode: builtin.url_decode!,
    UrlEncode: builtin.url_encode!,
  };
}

/** liquidjs tags DotLiquid does not have, or that need a file system. */
const REFUSED_TAGS = ['include', 'render', 'layout', 'block', 'echo', 'liquid', '#'];

interface LiquidRuntime {
  engine: Liquid;
  LiquidDateTime: ReturnType<typeof dropClasses>['LiquidDateTime'];
  LiquidUrl: ReturnType<typeof dropClasses>['LiquidUrl'];
}

let runtime: LiquidRuntime | undefined;

/** liquidjs (~70 ms of imports) is required with the first template (policies parse theirs at load), not at start. */
function liquid(): LiquidRuntime {
  if (runtime) return runtime;
  const { Drop, filters, Liquid: LiquidEngine } = createRequire(import.meta.url)('liquidjs') as typeof import('liquidjs');
  const engine = new LiquidEngine({ strictFilters: true, ownPropertyOnly: true });
  for (const name of Object.keys(engine.filters)) delete engine.filters[name];
  for (const name of REFUSED_TAGS) delete engine.tags[name];
  for (const [name, impl] of Object.entries(filtersOf(filters))) engine.registerFilter(name, impl);
  return (runtime = { engine, ...dropClasses(Drop) });
}

/**
 * The element's inner markup as a Liquid template, parsed at load time; a template Liquid cannot parse is reported
 * on the element (the message names the unsupported filter or tag) and gives undefined.
 */
export function compileLiquid(node: PolicyElement, env: CompileEnv): Template[] | undefined {
  const { engine } = liquid();
  try {
    return engine.parse(env.innerMarkup(node));
  } catch (error) {
    const message = (error as Error).message.replace(/^undefined filter: (\S+?),/, (_m, f: string) => `filter '${f}' is not one API Management's Liquid supports (filters are Pascal case, e.g. Upcase),`);
    env.report('PolAttributeConflict', node.nameSpan, [node.name, `Liquid template: ${message}`]);
    return undefined;
  }
}

/** The engine clock's time while a template renders (rendering is synchronous, so one value at a time). */
let renderNow = 0;

export function renderLiquid(template: Template[], scope: Record<string, unknown>, now: number): string {
  renderNow = now;
  return liquid().engine.renderSync(template, scope) as string;
}


/** `Date:"yyyyMMddTHH:mm:ssZ"` with .NET format strings; "now"/"today" and date strings are parsed first. */
function liquidDate(value: unknown, format: unknown): unknown {
  let date: CsDateTime | undefined;
  if (value instanceof liquid().LiquidDateTime) date = value.value;
  else if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    date = text === 'now' || text === 'today' ? new CsDateTime(text === 'now' ? renderNow : renderNow - (renderNow % 86400000)) : parseDateTime(value);
  }
  if (!date) return value;
  if (format === undefined || format === null || format === '') return formatDateTime(date, 'G');
  return formatDateTime(date, String(format));
}

/** Created at the first Currency (an Intl formatter costs ~30 ms of start-up). */
let usd: Intl.NumberFormat | undefined;

/** DotLiquid's Currency: ToString("C") with the gateway's culture (en-US assumed: $1,234.50). */
function currency(value: unknown): unknown {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isNaN(n) ? value : (usd ??= new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })).format(n);
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})?$/;
const MS_DATE = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/;

/** Newtonsoft's DateParseHandling.DateTime: ISO 8601 and "/Date(ms)/" strings become DateTime values. */
function withDates(value: unknown): unknown {
  if (typeof value === 'string') {
    const ms = MS_DATE.exec(value);
    if (ms) return new (liquid().LiquidDateTime)(new CsDateTime(Number(ms[1]), 'Utc'));
    if (ISO_DATE.test(value)) {
      const parsed = parseDateTime(value);
      if (parsed) return new (liquid().LiquidDateTime)(parsed);
    }
    return value;
  }
  if (Array.isArray(value)) return value.map(withDates);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withDates(v)]));
  return value;
}

/** Elements marked xsi:nil="true" become '' (xsi-nil="blank") or null. */
function withNil(value: unknown, nil: '' | null): unknown {
  if (Array.isArray(value)) return value.map((v) => withNil(v, nil));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const isNil = entries.some(([k, v]) => /^@(?:[^:]+:)?nil$/.test(k) && v === 'true');
    if (isNil && entries.every(([k]) => k.startsWith('@'))) return nil;
    return Object.fromEntries(entries.map(([k, v]) => [k, withNil(v, nil)]));
  }
  return value;
}

export interface LiquidBodyOptions {
  parseDate: boolean;
  xsiNil: 'blank' | 'null';
}

/** `body`: the current message body as JSON (application/json, text/json, +json) or XML (application/xml, text/xml, +xml). */
export function liquidBody(text: string, contentType: string | undefined, options: LiquidBodyOptions): unknown {
  if (text.trim() === '') return undefined;
  try {
    if (isJsonMediaType(contentType)) {
      const parsed: unknown = JSON.parse(text);
      return options.parseDate ? withDates(parsed) : parsed;
    }
    if (isXmlMediaType(contentType)) {
      const parsed = withNil(xmlToJsonValue(text, { kind: 'javascript-friendly' }), options.xsiNil === 'blank' ? '' : null);
      return options.parseDate ? withDates(parsed) : parsed;
    }
  } catch {
    return undefined;
  }
  return undefined;
}


/** Header values joined with ',' under the name as sent, lower case and canonical case (Content-Type). */
function headerObject(entries: Array<[string, string[]]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of entries) {
    const value = values.join(',');
    out[name] = value;
    out[name.toLowerCase()] = value;
    out[name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())] = value;
  }
  return out;
}

/** The `context` object a template binds to (the reference's list, plus Variables). */
export function liquidContext(ctx: RequestContext): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const [name, value] of ctx.variables.entries()) variables[name] = value === null || value === undefined ? value : typeof value === 'object' ? toCSharpString(value) : value;
  return {
    Request: {
      Url: new (liquid().LiquidUrl)(ctx.request.url),
      Method: ctx.request.method,
      OriginalMethod: ctx.request.method,
      OriginalUrl: new (liquid().LiquidUrl)(ctx.request.originalUrl),
      IpAddress: ctx.request.ipAddress,
      MatchedParameters: { ...ctx.request.matchedParameters },
      HasBody: (ctx.request.body?.length ?? 0) > 0,
      ClientCertificates: [],
      Headers: headerObject(ctx.request.headers.entries()),
    },
    Response: ctx.response
      ? { StatusCode: ctx.response.statusCode, StatusReason: ctx.response.statusReason, Headers: headerObject(ctx.response.headers.entries()) }
      : { StatusCode: 0, Headers: {} },
    Variables: variables,
  };
}

/** The Drops templates bind to, on liquidjs's Drop (loaded with the engine). */
function dropClasses(Drop: typeof import('liquidjs').Drop) {
  /** A System.DateTime in a template: prints as DotLiquid does ('MM/dd/yyyy HH:mm:ss'), formatted by the Date filter. */
  class LiquidDateTime extends Drop {
    constructor(readonly value: CsDateTime) {
      super();
    }
    override valueOf(): string {
      return formatDateTime(this.value, 'G');
    }
  }
  class LiquidUrl extends Drop {
    readonly Scheme: string;
    readonly Host: string;
    readonly Port: number;
    readonly Path: string;
    readonly Query: Record<string, string>;
    readonly QueryString: string;
    constructor(private readonly url: URL) {
      super();
      this.Scheme = url.protocol.replace(/:$/, '');
      this.Host = url.hostname;
      this.Port = Number(url.port || (this.Scheme === 'https' ? 443 : 80));
      this.Path = url.pathname;
      const query: Record<string, string> = {};
      for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
      this.Query = query;
      this.QueryString = url.search;
    }
    get ToUri(): string {
      return this.url.toString();
    }
    get ToString(): string {
      return this.url.toString();
    }
    override valueOf(): string {
      return this.url.toString();
    }
  }
  return { LiquidDateTime, LiquidUrl };
}
