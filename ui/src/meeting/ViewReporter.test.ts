import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ViewReporter, type ViewReport } from './ViewReporter.js';

describe('ViewReporter', () => {
  let sent: ViewReport[];
  let reporter: ViewReporter;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    reporter = new ViewReporter({ send: (r) => sent.push(r), minIntervalMs: 500, now: () => Date.now() });
  });
  afterEach(() => vi.useRealTimers());

  it('sends nothing until resumed, then everything it knows', () => {
    reporter.setTile('b', 640, 360);
    reporter.setTile('a', 320, 180);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([]);
    reporter.resume();
    vi.advanceTimersByTime(0);
    expect(sent).toEqual([
      {
        tiles: [
          { participant: 'a', width: 320, height: 176 },
          { participant: 'b', width: 640, height: 368 },
        ],
      },
    ]);
  });

  it('batches changes and sends at most twice a second', () => {
    reporter.resume();
    for (let i = 0; i < 50; i++) {
      reporter.setTile('a', 100 + i * 20, 100);
      vi.advanceTimersByTime(20);
    }
    vi.advanceTimersByTime(1000);
    // 50 changes over one second: the first immediately, then at most one per 500 ms.
    expect(sent.length).toBeLessThanOrEqual(4);
    expect(sent.at(-1)?.tiles[0]).toEqual({ participant: 'a', width: 1088, height: 96 });
  });

  it('ignores changes smaller than the rounding quantum', () => {
    reporter.resume();
    reporter.setTile('a', 640, 360);
    vi.advanceTimersByTime(600);
    reporter.setTile('a', 643, 365);
    vi.advanceTimersByTime(600);
    expect(sent).toHaveLength(1);
  });

  it('reports a hidden tile as 0×0 and drops removed tiles', () => {
    reporter.resume();
    reporter.setTile('a', 640, 360);
    reporter.setTile('b', 640, 360);
    vi.advanceTimersByTime(600);
    reporter.setTile('a', 0, 0);
    reporter.removeTile('b');
    vi.advanceTimersByTime(600);
    expect(sent.at(-1)).toEqual({ tiles: [{ participant: 'a', width: 0, height: 0 }] });
  });

  it('sends the bandwidth only when it changes notably', () => {
    reporter.resume();
    reporter.setTile('a', 640, 360);
    reporter.setBandwidth(2000);
    vi.advanceTimersByTime(600);
    expect(sent.at(-1)?.bandwidthKbps).toBe(2000);
    reporter.setBandwidth(2200);
    vi.advanceTimersByTime(600);
    expect(sent).toHaveLength(1);
    reporter.setBandwidth(1000);
    vi.advanceTimersByTime(600);
    expect(sent).toHaveLength(2);
    expect(sent.at(-1)?.bandwidthKbps).toBe(1000);
  });

  it('after pause and resume it reports again even if nothing changed', () => {
    reporter.resume();
    reporter.setTile('a', 640, 360);
    vi.advanceTimersByTime(600);
    reporter.pause();
    reporter.resume();
    vi.advanceTimersByTime(600);
    expect(sent).toHaveLength(2);
  });
});
