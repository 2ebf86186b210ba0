// @facet/data: training data (image folders, insightface RecordIO, synthetic faces), verification sets (.bin,
// pairs.txt), augmentation and the batch loader.

export type { FaceDataset, DatasetDescriptor, DecoderChoice, OpenDatasetOptions } from './types.js';
export { DataError, reason as errorDetail } from './errors.js';
export { makeRng, mixSeed, shuffleInPlace, type Rng, type RngState } from './rng.js';

export { openDataset, openFromDescriptor, resolveSource, type DatasetKind } from './open.js';
export { ImageFolderDataset, scanImageFolder, type FolderScan } from './folder-dataset.js';
export { RecordIODataset } from './rec-dataset.js';
export {
  RECORDIO_MAGIC,
  RecordIOFile,
  RecordIOWriter,
  readRecordIO,
  writeRecordIO,
  buildRecordIOIndex,
  packIRRecord,
  unpackIRRecord,
  frameRecord,
  unframeRecord,
  idxPathFor,
  type IRHeader,
} from './recordio.js';
export { convertFolderToRec, type ConvertOptions, type ConvertReport } from './convert.js';
export { writeDatasetFolder, type WriteFolderOptions } from './export-folder.js';
export { LABEL_MAP_FILE, writeLabelMap, readLabelMap, labelMapPathForRec, type LabelMap } from './label-map.js';

export { decodeImage, decoderInfo } from './image/decode.js';
export { encodeImage, type EncodeFormat } from './image/encode.js';
export { probeImage, IMAGE_EXTENSIONS, type ImageFormat, type ImageProbe } from './image/probe.js';
export { resizeRgb, fitToSquare, type ResampleFilter, type CropBox } from './image/resample.js';
export type { RawImage } from './image/raw-image.js';

export {
  SyntheticFaceDataset,
  HELD_OUT_IDENTITY_OFFSET,
  parseSyntheticSource,
  syntheticClassName,
  type SyntheticFaceOptions,
} from './synthetic/dataset.js';
export { renderSyntheticFace, type RenderFaceOptions } from './synthetic/render.js';

export {
  augment,
  AUGMENT_PRESETS,
  validateAugmentOptions,
  flipHorizontal,
  downscaleRestore,
  type AugmentOptions,
  type RandomResizedCropOptions,
  type ColorJitterOptions,
  type BlurOptions,
  type DownscaleOptions,
} from './augment.js';
export { normalizeImages } from './normalize.js';
export { BatchLoader, type Batch, type LoaderState, type BatchLoaderOptions } from './loader.js';

export type { VerificationSet } from './verification/types.js';
export { loadBin, writeBin, type LoadVerificationOptions, type WriteBinOptions } from './verification/bin.js';
export { loadPairs, parsePairs } from './verification/pairs.js';
export { syntheticVerificationSet, type SyntheticVerificationOptions } from './verification/synthetic.js';
export { rawPixelVerification, bestThresholdAccuracy, type ThresholdAccuracy } from './verification/raw-pixel.js';
export { unpickle, pickleBinTuple } from './verification/pickle.js';

export { inspectDataset, formatDatasetReport, perIdentityStats, type DatasetReport, type InspectOptions, type PerIdentityStats } from './inspect.js';
export { splitIdentities, SPLIT_DEFAULTS, type SplitOptions, type SplitReport } from './split.js';
export { lowResolutionSet } from './verification/low-resolution.js';
