// insightface verification sets (.bin): pickle.dump((bins, issame_list)) where bins holds 2P encoded 112×112
// images (JPEG or PNG bytes), pair i = (bins[2i], bins[2i+1]), issame_list = P bools (arcface_torch
// eval/verification.py load_bin). lfw 6,000 pairs, cfp_fp 7,000, agedb_30 6,000.

import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DataError, reason } from '../errors.js';
import { decodeImage } from '../image/decode.js';
import { encodeImage, type EncodeFormat } from '../image/encode.js';
import { fitToSquare } from '../image/resample.js';
import { mapPool } from '../pool.js';
import type { DecoderChoice } from '../types.js';
import { pickleBinTuple, unpickle } from './pickle.js';
import type { VerificationSet } from './types.js';

export interface LoadVerificationOptions {
  /** Side images are brought to (default 112; others are resized short side + centre crop, as resize_short). */
  imageSize?: number;
  decoder?: DecoderChoice;
  /** Drop pairs whose images cannot be decoded / found (listed in `skipped`) instead of failing. */
  skipBad?: boolean;
  onWarning?: (msg: string) => void;
}

function describeValue(v: unknown): string {
  if (v instanceof Uint8Array) return `bytes[${v.length}]`;
  if (Array.isArray(v)) return `list[${v.length}]`;
  if (v && typeof v === 'object') {
    const proto = Object.getPrototypeOf(v) as { __module__?: string; __name__?: string } | null;
    if (proto?.__module__) return `${proto.__module__}.${proto.__name__} object`;
    return 'object';
  }
  return typeof v;
}

/** Load an insightface .bin verification set. */
export async function loadBin(path: string, opts: LoadVerificationOptions = {}): Promise<VerificationSet> {
  const size = opts.imageSize ?? 112;
  const expect = 'an insightface verification .bin: pickle of (bins, issame_list) with len(bins) = 2·len(issame_list)';
  let raw: Uint8Array;
  try {
    raw = await readFile(path);
  } catch (e) {
    throw new DataError(`${path}: cannot read (${reason(e)}); pass the path of lfw.bin / cfp_fp.bin / agedb_30.bin`, path);
  }
  let obj: unknown;
  try {
    obj = unpickle(raw);
  } catch (e) {
    throw new DataError(`${path}: not a readable pickle (${reason(e)}); expected ${expect}`, path);
  }
  if (!Array.isArray(obj) || obj.length !== 2 || !Array.isArray(obj[0]) || !Array.isArray(obj[1])) {
    const got = Array.isArray(obj) ? `a ${obj.length}-tuple of (${obj.map(describeValue).join(', ')})` : describeValue(obj);
    throw new DataError(`${path}: holds ${got}; expected ${expect}`, path);
  }
  const bins = obj[0] as unknown[];
  const flags = obj[1] as unknown[];
  if (bins.length !== 2 * flags.length || flags.length === 0) {
    throw new DataError(`${path}: ${bins.length} images for ${flags.length} pair labels; expected ${expect}`, path);
  }
  // protocol-0 py2 str (STRING opcode) comes back as text with one char per byte: as encoding='bytes' would
  for (let i = 0; i < bins.length; i++) {
    const b = bins[i];
    if (typeof b === 'string' && !/[^\u0000-\u00ff]/.test(b)) bins[i] = Uint8Array.from(b, (ch) => ch.charCodeAt(0));
  }
  const badBin = bins.findIndex((b) => !(b instanceof Uint8Array));
  if (badBin >= 0) throw new DataError(`${path}: bins[${badBin}] is ${describeValue(bins[badBin])}, not encoded image bytes; expected ${expect}`, path);
  const issame = flags.map((f, i) => {
    if (f === true || f === 1) return true;
    if (f === false || f === 0) return false;
    throw new DataError(`${path}: issame_list[${i}] is ${describeValue(f)} (${String(f)}), not a bool; expected ${expect}`, path);
  });
  const skipped: string[] = [];
  const decoded = await mapPool(bins.length, 16, async (i) => {
    try {
      return fitToSquare(await decodeImage(bins[i] as Uint8Array, `${path} bins[${i}] (pair ${i >> 1})`, opts.decoder), size);
    } catch (e) {
      if (!opts.skipBad) throw e instanceof DataError ? new DataError(`${e.message.replace(/ Re-export.*$/, '')} Pass --skip-bad to drop such pairs.`, path) : e;
      skipped.push(`pair ${i >> 1}: ${reason(e)}`);
      return null;
    }
  });
  const set: VerificationSet = { name: basename(path).replace(/\.bin$/i, ''), imagesA: [], imagesB: [], issame: [], imageSize: size };
  for (let p = 0; p < issame.length; p++) {
    const a = decoded[2 * p];
    const b = decoded[2 * p + 1];
    if (!a || !b) continue;
    set.imagesA.push(a);
    set.imagesB.push(b);
    set.issame.push(issame[p]!);
  }
  if (skipped.length) {
    set.skipped = skipped;
    (opts.onWarning ?? console.warn)(`${path}: skipped ${skipped.length} undecodable image(s); ${set.issame.length} of ${issame.length} pairs kept: ${skipped.slice(0, 3).join('; ')}`);
  }
  return set;
}

export interface WriteBinOptions {
  /** Encoding of each image (default 'png', lossless; insightface's own files hold JPEG). */
  format?: EncodeFormat;
  quality?: number;
  /** 4 (default): Python 3 bytes; 2: Python 2 str, like the official files. */
  protocol?: 2 | 4;
}

/** Write a verification set as an insightface .bin (readable by arcface_torch's load_bin). */
export async function writeBin(path: string, set: VerificationSet, opts: WriteBinOptions = {}): Promise<void> {
  const n = set.issame.length;
  if (set.imagesA.length !== n || set.imagesB.length !== n) throw new Error(`writeBin: ${set.imagesA.length}/${set.imagesB.length} images for ${n} pairs`);
  const S = set.imageSize;
  const bins = await mapPool(2 * n, 8, async (i) => {
    const img = i % 2 === 0 ? set.imagesA[i >> 1]! : set.imagesB[i >> 1]!;
    if (img.length !== S * S * 3) throw new Error(`writeBin: image ${i} has ${img.length} bytes, expected ${S}×${S}×3`);
    return encodeImage(img, S, S, opts.format ?? 'png', opts.quality ?? 95);
  });
  try {
    await writeFile(path, pickleBinTuple(bins, set.issame, opts.protocol ?? 4));
  } catch (e) {
    throw new DataError(`${path}: cannot write (${reason(e)}); check that the folder exists and is writable`, path);
  }
}
