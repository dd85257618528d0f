import { XMLParser, XMLValidator, type X2jOptions } from 'fast-xml-parser';
import { createDiagnostic, formatMessage, SourceText, type Diagnostic, type Span } from '../diagnostics.js';
import { decodeXmlText } from './entities.js';
import {
  scanMarkup,
  toLiftedExpression,
  unterminatedDiagnostics,
  type MarkupScan,
  type ScannedTag,
  type ScannedText,
} from './lift-expressions.js';
import type { PolicyAttribute, PolicyElement, PolicyText, PolicyXmlDocument, ReadPolicyXmlOptions } from './model.js';
import { substituteNamedValues } from './named-values.js';
import type { OffsetMap } from './offset-map.js';

/**
 * Reading a policy file, in four steps:
 * 1. named values `{{name}}` and deploy-time placeholders are substituted (named-values.ts), keeping an
 *    offset map back to the original text;
 * 2. the pre-scan (lift-expressions.ts) replaces each `@(…)`/`@{…}` with a same-length placeholder and
 *    records the offsets of every tag, attribute and text run;
 * 3. fast-xml-parser validates the lifted text (errors carry its line:column, which equals the scanned
 *    text's) and parses it with `preserveOrder` and `captureMetaData`;
 * 4. the parser's element tree is walked and each element is joined to its scanned start tag by the
 *    start offset the parser reports; names, attributes, text and expressions get spans from the scan.
 * Plain values are decoded here (the five XML entities and numeric references) with the same decoder the
 * expressions use; fast-xml-parser 5 leaves numeric references undecoded unless HTML entities are enabled.
 */

export const ROOT_ELEMENTS: readonly string[] = ['policies', 'fragment'];

const MULTIPLE_ROOTS = 'Only one root element is allowed; found <{0}> after the root element.';
const TEXT_OUTSIDE_ROOT = 'Text is not allowed outside the root element.';
const UNCLOSED_TAG = "Unclosed tag '{0}'.";
const OPENED_HERE = "'{0}' was opened here.";
const UNTERMINATED_MARKUP = "'{0}' is not closed: '{1}' expected.";

/** fast-xml-parser's default nesting limit, stated so the error can point at the first element past it. */
const MAX_NESTED_TAGS = 100;

const PARSER_OPTIONS: X2jOptions = {
  maxNestedTags: MAX_NESTED_TAGS,
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  captureMetaData: true,
};

let parser: XMLParser | undefined;
const META = XMLParser.getMetaDataSymbol() as unknown as string;

type ParsedNode = Record<string, unknown>;

/** Reads a policy document. Never throws: every problem is a diagnostic with a span into `text`. */
export function readPolicyXml(text: string, options: ReadPolicyXmlOptions = {}): PolicyXmlDocument {
  const source = new SourceText(text, options.name ?? '<policy>');
  const diagnostics: Diagnostic[] = [];
  let root: PolicyElement | undefined;
  try {
    root = read(text, source, options, diagnostics);
  } catch (err) {
    diagnostics.push(createDiagnostic('XmlMalformed', { start: 0, end: 0 }, [errorMessage(err)], options.name));
    root = undefined;
  }
  diagnostics.sort((a, b) => a.span.start - b.span.start);
  return root ? { root, source, diagnostics } : { source, diagnostics };
}

function read(text: string, source: SourceText, options: ReadPolicyXmlOptions, diagnostics: Diagnostic[]): PolicyElement | undefined {
  const name = options.name;
  const sub = substituteNamedValues(text, { namedValues: options.namedValues, placeholders: options.placeholders, source: name });
  diagnostics.push(...sub.diagnostics);
  const scanned = sub.text;
  const map = sub.map;
  const scan = scanMarkup(scanned);
  diagnostics.push(...unterminatedDiagnostics(scan, map, name));

  if (scan.tags.length === 0 && scan.strayText.length === 0) {
    diagnostics.push(createDiagnostic('XmlEmptyDocument', { start: 0, end: 0 }, [], name));
    return undefined;
  }
  const validation = XMLValidator.validate(scan.lifted, { allowBooleanAttributes: false });
  if (validation !== true) {
    diagnostics.push(validatorDiagnostic(validation.err, scan, scanned, map, source, name));
    return undefined;
  }
  if (scan.roots.length > 1) {
    const extra = scan.roots[1]!;
    const d = createDiagnostic('XmlMalformed', map.toOriginalSpan({ start: extra.start, end: extra.nameEnd }), [formatMessage(MULTIPLE_ROOTS, [extra.name])], name);
    diagnostics.push(d);
    return undefined;
  }
  if (scan.strayText.length > 0) {
    const t = scan.strayText[0]!;
    const at = t.start + scanned.slice(t.start, t.end).search(/\S/);
    diagnostics.push(createDiagnostic('XmlMalformed', map.toOriginalSpan({ start: at, end: at + 1 }), [TEXT_OUTSIDE_ROOT], name));
    return undefined;
  }

  parser ??= new XMLParser(PARSER_OPTIONS);
  let tree: ParsedNode[];
  try {
    tree = parser.parse(scan.lifted) as ParsedNode[];
  } catch (err) {
    // The validator accepted it but the parser refused (nesting limit, reserved names): point at the culprit if possible.
    const message = errorMessage(err);
    const deep = /nested/i.test(message) ? scan.tags.find((t) => t.depth >= MAX_NESTED_TAGS) : undefined;
    const named = /"([^"]+)"/.exec(message)?.[1];
    const tag = deep ?? scan.tags.find((t) => t.name === named || t.attributes.some((a) => a.name === named));
    const attribute = tag?.attributes.find((a) => a.name === named);
    const span = attribute ? { start: attribute.nameStart, end: attribute.nameEnd } : tag ? { start: tag.start, end: tag.nameEnd } : { start: 0, end: 0 };
    diagnostics.push(createDiagnostic('XmlMalformed', map.toOriginalSpan(span), [message], name));
    return undefined;
  }
  const tagsByStart = new Map<number, ScannedTag>();
  for (const tag of scan.tags) tagsByStart.set(tag.start, tag);
  const builder = new ElementBuilder(text, scanned, map, tagsByStart, diagnostics, name);
  const rootNode = tree.find((node) => elementName(node) !== undefined);
  const root = rootNode ? builder.element(rootNode) : undefined;
  if (!root) return undefined;
  if (!ROOT_ELEMENTS.includes(root.name)) {
    diagnostics.push(createDiagnostic('XmlRootNotPolicies', root.nameSpan, [root.name], name));
    return undefined;
  }
  return root;
}

class ElementBuilder {
  constructor(
    private readonly original: string,
    private readonly scanned: string,
    private readonly map: OffsetMap,
    private readonly tagsByStart: Map<number, ScannedTag>,
    private readonly diagnostics: Diagnostic[],
    private readonly source: string | undefined,
  ) {}

  element(node: ParsedNode): PolicyElement | undefined {
    const name = elementName(node)!;
    const meta = node[META] as { startIndex?: number } | undefined;
    const tag = meta?.startIndex === undefined ? undefined : this.tagsByStart.get(meta.startIndex);
    if (!tag || tag.name !== name) {
      // The parser and the pre-scan disagree about where an element is: report rather than guess.
      const at = meta?.startIndex ?? 0;
      this.diagnostics.push(
        createDiagnostic('XmlMalformed', this.map.toOriginalSpan({ start: at, end: at + 1 }), [`cannot locate element <${name}>`], this.source),
      );
      return undefined;
    }
    const map = this.map;
    const parsedAttributes = (node[':@'] ?? {}) as Record<string, unknown>;
    const attributes: PolicyAttribute[] = [];
    for (const a of tag.attributes) {
      if (!Object.hasOwn(parsedAttributes, a.name)) continue;
      const valueSpan = map.toOriginalSpan({ start: a.valueStart, end: a.valueEnd });
      const attribute: PolicyAttribute = {
        name: a.name,
        value: '',
        nameSpan: map.toOriginalSpan({ start: a.nameStart, end: a.nameEnd }),
        valueSpan,
      };
      if (a.expression) {
        attribute.expression = toLiftedExpression(this.scanned, a.expression, map);
        attribute.value = this.original.slice(attribute.expression.span.start, attribute.expression.span.end);
      } else {
        attribute.value = decodeXmlText(this.scanned, a.valueStart, a.valueEnd).value;
      }
      attributes.push(attribute);
    }
    const children: PolicyElement[] = [];
    for (const child of (node[name] ?? []) as ParsedNode[]) {
      if (elementName(child) === undefined) continue;
      const built = this.element(child);
      if (built) children.push(built);
    }
    const element: PolicyElement = {
      name,
      attributes,
      children,
      span: map.toOriginalSpan({ start: tag.start, end: tag.selfClosing ? tag.end : (tag.closeEnd ?? tag.end) }),
      nameSpan: map.toOriginalSpan({ start: tag.nameStart, end: tag.nameEnd }),
    };
    const text = this.text(tag.texts);
    if (text) element.text = text;
    return element;
  }

  private text(runs: readonly ScannedText[]): PolicyText | undefined {
    const meaningful = runs.filter((t) => t.expression !== undefined || /\S/.test(this.scanned.slice(t.start, t.end)));
    if (meaningful.length === 0) return undefined;
    const only = meaningful[0]!;
    if (meaningful.length === 1 && only.expression) {
      const expression = toLiftedExpression(this.scanned, only.expression, this.map);
      return { value: this.original.slice(expression.span.start, expression.span.end), span: expression.span, expression };
    }
    const value = runs
      .map((t) => (t.cdata ? this.scanned.slice(t.start, t.end) : decodeXmlText(this.scanned, t.start, t.end).value))
      .join('');
    return { value, span: this.map.toOriginalSpan({ start: runs[0]!.start, end: runs[runs.length - 1]!.end }) };
  }
}

function elementName(node: ParsedNode): string | undefined {
  for (const key of Object.keys(node)) {
    if (key !== ':@' && key !== '#text' && key !== '#cdata' && !key.startsWith('?')) return key;
  }
  return undefined;
}

/** Offset of a 1-based line:column as fast-xml-parser counts them (lines end at \n or \r\n). */
function offsetOf(text: string, line: number, column: number | undefined): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  return Math.min(text.length, offset + Math.max(0, (column ?? 1) - 1));
}

/** A span for an error at `offset`: the whole tag when it points at '<', else one character. */
function spanAt(text: string, offset: number): Span {
  if (text[offset] === '<') {
    const close = text.indexOf('>', offset);
    const nl = text.indexOf('\n', offset);
    const end = close >= 0 && (nl < 0 || close < nl) ? close + 1 : nl >= 0 ? nl : text.length;
    return { start: offset, end };
  }
  let end = offset + 1;
  while (end < text.length && /[\w.:-]/.test(text[end - 1]!) && /[\w.:-]/.test(text[end]!)) end++;
  return { start: offset, end: Math.min(text.length, end) };
}

function validatorDiagnostic(
  err: { code: string; msg: string; line: number; col: number },
  scan: MarkupScan,
  scanned: string,
  map: OffsetMap,
  source: SourceText,
  name: string | undefined,
): Diagnostic {
  let message = err.msg;
  let span = spanAt(scanned, offsetOf(scanned, err.line, err.col));
  let related: Diagnostic['related'];
  const innermost = scan.unclosed[scan.unclosed.length - 1];
  if (err.code === 'InvalidXml' && message.startsWith("Invalid '[") && innermost) {
    // End of input with open tags: fast-xml-parser prints its tag stack at 1:1; point at the open tag instead.
    message = formatMessage(UNCLOSED_TAG, [innermost.name]);
    span = { start: innermost.start, end: innermost.nameEnd };
  }
  if (message === 'Multiple possible root nodes found.' && scan.roots.length > 1) {
    const extra = scan.roots[1]!;
    message = formatMessage(MULTIPLE_ROOTS, [extra.name]);
    span = { start: extra.start, end: extra.nameEnd };
  }
  if (scan.unterminatedMarkup) {
    // A comment or CDATA section that swallows the rest of the file is the cause, whatever the validator says.
    const u = scan.unterminatedMarkup;
    message = formatMessage(UNTERMINATED_MARKUP, [u.opener, u.closer]);
    span = { start: u.start, end: u.start + u.opener.length };
  }
  const opened = /\(opened in line (\d+), col (\d+)\)/.exec(message);
  if (opened) {
    // Line and column of the opening tag in the original text (they differ after named-value substitution).
    const openSpan = map.toOriginalSpan(spanAt(scanned, offsetOf(scanned, Number(opened[1]), Number(opened[2]))));
    const pos = source.lineAndColumn(openSpan.start);
    message = message.replace(opened[0], `(opened in line ${pos.line}, col ${pos.column})`);
    const tagName = /closing tag '([^']*)'/.exec(message)?.[1] ?? '';
    related = [{ message: formatMessage(OPENED_HERE, [tagName]), span: openSpan }];
  }
  const d = createDiagnostic('XmlMalformed', map.toOriginalSpan(span), [message], name);
  if (related) d.related = related;
  return d;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
