import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { RecentIds } from '../../libs/session/src/redis/recent-ids.js';

/** Unit tests of the dedupe window behind "an end reported twice is announced once". */
describe('RecentIds', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('remembers an id for its window, and a re-add restarts the window', () => {
    const ids = new RecentIds(30_000);
    ids.add('a');
    jest.advanceTimersByTime(20_000);
    expect(ids.has('a')).toBe(true);
    ids.add('a');
    jest.advanceTimersByTime(20_000);
    expect(ids.has('a')).toBe(true);
    jest.advanceTimersByTime(10_001);
    expect(ids.has('a')).toBe(false);
    expect(ids.has('never-added')).toBe(false);
  });

  it('forgets a burst within a second of its window with no further insert (the mass expiry case)', () => {
    const ids = new RecentIds(30_000);
    for (let i = 0; i < 10_000; i++) ids.add(`id-${i}`);
    jest.advanceTimersByTime(5_000);
    ids.add('late');
    expect(ids.size).toBe(10_001);
    jest.advanceTimersByTime(25_000 + 1000);
    expect(ids.size).toBe(1); // the burst went; 'late' is still within its window
    expect(ids.has('late')).toBe(true);
    jest.advanceTimersByTime(5_000);
    expect(ids.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0); // nothing left to prune: no timer re-armed
  });

  it('keeps one timer for the whole map, not one per id', () => {
    const ids = new RecentIds(30_000);
    for (let i = 0; i < 100; i++) ids.add(`id-${i}`);
    expect(jest.getTimerCount()).toBe(1);
  });

  it('clear() forgets every id and stops its timer', () => {
    const ids = new RecentIds(30_000);
    ids.add('a');
    ids.clear();
    expect(ids.size).toBe(0);
    expect(ids.has('a')).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });
});
