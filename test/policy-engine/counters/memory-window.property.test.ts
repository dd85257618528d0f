import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryCounterStore } from '../../../policy-engine/index.js';

type Op = { kind: 'add'; at: number; amount: number; ttl: number } | { kind: 'adjust'; pick: number; amount: number } | { kind: 'read'; since: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), at: fc.integer({ min: 0, max: 200_000 }), amount: fc.double({ min: 0, max: 5000, noNaN: true }), ttl: fc.integer({ min: 0, max: 120_000 }) }),
  fc.record({ kind: fc.constant('adjust' as const), pick: fc.nat(), amount: fc.double({ min: 0, max: 5000, noNaN: true }) }),
  fc.record({ kind: fc.constant('read' as const), since: fc.integer({ min: -1000, max: 250_000 }) }),
);

/** The straightforward implementation (copy everything on every read), the reference for the fast one. */
class ReferenceWindows {
  private entries: Array<{ at: number; amount: number; expiresAt: number; handle: string }> = [];
  add(at: number, amount: number, expiresAt: number, handle: string) {
    this.entries.push({ at, amount, expiresAt, handle });
    if (this.entries.length > 1 && this.entries[this.entries.length - 2]!.at > at) this.entries.sort((x, y) => x.at - y.at);
  }
  adjust(handle: string, amount: number) {
    const e = this.entries.find((x) => x.handle === handle);
    if (e) e.amount = amount;
  }
  read(since: number) {
    this.entries = this.entries.filter((e) => e.expiresAt > since);
    return this.entries.filter((e) => e.at > since).map(({ at, amount }) => ({ at, amount }));
  }
}

describe('MemoryCounterStore sliding windows', () => {
  it('windowEntries answers as the copy-everything reference and windowTotal is exactly their sum (same order), whatever adds, adjusts and reads came before', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const a = createMemoryCounterStore();
        const b = createMemoryCounterStore();
        const ref = new ReferenceWindows();
        const handles: string[] = [];
        for (const o of ops) {
          if (o.kind === 'add') {
            const h = await a.windowAdd('k', o.at, o.amount, o.at + o.ttl);
            expect(await b.windowAdd('k', o.at, o.amount, o.at + o.ttl)).toBe(h);
            ref.add(o.at, o.amount, o.at + o.ttl, h);
            handles.push(h);
          } else if (o.kind === 'adjust' && handles.length > 0) {
            const h = handles[o.pick % handles.length]!;
            await a.windowAdjust('k', h, o.amount);
            await b.windowAdjust('k', h, o.amount);
            ref.adjust(h, o.amount);
          } else if (o.kind === 'read') {
            // a reads the total first, b the entries: pruning must leave both stores answering alike.
            const total = await a.windowTotal('k', o.since);
            const entries = await b.windowEntries('k', o.since);
            let sum = 0;
            for (const e of entries) sum += e.amount;
            expect(total).toBe(sum);
            expect(entries).toEqual(ref.read(o.since));
            expect(await a.windowEntries('k', o.since)).toEqual(entries);
            expect(entries.every((e, i) => e.at > o.since && (i === 0 || entries[i - 1]!.at <= e.at))).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
