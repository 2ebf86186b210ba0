// A folder of photos → a folder of aligned crops, layout kept: src/<identity>/<img> → dst/<identity>/<img>.png
// (what arcface_torch's image-folder loader and `facet data convert` read). Every image ends up in dst/align.json
// with what happened to it (its faces, boxes, scores, landmarks and transforms, or why it gave no crop), so nothing
// is dropped silently; dst/contact-sheet.png shows a sample of crops with their landmarks.

import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { scanImageFolder, type RawImage } from '@facet/data';
import { alignCrop } from './align-image.js';
import { alignContactSheet, type AlignSheetTile } from './contact-sheet.js';
import { checkDetectOptions, detectInRaw, withDefaults, type DetectOptions, type DetectedFace, type FaceBox } from './detect.js';
import { AlignError, reason } from './errors.js';
import { loadFaceApi } from './face-api.js';
import { encodePng, toRawImage } from './image.js';
import { applyAffine, type Affine } from './similarity.js';
import type { FivePoints, Point } from './template.js';

export type MultiplePolicy = 'largest' | 'all' | 'skip';
export type ImageStatus = 'aligned' | 'no-face' | 'several-faces' | 'too-small' | 'unreadable';

export interface AlignFacesOptions extends DetectOptions {
  /** Crop side in px. Default 112 (insightface's ArcFace input). */
  size?: number;
  /** Images with several faces: keep the largest (default), crop all of them, or skip the image. */
  multiple?: MultiplePolicy;
  /** Faces whose box is smaller than this (shorter side, px of the photo) are ignored. Default 0 (keep all, as insightface). */
  minFace?: number;
  /** Crops on the contact sheet (evenly spaced over the images). Default 48; 0 writes no sheet. */
  sheetSamples?: number;
  onProgress?: (p: AlignProgress) => void;
}

export interface AlignProgress {
  done: number;
  total: number;
  /** Images finished per second since the start (decode + detect + warp + write). */
  imagesPerSecond: number;
  crops: number;
  failed: number;
}

export interface AlignedFaceRecord {
  /** Crop path relative to dst. */
  output: string;
  box: FaceBox;
  score: number;
  /** Five points in the photo's (upright) pixels. */
  landmarks: FivePoints;
  /** Photo pixels → crop pixels, [[a, b, c], [d, e, f]]. */
  transform: Affine;
  /** RMS distance of the mapped landmarks from the template, crop px. */
  rms: number;
}

export interface ImageRecord {
  /** Path relative to src. */
  source: string;
  status: ImageStatus;
  /** Why no crop came out (status other than 'aligned'). */
  reason?: string;
  width?: number;
  height?: number;
  /** Faces the detector found at minScore, before minFace and the multiple policy. */
  detected: number;
  faces: AlignedFaceRecord[];
}

export interface AlignManifest {
  format: 'facet-align/1';
  detector: string;
  template: 'insightface arcface_dst';
  size: number;
  options: { multiple: MultiplePolicy; minFace: number; minScore: number; maxSide: number };
  images: ImageRecord[];
}

export interface AlignReport {
  src: string;
  dst: string;
  detector: string;
  images: number;
  identities: number;
  /** Images that gave at least one crop. */
  aligned: number;
  crops: number;
  noFace: string[];
  severalFaces: string[];
  tooSmall: string[];
  unreadable: Array<{ file: string; reason: string }>;
  /** aligned / images. */
  detectionRate: number;
  seconds: number;
  imagesPerSecond: number;
  manifestPath: string;
  contactSheetPath?: string;
}

export const ALIGN_MANIFEST = 'align.json';
export const CONTACT_SHEET = 'contact-sheet.png';

async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    throw new AlignError(`${path}: cannot write it (${reason(e)}); check that the output folder is writable and has space.`, path, reason(e));
  }
}

/** Output names: <stem>.png, or <name>.png where two images of one folder share a stem (a.jpg and a.png). */
function outputNames(files: string[]): string[] {
  const key = (rel: string) => join(dirname(rel), basename(rel, extname(rel)));
  const count = new Map<string, number>();
  for (const f of files) count.set(key(f), (count.get(key(f)) ?? 0) + 1);
  return files.map((f) => (count.get(key(f))! > 1 ? f : key(f)));
}

function pickFaces(faces: DetectedFace[], minFace: number, multiple: MultiplePolicy): { keep: DetectedFace[]; status: ImageStatus; reason?: string } {
  if (faces.length === 0) return { keep: [], status: 'no-face', reason: 'no face found' };
  const big = faces.filter((f) => Math.min(f.box.width, f.box.height) >= minFace);
  if (big.length === 0) {
    const largest = Math.max(...faces.map((f) => Math.min(f.box.width, f.box.height)));
    return { keep: [], status: 'too-small', reason: `${faces.length} face(s), the largest ${largest.toFixed(0)} px, under minFace ${minFace} px` };
  }
  if (big.length > 1 && multiple === 'skip') return { keep: [], status: 'several-faces', reason: `${big.length} faces (multiple: skip)` };
  // detectInRaw sorts largest first
  return { keep: multiple === 'all' ? big : [big[0]!], status: 'aligned' };
}

/**
 * Detect, align and write every image of `src` (root/<identity>/<image>, linked identity folders followed) into
 * `dst` with the same layout. Bad images are listed, never fatal; a missing `src` is an AlignError.
 */
export async function alignFaces(src: string, dst: string, opts: AlignFacesOptions = {}): Promise<AlignReport> {
  const size = opts.size ?? 112;
  const multiple = opts.multiple ?? 'largest';
  const minFace = opts.minFace ?? 0;
  const sheetSamples = opts.sheetSamples ?? 48;
  if (!['largest', 'all', 'skip'].includes(multiple)) throw new AlignError(`multiple '${multiple}': use largest, all or skip (--multiple).`);
  if (!(minFace >= 0)) throw new AlignError(`minFace ${minFace}: must be ≥ 0 px (--min-face).`);
  if (!(Number.isInteger(size) && size >= 8)) throw new AlignError(`size ${size}: must be a whole number of pixels ≥ 8 (--size; insightface uses 112).`);
  const detectOpts = withDefaults(opts);
  checkDetectOptions(detectOpts);
  let scan;
  try {
    scan = await scanImageFolder(src);
  } catch (e) {
    throw new AlignError(e instanceof Error ? e.message : String(e), src);
  }
  const detector = (await loadFaceApi(detectOpts.detector)).name;
  const rel = scan.files.map((f) => relative(src, f));
  const names = outputNames(rel).map((n) => n.split(sep).join('/'));
  // second and later faces ('all') get <name>_<k>, made unique against every image's own output name
  const used = new Set(names);
  const extraName = (name: string, k: number) => {
    let candidate = `${name}_${k}`;
    while (used.has(candidate)) candidate += '_';
    used.add(candidate);
    return candidate;
  };
  const total = rel.length;
  const records: ImageRecord[] = [];
  const tiles: AlignSheetTile[] = [];
  const sampleEvery = sheetSamples > 0 ? Math.max(1, total / sheetSamples) : Infinity;
  let nextSample = 0;
  let crops = 0, failed = 0;
  const t0 = performance.now();
  // decode the next image while this one is being detected (sharp decodes off the JS thread)
  const decode = (i: number) => toRawImage(scan.files[i]!, detectOpts).then((img): RawImage | Error => img, (e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  let pending = total > 0 ? decode(0) : undefined;
  for (let i = 0; i < total; i++) {
    const img = await pending!;
    pending = i + 1 < total ? decode(i + 1) : undefined;
    const record: ImageRecord = { source: rel[i]!.split(sep).join('/'), status: 'unreadable', detected: 0, faces: [] };
    records.push(record);
    if (img instanceof Error) {
      record.reason = reason(img);
      failed++;
    } else {
      record.width = img.width;
      record.height = img.height;
      let faces: DetectedFace[] = [];
      try {
        faces = await detectInRaw(img, detectOpts);
      } catch (e) {
        record.reason = `detection failed: ${reason(e)}`;
      }
      if (!record.reason) {
        record.detected = faces.length;
        const pick = pickFaces(faces, minFace, multiple);
        record.status = pick.status;
        if (pick.reason) record.reason = pick.reason;
        for (let k = 0; k < pick.keep.length; k++) {
          const face = pick.keep[k]!;
          const crop = alignCrop(img, face.landmarks, size);
          const output = `${k === 0 ? names[i]! : extraName(names[i]!, k)}.png`;
          await writeAtomic(join(dst, output), await encodePng(crop.image));
          record.faces.push({ output, box: face.box, score: face.score, landmarks: face.landmarks, transform: crop.transform, rms: crop.rms });
          if (k === 0 && i >= nextSample && tiles.length < sheetSamples) {
            tiles.push({ image: crop.image, points: face.landmarks.map((p): Point => applyAffine(crop.transform, p)) });
            nextSample += sampleEvery;
          }
        }
        crops += pick.keep.length;
      }
      if (record.status !== 'aligned') failed++;
    }
    const seconds = (performance.now() - t0) / 1000;
    opts.onProgress?.({ done: i + 1, total, imagesPerSecond: (i + 1) / seconds, crops, failed });
  }
  const seconds = (performance.now() - t0) / 1000;
  // broken links are images that could not be read: listed like the others
  for (const b of scan.brokenLinks) records.push({ source: relative(src, b.file).split(sep).join('/'), status: 'unreadable', reason: b.reason, detected: 0, faces: [] });
  const manifest: AlignManifest = {
    format: 'facet-align/1',
    detector,
    template: 'insightface arcface_dst',
    size,
    options: { multiple, minFace, minScore: detectOpts.minScore, maxSide: detectOpts.maxSide },
    images: records,
  };
  const manifestPath = join(dst, ALIGN_MANIFEST);
  await writeAtomic(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
  let contactSheetPath: string | undefined;
  if (tiles.length > 0) {
    contactSheetPath = join(dst, CONTACT_SHEET);
    await writeAtomic(contactSheetPath, await encodePng(alignContactSheet(tiles)));
  }
  const list = (s: ImageStatus) => records.filter((r) => r.status === s).map((r) => r.source);
  const aligned = records.filter((r) => r.status === 'aligned').length;
  return {
    src,
    dst,
    detector,
    images: records.length,
    identities: scan.classNames.length,
    aligned,
    crops,
    noFace: list('no-face'),
    severalFaces: list('several-faces'),
    tooSmall: list('too-small'),
    unreadable: records.filter((r) => r.status === 'unreadable').map((r) => ({ file: r.source, reason: r.reason ?? 'unreadable' })),
    detectionRate: records.length ? aligned / records.length : 0,
    seconds,
    imagesPerSecond: total / Math.max(seconds, 1e-9),
    manifestPath,
    ...(contactSheetPath ? { contactSheetPath } : {}),
  };
}
