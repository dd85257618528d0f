/**
 * XML character references: the five predefined entities and numeric references (`&#65;`, `&#x41;`).
 * Anything else starting with `&` (a raw `&&` in a policy expression, an unknown `&name;`) is left as is.
 */

const NAMED: Record<string, string> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };

/** Result of decoding one reference: the decoded text and how many source characters it used. */
export interface DecodedEntity {
  value: string;
  length: number;
}

/** Decodes the reference starting at `text[at]` (which must be `&`), or returns undefined when there is none. */
export function decodeEntityAt(text: string, at: number, limit: number = text.length): DecodedEntity | undefined {
  const semi = text.indexOf(';', at + 1);
  if (semi < 0 || semi >= limit || semi - at > 12) return undefined;
  const body = text.slice(at + 1, semi);
  const named = NAMED[body];
  if (named !== undefined) return { value: named, length: semi - at + 1 };
  let code: number;
  if (/^#[0-9]+$/.test(body)) code = Number.parseInt(body.slice(1), 10);
  else if (/^#[xX][0-9a-fA-F]+$/.test(body)) code = Number.parseInt(body.slice(2), 16);
  else return undefined;
  if (code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
  return { value: String.fromCodePoint(code), length: semi - at + 1 };
}

/** Decoded text of `text[start, end)` plus, when any reference was decoded, the source offset of each output unit. */
export interface DecodedText {
  value: string;
  /** `map[i]` is the offset in `text` of output unit `i`; `map[value.length]` is `end`. Undefined when nothing was decoded. */
  map?: number[];
}

export function decodeXmlText(text: string, start: number, end: number): DecodedText {
  let amp = text.indexOf('&', start);
  if (amp < 0 || amp >= end) return { value: text.slice(start, end) };
  let value = '';
  let map: number[] | undefined;
  let i = start;
  while (amp >= 0 && amp < end) {
    const entity = decodeEntityAt(text, amp, end);
    if (entity) {
      map ??= [];
      for (let k = i; k < amp; k++) map.push(k);
      value += text.slice(i, amp) + entity.value;
      for (let k = 0; k < entity.value.length; k++) map.push(amp);
      i = amp + entity.length;
    }
    amp = text.indexOf('&', entity ? i : amp + 1);
  }
  if (!map) return { value: text.slice(start, end) };
  for (let k = i; k <= end; k++) map.push(k);
  value += text.slice(i, end);
  return { value, map };
}
