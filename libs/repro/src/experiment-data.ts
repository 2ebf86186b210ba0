// Training / held-out data of an experiment: the built-in synthetic faces (training identities 0..N-1, unseen and
// verification identities far away), or a user's image folder split by identity (the last 25 % of the classes
// are held out: never trained on, used for verification pairs and as probe identities; open-set noise takes its
// unseen identities from the training side, see DataRequest.separateUnseen).
import { HELD_OUT_IDENTITY_OFFSET, SyntheticFaceDataset, makeRng, openDataset, syntheticVerificationSet, type FaceDataset, type VerificationSet } from '@facet/data';
import { DerivedFaceDataset, indicesByClass, type DerivedItem } from './derived-dataset.js';
import type { ReproSizes } from './sizes.js';
import type { ExperimentData } from './types.js';

/** Unseen identities for open-set noise start here (between training and verification identities). */
export const UNSEEN_IDENTITY_OFFSET = 50_000;

export interface DataRequest {
  identities: number;
  imagesPerIdentity: number;
  seed?: number;
  /**
   * With --data: take the unseen identities (open-set noise goes into training) from the training side rather than
   * the verification identities, so no verification identity is ever trained on. Train / unseen / verification
   * identities are then 50 / 25 / 25 %.
   */
  separateUnseen?: boolean;
}

export async function experimentData(sizes: ReproSizes, req: DataRequest, data?: string): Promise<ExperimentData> {
  const imageSize = sizes.inputSize;
  if (!data) {
    const spec = `synthetic:identities=${req.identities},images=${req.imagesPerIdentity}`;
    return {
      train: new SyntheticFaceDataset({ identities: req.identities, imagesPerIdentity: req.imagesPerIdentity, imageSize }),
      unseen: new SyntheticFaceDataset({ identities: req.identities, imagesPerIdentity: req.imagesPerIdentity, imageSize, identityOffset: UNSEEN_IDENTITY_OFFSET }),
      verification: syntheticVerificationSet({ identities: sizes.valIdentities, imagesPerIdentity: 10, pairs: sizes.valPairs, imageSize, identityOffset: HELD_OUT_IDENTITY_OFFSET }),
      spec,
    };
  }
  const full = await openDataset(data, { imageSize, onWarning: () => undefined });
  const { train, heldOut } = splitByIdentity(full, 0.25);
  const verification = await pairsFrom(heldOut, sizes.valPairs, req.seed ?? 1);
  if (req.separateUnseen) {
    const split = splitByIdentity(train, 1 / 3);
    return { train: split.train, unseen: split.heldOut, verification, spec: data };
  }
  return { train, unseen: heldOut, verification, spec: data };
}

/** The first (1 − fraction) of the classes train; the rest are held out, relabelled from 0. */
export function splitByIdentity(ds: FaceDataset, heldOutFraction: number): { train: DerivedFaceDataset; heldOut: DerivedFaceDataset } {
  const byClass = indicesByClass(ds);
  const held = Math.max(2, Math.round(heldOutFraction * ds.numClasses));
  if (ds.numClasses - held < 2) throw new Error(`--data ${ds.name}: ${ds.numClasses} identities are too few to hold ${held} out for verification; use a dataset with at least 8 identities`);
  const cut = ds.numClasses - held;
  const make = (from: number, to: number, name: string) => {
    const items: DerivedItem[] = [];
    for (let k = from; k < to; k++) for (const i of byClass[k]!) items.push({ source: 0, index: i, label: k - from });
    return new DerivedFaceDataset(name, [ds], items, ds.classNames.slice(from, to));
  };
  return { train: make(0, cut, `${ds.name} (train identities)`), heldOut: make(cut, ds.numClasses, `${ds.name} (held-out identities)`) };
}

/** Alternating genuine / impostor pairs of a labelled set (identities with ≥ 2 images make genuine pairs). */
export async function pairsFrom(ds: FaceDataset, pairs: number, seed: number): Promise<VerificationSet> {
  const byClass = indicesByClass(ds).map((c, k) => ({ k, c })).filter((x) => x.c.length > 0);
  const multi = byClass.filter((x) => x.c.length >= 2);
  if (multi.length === 0 || byClass.length < 2) throw new Error(`${ds.name}: needs ≥ 2 identities and one with ≥ 2 images to build verification pairs`);
  const rng = makeRng(seed);
  const imagesA: Uint8Array[] = [];
  const imagesB: Uint8Array[] = [];
  const issame: boolean[] = [];
  for (let p = 0; p < pairs; p++) {
    let a: number;
    let b: number;
    if (p % 2 === 0) {
      const { c } = multi[rng.int(multi.length)]!;
      const i = rng.int(c.length);
      a = c[i]!;
      b = c[(i + 1 + rng.int(c.length - 1)) % c.length]!;
    } else {
      const x = rng.int(byClass.length);
      const y = (x + 1 + rng.int(byClass.length - 1)) % byClass.length;
      a = byClass[x]!.c[rng.int(byClass[x]!.c.length)]!;
      b = byClass[y]!.c[rng.int(byClass[y]!.c.length)]!;
    }
    imagesA.push(await ds.read(a));
    imagesB.push(await ds.read(b));
    issame.push(p % 2 === 0);
  }
  return { name: `${ds.name} pairs`, imagesA, imagesB, issame, imageSize: ds.imageSize };
}
