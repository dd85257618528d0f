import { createDiagnostic, type Diagnostic, type Span } from '../diagnostics.js';
import { scanExpression } from './csharp-scanner.js';
import { decodeXmlText } from './entities.js';
import type { LiftedExpression } from './model.js';
import { IDENTITY_OFFSET_MAP, type OffsetMap } from './offset-map.js';

/**
 * The pre-scan. Policy files are often not well-formed XML because attribute values and element text hold
 * C# with raw quotes, '<' and '&&'. This scanner walks the markup just far enough to know where attribute
 * values and text runs are (tags, comments, CDATA, processing instructions), and where a value or text run
 * is one whole `@(…)`/`@{…}` it scans the C# (see csharp-scanner.ts) and replaces the expression in the
 * output with a placeholder of the same length ('_' for every character, line breaks kept). The lifted text
 * is then ordinary XML for fast-xml-parser, and because lengths and line breaks are preserved, every offset,
 * line and column the XML parser reports is also an offset, line and column in the scanned text.
 *
 * The scan also records every start tag, end tag, attribute and text run with its offsets. fast-xml-parser
 * reports no positions for attributes or text, so the reader joins its tree to these records by the start
 * offset of each element (fast-xml-parser's `captureMetaData`). The scan never throws and never rejects
 * markup: malformed XML is the validator's to report.
 */

/** An expression found by the scan; offsets are into the scanned text. */
export interface ScannedExpression {
  kind: 'expression' | 'block';
  start: number;
  end: number;
  /** Whether XML character references in the code are decoded (not in CDATA). */
  decode: boolean;
}

export interface ScannedAttribute {
  name: string;
  nameStart: number;
  nameEnd: number;
  /** Inside the quotes. */
  valueStart: number;
  valueEnd: number;
  quote: '"' | "'" | '';
  expression?: ScannedExpression;
}

export interface ScannedText {
  start: number;
  end: number;
  cdata: boolean;
  expression?: ScannedExpression;
}

export interface ScannedTag {
  name: string;
  /** Offset of '<'. */
  start: number;
  nameStart: number;
  nameEnd: number;
  /** Offset after the start tag's '>' (or where the scan gave up on it). */
  end: number;
  selfClosing: boolean;
  attributes: ScannedAttribute[];
  /** Text runs and CDATA sections directly inside this element. */
  texts: ScannedText[];
  /** Offset after the matching end tag's '>'. */
  closeEnd?: number;
  depth: number;
}

export interface MarkupScan {
  /** The scanned text with each expression replaced by an equally long placeholder. */
  lifted: string;
  tags: ScannedTag[];
  expressions: ScannedExpression[];
  /** Start tags still open at the end of the text, innermost last. */
  unclosed: ScannedTag[];
  /** Start tags at depth 0 (more than one is an error). */
  roots: ScannedTag[];
  /** Non-whitespace text outside the root element. */
  strayText: ScannedText[];
  /** Unterminated expressions (start offsets and expected closer). */
  unterminated: Array<{ start: number; closer: ')' | '}' }>;
  /** A comment, CDATA section or processing instruction that runs to the end of the text. */
  unterminatedMarkup?: { start: number; opener: string; closer: string };
}

const VALUE_END_DQ = /"(?=\s*\/?>|\s+[^\s=<>"'\/]+\s*=)/g;
const VALUE_END_SQ = /'(?=\s*\/?>|\s+[^\s=<>"'\/]+\s*=)/g;

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\n' || c === '\r' || c === '\t';
}

/** '_' for every character of `text[start, end)` except line breaks, which stay where they are. */
function placeholder(text: string, start: number, end: number): string {
  let out = '';
  let from = start;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      out += '_'.repeat(i - from) + text[i];
      from = i + 1;
    }
  }
  return out + '_'.repeat(end - from);
}

function startsExpression(text: string, at: number): boolean {
  return text[at] === '@' && (text[at + 1] === '(' || text[at + 1] === '{');
}

function isNameBoundary(c: string | undefined): boolean {
  switch (c) {
    case undefined:
    case '/':
    case '>':
    case '<':
    case '=':
    case '"':
    case "'":
      return true;
    default:
      return isSpace(c) || (c.charCodeAt(0) < 0x21);
  }
}

export function scanMarkup(text: string): MarkupScan {
  const n = text.length;
  const tags: ScannedTag[] = [];
  const expressions: ScannedExpression[] = [];
  const roots: ScannedTag[] = [];
  const strayText: ScannedText[] = [];
  const unterminated: MarkupScan['unterminated'] = [];
  const stack: ScannedTag[] = [];
  let unterminatedMarkup: MarkupScan['unterminatedMarkup'];
  /** Offset after `closer` searched from `from`, or the end of the text (recording the unterminated markup). */
  const skipTo = (start: number, opener: string, closer: string): number => {
    const close = text.indexOf(closer, start + opener.length);
    if (close >= 0) return close + closer.length;
    unterminatedMarkup ??= { start, opener, closer };
    return n;
  };
  const pieces: string[] = [];
  let copied = 0;

  const lift = (start: number, end: number, decode: boolean): ScannedExpression => {
    const expr: ScannedExpression = { kind: text[start + 1] === '(' ? 'expression' : 'block', start, end, decode };
    expressions.push(expr);
    pieces.push(text.slice(copied, start), placeholder(text, start, end));
    copied = end;
    return expr;
  };

  /** Recovery: hides a broken expression from the XML parser so that one mistake is reported once. */
  const hide = (start: number, end: number): void => {
    pieces.push(text.slice(copied, start), placeholder(text, start, end));
    copied = end;
  };

  /** Tries a whole-value expression at `at`; returns its end, or -1 (recording an unterminated one). */
  const tryExpression = (at: number, decode: boolean, limit: number): number => {
    const scan = scanExpression(text, at, decode, limit);
    if (scan.end < 0) unterminated.push({ start: at, closer: text[at + 1] === '(' ? ')' : '}' });
    return scan.end;
  };

  const addText = (t: ScannedText): void => {
    const parent = stack[stack.length - 1];
    if (parent) parent.texts.push(t);
    else if (/\S/.test(text.slice(t.start, t.end))) strayText.push(t);
  };

  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte order mark is not text (fast-xml-parser accepts it)
  while (i < n) {
    if (text[i] !== '<') {
      // A text run: one whole expression (up to the next markup), or plain text up to the next '<'.
      let j = i;
      while (isSpace(text[j])) j++;
      if (startsExpression(text, j)) {
        const end = tryExpression(j, true, n);
        if (end >= 0) {
          let k = end;
          while (isSpace(text[k])) k++;
          if (k >= n || text[k] === '<') {
            const t: ScannedText = { start: i, end: k, cdata: false, expression: lift(j, end, true) };
            addText(t);
            i = k;
            continue;
          }
        } else {
          // Unterminated: the code most likely runs to the parent's end tag; keep it away from the XML parser.
          const parent = stack[stack.length - 1];
          const close = parent ? text.indexOf(`</${parent.name}`, j) : -1;
          if (close >= 0) {
            hide(j, close);
            addText({ start: i, end: close, cdata: false });
            i = close;
            continue;
          }
        }
      }
      let end = text.indexOf('<', i);
      if (end < 0) end = n;
      addText({ start: i, end, cdata: false });
      i = end;
      continue;
    }
    if (text.startsWith('<!--', i)) {
      i = skipTo(i, '<!--', '-->');
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const contentStart = i + 9;
      const close = text.indexOf(']]>', contentStart);
      const contentEnd = close < 0 ? n : close;
      const t: ScannedText = { start: contentStart, end: contentEnd, cdata: true };
      let j = contentStart;
      while (isSpace(text[j])) j++;
      if (startsExpression(text, j)) {
        const end = tryExpression(j, false, contentEnd);
        if (end >= 0 && !/\S/.test(text.slice(end, contentEnd))) {
          // No lifting needed: CDATA already protects the code from the XML parser.
          t.expression = { kind: text[j + 1] === '(' ? 'expression' : 'block', start: j, end, decode: false };
          expressions.push(t.expression);
        }
      }
      addText(t);
      i = skipTo(i, '<![CDATA[', ']]>');
      continue;
    }
    if (text.startsWith('<?', i)) {
      i = skipTo(i, '<?', '?>');
      continue;
    }
    if (text.startsWith('<!', i)) {
      const close = text.indexOf('>', i + 2);
      i = close < 0 ? n : close + 1;
      continue;
    }
    if (text[i + 1] === '/') {
      let j = i + 2;
      while (!isNameBoundary(text[j])) j++;
      const name = text.slice(i + 2, j);
      const close = text.indexOf('>', j);
      const end = close < 0 ? n : close + 1;
      // Well-formed input closes the innermost tag; otherwise close the nearest open tag of that name.
      for (let k = stack.length - 1; k >= 0; k--) {
        if (stack[k]!.name === name) {
          stack[k]!.closeEnd = end;
          stack.length = k;
          break;
        }
      }
      i = end;
      continue;
    }
    if (isNameBoundary(text[i + 1])) {
      // A '<' that starts no markup: leave it in a text run for the validator to reject.
      let end = text.indexOf('<', i + 1);
      if (end < 0) end = n;
      addText({ start: i, end, cdata: false });
      i = end;
      continue;
    }
    i = scanStartTag(i);
  }

  function scanStartTag(start: number): number {
    let j = start + 1;
    while (!isNameBoundary(text[j])) j++;
    const tag: ScannedTag = {
      name: text.slice(start + 1, j),
      start,
      nameStart: start + 1,
      nameEnd: j,
      end: n,
      selfClosing: false,
      attributes: [],
      texts: [],
      depth: stack.length,
    };
    tags.push(tag);
    if (stack.length === 0) roots.push(tag);
    let closed = false;
    while (j < n) {
      while (isSpace(text[j])) j++;
      const c = text[j];
      if (c === undefined) break;
      if (c === '>') {
        j++;
        closed = true;
        break;
      }
      if (c === '/' && text[j + 1] === '>') {
        j += 2;
        closed = true;
        tag.selfClosing = true;
        break;
      }
      if (c === '<') break; // the tag was never closed; the validator reports it
      const nameStart = j;
      while (!isNameBoundary(text[j])) j++;
      if (j === nameStart) {
        j++; // a stray '/', '=' or quote
        continue;
      }
      const attr: ScannedAttribute = { name: text.slice(nameStart, j), nameStart, nameEnd: j, valueStart: j, valueEnd: j, quote: '' };
      tag.attributes.push(attr);
      let k = j;
      while (isSpace(text[k])) k++;
      if (text[k] !== '=') continue;
      k++;
      while (isSpace(text[k])) k++;
      const q = text[k];
      if (q === '"' || q === "'") {
        attr.quote = q;
        attr.valueStart = k + 1;
        j = scanAttributeValue(attr, q);
      } else {
        attr.valueStart = k;
        while (k < n && !isSpace(text[k]) && text[k] !== '>' && !text.startsWith('/>', k)) k++;
        attr.valueEnd = k;
        j = k;
      }
    }
    tag.end = j;
    if (closed && !tag.selfClosing) stack.push(tag);
    return j;
  }

  function scanAttributeValue(attr: ScannedAttribute, q: string): number {
    let v = attr.valueStart;
    while (isSpace(text[v])) v++;
    if (startsExpression(text, v)) {
      const end = tryExpression(v, true, n);
      if (end >= 0) {
        let w = end;
        while (isSpace(text[w])) w++;
        if (text[w] === q) {
          attr.expression = lift(v, end, true);
          attr.valueEnd = w;
          return w + 1;
        }
      } else {
        // Unterminated: end the value at the first quote that looks like the end of an attribute
        // (followed by '>', '/>' or another attribute) rather than at a quote inside the code.
        const valueEnd = q === '"' ? VALUE_END_DQ : VALUE_END_SQ;
        valueEnd.lastIndex = v;
        const m = valueEnd.exec(text);
        if (m) {
          hide(v, m.index);
          attr.valueEnd = m.index;
          return m.index + 1;
        }
      }
    }
    const close = text.indexOf(q, attr.valueStart);
    attr.valueEnd = close < 0 ? n : close;
    return close < 0 ? n : close + 1;
  }

  pieces.push(text.slice(copied));
  const scan: MarkupScan = { lifted: pieces.join(''), tags, expressions, unclosed: stack.slice(), roots, strayText, unterminated };
  if (unterminatedMarkup) scan.unterminatedMarkup = unterminatedMarkup;
  return scan;
}

/** Builds the public view of a scanned expression: decoded code and a map back to the original file. */
export function toLiftedExpression(text: string, expr: ScannedExpression, map: OffsetMap = IDENTITY_OFFSET_MAP): LiftedExpression {
  const codeStart = expr.start + 2;
  const codeEnd = expr.end - 1;
  const decoded = expr.decode ? decodeXmlText(text, codeStart, codeEnd) : { value: text.slice(codeStart, codeEnd) };
  const offsets = decoded.map;
  const positionOf = offsets
    ? (index: number): number => map.toOriginal(offsets[Math.max(0, Math.min(index, offsets.length - 1))]!)
    : map.identity
      ? (index: number): number => codeStart + Math.max(0, Math.min(index, codeEnd - codeStart))
      : (index: number): number => map.toOriginal(codeStart + Math.max(0, Math.min(index, codeEnd - codeStart)));
  return {
    kind: expr.kind,
    code: decoded.value,
    span: map.toOriginalSpan({ start: expr.start, end: expr.end }),
    positionOf,
  };
}

/** Diagnostics (XML1002) for the unterminated expressions of a scan, mapped to the original text. */
export function unterminatedDiagnostics(scan: MarkupScan, map: OffsetMap, source?: string): Diagnostic[] {
  return scan.unterminated.map((u) => {
    const span: Span = map.toOriginalSpan({ start: u.start, end: u.start + 2 });
    return createDiagnostic('XmlUnterminatedExpression', span, [u.closer], source);
  });
}

/**
 * The scanner on its own, for tests and tools: `text` with every whole-value expression replaced by a
 * same-length placeholder, the lifted expressions (positions into `text`), and XML1002 diagnostics.
 */
export function liftExpressions(text: string): { text: string; expressions: LiftedExpression[]; diagnostics: Diagnostic[] } {
  const scan = scanMarkup(text);
  return {
    text: scan.lifted,
    expressions: scan.expressions.map((e) => toLiftedExpression(text, e)),
    diagnostics: unterminatedDiagnostics(scan, IDENTITY_OFFSET_MAP),
  };
}
