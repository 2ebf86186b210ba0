import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export interface FixtureModel {
  file: string;
  output: string;
  outputShape: [number, number];
  folded: boolean;
  facet: { network: string; width: number; blocks: number[]; embeddingSize: number } | null;
}

export interface Manifest {
  torch: string;
  inputSize: number;
  inputShape: [number, number, number, number];
  models: FixtureModel[];
}

export const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as Manifest;

export function floats(name: string): Float32Array {
  const b = readFileSync(join(FIXTURES, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The fixture inputs (written NCHW by PyTorch) as Facet's NHWC. */
export function inputsNhwc(): { data: Float32Array; batch: number; size: number } {
  const [n, c, h, w] = manifest.inputShape;
  const nchw = floats('inputs.bin');
  const out = new Float32Array(nchw.length);
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + k] = nchw[((b * c + k) * h + y) * w + x]!;
  return { data: out, batch: n, size: h };
}

/** max |a − b| / max |b|: agreement relative to the largest reference value. */
export function relToMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

/** Names of the tensors whose float32 bits differ (fast for 10⁷-element tensors, unlike a deep equality). */
export function differingTensors(a: Record<string, { dataSync(): ArrayLike<number> }>, b: Record<string, { dataSync(): ArrayLike<number> }>): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const n of names) {
    const x = a[n]?.dataSync() as Float32Array | undefined;
    const y = b[n]?.dataSync() as Float32Array | undefined;
    if (!x || !y || x.length !== y.length || Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) !== 0) out.push(n);
  }
  return out;
}
