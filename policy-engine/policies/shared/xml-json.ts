import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * JSON ⇄ XML as API Management converts bodies: Newtonsoft.Json's JsonConvert.SerializeXmlNode (XML → JSON) and
 * DeserializeXmlNode (JSON → XML) conventions: `@name` attributes, `#text`, `#cdata-section`, `?xml` declaration,
 * repeated elements as arrays, `json:Array="true"` forcing an array.
 */

export class BodyConversionError extends Error {}

const JSON_NS = 'http://james.newtonking.com/projects/json';

const PARSER = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  ignoreDeclaration: false,
  cdataPropName: '#cdata',
  commentPropName: '#comment',
});

type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };
type Json = null | string | number | boolean | Json[] | { [key: string]: Json };

export interface XmlToJsonOptions {
  /** 'direct' keeps the XML declaration; 'javascript-friendly' leaves it out ([INF]: the reference does not show the difference). */
  kind: 'direct' | 'javascript-friendly';
  /** Every child element becomes a JSON array, even a single one (`always-array-child-elements`). */
  alwaysArrayChildElements?: boolean;
}

function tagOf(node: Ordered): string {
  return Object.keys(node).find((k) => k !== ':@')!;
}

/** Parses XML text, throwing BodyConversionError with the parser's message and position. */
export function parseXmlOrdered(text: string): Ordered[] {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new BodyConversionError(`${valid.err.msg} Line ${valid.err.line}, position ${valid.err.col}.`);
  return PARSER.parse(text) as Ordered[];
}

/** XML text → the JSON value SerializeXmlNode produces for the document. */
export function xmlToJsonValue(text: string, options: XmlToJsonOptions): Record<string, Json> {
  const nodes = parseXmlOrdered(text);
  const result: Record<string, Json> = {};
  for (const node of nodes) {
    const tag = tagOf(node);
    if (tag === '?xml') {
      if (options.kind === 'direct') result['?xml'] = Object.fromEntries(Object.entries(node[':@'] ?? {}).map(([k, v]) => [`@${k}`, v]));
    } else if (!tag.startsWith('#') && !tag.startsWith('?') && !tag.startsWith('!')) {
      const value = elementValue(node, tag, options);
      result[tag] = forcedArray(node) ? [value] : value;
    }
  }
  return result;
}

export function xmlToJsonText(text: string, options: XmlToJsonOptions): string {
  return JSON.stringify(xmlToJsonValue(text, options));
}

function forcedArray(node: Ordered): boolean {
  const attrs = node[':@'] ?? {};
  return Object.entries(attrs).some(([k, v]) => k.endsWith(':Array') && v === 'true' && attrs[`xmlns:${k.slice(0, -6)}`] !== undefined) || attrs['json:Array'] === 'true';
}

function isJsonNamespaceAttribute(name: string, value: string, attrs: Record<string, string>): boolean {
  if (name.startsWith('xmlns:') && value === JSON_NS) return true;
  const colon = name.indexOf(':');
  return colon > 0 && name.slice(colon + 1) === 'Array' && (attrs[`xmlns:${name.slice(0, colon)}`] === JSON_NS || name.slice(0, colon) === 'json');
}

function elementValue(node: Ordered, tag: string, options: XmlToJsonOptions): Json {
  const attrs = node[':@'] ?? {};
  const children = (node[tag] as Ordered[]) ?? [];
  const object: Record<string, Json> = {};
  for (const [k, v] of Object.entries(attrs)) if (!isJsonNamespaceAttribute(k, v, attrs)) object[`@${k}`] = v;
  const texts: string[] = [];
  const cdata: string[] = [];
  const elements = new Map<string, Json[]>();
  const forced = new Set<string>();
  for (const child of children) {
    const childTag = tagOf(child);
    if (childTag === '#text') {
      const t = String(child['#text']);
      if (t.trim() !== '') texts.push(t);
    } else if (childTag === '#cdata') cdata.push(String((child['#cdata'] as Array<{ '#text': unknown }>)[0]?.['#text'] ?? ''));
    else if (childTag === '#comment' || childTag.startsWith('?')) continue;
    else {
      if (!elements.has(childTag)) elements.set(childTag, []);
      elements.get(childTag)!.push(elementValue(child, childTag, options));
      if (forcedArray(child)) forced.add(childTag);
    }
  }
  const hasAttributes = Object.keys(object).length > 0;
  if (!hasAttributes && elements.size === 0 && cdata.length === 0) {
    // <a/> → null, <a>text</a> → "text"
    if (texts.length === 0) return null;
    if (texts.length === 1) return texts[0]!;
  }
  if (texts.length > 0) object['#text'] = texts.length === 1 ? texts[0]! : texts;
  if (cdata.length > 0) object['#cdata-section'] = cdata.length === 1 ? cdata[0]! : cdata;
  for (const [name, values] of elements) {
    object[name] = values.length > 1 || forced.has(name) || options.alwaysArrayChildElements ? values : values[0]!;
  }
  return object;
}

export interface JsonToXmlOptions {
  /** Date-like strings are normalised as Newtonsoft's DateTime round-trip form (`parse-date`, default true). */
  parseDate: boolean;
  /** The character between a prefix and a local name in property names (default `_`). */
  namespaceSeparator: string;
  /** Properties whose names start with this prefix (then the separator) become namespace declarations. */
  namespacePrefix?: string;
  /** Properties inside an object of this name become the parent element's attributes. */
  attributeBlockName?: string;
}

/** The root element name APIM uses when the JSON root is not an object of exactly one property ([INF]). */
export const DOCUMENT_ROOT = 'Document';

/** JSON text → XML text (no declaration, two-space indentation, CRLF as .NET's XmlWriter). */
export function jsonToXmlText(text: string, options: JsonToXmlOptions): string {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (error) {
    throw new BodyConversionError(`The body is not valid JSON: ${(error as Error).message}`);
  }
  const writer = new XmlWriter(options);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value).filter((k) => !k.startsWith('?'));
    if (keys.length === 1 && !Array.isArray(value[keys[0]!])) {
      writer.element(keys[0]!, value[keys[0]!]!, '');
      return writer.out.join('');
    }
  }
  writer.element(DOCUMENT_ROOT, Array.isArray(value) ? { Array: value } : value, '');
  return writer.out.join('');
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Newtonsoft reads ISO 8601 strings as DateTime and XmlConvert writes them back in round-trip form. */
function normaliseDate(s: string): string {
  const m = ISO_DATE.exec(s);
  if (!m) return s;
  const [, y, mo, d, h, mi, se = '00', f, zone] = m;
  const fraction = f ? `.${f.replace(/0+$/, '')}`.replace(/^\.$/, '') : '';
  return `${y}-${mo}-${d}T${h}:${mi}:${se}${fraction}${zone ?? ''}`;
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;');
}

/** XmlConvert.EncodeLocalName: characters not allowed in an XML name become `_xHHHH_`. */
function encodeName(name: string): string {
  if (name === '') return '_x0000_';
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    const ok = i === 0 ? /[A-Za-z_:\u00C0-\uFFFF]/.test(c) : /[A-Za-z0-9_.:\-\u00B7\u00C0-\uFFFF]/.test(c);
    out += ok ? c : `_x${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`;
  }
  return out;
}

class XmlWriter {
  readonly out: string[] = [];
  constructor(private readonly options: JsonToXmlOptions) {}

  private scalar(value: Json): string {
    if (value === null) return '';
    if (typeof value === 'string') return this.options.parseDate ? normaliseDate(value) : value;
    return typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  }

  /** `soapenv:Envelope` (separator ':') or `soapenv_Envelope` (separator '_') → `soapenv:Envelope` when `soapenv` is a prefix. */
  private qualified(name: string, prefixes: ReadonlySet<string>): string {
    const sep = this.options.namespaceSeparator;
    const at = sep ? name.indexOf(sep) : -1;
    if (at > 0 && (prefixes.has(name.slice(0, at)) || sep === ':')) return `${encodeName(name.slice(0, at)).replace(/:/g, '_')}:${encodeName(name.slice(at + sep.length)).replace(/:/g, '_')}`;
    return encodeName(name).replace(/:/g, '_');
  }

  private namespaceDeclaration(name: string): string | undefined {
    const prefix = this.options.namespacePrefix;
    if (!prefix || !name.startsWith(prefix)) return undefined;
    const rest = name.slice(prefix.length);
    if (rest === '') return 'xmlns';
    const sep = this.options.namespaceSeparator;
    return rest.startsWith(sep) ? `xmlns:${rest.slice(sep.length)}` : undefined;
  }

  element(name: string, value: Json, indent: string, prefixes: ReadonlySet<string> = new Set()): void {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        if (i > 0) this.out.push(`\r\n${indent}`);
        this.element(name, item, indent, prefixes);
      });
      return;
    }
    const attributes: string[] = [];
    const children: Array<[string, Json]> = [];
    let text: string | undefined;
    const inner = new Set(prefixes);
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const ns = this.namespaceDeclaration(k);
        if (ns) inner.add(ns.slice(6));
        if (k.startsWith('@') && k.startsWith('@xmlns:')) inner.add(k.slice(7));
      }
      for (const [k, v] of Object.entries(value)) {
        const ns = this.namespaceDeclaration(k);
        if (ns) attributes.push(`${ns}="${escapeAttribute(this.scalar(v))}"`);
        else if (k.startsWith('@')) attributes.push(`${this.qualified(k.slice(1), inner)}="${escapeAttribute(this.scalar(v))}"`);
        else if (this.options.attributeBlockName && k === this.options.attributeBlockName && v !== null && typeof v === 'object' && !Array.isArray(v)) {
          for (const [ak, av] of Object.entries(v)) attributes.push(`${this.qualified(ak, inner)}="${escapeAttribute(this.scalar(av))}"`);
        } else if (k === '#text') text = (text ?? '') + escapeText(this.scalar(v));
        else if (k === '#cdata-section') text = (text ?? '') + `<![CDATA[${this.scalar(v)}]]>`;
        else if (k.startsWith('?') || k.startsWith('$')) continue;
        else children.push([k, v]);
      }
    } else {
      text = escapeText(this.scalar(value));
    }
    const tag = this.qualified(name, inner);
    const open = `<${tag}${attributes.map((a) => ` ${a}`).join('')}`;
    if (children.length === 0) {
      this.out.push(text === undefined || text === '' ? `${open} />` : `${open}>${text}</${tag}>`);
      return;
    }
    const childIndent = `${indent}  `;
    this.out.push(`${open}>`);
    if (text !== undefined) this.out.push(text);
    for (const [k, v] of children) {
      if (text === undefined) this.out.push(`\r\n${childIndent}`);
      this.element(k, v, text === undefined ? childIndent : indent, inner);
    }
    this.out.push(text === undefined ? `\r\n${indent}</${tag}>` : `</${tag}>`);
  }
}

/** application/json, text/json, anything+json. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/** application/xml, text/xml, anything+xml. */
export function isXmlMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml');
}

/** Whether an Accept header lists a media type the predicate accepts. */
export function acceptRequests(accept: string | undefined, predicate: (type: string) => boolean): boolean {
  return (accept ?? '').split(',').some((part) => predicate(part));
}
