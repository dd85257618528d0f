import { describe, expect, it } from 'vitest';
import { createMemoryCounterStore } from '../../../policy-engine/index.js';
import { MEMORY_COUNTER_SWEEP_GRACE_MS, MEMORY_COUNTER_SWEEP_INTERVAL_MS } from '../../../policy-engine/counters/memory.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Keys a sweep may leave: expired less than the grace ago, plus one interval between sweeps, plus the current one. */
const bound = (periodMs: number) => Math.ceil((MEMORY_COUNTER_SWEEP_GRACE_MS + MEMORY_COUNTER_SWEEP_INTERVAL_MS) / periodMs) + 1;

describe('MemoryCounterStore sweep of long-expired keys', () => {
  it('a day of one-minute quota periods (a counter key per period) keeps only the recent periods, the current one exact', async () => {
    const store = createMemoryCounterStore();
    for (let start = 0; start < DAY; start += MINUTE) {
      await store.counterAdd(`cq:sub|${start}`, 1, start, start + MINUTE);
      await store.counterAdd(`cq:sub|${start}`, 2, start + 30_000, start + MINUTE);
    }
    const kept = Object.keys((await store.snapshot()).counters);
    expect(kept.length).toBeLessThanOrEqual(bound(MINUTE));
    expect(kept).toContain(`cq:sub|${DAY - MINUTE}`);
    expect(await store.counterGet(`cq:sub|${DAY - MINUTE}`, DAY - 1)).toBe(3);
  });

  it('window keys of clients seen once (a counter key per caller) go once all their entries expired past the grace; live ones answer as before', async () => {
    const store = createMemoryCounterStore();
    for (let i = 0; i < 1440; i++) await store.windowAdd(`rl:client-${i}`, i * MINUTE, 1, i * MINUTE + 300_000);
    const kept = Object.keys((await store.snapshot()).windows);
    expect(kept.length).toBeLessThanOrEqual(bound(MINUTE) + 5);
    expect(kept).toContain('rl:client-1439');
    const last = 1439 * MINUTE;
    expect(await store.windowTotal!(`rl:client-1439`, last - 1)).toBe(1);
    expect(await store.windowEntries(`rl:client-1438`, last - 2 * MINUTE)).toEqual([{ at: 1438 * MINUTE, amount: 1 }]);
  });

  it('a key read within the grace is never dropped, whatever the other keys do', async () => {
    const store = createMemoryCounterStore();
    await store.windowAdd('tpm:a', 0, 10, MINUTE);
    // Writes to another key up to just before the grace has passed since 'tpm:a' expired.
    for (let t = 0; t < MINUTE + MEMORY_COUNTER_SWEEP_GRACE_MS; t += 1000) await store.windowAdd('tpm:b', t, 1, t + MINUTE);
    expect(Object.keys((await store.snapshot()).windows)).toContain('tpm:a');
    expect(await store.windowEntries('tpm:a', -1)).toEqual([{ at: 0, amount: 10 }]);
  });
});
