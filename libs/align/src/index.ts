// @facet/align: real photos → insightface's 112×112 ArcFace crops. Face boxes and 68 landmarks from
// @vladmandic/face-api on Facet's own tfjs engine, reduced to insightface's five points, mapped onto the ArcFace
// template by the least-squares similarity (Umeyama) and warped as cv2.warpAffine does in insightface's norm_crop.
export { ARCFACE_TEMPLATE_112, arcfaceTemplate, type FivePoints, type Point } from './template.js';
export { estimateSimilarity, applyAffine, invertAffine, type Affine, type SimilarityFit } from './similarity.js';
export { warpAffine } from './warp.js';
export { AlignError } from './errors.js';
export { toRawImage, decodeUpright, DEFAULT_MIN_SIDE, DEFAULT_MAX_PIXELS, type ImageInput, type ImageLimits } from './image.js';
export { loadFaceApi, type DetectorName, type LoadedDetector } from './face-api.js';
export { detectFaces, detectInRaw, fivePointsFrom68, DETECT_DEFAULTS, type DetectedFace, type DetectOptions, type FaceBox } from './detect.js';
export { alignImage, alignCrop, type AlignedCrop } from './align-image.js';
export { alignLargestFace, type AlignLargestOptions } from './align-one.js';
export { alignContactSheet, type AlignSheetTile } from './contact-sheet.js';
export {
  alignFaces,
  ALIGN_MANIFEST,
  CONTACT_SHEET,
  type AlignFacesOptions,
  type AlignProgress,
  type AlignReport,
  type AlignManifest,
  type ImageRecord,
  type AlignedFaceRecord,
  type ImageStatus,
  type MultiplePolicy,
} from './align-folder.js';
