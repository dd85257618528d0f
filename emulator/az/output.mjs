// @ts-check
// Output formats of the Azure CLI (-o json|jsonc|tsv|table|none); plain JavaScript so `az` starts without a compiler.

/** @param {unknown} value */
function isScalar(value) {
  return value === null || typeof value !== 'object';
}

/** Python's str() of a scalar, as the real CLI prints it in tsv and table output. @param {unknown} value */
export function pythonStr(value) {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** @param {unknown} value */
function tsvCell(value) {
  if (value === null || value === undefined) return '';
  return pythonStr(value);
}

/** One line per item; an object's scalar fields in order (nested objects and lists are left out, as az does). @param {unknown} result */
export function toTsv(result) {
  const items = Array.isArray(result) ? result : [result];
  const lines = [];
  for (const item of items) {
    if (isScalar(item)) lines.push(tsvCell(item));
    else if (Array.isArray(item)) lines.push(item.filter(isScalar).map(tsvCell).join('\t'));
    else lines.push(Object.values(/** @type {object} */ (item)).filter(isScalar).map(tsvCell).join('\t'));
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Columns = the scalar fields of the items (first letter upper-cased), left-aligned. @param {unknown} result */
export function toTable(result) {
  const items = (Array.isArray(result) ? result : [result]).filter((x) => x !== null && x !== undefined);
  if (items.length === 0) return '';
  if (items.every(isScalar)) return toTable(items.map((v) => ({ Result: v })));
  /** @type {string[]} */
  const keys = [];
  for (const item of items) {
    if (isScalar(item) || Array.isArray(item)) continue;
    for (const [k, v] of Object.entries(item)) if (isScalar(v) && !keys.includes(k)) keys.push(k);
  }
  const header = keys.map((k) => k.charAt(0).toUpperCase() + k.slice(1));
  const rows = items.map((item) => keys.map((k) => tsvCell(/** @type {Record<string, unknown>} */ (item)[k])));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (/** @type {string[]} */ cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`;
}

/** @param {unknown} result @param {string} format */
export function formatOutput(result, format) {
  if (format === 'none' || result === undefined) return '';
  if (format === 'tsv') return toTsv(result);
  if (format === 'table') return toTable(result);
  return `${JSON.stringify(result, null, 2)}\n`;
}
