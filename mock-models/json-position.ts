/**
 * Finds where a JSON text stops being valid, because `JSON.parse` messages do not always carry a
 * position. A small recursive-descent scanner over RFC 8259; returns the offset of the first error.
 */

export interface JsonErrorLocation {
  offset: number;
  line: number;
  column: number;
  /** What was expected at that offset. */
  expected: string;
}

class JsonScanError extends Error {
  constructor(readonly offset: number, readonly expected: string) {
    super(expected);
  }
}

export function locateJsonError(text: string): JsonErrorLocation | undefined {
  let i = 0;
  const fail = (expected: string): never => {
    throw new JsonScanError(i, expected);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('a JSON value');
  };
  const string = (): void => {
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('a closing quote (control characters must be escaped)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            fail('four hex digits after \\u');
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          fail('a valid escape sequence');
        }
      } else i++;
    }
    fail('a closing quote');
  };
  const number = (): void => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('a number');
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 1000) fail('less nesting');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("a property name in double quotes or '}'");
        string();
        ws();
        if (text[i] !== ':') fail("':' after a property name");
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail("',' or '}' after a property value");
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail("',' or ']' after an array element");
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else fail('a JSON value');
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail('end of input');
    return undefined;
  } catch (error) {
    if (!(error instanceof JsonScanError)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split('\n').length;
    const column = error.offset - before.lastIndexOf('\n');
    return { offset: error.offset, line, column, expected: error.expected };
  }
}
