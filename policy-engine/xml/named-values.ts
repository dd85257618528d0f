import { createDiagnostic, type Diagnostic } from '../diagnostics.js';
import { createOffsetMap, IDENTITY_OFFSET_MAP, type OffsetEdit, type OffsetMap } from './offset-map.js';

/** Characters allowed in an APIM named-value name (letters, digits, '.', '-', '_'). */
const NAME_CHAR = /[A-Za-z0-9._-]/;
/** After `{{name`, one of these (or the end of the text) means the reference was never closed. */
const UNTERMINATED_AFTER = new Set(['\n', '\r', '<', '>', '"', "'"]);

export interface SubstitutionOptions {
  namedValues?: Record<string, string>;
  placeholders?: Record<string, string>;
  source?: string;
}

export interface Substitution {
  text: string;
  map: OffsetMap;
  diagnostics: Diagnostic[];
}

/**
 * Replaces `{{name}}` named values (case-insensitive) and plain-text placeholders in one left-to-right
 * pass over the original text, before any XML or expression scanning (APIM substitutes textually).
 * Replaced text is not scanned again. Unknown names stay in the text and are reported (XML1003).
 */
export function substituteNamedValues(text: string, options: SubstitutionOptions = {}): Substitution {
  const diagnostics: Diagnostic[] = [];
  const placeholderKeys = Object.keys(options.placeholders ?? {})
    .filter((k) => k.length > 0)
    .sort((a, b) => b.length - a.length);
  const hasBraces = text.includes('{{');
  if (!hasBraces && !placeholderKeys.some((k) => text.includes(k))) {
    return { text, map: IDENTITY_OFFSET_MAP, diagnostics };
  }
  const named = new Map<string, string>();
  for (const [k, v] of Object.entries(options.namedValues ?? {})) named.set(k.toLowerCase(), v);

  const edits: OffsetEdit[] = [];
  let out = '';
  let copied = 0; // original offset up to which text has been copied to `out`
  const replace = (start: number, end: number, value: string): void => {
    out += text.slice(copied, start);
    edits.push({ start: out.length, end: out.length + value.length, origStart: start, origEnd: end });
    out += value;
    copied = end;
  };

  let i = 0;
  while (i < text.length) {
    const next = nextCandidate(text, i, hasBraces, placeholderKeys);
    if (next < 0) break;
    if (text.startsWith('{{', next)) {
      let j = next + 2;
      while (j < text.length && NAME_CHAR.test(text[j]!)) j++;
      const name = text.slice(next + 2, j);
      if (name.length > 0 && text.startsWith('}}', j)) {
        const value = named.get(name.toLowerCase());
        if (value === undefined) {
          diagnostics.push(createDiagnostic('XmlUnknownNamedValue', { start: next, end: j + 2 }, [name], options.source));
        } else {
          replace(next, j + 2, value);
        }
        i = j + 2;
        continue;
      }
      if (name.length > 0 && (j >= text.length || UNTERMINATED_AFTER.has(text[j]!))) {
        diagnostics.push(createDiagnostic('XmlUnterminatedNamedValue', { start: next, end: j }, [], options.source));
        i = j;
        continue;
      }
    }
    const key = placeholderKeys.find((k) => text.startsWith(k, next));
    if (key !== undefined) {
      replace(next, next + key.length, options.placeholders![key]!);
      i = next + key.length;
    } else {
      i = next + 1;
    }
  }
  if (edits.length === 0) return { text, map: IDENTITY_OFFSET_MAP, diagnostics };
  out += text.slice(copied);
  return { text: out, map: createOffsetMap(edits), diagnostics };
}

function nextCandidate(text: string, from: number, hasBraces: boolean, keys: readonly string[]): number {
  let best = hasBraces ? text.indexOf('{{', from) : -1;
  for (const k of keys) {
    const at = text.indexOf(k, from);
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}
