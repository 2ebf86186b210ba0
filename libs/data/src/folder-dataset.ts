// Image-folder datasets, root/<identity>/<image> (torchvision ImageFolder, arcface_torch's fallback when there is
// no train.rec): labels are the indices of the sorted identity folder names; files inside an identity folder are
// found recursively and sorted. JPEG, PNG, BMP and PGM/PPM are read; other files are listed in one warning.

import { open as openFile, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
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
  /** Symbolic links that lead nowhere (dangling, or a loop of links), with the reason: unreadable items. */
  brokenLinks: Array<{ file: string; reason: string }>;
  /** Linked folders not followed because their real folder is already walked (a loop, or a second way in). */
  skippedLinks: Array<{ file: string; reason: string }>;
}

/** What a symbolic link resolves to (a folder's real path), or why it leads nowhere. */
async function followLink(p: string): Promise<{ dir: boolean; real: string } | { broken: string }> {
  try {
    const st = await stat(p);
    // only folders need their real path (loop detection); a linked image file costs one stat
    return st.isDirectory() ? { dir: true, real: await realpath(p) } : { dir: false, real: '' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return { broken: 'symbolic link loop (the links point at each other)' };
    let target = '?';
    try {
      target = await readlink(p);
    } catch {
      // keep '?': the link vanished meanwhile
    }
    return { broken: code === 'ENOENT' ? `broken symbolic link to ${target}` : `symbolic link to ${target}: ${reason(e)}` };
  }
}

/**
 * Files under `dir`, following linked folders and files (a training subset is often a folder of links to the
 * identity folders of a full set). `seen` holds the real paths of the folders walked so far, `taken` those of the
 * dataset root and the identity folders: a folder whose real path is in either is a loop or a second way to the
 * same images, so it is skipped and listed — the walk visits each real folder once, so it always ends. `dirReal` is
 * `dir`'s real path: a plain sub-folder's is that plus its name, so only links cost a realpath call.
 */
async function walk(
  dir: string,
  dirReal: string,
  out: string[],
  seen: Set<string>,
  taken: ReadonlyMap<string, string>,
  scan: Pick<FolderScan, 'brokenLinks' | 'skippedLinks'>,
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const real = join(dirReal, e.name);
      // a real sub-folder seen before was reached through a link too (the link's target overlaps this tree)
      if (seen.has(real) || taken.has(real)) scan.skippedLinks.push({ file: p, reason: `${real} was already scanned through a symbolic link` });
      else {
        seen.add(real);
        await walk(p, real, out, seen, taken, scan);
      }
    } else if (e.isSymbolicLink()) {
      const t = await followLink(p);
      if ('broken' in t) scan.brokenLinks.push({ file: p, reason: t.broken });
      else if (!t.dir) out.push(p);
      else if (seen.has(t.real) || taken.has(t.real)) scan.skippedLinks.push({ file: p, reason: `links to ${t.real}, a folder already scanned (a loop, or a second link to the same images)` });
      else {
        seen.add(t.real);
        await walk(p, t.real, out, seen, taken, scan);
      }
    } else if (e.isFile()) out.push(p);
  }
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Files Facet writes at the root of an image folder: synth's labels, align's manifest, contact sheet and fingerprint. */
const FACET_FOLDER_FILES = new Set(['labels.json', 'align.json', 'contact-sheet.png', '.facet-align-fingerprint']);

/** List identities and images of root/<identity>/<image> without reading any image. Links are followed. */
export async function scanImageFolder(root: string): Promise<FolderScan> {
  let st;
  try {
    st = await stat(root);
  } catch {
    throw new DataError(`${root}: no such folder. Pass a folder laid out as root/<identity>/<image>, a train.rec (with train.idx next to it), or 'synthetic'.`, root);
  }
  if (!st.isDirectory()) throw new DataError(`${root}: is a file, not a folder. Pass a folder laid out as root/<identity>/<image>, or a .rec file.`, root);
  const scan: Pick<FolderScan, 'brokenLinks' | 'skippedLinks'> = { brokenLinks: [], skippedLinks: [] };
  const rootReal = await realpath(root);
  const entries = (await readdir(root, { withFileTypes: true })).sort((a, b) => byCodePoint(a.name, b.name));
  // identity folders: real folders and links to folders; two names for one real folder would give its images two labels
  const classDirs: Array<{ name: string; real: string }> = [];
  const ignored: string[] = [];
  const realOwner = new Map<string, string>([[rootReal, '.']]);
  for (const e of entries) {
    const p = join(root, e.name);
    let real: string;
    if (e.isDirectory()) real = join(rootReal, e.name);
    else if (e.isSymbolicLink()) {
      const t = await followLink(p);
      if ('broken' in t) {
        scan.brokenLinks.push({ file: p, reason: t.broken });
        continue;
      }
      if (!t.dir) {
        ignored.push(p);
        continue;
      }
      real = t.real;
    } else {
      // Facet's own files beside the identity folders (facet data synth / data align) are not stray data
      if (!FACET_FOLDER_FILES.has(e.name)) ignored.push(p);
      continue;
    }
    if (e.name.startsWith('.')) continue;
    const owner = realOwner.get(real);
    if (owner !== undefined) {
      scan.skippedLinks.push({ file: p, reason: owner === '.' ? 'links to the dataset folder itself (a loop)' : `links to the same folder as identity ${owner} (${real})` });
      continue;
    }
    realOwner.set(real, e.name);
    classDirs.push({ name: e.name, real });
  }
  if (classDirs.length === 0) {
    const looseImages = ignored.filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase())).length;
    const links = scan.brokenLinks.length ? ` (${scan.brokenLinks.length} broken symbolic link(s), e.g. ${scan.brokenLinks[0]!.file}: ${scan.brokenLinks[0]!.reason})` : '';
    throw new DataError(
      `${root}: no identity sub-folders found${looseImages ? ` (it holds ${looseImages} images directly)` : ''}${links}. Expected root/<identity>/<image>: one folder per person with that person's images inside (folders or links to folders).`,
      root,
    );
  }
  const files: string[] = [];
  const labels: number[] = [];
  const classNames: string[] = [];
  const emptyClasses: string[] = [];
  for (const { name, real } of classDirs) {
    const found: string[] = [];
    // the root and every identity folder (realOwner) count as seen: a link back to any of them is a loop or a duplicate
    await walk(join(root, name), real, found, new Set(), realOwner, scan);
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
  scan.brokenLinks.sort((a, b) => byCodePoint(a.file, b.file));
  return { root, files, labels: Int32Array.from(labels), classNames, ignored, emptyClasses, ...scan };
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
    if (scan.skippedLinks.length) {
      const list = scan.skippedLinks.slice(0, 3).map((l) => `${l.file} (${l.reason})`).join('; ') + (scan.skippedLinks.length > 3 ? `; … (${scan.skippedLinks.length} in all)` : '');
      warn(`${root}: did not follow ${scan.skippedLinks.length} linked folder(s): ${list}`);
    }
    if (scan.brokenLinks.length) {
      // a dangling link is an image (or identity) the user meant to include: never dropped without a word
      const list = scan.brokenLinks.slice(0, 5).map((b) => `${b.file} (${b.reason})`).join('; ') + (scan.brokenLinks.length > 5 ? `; … (${scan.brokenLinks.length} in all)` : '');
      if (!opts.skipBad) throw new DataError(`${root}: ${scan.brokenLinks.length} unreadable symbolic link(s): ${list}. Fix or delete the links, or pass --skip-bad to skip them.`, scan.brokenLinks[0]!.file);
      warn(`${root}: skipped ${scan.brokenLinks.length} unreadable symbolic link(s): ${list}`);
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
