import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { clrErrors } from './errors.js';
import { TYPE_NAME } from './protocol.js';

/**
 * The part of System.Xml.Linq that policy expressions use: `XDocument.Parse`, `XElement.Parse`,
 * `Body.As<XElement>()`, navigation (`Root`, `Element`, `Elements`, `Descendants`, `Attribute`, `Parent`), `Name`,
 * `Value`, `(string)` / `(int)` conversions and `ToString()` (indented as .NET, or `SaveOptions.DisableFormatting`).
 * Names compare as .NET expanded names: `"{urn:ns}local"`, or `"local"` for no namespace. The tree is read-only.
 */
export class XName {
  readonly [TYPE_NAME] = 'System.Xml.Linq.XName';
  constructor(
    readonly LocalName: string,
    readonly NamespaceName: string,
  ) {}
  static parse(name: unknown): XName {
    if (name instanceof XName) return name;
    if (name === null || name === undefined) throw clrErrors.argumentNull('name');
    const text = String(name);
    const m = /^\{([^}]*)\}(.+)$/.exec(text);
    if (m) return new XName(m[2]!, m[1]!);
    if (text === '' || /[\s<>{}]/.test(text)) throw clrErrors.exception('System.Xml.XmlException', `The '${text}' name is not a valid XML name.`);
    return new XName(text, '');
  }
  equals(other: XName): boolean {
    return this.LocalName === other.LocalName && this.NamespaceName === other.NamespaceName;
  }
  ToString(): string {
    return this.NamespaceName ? `{${this.NamespaceName}}${this.LocalName}` : this.LocalName;
  }
}

export class XAttribute {
  readonly [TYPE_NAME] = 'System.Xml.Linq.XAttribute';
  constructor(
    readonly Name: XName,
    readonly Value: string,
    readonly qualified: string,
    readonly Parent: XElement,
  ) {}
  ToString(): string {
    return `${this.qualified}="${escapeAttribute(this.Value)}"`;
  }
}

type XNodeChild = XElement | { text: string; cdata: boolean };

export class XElement {
  readonly [TYPE_NAME] = 'System.Xml.Linq.XElement';
  readonly children: XNodeChild[] = [];
  readonly attributes: XAttribute[] = [];
  Parent: XElement | null = null;
  constructor(
    readonly Name: XName,
    readonly qualified: string,
  ) {}

  static Parse(text: unknown): XElement {
    const root = parseDocument(text).Root;
    if (!root) throw clrErrors.exception('System.Xml.XmlException', 'Root element is missing.');
    root.Parent = null;
    return root;
  }
  get Value(): string {
    return this.children.map((c) => (c instanceof XElement ? c.Value : c.text)).join('');
  }
  get HasElements(): boolean {
    return this.children.some((c) => c instanceof XElement);
  }
  get HasAttributes(): boolean {
    return this.attributes.length > 0;
  }
  get IsEmpty(): boolean {
    return this.children.length === 0;
  }
  Element(name: unknown): XElement | null {
    const n = XName.parse(name);
    return this.elements().find((e) => e.Name.equals(n)) ?? null;
  }
  Elements(name?: unknown): XElement[] {
    if (name === undefined) return this.elements();
    const n = XName.parse(name);
    return this.elements().filter((e) => e.Name.equals(n));
  }
  Descendants(name?: unknown): XElement[] {
    const n = name === undefined ? undefined : XName.parse(name);
    const out: XElement[] = [];
    const walk = (e: XElement) => {
      for (const c of e.elements()) {
        if (!n || c.Name.equals(n)) out.push(c);
        walk(c);
      }
    };
    walk(this);
    return out;
  }
  DescendantsAndSelf(name?: unknown): XElement[] {
    const n = name === undefined ? undefined : XName.parse(name);
    return [...(!n || this.Name.equals(n) ? [this] : []), ...this.Descendants(name)];
  }
  Ancestors(name?: unknown): XElement[] {
    const n = name === undefined ? undefined : XName.parse(name);
    const out: XElement[] = [];
    for (let p = this.Parent; p; p = p.Parent) if (!n || p.Name.equals(n)) out.push(p);
    return out;
  }
  AncestorsAndSelf(name?: unknown): XElement[] {
    const n = name === undefined ? undefined : XName.parse(name);
    return [...(!n || this.Name.equals(n) ? [this] : []), ...this.Ancestors(name)];
  }
  Attribute(name: unknown): XAttribute | null {
    const n = XName.parse(name);
    return this.attributes.find((a) => a.Name.equals(n)) ?? null;
  }
  Attributes(name?: unknown): XAttribute[] {
    if (name === undefined) return [...this.attributes];
    const n = XName.parse(name);
    return this.attributes.filter((a) => a.Name.equals(n));
  }
  ToString(options?: unknown): string {
    return serialize(this, disablesFormatting(options) ? undefined : '');
  }
  private elements(): XElement[] {
    return this.children.filter((c): c is XElement => c instanceof XElement);
  }
}

export class XDocument {
  readonly [TYPE_NAME] = 'System.Xml.Linq.XDocument';
  constructor(
    readonly Root: XElement | null,
    private readonly declaration: string | undefined,
  ) {}
  static Parse(text: unknown): XDocument {
    return parseDocument(text);
  }
  Element(name: unknown): XElement | null {
    return this.Root && this.Root.Name.equals(XName.parse(name)) ? this.Root : null;
  }
  Elements(name?: unknown): XElement[] {
    if (!this.Root) return [];
    return name === undefined || this.Root.Name.equals(XName.parse(name)) ? [this.Root] : [];
  }
  Descendants(name?: unknown): XElement[] {
    return this.Root ? this.Root.DescendantsAndSelf(name) : [];
  }
  get Declaration(): string | null {
    return this.declaration ?? null;
  }
  /** As .NET: the root element only (the declaration is left out of ToString()). */
  ToString(options?: unknown): string {
    return this.Root ? this.Root.ToString(options) : '';
  }
}

/** `SaveOptions.DisableFormatting` (1) or its name. */
function disablesFormatting(options: unknown): boolean {
  if (options === undefined || options === null) return false;
  const v = (options as { value?: unknown }).value ?? options;
  return v === 1 || String(options).includes('DisableFormatting');
}

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

function parseDocument(text: unknown): XDocument {
  if (text === null || text === undefined) throw clrErrors.argumentNull('text');
  const source = String(text);
  const valid = XMLValidator.validate(source);
  if (valid !== true) {
    throw clrErrors.exception('System.Xml.XmlException', `${valid.err.msg} Line ${valid.err.line}, position ${valid.err.col}.`);
  }
  const nodes = PARSER.parse(source) as Ordered[];
  let declaration: string | undefined;
  let root: XElement | null = null;
  for (const node of nodes) {
    const tag = Object.keys(node).find((k) => k !== ':@')!;
    if (tag === '?xml') declaration = `<?xml${Object.entries(node[':@'] ?? {}).map(([k, v]) => ` ${k}="${v}"`).join('')}?>`;
    else if (!tag.startsWith('#') && !tag.startsWith('?') && !tag.startsWith('!')) root = build(node, tag, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
  }
  return new XDocument(root, declaration);
}

function build(node: Ordered, tag: string, scope: Map<string, string>): XElement {
  const attrs = node[':@'] ?? {};
  const inner = new Map(scope);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'xmlns') inner.set('', v);
    else if (k.startsWith('xmlns:')) inner.set(k.slice(6), v);
  }
  const element = new XElement(qualify(tag, inner, true), tag);
  for (const [k, v] of Object.entries(attrs)) {
    const name = k === 'xmlns' ? new XName('xmlns', '') : k.startsWith('xmlns:') ? new XName(k.slice(6), 'http://www.w3.org/2000/xmlns/') : qualify(k, inner, false);
    element.attributes.push(new XAttribute(name, v, k, element));
  }
  for (const child of (node[tag] as Ordered[]) ?? []) {
    const childTag = Object.keys(child).find((k) => k !== ':@')!;
    if (childTag === '#text') element.children.push({ text: String(child['#text']), cdata: false });
    else if (childTag === '#cdata') element.children.push({ text: ((child['#cdata'] as Array<{ '#text': unknown }>)[0]?.['#text'] ?? '') as string, cdata: true });
    else if (childTag === '#comment' || childTag.startsWith('?')) continue;
    else {
      const e = build(child, childTag, inner);
      e.Parent = element;
      element.children.push(e);
    }
  }
  return element;
}

function qualify(qname: string, scope: Map<string, string>, isElement: boolean): XName {
  const colon = qname.indexOf(':');
  if (colon < 0) return new XName(qname, isElement ? (scope.get('') ?? '') : '');
  const prefix = qname.slice(0, colon);
  const ns = scope.get(prefix);
  if (ns === undefined) throw clrErrors.exception('System.Xml.XmlException', `'${prefix}' is an undeclared prefix.`);
  return new XName(qname.slice(colon + 1), ns);
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;');
}

/** .NET's XElement.ToString(): two-space indentation unless the element holds text (mixed content stays inline). */
function serialize(e: XElement, indent: string | undefined): string {
  const open = `<${e.qualified}${e.attributes.map((a) => ` ${a.ToString()}`).join('')}`;
  const meaningful = e.children.filter((c) => c instanceof XElement || c.text.trim() !== '' || c.cdata);
  if (meaningful.length === 0 && e.children.length === 0) return `${open} />`;
  const hasText = e.children.some((c) => !(c instanceof XElement) && (c.text.trim() !== '' || c.cdata));
  if (indent === undefined || hasText) {
    const inner = (indent === undefined ? e.children : e.children).map((c) => (c instanceof XElement ? serialize(c, undefined) : c.cdata ? `<![CDATA[${c.text}]]>` : escapeText(c.text))).join('');
    return `${open}>${inner}</${e.qualified}>`;
  }
  if (meaningful.length === 0) return `${open}></${e.qualified}>`;
  const childIndent = `${indent}  `;
  const lines = meaningful.map((c) => `\r\n${childIndent}${serialize(c as XElement, childIndent)}`).join('');
  return `${open}>${lines}\r\n${indent}</${e.qualified}>`;
}

/** `(string)x`, `(int)x`… on an XElement or XAttribute: its Value converted as System.Xml.XmlConvert does. */
export function convertXml(value: XElement | XAttribute, type: string): unknown {
  const text = value.Value;
  switch (type) {
    case 'String':
      return text;
    case 'Boolean':
      if (/^\s*(true|1)\s*$/.test(text)) return true;
      if (/^\s*(false|0)\s*$/.test(text)) return false;
      break;
    case 'Int32': case 'Int64': case 'Int16': case 'Byte':
      if (/^\s*[-+]?\d+\s*$/.test(text)) return Number.parseInt(text, 10);
      break;
    case 'Double': case 'Single': case 'Decimal':
      if (text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
      break;
    default:
      return undefined;
  }
  throw clrErrors.format(`The string '${text}' is not a valid ${type} value.`);
}
