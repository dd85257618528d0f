import { clrErrors } from './errors.js';
import { OutRef, TYPE_NAME } from './protocol.js';
import { CsEnum, typeNameOf } from './values.js';

/**
 * `System.Uri` (`new Uri(s)`, `new Uri(baseUri, relative)`, `Uri.TryCreate`), over WHATWG URL parsing. Unlike APIM's
 * IUrl (`context.Request.Url`), `Uri.Query` is the text `?a=1` and `Port` is the scheme's default when none is written.
 * Relative URIs (`UriKind.Relative`) keep their text; their absolute-only members throw InvalidOperationException as .NET.
 */

export const UriKind = CsEnum.define('UriKind', { RelativeOrAbsolute: 0, Absolute: 1, Relative: 2 });
export const UriPartial = CsEnum.define('UriPartial', { Scheme: 0, Authority: 1, Path: 2, Query: 3 });

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443, ftp: 21 };
const RELATIVE_ONLY = 'This operation is not supported for a relative URI.';

function safeDecode(s: string): string {
  try {
    return decodeURI(s);
  } catch {
    return s;
  }
}

export class CsUri {
  readonly [TYPE_NAME] = 'System.Uri';
  /** Undefined for a relative URI. JS-private: expressions see only the C# members. */
  readonly #url: URL | undefined;
  constructor(url: URL | undefined, readonly OriginalString: string) {
    this.#url = url;
  }

  #abs(): URL {
    if (!this.#url) throw clrErrors.invalidOperation(RELATIVE_ONLY);
    return this.#url;
  }
  get IsAbsoluteUri(): boolean { return this.#url !== undefined; }
  get Scheme(): string { return this.#abs().protocol.replace(/:$/, ''); }
  get Host(): string { return this.#abs().hostname; }
  get DnsSafeHost(): string { return this.#abs().hostname.replace(/^\[|\]$/g, ''); }
  get IdnHost(): string { return this.DnsSafeHost; }
  get Port(): number {
    const u = this.#abs();
    return u.port ? Number(u.port) : (DEFAULT_PORTS[this.Scheme] ?? -1);
  }
  get IsDefaultPort(): boolean { return this.#abs().port === ''; }
  get Authority(): string { return this.#abs().host; }
  get UserInfo(): string {
    const u = this.#abs();
    return u.username ? (u.password ? `${u.username}:${u.password}` : u.username) : '';
  }
  get AbsolutePath(): string { return this.#abs().pathname; }
  get LocalPath(): string { return safeDecode(this.#abs().pathname); }
  get Query(): string { return this.#abs().search; }
  get Fragment(): string { return this.#abs().hash; }
  get PathAndQuery(): string { return this.#abs().pathname + this.#abs().search; }
  get AbsoluteUri(): string { return this.#abs().href; }
  get IsLoopback(): boolean { return ['localhost', '127.0.0.1', '[::1]'].includes(this.#abs().hostname); }
  get IsFile(): boolean { return this.#abs().protocol === 'file:'; }
  get Segments(): string[] { return this.#abs().pathname.split(/(?<=\/)/); }

  GetLeftPart(part: unknown): string {
    const u = this.#abs();
    const p = part instanceof CsEnum ? part.value : Number(part);
    const authority = `${u.protocol}//${u.username ? `${this.UserInfo}@` : ''}${u.host}`;
    switch (p) {
      case 0: return `${u.protocol}//`;
      case 1: return authority;
      case 2: return authority + u.pathname;
      case 3: return authority + u.pathname + u.search;
      default: throw clrErrors.argument(`The value '${String(p)}' passed for the 'part' parameter is not valid.`);
    }
  }
  IsBaseOf(other: unknown): boolean {
    const o = toUri(other, 'uri');
    if (!this.#url || !o.#url) return false;
    const base = this.#url.href.replace(/[^/]*([?#].*)?$/, '');
    return o.#url.href.startsWith(base);
  }
  Equals(other: unknown): boolean {
    if (other instanceof CsUri) return this.#url && other.#url ? this.#url.href.replace(/#.*$/, '') === other.#url.href.replace(/#.*$/, '') : this.OriginalString === other.OriginalString;
    if (typeof other === 'string') return this.Equals(createUri(other, 0));
    return false;
  }
  /** .NET prints the unescaped canonical form. */
  ToString(): string {
    return this.#url ? safeDecode(this.#url.href) : this.OriginalString;
  }
}

function kindOf(kind: unknown): number {
  if (kind === undefined) return 1;
  return kind instanceof CsEnum ? kind.value : Number(kind);
}

/** Parses as `new Uri(s, kind)` does; undefined when the text is not a URI of that kind. */
function tryUri(s: string, kind: number): CsUri | undefined {
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(s) && URL.canParse(s);
  if (kind !== 2 && absolute) return new CsUri(new URL(s), s);
  if (kind !== 1 && !absolute && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s)) return new CsUri(undefined, s);
  return undefined;
}

export function createUri(s: unknown, kind: unknown): CsUri {
  if (s === null || s === undefined) throw clrErrors.argumentNull('uriString');
  const k = kindOf(kind);
  const uri = tryUri(String(s), k);
  if (uri) return uri;
  throw clrErrors.exception('System.UriFormatException', k === 2 ? 'Invalid URI: A relative URI cannot be created because the \'uriString\' parameter represents an absolute URI.' : 'Invalid URI: The format of the URI could not be determined.');
}

function toUri(v: unknown, name: string): CsUri {
  if (v instanceof CsUri) return v;
  if (v === null || v === undefined) throw clrErrors.argumentNull(name);
  if (typeof v === 'string') return createUri(v, 0);
  throw clrErrors.invalidCast(typeNameOf(v), 'System.Uri');
}

/** `new Uri(baseUri, relativeUri)`. */
export function combineUri(base: unknown, relative: unknown): CsUri {
  const b = toUri(base, 'baseUri');
  if (!b.IsAbsoluteUri) throw clrErrors.invalidOperation(RELATIVE_ONLY);
  const rel = relative instanceof CsUri ? relative.OriginalString : String(relative ?? '');
  return new CsUri(new URL(rel, b.AbsoluteUri), rel);
}

/** `new Uri(…)` overloads: (string), (string, UriKind), (Uri, string|Uri). */
export function constructUri(args: unknown[]): CsUri {
  const [a, b] = args;
  if (a instanceof CsUri) return combineUri(a, b);
  return createUri(a, b);
}

/** `Uri.TryCreate(string, UriKind, out Uri)` and `Uri.TryCreate(Uri, string|Uri, out Uri)`. */
export function tryCreateUri([a, b, out]: unknown[]): boolean {
  const ref = out as OutRef;
  try {
    ref.value = a instanceof CsUri ? combineUri(a, b) : a === null || a === undefined ? null : (tryUri(String(a), kindOf(b)) ?? null);
  } catch {
    ref.value = null;
  }
  return ref.value !== null;
}

export function isWellFormedUriString(s: unknown, kind: unknown): boolean {
  if (s === null || s === undefined) return false;
  const text = String(s);
  if (/\s|\\/.test(text)) return false;
  return tryUri(text, kindOf(kind ?? 0)) !== undefined;
}

export const URI_SCHEMES: Record<string, string> = {
  UriSchemeHttp: 'http', UriSchemeHttps: 'https', UriSchemeFtp: 'ftp', UriSchemeFile: 'file', UriSchemeMailto: 'mailto',
  UriSchemeWs: 'ws', UriSchemeWss: 'wss', SchemeDelimiter: '://',
};
