import { describe, expect, it } from 'vitest';
import { createClock, createVirtualClock, parseDurationMs, ClockControlError } from '../../policy-engine/clock.js';

describe('virtual clock', () => {
  it('is frozen by default and moves only when advanced or set', () => {
    const clock = createVirtualClock({ startMs: '2026-01-01T00:00:00Z' });
    const t0 = clock.now();
    expect(clock.now()).toBe(t0);
    clock.advance('61s');
    expect(clock.now()).toBe(t0 + 61_000);
    clock.advance(500);
    expect(clock.now()).toBe(t0 + 61_500);
    clock.set('2030-01-01T00:00:00Z');
    expect(new Date(clock.now()).toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it('wakes sleepers in time order when advanced, and only those that are due', async () => {
    const clock = createVirtualClock({ startMs: 0 });
    const woke: string[] = [];
    void clock.sleep(3000).then(() => woke.push('3s'));
    void clock.sleep(1000).then(() => woke.push('1s'));
    void clock.sleep(2000).then(() => woke.push('2s'));
    clock.advance(2500);
    await Promise.resolve();
    await Promise.resolve();
    expect(woke).toEqual(['1s', '2s']);
    clock.advance('1s');
    await Promise.resolve();
    expect(woke).toEqual(['1s', '2s', '3s']);
  });

  it('rejects a sleep when its signal aborts', async () => {
    const clock = createVirtualClock({ startMs: 0 });
    const controller = new AbortController();
    const sleeping = clock.sleep(1000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
  });

  it('runs on injected wall time when unfrozen, scaled by timeScale', () => {
    let wall = 1_000;
    const clock = createClock({ mode: 'virtual', startMs: 0, timeScale: 10, wallNow: () => wall });
    expect(clock.now()).toBe(0);
    wall += 100;
    expect(clock.now()).toBe(1000);
    clock.freeze();
    wall += 100;
    expect(clock.now()).toBe(1000);
    clock.unfreeze();
    wall += 1;
    expect(clock.now()).toBe(1010);
  });

  it('refuses to be controlled in system mode', () => {
    const clock = createClock({ mode: 'system' });
    expect(() => clock.advance(1)).toThrow(ClockControlError);
    expect(() => clock.freeze()).toThrow(/--clock virtual/);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['61s', 61_000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1500', 1500],
  ])('%s → %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it('rejects junk', () => {
    expect(() => parseDurationMs('soon')).toThrow(/Not a duration/);
    expect(() => parseDurationMs('5s later')).toThrow();
  });
});
