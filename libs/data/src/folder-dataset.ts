// Image-folder datasets, root/<identity>/<image> (torchvision ImageFolder, arcface_torch's fallback when there is
// no train.rec): labels are the indices of the sorted identity folder names; files inside an identity folder are
// found recursively and sorted. JPEG, PNG, BMP and PGM/PPM are read; other files are listed in one warning.

import { open as openFile, readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, relative } from 'node:path';
import { DataError, reason } from './errors.js';
import { decodeImage } from './image/decode.js';
import { IMAGE_EXTENSIONS, probeImage } from './image/probe.js';
import { fitToSquare } from './image/resample.js';
import { mapPool } from './pool.js';
import type { DatasetDescriptor, DecoderChoice, FaceDataset, OpenDatasetOptions } from './types.js';

export interface FolderScan {
  root: string;
  files: string[];
  labels: Int32Array;
  classNames: string[];
  /** Files that are not images by extension (hidden files included). */
  ignored: string[];
  /** Identity folders without any image. */
  emptyClasses: string[];
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() || e.isSymbolicLink()) out.push(p);
  }
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** List identities and images of root/<identity>/<image> without reading any image. */
export async function scanImageFolder(root: string): Promise<FolderScan> {
  let st;
  try {
    st = await stat(root);
  } catch {
    throw new DataError(`${root}: no such folder. Pass a folder laid out as root/<identity>/<image>, a train.rec (with train.idx next to it), or 'synthetic'.`, root);
  }
  if (!st.isDirectory()) throw new DataError(`${root}: is a file, not a folder. Pass a folder laid out as root/<identity>/<image>, or a .rec file.`, root);
  const entries = await readdir(root, { withFileTypes: true });
  const classDirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(byCodePoint);
  const ignored = entries.filter((e) => !e.isDirectory()).map((e) => join(root, e.name));
  if (classDirs.length === 0) {
    const looseImages = ignored.filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase())).length;
    throw new DataError(
      `${root}: no identity sub-folders found${looseImages ? ` (it holds ${looseImages} images directly)` : ''}. Expected root/<identity>/<image>: one folder per person with that person's images inside.`,
      root,
    );
  }
  const files: string[] = [];
  const labels: number[] = [];
  const classNames: string[] = [];
  const emptyClasses: string[] = [];
  for (const name of classDirs) {
    const found: string[] = [];
    await walk(join(root, name), found);
    found.sort(byCodePoint);
    const images = found.filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase()) && !basename(f).startsWith('.'));
    const isImage = new Set(images);
    for (const f of found) if (!isImage.has(f)) ignored.push(f);
    if (images.length === 0) {
      emptyClasses.push(join(root, name));
      continue;
    }
    const label = classNames.length;
    classNames.push(name);
    for (const f of images) {
      files.push(f);
      labels.push(label);
    }
  }
  return { root, files, labels: Int32Array.from(labels), classNames, ignored, emptyClasses };
}

const HEADER_BYTES = 65536;

async function readHead(file: string): Promise<Uint8Array> {
  const fh = await openFile(file, 'r');
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEADER_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export interface FolderCheck {
  /** Files that are unreadable (with the reason), in scan order. */
  bad: Array<{ file: string; reason: string }>;
  /** width×height → count, for files whose header could be read. */
  sizes: Map<string, number>;
  /** An example file per size. */
  sizeExample: Map<string, string>;
}

/** Read every file's header ('header') or decode it ('decode'), collecting sizes and unreadable files. */
export async function checkImages(files: string[], mode: 'header' | 'decode', decoder: DecoderChoice = 'auto'): Promise<FolderCheck> {
  const res: FolderCheck = { bad: [], sizes: new Map(), sizeExample: new Map() };
  const results = await mapPool(files.length, 16, async (i) => {
    const file = files[i]!;
    try {
      if (mode === 'decode') {
        const img = await decodeImage(await readFile(file), file, decoder);
        return { size: `${img.width}×${img.height}` };
      }
      const head = await readHead(file);
      if (head.length === 0) return { bad: 'the file is empty' };
      const p = probeImage(head);
      if (!p) return { bad: 'not a JPEG/PNG/BMP/PGM image' };
      if (p.width === undefined || p.height === undefined) {
        // header beyond the first 64 KiB (large EXIF) or corrupt: decode to find out
        const img = await decodeImage(await readFile(file), file, decoder);
        return { size: `${img.width}×${img.height}` };
      }
      if (p.width === 0 || p.height === 0) return { bad: `header says ${p.width}×${p.height}` };
      return { size: `${p.width}×${p.height}` };
    } catch (e) {
      return { bad: reason(e) };
    }
  });
  results.forEach((r, i) => {
    if ('bad' in r) res.bad.push({ file: files[i]!, reason: r.bad! });
    else {
      res.sizes.set(r.size!, (res.sizes.get(r.size!) ?? 0) + 1);
      if (!res.sizeExample.has(r.size!)) res.sizeExample.set(r.size!, files[i]!);
    }
  });
  return res;
}

export class ImageFolderDataset implements FaceDataset {
  readonly size: number;
  readonly numClasses: number;

  constructor(
    readonly name: string,
    readonly files: string[],
    readonly labels: Int32Array,
    readonly classNames: string[],
    readonly imageSize: number,
    readonly decoder: DecoderChoice = 'auto',
    /** Reject non-square-size images on read instead of resizing. */
    readonly strict = false,
  ) {
    this.size = files.length;
    this.numClasses = classNames.length;
  }

  /** Scan, check and open root/<identity>/<image>. See OpenDatasetOptions for strict / skipBad / check. */
  static async open(root: string, opts: OpenDatasetOptions = {}): Promise<ImageFolderDataset> {
    const size = opts.imageSize ?? 112;
    const warn = opts.onWarning ?? ((m: string) => console.warn(m));
    const scan = await scanImageFolder(root);
    if (scan.ignored.length) {
      warn(`${root}: ignored ${scan.ignored.length} non-image file(s), e.g. ${relative(root, scan.ignored[0]!)} (images: ${IMAGE_EXTENSIONS.join(' ')})`);
    }
    if (scan.emptyClasses.length) {
      const list = scan.emptyClasses.slice(0, 5).join(', ') + (scan.emptyClasses.length > 5 ? `, … (${scan.emptyClasses.length} in all)` : '');
      if (!opts.skipBad) throw new DataError(`${root}: ${scan.emptyClasses.length} identity folder(s) hold no images: ${list}. Remove them, or pass --skip-bad to skip them.`, scan.emptyClasses[0]);
      warn(`${root}: skipped ${scan.emptyClasses.length} empty identity folder(s): ${list}`);
    }
    let { files, labels, classNames } = scan;
    const mode = opts.check ?? 'header';
    if (mode !== 'none' && files.length) {
      const check = await checkImages(files, mode, opts.decoder);
      if (check.bad.length) {
        const list = check.bad.slice(0, 5).map((b) => `${b.file} (${b.reason})`).join('; ') + (check.bad.length > 5 ? `; … (${check.bad.length} in all)` : '');
        if (!opts.skipBad) throw new DataError(`${root}: ${check.bad.length} unreadable image(s): ${list}. Fix or delete them, or pass --skip-bad to skip them.`, check.bad[0]!.file);
        warn(`${root}: skipped ${check.bad.length} unreadable image(s): ${list}`);
        const badSet = new Set(check.bad.map((b) => b.file));
        const keep = files.map((f, i) => (badSet.has(f) ? -1 : i)).filter((i) => i >= 0);
        const keptLabels = keep.map((i) => labels[i]!);
        // identities left without images disappear; relabel the survivors contiguously in the same order
        const used = [...new Set(keptLabels)].sort((a, b) => a - b);
        if (used.length < classNames.length) warn(`${root}: ${classNames.length - used.length} identity folder(s) had only unreadable images and were skipped`);
        const remap = new Map(used.map((l, j) => [l, j]));
        files = keep.map((i) => files[i]!);
        labels = Int32Array.from(keptLabels, (l) => remap.get(l)!);
        classNames = used.map((l) => classNames[l]!);
      }
      const wrong = [...check.sizes.entries()].filter(([s]) => s !== `${size}×${size}`);
      if (wrong.length) {
        const n = wrong.reduce((a, [, c]) => a + c, 0);
        const eg = wrong.slice(0, 3).map(([s, c]) => `${c} at ${s}, e.g. ${check.sizeExample.get(s)}`).join('; ');
        if (opts.strict) throw new DataError(`${root}: ${n} image(s) are not ${size}×${size} (${eg}). Align/resize them to ${size}×${size}, or drop --strict to let Facet resize them.`, check.sizeExample.get(wrong[0]![0]));
        warn(`${root}: ${n} of ${files.length} image(s) are not ${size}×${size} (${eg}); they are resized (short side to ${size}, centre crop). Pass --strict to reject them instead.`);
      }
    }
    if (files.length === 0) throw new DataError(`${root}: no readable images left. Expected root/<identity>/<image> with JPEG, PNG, BMP or PGM files.`, root);
    return new ImageFolderDataset(root, files, labels, classNames, size, opts.decoder ?? 'auto', opts.strict ?? false);
  }

  async read(index: number): Promise<Uint8Array> {
    const file = this.files[index];
    if (file === undefined) throw new RangeError(`${this.name}: index ${index} outside [0, ${this.size})`);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw new DataError(`${file}: cannot read (${reason(e)}); the dataset changed after it was opened? Re-open it.`, file);
    }
    const img = await decodeImage(bytes, file, this.decoder);
    if ((img.width !== this.imageSize || img.height !== this.imageSize) && this.strict) {
      throw new DataError(`${file}: is ${img.width}×${img.height}, not ${this.imageSize}×${this.imageSize} (--strict). Resize it or drop --strict.`, file);
    }
    return fitToSquare(img, this.imageSize);
  }

  describe(index: number): string {
    return this.files[index] ?? `${this.name}#${index}`;
  }

  descriptor(): DatasetDescriptor {
    return { kind: 'folder', name: this.name, files: this.files, labels: this.labels, classNames: this.classNames, imageSize: this.imageSize, decoder: this.decoder, strict: this.strict };
  }
}
