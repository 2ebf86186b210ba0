// insightface's `norm_crop`: the similarity that best maps the five detected points onto the ArcFace template
// (least squares, Umeyama), then a bilinear warp of the image into a size×size crop with a black border.

import type { RawImage } from '@facet/data';
import { toRawImage, type ImageInput, type ImageLimits } from './image.js';
import { estimateSimilarity, type Affine } from './similarity.js';
import { arcfaceTemplate, type FivePoints } from './template.js';
import { warpAffine } from './warp.js';

export interface AlignedCrop {
  /** size×size RGB. */
  image: RawImage;
  /** Image pixels → crop pixels (insightface's `M`, cv2.warpAffine's layout). */
  transform: Affine;
  scale: number;
  /** Rotation the transform applies, in degrees, in image coordinates (y down): positive turns clockwise on screen. */
  rotationDeg: number;
  /** RMS distance (crop px) between the mapped landmarks and the template: large values mean a poor fit (profile faces, bad points). */
  rms: number;
}

function checkLandmarks(landmarks: FivePoints): void {
  if (!Array.isArray(landmarks) || landmarks.length !== 5 || !landmarks.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite))) {
    throw new Error('landmarks: expected five [x, y] points (left eye, right eye, nose tip, left and right mouth corner)');
  }
}

/** Align decoded RGB pixels (synchronous; the form to use when the image is already decoded). */
export function alignCrop(img: RawImage, landmarks: FivePoints, size = 112): AlignedCrop {
  checkLandmarks(landmarks);
  const fit = estimateSimilarity(landmarks, arcfaceTemplate(size));
  return { image: warpAffine(img, fit.matrix, size), transform: fit.matrix, scale: fit.scale, rotationDeg: (fit.rotation * 180) / Math.PI, rms: fit.rms };
}

/** Align an image (RGB pixels, encoded bytes or a path; EXIF orientation applied) from five landmarks in its pixels. */
export async function alignImage(image: ImageInput, landmarks: FivePoints, size = 112, limits: ImageLimits = {}): Promise<AlignedCrop> {
  return alignCrop(await toRawImage(image, limits), landmarks, size);
}
