import type { Span } from '../diagnostics.js';

/** One textual replacement: `original[origStart, origEnd)` became `rewritten[start, end)`. */
export interface OffsetEdit {
  start: number;
  end: number;
  origStart: number;
  origEnd: number;
}

/**
 * Maps offsets in a rewritten text (after named-value and placeholder substitution) back to the original file.
 * Outside replacements the mapping is exact; inside a replacement every offset maps to the start of the
 * replaced `{{…}}` (and a span ending inside or at the end of one ends at the end of the `{{…}}`).
 */
export interface OffsetMap {
  readonly identity: boolean;
  toOriginal(offset: number): number;
  toOriginalEnd(offset: number): number;
  toOriginalSpan(span: Span): Span;
}

export const IDENTITY_OFFSET_MAP: OffsetMap = {
  identity: true,
  toOriginal: (offset) => offset,
  toOriginalEnd: (offset) => offset,
  toOriginalSpan: (span) => ({ start: span.start, end: span.end }),
};

/** `edits` must be sorted and non-overlapping (as produced by a left-to-right substitution). */
export function createOffsetMap(edits: readonly OffsetEdit[]): OffsetMap {
  if (edits.length === 0) return IDENTITY_OFFSET_MAP;
  // Index of the last edit whose start satisfies `start < offset` (strict) or `start <= offset`.
  const lastBefore = (offset: number, strict: boolean): number => {
    let lo = 0;
    let hi = edits.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = edits[mid]!.start;
      if (strict ? s < offset : s <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  const toOriginal = (offset: number): number => {
    const k = lastBefore(offset, false);
    if (k < 0) return offset;
    const e = edits[k]!;
    return offset < e.end ? e.origStart : offset - e.end + e.origEnd;
  };
  const toOriginalEnd = (offset: number): number => {
    const k = lastBefore(offset, true);
    if (k < 0) return offset;
    const e = edits[k]!;
    return offset <= e.end ? e.origEnd : offset - e.end + e.origEnd;
  };
  return {
    identity: false,
    toOriginal,
    toOriginalEnd,
    toOriginalSpan(span) {
      const start = toOriginal(span.start);
      return { start, end: Math.max(start, toOriginalEnd(span.end)) };
    },
  };
}
