// insightface's five-point template for ArcFace crops (python-package/insightface/utils/face_align.py,
// `arcface_dst`): left eye, right eye, nose tip, left and right mouth corner, in pixels of a 112×112 crop, where
// "left" is the image's left (the subject's right eye).

export type Point = [number, number];
/** Five landmarks in insightface's order: left eye, right eye, nose tip, left mouth corner, right mouth corner. */
export type FivePoints = [Point, Point, Point, Point, Point];

export const ARCFACE_TEMPLATE_112: Readonly<FivePoints> = Object.freeze([
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
]) as Readonly<FivePoints>;

/**
 * The template for a `size`×`size` crop. insightface's `estimate_norm` scales it by size/112 when size is a multiple
 * of 112, and for multiples of 128 scales by size/128 and shifts x by 8·size/128 (the 112 face centred in a 128
 * canvas); any other size is scaled by size/112.
 */
export function arcfaceTemplate(size = 112): FivePoints {
  if (!Number.isInteger(size) || size < 8) throw new Error(`crop size ${size}: must be a whole number of pixels ≥ 8 (insightface uses 112)`);
  const use128 = size % 128 === 0 && size % 112 !== 0;
  const ratio = use128 ? size / 128 : size / 112;
  const dx = use128 ? 8 * ratio : 0;
  return ARCFACE_TEMPLATE_112.map(([x, y]) => [x * ratio + dx, y * ratio]) as FivePoints;
}
