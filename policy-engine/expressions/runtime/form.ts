import { CsDictionary, CsList } from './collections.js';
import { TYPE_NAME } from './protocol.js';
import { enumerate, toCSharpString } from './values.js';

/**
 * What `Body.AsFormUrlEncodedContent(preserveContent)` returns: an `IDictionary<string, IList<string>>` of the
 * form's fields (api-management-policy-expressions, IMessageBody), editable, with APIM's `ToQueryString()` and
 * `ToFormUrlEncodedContent()` (null when empty; keys and values percent-encoded, `ToQueryString` prefixed with `?`,
 * as in the APIM policy toolkit's emulator [TK]). `JsonConvert.SerializeObject` prints `{"k":["v"]}`.
 */
export class FormUrlEncodedContent extends CsDictionary {
  constructor(text: string) {
    super();
    (this as unknown as Record<symbol, string>)[TYPE_NAME] = 'System.Collections.Generic.IDictionary`2[System.String,System.Collections.Generic.IList`1[System.String]]';
    for (const [k, v] of new URLSearchParams(text)) {
      if (this.ContainsKey(k)) (this.GetValueOrDefault(k) as CsList).Add(v);
      else this.Add(k, new CsList([v], 'String'));
    }
  }

  ToFormUrlEncodedContent(): string | null {
    const parts: string[] = [];
    for (const kv of enumerate(this) ?? []) {
      const { Key, Value } = kv as { Key: unknown; Value: unknown };
      const values = Value === null || Value === undefined ? [] : typeof Value === 'string' ? [Value] : [...(enumerate(Value) ?? [Value])];
      for (const v of values) parts.push(`${encodeFormPart(toCSharpString(Key))}=${encodeFormPart(v === null || v === undefined ? '' : toCSharpString(v))}`);
    }
    return parts.length === 0 ? null : parts.join('&');
  }

  ToQueryString(): string | null {
    const content = this.ToFormUrlEncodedContent();
    return content === null ? null : `?${content}`;
  }
}

/** Percent-encodes all but RFC 3986 unreserved characters (UTF-8), as System.Text.Encodings.Web's UrlEncoder. */
function encodeFormPart(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
