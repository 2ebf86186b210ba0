// A grid of aligned crops with the five landmarks drawn where the transform put them (a quick visual check that the
// eyes sit on the template's eye line), written as one PNG next to the crops.

import type { RawImage } from '@facet/data';
import type { Point } from './template.js';

/** Dot colours per landmark: eyes red/green, nose blue, mouth corners yellow/magenta. */
const COLOURS: ReadonlyArray<[number, number, number]> = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 128, 255],
  [255, 255, 0],
  [255, 0, 255],
];

export interface AlignSheetTile {
  image: RawImage;
  /** Landmarks in the tile's pixels. */
  points: Point[];
}

export function alignContactSheet(tiles: AlignSheetTile[], columns = 8, gap = 2): RawImage {
  if (tiles.length === 0) return { data: new Uint8Array(3 * 8 * 8).fill(255), width: 8, height: 8 };
  const tw = Math.max(...tiles.map((t) => t.image.width));
  const th = Math.max(...tiles.map((t) => t.image.height));
  const cols = Math.min(columns, tiles.length);
  const rows = Math.ceil(tiles.length / cols);
  const width = cols * tw + (cols + 1) * gap;
  const height = rows * th + (rows + 1) * gap;
  const data = new Uint8Array(width * height * 3).fill(255);
  tiles.forEach((t, i) => {
    const ox = gap + (i % cols) * (tw + gap);
    const oy = gap + Math.floor(i / cols) * (th + gap);
    for (let y = 0; y < t.image.height; y++) {
      data.set(t.image.data.subarray(y * t.image.width * 3, (y + 1) * t.image.width * 3), ((oy + y) * width + ox) * 3);
    }
    t.points.forEach(([px, py], k) => {
      const c = COLOURS[k % COLOURS.length]!;
      const cx = Math.round(px), cy = Math.round(py);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const x = cx + dx, y = cy + dy;
          if (x < 0 || y < 0 || x >= t.image.width || y >= t.image.height) continue;
          data.set(c, ((oy + y) * width + ox + x) * 3);
        }
      }
    });
  });
  return { data, width, height };
}
