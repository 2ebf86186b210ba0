// The work of preparing samples, shared by the main thread and the loader's worker threads: read (decode) each
// image, augment it with an RNG seeded from (seed, epoch, index, view), normalise into the batch buffer. Because the
// stream depends only on those coordinates, a batch is bit-identical whichever thread or worker count produced it.

import { augment, type AugmentOptions } from './augment.js';
import { DataError, reason } from './errors.js';
import { normalizeImages } from './normalize.js';
import { mapPool } from './pool.js';
import { makeRng, mixSeed } from './rng.js';
import type { FaceDataset } from './types.js';

export interface SampleJob {
  indices: Int32Array;
  epoch: number;
  seed: number;
  augment: AugmentOptions | false;
  twoViews: boolean;
  skipBad: boolean;
}

export interface SampleResult {
  images: Float32Array;
  views2?: Float32Array;
  /** Indices actually used (differs from the job's where an unreadable image was replaced, with skipBad). */
  indices: Int32Array;
  /** "describe(i) → describe(j): reason" for each replacement. */
  skipped: string[];
}

/** Stream id of view v (1 or 2) of sample `index` in `epoch`. */
export function sampleSeed(seed: number, epoch: number, index: number, view: 1 | 2): number {
  return mixSeed(seed, 0x6a09, epoch, index, view);
}

/** Index lists per class, for deterministic same-class replacement of unreadable images. */
function classMembers(ds: FaceDataset): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (let i = 0; i < ds.size; i++) {
    const l = ds.labels[i]!;
    let list = m.get(l);
    if (!list) m.set(l, (list = []));
    list.push(i);
  }
  return m;
}

const membersCache = new WeakMap<FaceDataset, Map<number, number[]>>();

/** Read `index`; with skipBad an unreadable image is replaced by the next readable image of the same class. */
async function readOrReplace(ds: FaceDataset, index: number, skipBad: boolean, skipped: string[]): Promise<{ img: Uint8Array; used: number }> {
  try {
    return { img: await ds.read(index), used: index };
  } catch (e) {
    if (!skipBad || !(e instanceof DataError)) {
      if (e instanceof DataError) throw new DataError(`${e.message.replace(/\s*(Re-export|Fix|Delete|Pass --skip-bad).*$/, '')} Run \`facet data inspect\` to list every unreadable file, or pass --skip-bad to replace such images while training.`, e.file);
      throw e;
    }
    let members = membersCache.get(ds);
    if (!members) membersCache.set(ds, (members = classMembers(ds)));
    const list = members.get(ds.labels[index]!) ?? [index];
    const at = list.indexOf(index);
    for (let k = 1; k < list.length; k++) {
      const j = list[(at + k) % list.length]!;
      try {
        const img = await ds.read(j);
        skipped.push(`${ds.describe(index)} → ${ds.describe(j)}: ${reason(e)}`);
        return { img, used: j };
      } catch {
        // try the next member
      }
    }
    throw new DataError(`${ds.describe(index)}: unreadable, and no other image of class ${ds.classNames[ds.labels[index]!] ?? ds.labels[index]} can be read either (${reason(e)})`, e.file);
  }
}

/** Prepare the normalised (and augmented) images of `job.indices`. */
export async function prepareSamples(ds: FaceDataset, job: SampleJob): Promise<SampleResult> {
  const S = ds.imageSize;
  const n = job.indices.length;
  const per = S * S * 3;
  const images = new Float32Array(n * per);
  const views2 = job.twoViews ? new Float32Array(n * per) : undefined;
  const used = new Int32Array(n);
  const skipped: string[] = [];
  // a few reads in flight: sharp decodes on libuv's thread pool while this thread augments
  await mapPool(n, 4, async (p) => {
    const { img, used: idx } = await readOrReplace(ds, job.indices[p]!, job.skipBad, skipped);
    used[p] = idx;
    const a = job.augment;
    const v1 = a ? augment(img, S, a, makeRng(sampleSeed(job.seed, job.epoch, idx, 1))) : img;
    normalizeImages(v1, images.subarray(p * per, (p + 1) * per));
    if (views2) {
      const v2 = a ? augment(img, S, a, makeRng(sampleSeed(job.seed, job.epoch, idx, 2))) : img;
      normalizeImages(v2, views2.subarray(p * per, (p + 1) * per));
    }
  });
  return { images, views2, indices: used, skipped };
}
