// The built-in synthetic face set: identities × imagesPerIdentity procedurally drawn faces, rendered on demand.

import type { DatasetDescriptor, FaceDataset } from '../types.js';
import { renderSyntheticFace } from './render.js';

export interface SyntheticFaceOptions {
  /** Number of identities (classes). Default 100. */
  identities?: number;
  /** Images per identity. Default 20. */
  imagesPerIdentity?: number;
  /** World seed: identities and nuisances derive from it. Default 0. */
  seed?: number;
  /** Side in pixels. Default 112. */
  imageSize?: number;
  /** Draw identities offset..offset+identities-1, so held-out sets are disjoint from training ones. Default 0. */
  identityOffset?: number;
  /** Nuisance strength in [0, 1]. Default 1. */
  nuisance?: number;
}

export type ResolvedSyntheticOptions = Required<SyntheticFaceOptions>;

/** Identities of synthetic verification sets start here, far from the training identities 0..N-1. */
export const HELD_OUT_IDENTITY_OFFSET = 100_000;

export function resolveSyntheticOptions(opts: SyntheticFaceOptions = {}): ResolvedSyntheticOptions {
  const o: ResolvedSyntheticOptions = {
    identities: opts.identities ?? 100,
    imagesPerIdentity: opts.imagesPerIdentity ?? 20,
    seed: opts.seed ?? 0,
    imageSize: opts.imageSize ?? 112,
    identityOffset: opts.identityOffset ?? 0,
    nuisance: opts.nuisance ?? 1,
  };
  const int = (name: keyof ResolvedSyntheticOptions, min: number, max: number) => {
    const v = o[name];
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`synthetic option ${name} must be an integer in [${min}, ${max}], got ${v}`);
  };
  int('identities', 1, 10_000_000);
  int('imagesPerIdentity', 1, 100_000);
  int('seed', 0, Number.MAX_SAFE_INTEGER);
  int('imageSize', 8, 1024);
  int('identityOffset', 0, Number.MAX_SAFE_INTEGER);
  if (!(o.nuisance >= 0 && o.nuisance <= 1)) throw new Error(`synthetic option nuisance must be in [0, 1], got ${o.nuisance}`);
  if (o.identities * o.imagesPerIdentity > 2 ** 31 - 1) throw new Error('synthetic set too large: identities × imagesPerIdentity must stay below 2^31');
  return o;
}

/**
 * Rendered images kept per dataset instance, so the epochs after the first draw nothing: a 56² face takes ~2.5 ms
 * to render, ~8 % of a CPU training step at batch 64 (the repro's full sizes). 256 MiB holds 28,000 faces of 56²
 * or 7,000 of 112²; images beyond it are rendered on every read.
 */
export const SYNTHETIC_RENDER_CACHE_BYTES = 256 * 2 ** 20;

export class SyntheticFaceDataset implements FaceDataset {
  readonly name = 'synthetic';
  readonly size: number;
  readonly numClasses: number;
  readonly labels: Int32Array;
  readonly classNames: string[];
  readonly imageSize: number;
  readonly options: ResolvedSyntheticOptions;
  private readonly rendered = new Map<number, Uint8Array>();
  private renderedBytes = 0;

  constructor(
    opts: SyntheticFaceOptions = {},
    private readonly renderCacheBytes = SYNTHETIC_RENDER_CACHE_BYTES,
  ) {
    this.options = resolveSyntheticOptions(opts);
    const { identities, imagesPerIdentity, identityOffset } = this.options;
    this.size = identities * imagesPerIdentity;
    this.numClasses = identities;
    this.imageSize = this.options.imageSize;
    this.labels = new Int32Array(this.size);
    for (let i = 0; i < this.size; i++) this.labels[i] = Math.floor(i / imagesPerIdentity);
    this.classNames = Array.from({ length: identities }, (_, k) => syntheticClassName(identityOffset + k));
  }

  /** Identity number and variant of image `index`. */
  locate(index: number): { identity: number; variant: number } {
    this.check(index);
    const { imagesPerIdentity, identityOffset } = this.options;
    return { identity: identityOffset + Math.floor(index / imagesPerIdentity), variant: index % imagesPerIdentity };
  }

  async read(index: number): Promise<Uint8Array> {
    return this.readSync(index);
  }

  readSync(index: number): Uint8Array {
    // a copy either way: callers may write into the image they get (in-place augmentation)
    const kept = this.rendered.get(index);
    if (kept) return kept.slice();
    const { identity, variant } = this.locate(index);
    const img = renderSyntheticFace(identity, variant, this.options);
    if (this.renderedBytes + img.byteLength <= this.renderCacheBytes) {
      this.rendered.set(index, img.slice());
      this.renderedBytes += img.byteLength;
    }
    return img;
  }

  describe(index: number): string {
    const { identity, variant } = this.locate(index);
    return `synthetic#${syntheticClassName(identity)}/${variant}`;
  }

  descriptor(): DatasetDescriptor {
    return { kind: 'synthetic', options: { ...this.options } };
  }

  private check(index: number) {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`synthetic: index ${index} outside [0, ${this.size})`);
  }
}

export function syntheticClassName(identity: number): string {
  return `id_${String(identity).padStart(5, '0')}`;
}

const KEY_ALIASES: Record<string, keyof SyntheticFaceOptions> = {
  identities: 'identities',
  ids: 'identities',
  images: 'imagesPerIdentity',
  imagesPerIdentity: 'imagesPerIdentity',
  seed: 'seed',
  size: 'imageSize',
  imageSize: 'imageSize',
  offset: 'identityOffset',
  identityOffset: 'identityOffset',
  nuisance: 'nuisance',
};

/** Parse 'synthetic' or 'synthetic:identities=50,images=10,seed=3,nuisance=0.8'; null when `source` is not synthetic. */
export function parseSyntheticSource(source: string): SyntheticFaceOptions | null {
  if (source !== 'synthetic' && !source.startsWith('synthetic:')) return null;
  const opts: SyntheticFaceOptions = {};
  const rest = source.slice('synthetic'.length + 1);
  if (!rest) return opts;
  for (const part of rest.split(',')) {
    const [k, v, extra] = part.split('=').map((s) => s.trim());
    const key = k ? KEY_ALIASES[k] : undefined;
    if (!key || v === undefined || extra !== undefined || v === '' || !Number.isFinite(Number(v))) {
      throw new Error(
        `bad synthetic source '${source}': '${part}' is not key=number. Keys: ${Object.keys(KEY_ALIASES).join(', ')} (e.g. synthetic:identities=50,images=10,seed=1)`,
      );
    }
    opts[key] = Number(v);
  }
  return opts;
}
