// One photo → one aligned crop of its largest face: the call `--align` on embed/eval/quality needs per image.

import { alignCrop, type AlignedCrop } from './align-image.js';
import { detectInRaw, type DetectOptions, type DetectedFace } from './detect.js';
import { toRawImage, type ImageInput } from './image.js';

export interface AlignLargestOptions extends DetectOptions {
  /** Crop side, px. Default 112. */
  size?: number;
  /** Faces with a smaller box (shorter side, px) are ignored. Default 0. */
  minFace?: number;
}

/** Detect, then align the largest face; undefined when no face (of at least minFace px) is found. */
export async function alignLargestFace(image: ImageInput, opts: AlignLargestOptions = {}): Promise<(AlignedCrop & { face: DetectedFace }) | undefined> {
  const img = await toRawImage(image, opts, typeof image === 'string' ? image : 'image');
  const faces = await detectInRaw(img, opts);
  const face = faces.find((f) => Math.min(f.box.width, f.box.height) >= (opts.minFace ?? 0));
  if (!face) return undefined;
  return { ...alignCrop(img, face.landmarks, opts.size ?? 112), face };
}
