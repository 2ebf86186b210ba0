// LFW-style pairs.txt over an image folder (the format of LFW's View 2 and of CALFW/CPLFW-style lists):
//   optional header   "10\t300"  (folds, pairs per fold) or "6000"
//   genuine pair      "name\tn1\tn2"           → root/name/name_000n1.jpg vs root/name/name_000n2.jpg
//   impostor pair     "name1\tn1\tname2\tn2"
//   explicit paths    "pathA pathB 1|0"        (paths relative to root; 1 = same person)
//   with a fold       "pathA pathB 1|0 fold"   (integer fold id: the pairs of one id are one verification fold)
// A fold column is all or nothing: either every pair line has one or none does.
// The image extension is found among .jpg .jpeg .png .bmp .pgm .ppm.

import { existsSync, lstatSync, readlinkSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { DataError, reason } from '../errors.js';
import { decodeImage } from '../image/decode.js';
import { IMAGE_EXTENSIONS } from '../image/probe.js';
import { fitToSquare } from '../image/resample.js';
import { mapPool } from '../pool.js';
import type { LoadVerificationOptions } from './bin.js';
import type { VerificationSet } from './types.js';

interface PairLine {
  line: number;
  a: string;
  b: string;
  same: boolean;
  /** Fold id from the fourth column of "pathA pathB same fold" lines. */
  fold?: number;
}

const isInt = (s: string) => /^\d+$/.test(s);
const isSignedInt = (s: string) => /^-?\d+$/.test(s);

function lfwImage(root: string, name: string, n: string): string {
  const stem = join(root, name, `${name}_${n.padStart(4, '0')}`);
  for (const ext of IMAGE_EXTENSIONS) if (existsSync(stem + ext)) return stem + ext;
  return stem + '.jpg';
}

/**
 * The image a pairs line names, or — when that file is absent — the same name with another image extension: an
 * aligned copy of a photo folder (facet data align, --align) stores `a/1.jpg` as `a/1.png` (or `a/1.jpg.png`).
 */
function sameStemImage(file: string): string {
  if (existsSync(file)) return file;
  const dot = file.lastIndexOf('.');
  const stem = dot > file.lastIndexOf('/') ? file.slice(0, dot) : file;
  for (const candidate of [...IMAGE_EXTENSIONS.map((ext) => stem + ext), `${file}.png`]) if (existsSync(candidate)) return candidate;
  return file;
}

/**
 * Why an image named in the pairs file cannot be opened: a dangling link or a loop of links is named as such
 * (images under a root of symbolic links are followed like any file), anything else is missing.
 */
function whyAbsent(file: string): string {
  try {
    if (!lstatSync(file).isSymbolicLink()) return 'missing';
  } catch {
    return 'missing';
  }
  try {
    statSync(file);
    return 'unreadable';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') return 'symbolic link loop';
    let target = '?';
    try {
      target = readlinkSync(file);
    } catch {
      // keep '?'
    }
    return `broken symbolic link to ${target}`;
  }
}

/** Parse pairs.txt into image paths (not checked for existence). */
export function parsePairs(text: string, pairsPath: string, root: string): { pairs: PairLine[]; declared?: number; hasFolds: boolean } {
  const lines = text.split(/\r?\n/);
  const pairs: PairLine[] = [];
  let declared: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim().split(/\s+/).filter(Boolean);
    if (t.length === 0 || t[0]!.startsWith('#')) continue;
    const at = `${pairsPath}:${i + 1}`;
    if (pairs.length === 0 && declared === undefined && t.length <= 2 && t.every(isInt)) {
      declared = t.reduce((a, s) => a * Number(s), 1);
      continue;
    }
    if (t.length === 3 && isInt(t[1]!) && isInt(t[2]!)) {
      pairs.push({ line: i + 1, a: lfwImage(root, t[0]!, t[1]!), b: lfwImage(root, t[0]!, t[2]!), same: true });
    } else if (t.length === 4 && isInt(t[1]!) && isInt(t[3]!)) {
      pairs.push({ line: i + 1, a: lfwImage(root, t[0]!, t[1]!), b: lfwImage(root, t[2]!, t[3]!), same: false });
    } else if ((t.length === 3 || (t.length === 4 && isSignedInt(t[3]!))) && (t[2] === '0' || t[2] === '1')) {
      const p = (s: string) => sameStemImage(isAbsolute(s) ? s : join(root, s));
      pairs.push({ line: i + 1, a: p(t[0]!), b: p(t[1]!), same: t[2] === '1', ...(t.length === 4 ? { fold: Number(t[3]) } : {}) });
    } else {
      throw new DataError(
        `${at}: cannot parse "${lines[i]!.trim().slice(0, 80)}". Expected "name n1 n2" (same person), "name1 n1 name2 n2" (different), "pathA pathB 1|0" or "pathA pathB 1|0 fold".`,
        pairsPath,
      );
    }
  }
  if (pairs.length === 0) throw new DataError(`${pairsPath}: no pairs found; expected LFW pairs.txt lines ("name n1 n2" / "name1 n1 name2 n2")`, pairsPath);
  // folds from the file or contiguous ones, never a mix: a pair without a fold would silently land in none
  const hasFolds = pairs[0]!.fold !== undefined;
  const odd = pairs.find((p) => (p.fold !== undefined) !== hasFolds);
  if (odd) {
    const first = pairs[0]!;
    throw new DataError(
      `${pairsPath}:${odd.line}: ${hasFolds ? 'has no fold column' : 'has a fold column'}, but line ${first.line} ${hasFolds ? 'has one' : 'has none'}. Give every pair a fold id ("pathA pathB 1|0 fold") or none (contiguous folds are used then).`,
      pairsPath,
    );
  }
  if (hasFolds && new Set(pairs.map((p) => p.fold)).size < 2) {
    throw new DataError(`${pairsPath}: every pair is in fold ${pairs[0]!.fold}; a fold column needs at least 2 folds (each fold's threshold is chosen on the others). Drop the column to use contiguous folds.`, pairsPath);
  }
  return { pairs, declared, hasFolds };
}

/** Load an LFW-style pairs file whose names refer to images under `root`. */
export async function loadPairs(pairsPath: string, root: string, opts: LoadVerificationOptions = {}): Promise<VerificationSet> {
  const size = opts.imageSize ?? 112;
  let text: string;
  try {
    text = await readFile(pairsPath, 'utf8');
  } catch (e) {
    throw new DataError(`${pairsPath}: cannot read the pairs file (${reason(e)})`, pairsPath);
  }
  if (!existsSync(root)) throw new DataError(`${root}: image folder for ${pairsPath} not found; pass the folder that holds <name>/<name>_0001.jpg`, root);
  const { pairs, declared, hasFolds } = parsePairs(text, pairsPath, root);
  const warn = opts.onWarning ?? ((m: string) => console.warn(m));
  if (declared !== undefined && declared !== pairs.length) warn(`${pairsPath}: header announces ${declared} pairs but ${pairs.length} were found`);
  const missing = pairs.flatMap((p) => [p.a, p.b].filter((f) => !existsSync(f)).map((f) => `line ${p.line}: ${f} (${whyAbsent(f)})`));
  if (missing.length && !opts.skipBad) {
    throw new DataError(
      `${pairsPath}: ${missing.length} image(s) named in the pairs file are missing or unreadable under ${root} (${missing.slice(0, 3).join('; ')}${missing.length > 3 ? '; …' : ''}). Fix the root folder, or pass --skip-bad to drop those pairs.`,
      pairsPath,
    );
  }
  const skipped: string[] = [];
  const cache = new Map<string, Promise<Uint8Array | null>>();
  const load = (file: string, line: number) => {
    let p = cache.get(file);
    if (!p) {
      p = (async () => {
        if (!existsSync(file)) return null;
        try {
          return fitToSquare(await decodeImage(await readFile(file), file, opts.decoder), size);
        } catch (e) {
          if (!opts.skipBad) throw new DataError(`${file}: ${reason(e)} (named at ${pairsPath}:${line}). Replace the image, or pass --skip-bad to drop such pairs.`, file);
          return null;
        }
      })();
      cache.set(file, p);
    }
    return p;
  };
  const loaded = await mapPool(pairs.length, 16, async (i) => {
    const p = pairs[i]!;
    return [await load(p.a, p.line), await load(p.b, p.line)] as const;
  });
  const set: VerificationSet = { name: basename(pairsPath).replace(/\.txt$/i, ''), imagesA: [], imagesB: [], issame: [], imageSize: size };
  loaded.forEach(([a, b], i) => {
    const p = pairs[i]!;
    if (!a || !b) {
      const f = !a ? p.a : p.b;
      skipped.push(`line ${p.line}: ${f} ${existsSync(f) ? 'unreadable' : whyAbsent(f)}`);
      return;
    }
    set.imagesA.push(a);
    set.imagesB.push(b);
    set.issame.push(p.same);
    if (hasFolds) (set.foldIds ??= []).push(p.fold!);
  });
  if (skipped.length) {
    set.skipped = skipped;
    warn(`${pairsPath}: skipped ${skipped.length} pair(s); ${set.issame.length} of ${pairs.length} kept: ${skipped.slice(0, 3).join('; ')}`);
  }
  if (set.issame.length === 0) throw new DataError(`${pairsPath}: no usable pairs left`, pairsPath);
  return set;
}
