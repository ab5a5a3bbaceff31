import { describe, expect, it } from 'vitest';
import { chooseLayers, layerForTile, LAYER_KBPS, type Substream } from '../../appliance/meeting/layers.js';
import type { TileView } from '../../appliance/meeting/protocol.js';

const tile = (participant: string, width: number, height: number): TileView => ({ participant, width, height });
/** The bandwidth whose usable share (85 %) is exactly `kbps`. */
const bandwidthFor = (kbps: number): number => Math.ceil(kbps / 0.85);
const asObject = (m: Map<string, Substream>): Record<string, Substream> => Object.fromEntries(m);

describe('layerForTile', () => {
  it.each<[number, number, Substream]>([
    [0, 0, 0],
    [320, 180, 0],
    [400, 225, 0], // 180 × 1.25: still the small layer
    [400, 226, 1],
    [640, 360, 1],
    [800, 450, 1], // 360 × 1.25
    [800, 451, 2],
    [1280, 720, 2],
    [1920, 1080, 2],
  ])('%i × %i → layer %i', (width, height, layer) => {
    expect(layerForTile(width, height)).toBe(layer);
  });

  it('uses the width of a wide tile as if it were 16:9', () => {
    expect(layerForTile(400, 10)).toBe(0); // 400 × 9/16 = 225
    expect(layerForTile(402, 10)).toBe(1);
    expect(layerForTile(800, 10)).toBe(1); // = 450
    expect(layerForTile(802, 10)).toBe(2);
  });

  it('uses the height of a tall tile', () => {
    expect(layerForTile(100, 451)).toBe(2);
  });
});

describe('chooseLayers', () => {
  const big = tile('big', 1280, 720); // layer 2
  const mid = tile('mid', 640, 360); // layer 1
  const small = tile('small', 320, 180); // layer 0
  const hidden = tile('hidden', 0, 0);

  it('gives every tile the layer that fills it when the bandwidth is unknown', () => {
    expect(asObject(chooseLayers([big, mid, small, hidden]))).toEqual({ big: 2, mid: 1, small: 0, hidden: 0 });
  });

  it('returns nothing for no tiles', () => {
    expect(chooseLayers([], 1000).size).toBe(0);
  });

  it('keeps every layer when the budget carries them', () => {
    const need = LAYER_KBPS[2] + LAYER_KBPS[1] + LAYER_KBPS[0];
    expect(asObject(chooseLayers([big, mid, small], bandwidthFor(need)))).toEqual({ big: 2, mid: 1, small: 0 });
  });

  it('steps the highest layer down first when the budget is a little short', () => {
    const need = LAYER_KBPS[2] + LAYER_KBPS[1] + LAYER_KBPS[0];
    expect(asObject(chooseLayers([big, mid, small], bandwidthFor(need) - 10))).toEqual({ big: 1, mid: 1, small: 0 });
  });

  it('steps down one layer at a time until it fits', () => {
    expect(asObject(chooseLayers([big, small], bandwidthFor(LAYER_KBPS[1] + LAYER_KBPS[0])))).toEqual({ big: 1, small: 0 });
    expect(asObject(chooseLayers([big, small], bandwidthFor(LAYER_KBPS[1] + LAYER_KBPS[0]) - 10))).toEqual({ big: 0, small: 0 });
  });

  it('ends at the lowest layers when even those do not fit', () => {
    expect(asObject(chooseLayers([big, mid, small], 10))).toEqual({ big: 0, mid: 0, small: 0 });
    expect(asObject(chooseLayers([big, mid], 0))).toEqual({ big: 0, mid: 0 });
  });

  it('keeps 15 % of the bandwidth for audio and overhead', () => {
    // 1500 kbit/s would carry the big layer exactly, but only 85 % of it is spent on video.
    expect(chooseLayers([big], LAYER_KBPS[2]).get('big')).toBe(1);
    expect(chooseLayers([big], bandwidthFor(LAYER_KBPS[2])).get('big')).toBe(2);
  });

  it('gives hidden tiles the lowest layer and does not count them against the budget', () => {
    const out = chooseLayers([big, hidden], bandwidthFor(LAYER_KBPS[2]));
    expect(asObject(out)).toEqual({ big: 2, hidden: 0 });
  });

  // Bug: a tile with one zero side is treated as hidden for the budget, yet its layer is computed
  // from the other side, so a 1280 × 0 tile gets the highest layer outside the budget.
  it('gives a tile with zero height the lowest layer', () => {
    expect(chooseLayers([tile('collapsed', 1280, 0)]).get('collapsed')).toBe(0);
  });
});
