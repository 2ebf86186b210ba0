import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backbone } from '@facet/backbones';
import { tf } from '@facet/engine';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

export interface FixtureModel {
  family: string;
  blocks?: number[];
  width: number;
  input_size: number;
  embedding_size: number;
  images: string;
  count: number;
  embeddings: string;
  /** ViT only. */
  dim?: number;
  depth?: number;
  heads?: number;
  patch?: number;
}

export interface FixtureFile {
  file: string;
  model: string;
  layout: string;
  dtype: string;
  embeddings?: string;
  wrapped?: string;
  prefix?: string;
  views?: string;
}

export const manifest = JSON.parse(readFileSync(join(FIXTURES, 'fixtures.json'), 'utf8')) as {
  models: Record<string, FixtureModel>;
  files: FixtureFile[];
};

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export function readF32(name: string): Float32Array {
  const b = readFileSync(fixture(name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The fixture's uint8 RGB images, normalised as insightface does: (x − 127.5) / 127.5, NHWC. */
export function fixtureImages(m: FixtureModel): tf.Tensor4D {
  const u8 = readFileSync(fixture(m.images));
  const x = Float32Array.from(u8, (v) => (v - 127.5) / 127.5);
  return tf.tensor4d(x, [m.count, m.input_size, m.input_size, 3]);
}

export function embed(backbone: Backbone, images: tf.Tensor4D): Float32Array {
  const y = backbone.apply(images);
  const v = y.dataSync() as Float32Array;
  y.dispose();
  return v;
}

/** max |a − b| / max |b|: the agreement figure the tests bound and report. */
export function relativeMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; largest: number; relative: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let largest = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    largest = Math.max(largest, Math.abs(b[i]!));
  }
  return { diff, largest, relative: diff / largest };
}
