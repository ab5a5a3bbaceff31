import { describe, expect, it } from 'vitest';
import { bestGrid } from './gridLayout.js';

describe('bestGrid', () => {
  it('fills a wide screen with one tile', () => {
    expect(bestGrid(1, 1600, 900, 16 / 9, 0)).toEqual({ cols: 1, rows: 1, tileWidth: 1600, tileHeight: 900 });
  });

  it('puts two tiles side by side on a wide screen and stacks them on a phone', () => {
    expect(bestGrid(2, 1600, 900).cols).toBe(2);
    expect(bestGrid(2, 390, 700).cols).toBe(1);
  });

  it('uses a 2×2 grid for four tiles on a 16:9 screen, 3 columns for six', () => {
    expect(bestGrid(4, 1600, 900)).toMatchObject({ cols: 2, rows: 2 });
    expect(bestGrid(6, 1600, 900)).toMatchObject({ cols: 3, rows: 2 });
  });

  it('never returns a negative size for a tiny box', () => {
    const g = bestGrid(16, 10, 10);
    expect(g.tileWidth).toBeGreaterThanOrEqual(0);
    expect(g.cols * g.rows).toBeGreaterThanOrEqual(16);
  });
});
