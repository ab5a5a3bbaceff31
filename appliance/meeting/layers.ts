// Janus forwards whatever simulcast layer a subscriber asks for and never adapts to bandwidth, so the
// service decides: per tile, the smallest layer that fills it, lowered while the receiver's bandwidth
// budget cannot carry it.
import type { TileView } from './protocol.js';

export type Substream = 0 | 1 | 2;

/** What the client publishes (see ui/): 1/4, 1/2 and full resolution of a camera up to 1280×720. */
export const LAYER_HEIGHT: Record<Substream, number> = { 0: 180, 1: 360, 2: 720 };
/** Rough bitrate of each layer, kbit/s, matching the client's maxBitrate settings. */
export const LAYER_KBPS: Record<Substream, number> = { 0: 150, 1: 500, 2: 1500 };

/** The smallest layer that covers a tile of this size in device pixels (a little upscaling is fine). */
export function layerForTile(width: number, height: number): Substream {
  if (width <= 0 || height <= 0) return 0; // not visible
  const h = Math.max(height, (width * 9) / 16);
  if (h > LAYER_HEIGHT[1] * 1.25) return 2;
  if (h > LAYER_HEIGHT[0] * 1.25) return 1;
  return 0;
}

/** One choice per tile; tiles of hidden participants (size 0) get the lowest layer. */
export function chooseLayers(tiles: readonly TileView[], bandwidthKbps?: number): Map<string, Substream> {
  const out = new Map<string, Substream>();
  const visible = tiles.filter((t) => t.width > 0 && t.height > 0);
  for (const t of tiles) out.set(t.participant, layerForTile(t.width, t.height));
  if (bandwidthKbps === undefined || visible.length === 0) return out;
  // Keep 15 % for audio and overhead; then step down the largest tiles first until it fits.
  const budget = bandwidthKbps * 0.85;
  const total = (): number => visible.reduce((sum, t) => sum + LAYER_KBPS[out.get(t.participant) ?? 0], 0);
  while (total() > budget) {
    let biggest: TileView | undefined;
    for (const t of visible) {
      const layer = out.get(t.participant) ?? 0;
      if (layer > 0 && (!biggest || layer > (out.get(biggest.participant) ?? 0) || (layer === out.get(biggest.participant) && t.height * t.width < biggest.height * biggest.width))) biggest = t;
    }
    if (!biggest) break;
    out.set(biggest.participant, ((out.get(biggest.participant) ?? 1) - 1) as Substream);
  }
  return out;
}
