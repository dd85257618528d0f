import { describe, expect, it } from 'vitest';
import { parseIsoDuration, parseIsoInstant, parseTimespan, TimespanError } from '../../../emulator/app-insights/timespan.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const H = 3_600_000;

describe('parseIsoDuration', () => {
  it.each([
    ['PT1H', H],
    ['P1D', 24 * H],
    ['P7D', 7 * 24 * H],
    ['P1DT12H', 36 * H],
    ['PT3600.0S', H],
    ['PT0.5S', 500],
    ['PT1,5S', 1500],
    ['PT30M', 30 * 60_000],
    ['PT1H30M15S', H + 30 * 60_000 + 15_000],
    ['P1W', 7 * 24 * H],
    ['pt1h', H],
    ['PT0S', 0],
  ])('%s = %d ms', (text, ms) => {
    expect(parseIsoDuration(text)).toBe(ms);
  });

  it.each(['', 'P', 'PT', 'P1DT', '1h', 'PT1H30', 'P1M', 'P1Y', 'PT-1H', 'PTH', 'P1H'])('rejects %j', (text) => {
    expect(parseIsoDuration(text)).toBeUndefined();
  });
});

describe('parseIsoInstant', () => {
  it.each([
    ['2024-01-01T00:00:00Z', Date.UTC(2024, 0, 1)],
    ['2024-01-01T00:00:00.000Z', Date.UTC(2024, 0, 1)],
    ['2024-01-01T10:00:00.123456', Date.UTC(2024, 0, 1, 10, 0, 0, 123)], // az CLI: naive UTC, microseconds
    ['2024-01-01T10:00:00.1234567Z', Date.UTC(2024, 0, 1, 10, 0, 0, 123)],
    ['2024-01-01T10:00:00.5', Date.UTC(2024, 0, 1, 10, 0, 0, 500)],
    ['2024-01-01', Date.UTC(2024, 0, 1)],
    ['2024-01-01 10:30', Date.UTC(2024, 0, 1, 10, 30)],
    ['2024-01-01T10:00:00+02:00', Date.UTC(2024, 0, 1, 8)],
    ['2024-01-01T10:00:00-0130', Date.UTC(2024, 0, 1, 11, 30)],
  ])('%s', (text, ms) => {
    expect(parseIsoInstant(text)).toBe(ms);
  });

  it.each(['2024-02-30T00:00:00Z', '2024-13-01', '2024-01-01T24:00:00Z', 'yesterday', '01/02/2024', '2024-01-01T10'])('rejects %j', (text) => {
    expect(parseIsoInstant(text)).toBeUndefined();
  });
});

describe('parseTimespan', () => {
  it('a bare duration is [now - d, now] (now included)', () => {
    expect(parseTimespan('PT1H', NOW)).toEqual({ startMs: NOW - H, endMs: NOW + 1 });
    expect(parseTimespan('PT3600.0S', NOW)).toEqual({ startMs: NOW - H, endMs: NOW + 1 });
  });

  it('intervals: start/end, start/duration, duration/end', () => {
    const start = Date.UTC(2024, 0, 1);
    expect(parseTimespan('2024-01-01T00:00:00.000Z/2024-01-02T00:00:00.000Z', NOW)).toEqual({ startMs: start, endMs: start + 24 * H });
    expect(parseTimespan('2024-01-01T00:00:00Z/PT1H', NOW)).toEqual({ startMs: start, endMs: start + H });
    expect(parseTimespan('PT1H/2024-01-01T00:00:00Z', NOW)).toEqual({ startMs: start - H, endMs: start });
    expect(parseTimespan('2024-01-01T10:00:00.123456/2024-01-01T11:00:00.123456', NOW)).toEqual({
      startMs: start + 10 * H + 123,
      endMs: start + 11 * H + 123,
    });
  });

  it.each([
    ['yesterday', 'not an ISO 8601 duration'],
    ['P1M', 'months and years'],
    ['P1Y', 'months and years'],
    ['', 'empty'],
    ['2024-01-02T00:00:00Z/2024-01-01T00:00:00Z', 'start is after the end'],
    ['a/b/c', 'exactly one "/"'],
    ['2024-01-01T00:00:00Z/soon', "'soon' is neither"],
    ['PT1H/PT2H', 'neither side'],
  ])('rejects %j with a clear message', (text, detail) => {
    let caught: unknown;
    try {
      parseTimespan(text, NOW);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TimespanError);
    expect((caught as Error).message).toContain(detail);
    expect((caught as Error).message).toContain('PT1H');
  });
});
