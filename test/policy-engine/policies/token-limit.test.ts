import { describe, expect, it } from 'vitest';
import {
  createSlidingWindowLedger,
  createTokenBucketLedger,
  humanizeDuration,
  quotaAdmits,
  quotaPeriodBounds,
  tpmAdmits,
  wallSeconds,
} from '../../../policy-engine/policies/shared/token-limit.js';
import { createMemoryCounterStore } from '../../../policy-engine/counters/memory.js';

const iso = (ms: number) => new Date(ms).toISOString();
const at = (s: string) => Date.parse(s);

describe('admission rules (one place)', () => {
  it('without an estimate admits while consumed < limit; with one, while consumed + estimate fits', () => {
    expect(tpmAdmits(99, 0, 100)).toBe(true);
    expect(tpmAdmits(100, 0, 100)).toBe(false);
    expect(tpmAdmits(70, 30, 100)).toBe(true);
    expect(tpmAdmits(71, 30, 100)).toBe(false);
  });
  it('quotas refuse only once exceeded', () => {
    expect(quotaAdmits(100, 0, 100)).toBe(true);
    expect(quotaAdmits(101, 0, 100)).toBe(false);
  });
});

describe('quota periods are aligned to UTC', () => {
  it.each([
    ['Hourly', '2026-03-10T10:59:59.999Z', '2026-03-10T10:00:00.000Z', '2026-03-10T11:00:00.000Z'],
    ['Daily', '2026-03-10T23:59:59.000Z', '2026-03-10T00:00:00.000Z', '2026-03-11T00:00:00.000Z'],
    ['Weekly', '2026-03-15T12:00:00.000Z', '2026-03-09T00:00:00.000Z', '2026-03-16T00:00:00.000Z'],
    ['Monthly', '2026-01-31T23:59:00.000Z', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
    ['Monthly', '2028-02-29T12:00:00.000Z', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    ['Monthly', '2026-12-31T23:59:59.999Z', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['Yearly', '2028-12-31T23:59:59.999Z', '2028-01-01T00:00:00.000Z', '2029-01-01T00:00:00.000Z'],
  ] as const)('%s at %s is [%s, %s)', (period, now, start, end) => {
    const b = quotaPeriodBounds(period, at(now));
    expect([iso(b.start), iso(b.end)]).toEqual([start, end]);
  });
  it('weeks can start on Sunday', () => {
    const b = quotaPeriodBounds('Weekly', at('2026-03-15T12:00:00Z'), 'sunday');
    expect(iso(b.start)).toBe('2026-03-15T00:00:00.000Z');
  });
});

describe('humanized quota durations', () => {
  it.each([
    [1293, '21 minutes and 33 seconds'],
    [3600, '1 hour'],
    [82800, '23 hours'],
    [90061, '1 day, 1 hour, 1 minute and 1 second'],
    [0.2, '1 second'],
  ])('%d s → %s', (s, text) => expect(humanizeDuration(s)).toBe(text));
});

describe('wall seconds under a time-scaled clock', () => {
  it('rounds up and never goes below 1', () => {
    expect(wallSeconds(30_000, 1)).toBe(30);
    expect(wallSeconds(30_001, 1)).toBe(31);
    expect(wallSeconds(30_000, 60)).toBe(1);
    expect(wallSeconds(120_000, 60)).toBe(2);
  });
});

describe('sliding window ledger', () => {
  it('Retry-After is the time until enough entries expire for the request to be admitted', async () => {
    const ledger = createSlidingWindowLedger(createMemoryCounterStore());
    await ledger.charge('k', 0, 59, 100);
    await ledger.charge('k', 15_000, 55, 100);
    expect(await ledger.state('k', 30_000, 0, 100)).toEqual({ used: 114, retryAfterMs: 30_000 });
    expect(await ledger.state('k', 59_999, 0, 100)).toEqual({ used: 114, retryAfterMs: 1 });
    expect(await ledger.state('k', 60_000, 0, 100)).toEqual({ used: 55, retryAfterMs: 0 });
  });
  it('reconciles an estimate with the actual count', async () => {
    const ledger = createSlidingWindowLedger(createMemoryCounterStore());
    const handle = await ledger.charge('k', 0, 30, 100);
    await ledger.reconcile('k', handle, 30, 120, 0, 100);
    expect((await ledger.state('k', 1, 0, 100)).used).toBe(120);
  });
});

describe('token bucket ledger', () => {
  it('refills at TPM/60 per second and reports the time until the debt is paid', async () => {
    const ledger = createTokenBucketLedger(createMemoryCounterStore());
    await ledger.charge('k', 0, 130, 100); // 30 in debt
    const s = await ledger.state('k', 0, 0, 100);
    expect(s.used).toBe(130);
    expect(Math.round(s.retryAfterMs)).toBe(18_000); // 30 tokens at 100/60 per second
    expect((await ledger.state('k', 18_001, 0, 100)).retryAfterMs).toBe(0);
  });
});

describe('token bucket under a clock set backwards', () => {
  it('refills nothing for negative elapsed time', async () => {
    const ledger = createTokenBucketLedger(createMemoryCounterStore());
    await ledger.charge('k', 60_000, 50, 100);
    expect((await ledger.state('k', 30_000, 0, 100)).used).toBe(50);
  });
});
