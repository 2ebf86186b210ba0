// Face boxes and insightface's five landmarks from face-api's 68-point landmarks (iBUG 300-W numbering, 0-based):
// eye centres = mean of points 36–41 (image-left eye, the subject's right) and 42–47, nose tip = 30, mouth corners
// = 48 and 54. This is how the five points of the 68-point annotations are usually reduced (e.g. the five-point
// subsets used with 300-W and MTCNN/RetinaFace comparisons).

import { resizeRgb, type RawImage } from '@facet/data';
import { initEngine, tf } from '@facet/engine';
import { AlignError } from './errors.js';
import { loadFaceApi, type DetectorName, type FaceApiPoint } from './face-api.js';
import { toRawImage, type ImageInput, type ImageLimits } from './image.js';
import type { FivePoints, Point } from './template.js';

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DetectedFace {
  /** In pixels of the upright (EXIF-rotated) image. */
  box: FaceBox;
  /** Detector confidence, 0–1. */
  score: number;
  /** insightface order: left eye, right eye, nose tip, left mouth corner, right mouth corner (image left/right). */
  landmarks: FivePoints;
  /** The detector's 68 points, for drawing and checks. */
  landmarks68: Point[];
}

export interface DetectOptions extends ImageLimits {
  /** 'ssd': SSD-MobileNetV1 (more accurate); 'tiny': TinyFaceDetector (faster, misses small faces). Default 'ssd'. */
  detector?: DetectorName;
  /** Lowest detector score kept. Default 0.5 (insightface's RetinaFace `det_thresh`). */
  minScore?: number;
  /** Detection runs on the image downscaled so its longer side is at most this (px); boxes and points are mapped back. Default 1280. */
  maxSide?: number;
  /** TinyFaceDetector's input size (a multiple of 32). Default 416. */
  tinyInputSize?: number;
}

export const DETECT_DEFAULTS = { detector: 'ssd' as DetectorName, minScore: 0.5, maxSide: 1280, tinyInputSize: 416 };

/** Options with every unset (or undefined) field at its default. */
export function withDefaults(opts: DetectOptions): DetectOptions & typeof DETECT_DEFAULTS {
  const set = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return { ...DETECT_DEFAULTS, ...set };
}

/** One clear line for options out of range (they name the CLI flag too). */
export function checkDetectOptions(o: DetectOptions & typeof DETECT_DEFAULTS): void {
  if (!(o.minScore >= 0 && o.minScore <= 1)) throw new AlignError(`minScore ${o.minScore}: must be between 0 and 1 (--min-score).`);
  if (o.detector !== 'ssd' && o.detector !== 'tiny') throw new AlignError(`detector '${o.detector}': use ssd or tiny (--detector).`);
  if (!(Number.isInteger(o.maxSide) && o.maxSide >= 64)) throw new AlignError(`maxSide ${o.maxSide}: must be a whole number of pixels ≥ 64 (--max-side).`);
  if (o.detector === 'tiny' && !(o.tinyInputSize > 0 && o.tinyInputSize % 32 === 0)) throw new AlignError(`tinyInputSize ${o.tinyInputSize}: must be a positive multiple of 32.`);
}

const mean = (pts: FaceApiPoint[]): Point => [pts.reduce((s, p) => s + p.x, 0) / pts.length, pts.reduce((s, p) => s + p.y, 0) / pts.length];

/** The five insightface points from 68 iBUG points. */
export function fivePointsFrom68(p: ReadonlyArray<FaceApiPoint>): FivePoints {
  if (p.length !== 68) throw new Error(`fivePointsFrom68: expected 68 points, got ${p.length}`);
  return [mean(p.slice(36, 42)), mean(p.slice(42, 48)), [p[30]!.x, p[30]!.y], [p[48]!.x, p[48]!.y], [p[54]!.x, p[54]!.y]];
}

/** Detect faces, largest first. `image`: RGB pixels, encoded bytes or a path (EXIF orientation applied). */
export async function detectFaces(image: ImageInput, opts: DetectOptions = {}): Promise<DetectedFace[]> {
  const img = await toRawImage(image, opts);
  return detectInRaw(img, opts);
}

/** detectFaces on decoded upright RGB (alignFaces decodes once and uses the pixels for both steps). */
export async function detectInRaw(img: RawImage, opts: DetectOptions = {}): Promise<DetectedFace[]> {
  const o = withDefaults(opts);
  checkDetectOptions(o);
  await initEngine();
  const { api } = await loadFaceApi(o.detector);
  const scale = Math.min(1, o.maxSide / Math.max(img.width, img.height));
  let w = img.width, h = img.height, data = img.data;
  if (scale < 1) {
    w = Math.max(1, Math.round(img.width * scale));
    h = Math.max(1, Math.round(img.height * scale));
    data = resizeRgb(img.data, img.width, img.height, w, h, 'triangle');
  }
  const input = tf.tensor3d(data, [h, w, 3], 'int32');
  let results;
  try {
    const options = o.detector === 'ssd'
      ? new api.SsdMobilenetv1Options({ minConfidence: o.minScore, maxResults: 100 })
      : new api.TinyFaceDetectorOptions({ scoreThreshold: o.minScore, inputSize: o.tinyInputSize });
    results = await api.detectAllFaces(input, options).withFaceLandmarks();
  } finally {
    input.dispose();
  }
  const sx = img.width / w, sy = img.height / h;
  const faces = results.map((r): DetectedFace => {
    const b = r.detection.box;
    const pts = r.landmarks.positions.map((p) => ({ x: p.x * sx, y: p.y * sy }));
    return {
      box: { x: b.x * sx, y: b.y * sy, width: b.width * sx, height: b.height * sy },
      score: r.detection.score,
      landmarks: fivePointsFrom68(pts),
      landmarks68: pts.map((p): Point => [p.x, p.y]),
    };
  });
  return faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
}
