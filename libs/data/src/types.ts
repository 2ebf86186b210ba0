// The dataset contract that training, eval, metrics and quality code against.

/** A labelled set of square RGB face crops. */
export interface FaceDataset {
  /** Path or 'synthetic'. */
  readonly name: string;
  /** Number of images. */
  readonly size: number;
  readonly numClasses: number;
  /** Label of each image, 0..numClasses-1. */
  readonly labels: Int32Array;
  /** Folder names, or 'id_00042' for sets without names. */
  readonly classNames: string[];
  /** Side of the square images read() returns (112 unless asked otherwise). */
  readonly imageSize: number;
  /** RGB uint8, HWC, imageSize²·3 bytes. Throws a DataError naming the file when it cannot be decoded. */
  read(index: number): Promise<Uint8Array>;
  /** File path or 'rec#123', for error messages and skip lists. */
  describe(index: number): string;
  /** A serialisable recipe to re-open the same dataset in a worker thread (absent: loading stays on the main thread). */
  descriptor?(): DatasetDescriptor;
}

/** Which decoder turns JPEG/PNG bytes into pixels: sharp (libvips) when it loads, else the pure-JS jpeg-js/pngjs. */
export type DecoderChoice = 'auto' | 'sharp' | 'js';

/** How images whose size is not imageSize×imageSize are brought to it. */
export interface SizePolicy {
  imageSize: number;
  /** Reject instead of resizing. */
  strict: boolean;
}

export type DatasetDescriptor =
  | {
      kind: 'folder';
      name: string;
      files: string[];
      labels: Int32Array;
      classNames: string[];
      imageSize: number;
      decoder: DecoderChoice;
      strict: boolean;
    }
  | {
      kind: 'rec';
      name: string;
      recPath: string;
      keys: Float64Array;
      labels: Int32Array;
      classNames: string[];
      imageSize: number;
      decoder: DecoderChoice;
      strict: boolean;
      checkLabels: boolean;
    }
  | {
      kind: 'synthetic';
      options: {
        identities: number;
        imagesPerIdentity: number;
        seed: number;
        imageSize: number;
        identityOffset: number;
        nuisance: number;
      };
    };

export interface OpenDatasetOptions {
  /** Square side images are brought to (default 112, the insightface crop). */
  imageSize?: number;
  /** Reject images that are not imageSize×imageSize instead of resizing them. */
  strict?: boolean;
  /** Skip (and list through onWarning / skipped) unreadable files and empty identities instead of failing. */
  skipBad?: boolean;
  /** Receives each warning once (resize notice, skip lists, ignored files). Default: console.warn. */
  onWarning?: (msg: string) => void;
  /** 'header' (default) reads each image's header when opening a folder; 'decode' decodes every image up front. */
  check?: 'header' | 'decode' | 'none';
  decoder?: DecoderChoice;
  /**
   * RecordIO labels: 'auto' (default) takes them from insightface's identity records when the header has them
   * (fast, exact below 2^24 images) and checks each image header against them on read; 'header' reads every
   * image record's own label (what MXFaceDataset does; one small read per image when opening).
   */
  recLabels?: 'auto' | 'header';
}
