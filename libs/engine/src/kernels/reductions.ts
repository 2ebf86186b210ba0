// Reductions and matmul variants where tfjs-backend-wasm is correct but far too slow for training:
// - Sum/Mean over leading axes (BatchNorm moments, gradients of broadcasts): wasm transposes the whole tensor
//   first; a ones-vector matmul reads it once at XNNPACK speed.
// - BatchMatMul with a transposed operand (every matmul gradient): wasm's transposed path is a naive loop; an
//   explicit transpose plus the fast path is several times quicker.
// - UnsortedSegmentSum (the gradient of gather): missing on wasm.
import { f32, free, original, run, size, view, type KernelFn } from './wasm-util.js';

function normalizeAxes(axis: unknown, rank: number): number[] {
  const list = axis == null ? [...Array(rank).keys()] : Array.isArray(axis) ? (axis as number[]) : [axis as number];
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

const MIN_ROWS_FOR_MATMUL = 64;

function leadingReduce(mean: boolean): KernelFn {
  const name = mean ? 'Mean' : 'Sum';
  return (args) => {
    const { inputs, attrs, backend } = args;
    const x = inputs.x!;
    const rank = x.shape.length;
    const axes = normalizeAxes(attrs.axis, rank);
    const k = axes.length;
    const leading = k > 0 && k < rank && axes.every((a, i) => a === i);
    const rows = size(x.shape.slice(0, k));
    if (!leading || x.dtype !== 'float32' || rows < MIN_ROWS_FOR_MATMUL) return original(name)(args);
    const restShape = x.shape.slice(k);
    const cols = size(restShape);
    const ones = backend.makeOutput([1, 1, rows], 'float32');
    f32(backend, ones).fill(1);
    const out = run(backend, 'BatchMatMul', { a: ones, b: view(x, [1, rows, cols]) }, { transposeA: false, transposeB: false });
    free(backend, ones);
    if (mean) {
      const o = f32(backend, out);
      const inv = 1 / rows;
      for (let i = 0; i < o.length; i++) o[i]! *= inv;
    }
    out.shape = attrs.keepDims ? [...Array(k).fill(1), ...restShape] : restShape;
    return out;
  };
}

export const sum = leadingReduce(false);
export const mean = leadingReduce(true);

export const batchMatMul: KernelFn = (args) => {
  const { inputs, attrs, backend } = args;
  if (!attrs.transposeA && !attrs.transposeB) return original('BatchMatMul')(args);
  const swapLast = (info: typeof inputs.a) => {
    const r = info!.shape.length;
    const perm = [...Array(r).keys()];
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    return run(backend, 'Transpose', { x: info! }, { perm });
  };
  const a = attrs.transposeA ? swapLast(inputs.a) : inputs.a!;
  const b = attrs.transposeB ? swapLast(inputs.b) : inputs.b!;
  const out = original('BatchMatMul')({ inputs: { a, b }, attrs: { ...attrs, transposeA: false, transposeB: false }, backend });
  if (a !== inputs.a) free(backend, a);
  if (b !== inputs.b) free(backend, b);
  return out;
};

/** TF semantics: out[s] = Σ_{i: ids[i]=s} x[i]; ids outside [0, numSegments) are dropped. Exact (float64 sums). */
export const unsortedSegmentSum: KernelFn = ({ inputs, attrs, backend }) => {
  const x = inputs.x!;
  const ids = inputs.segmentIds!;
  const numSegments = attrs.numSegments as number;
  const idRank = ids.shape.length;
  const inner = size(x.shape.slice(idRank));
  const idVals = backend.readSync(ids.dataId) as Int32Array;
  const xVals = backend.readSync(x.dataId);
  const acc = new Float64Array(numSegments * inner);
  for (let i = 0; i < idVals.length; i++) {
    const s = idVals[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) acc[dst + j]! += xVals[src + j]!;
  }
  const out = backend.makeOutput([numSegments, ...x.shape.slice(idRank)], x.dtype);
  const o = backend.typedArrayFromHeap(out);
  for (let i = 0; i < acc.length; i++) o[i] = acc[i]!;
  return out;
};

/**
 * Slice reading the input through a heap view: wasm's Slice first copies the whole input out of wasm memory
 * (readSync), which dominates when slicing a small window out of a large tensor.
 */
export const slice: KernelFn = (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x!;
  const rank = x.shape.length;
  if (x.dtype === 'string' || rank === 0) return original('Slice')(args);
  const begin = (Array.isArray(attrs.begin) ? attrs.begin : [attrs.begin]) as number[];
  const sz = (Array.isArray(attrs.size) ? attrs.size : [attrs.size]) as number[];
  const b = x.shape.map((_, i) => begin[i] ?? 0);
  const s = x.shape.map((d, i) => (sz[i] === undefined || sz[i] === -1 ? d - b[i]! : sz[i]!));
  if (s.some((d) => d === 0)) return original('Slice')(args);
  const out = backend.makeOutput(s, x.dtype);
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  const strides: number[] = new Array(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * x.shape[i + 1]!;
  // copy contiguous runs of the innermost dimensions that are taken whole
  let inner = rank - 1;
  while (inner > 0 && b[inner] === 0 && s[inner] === x.shape[inner]) inner--;
  const run = s.slice(inner).reduce((p, d) => p * d, 1);
  const outer = s.slice(0, inner);
  const count = outer.reduce((p, d) => p * d, 1);
  const idx = new Array(inner).fill(0);
  let o = 0;
  for (let n = 0; n < count; n++) {
    let off = b[inner]! * strides[inner]!;
    for (let i = 0; i < inner; i++) off += (b[i]! + idx[i]) * strides[i]!;
    ov.set(xv.subarray(off, off + run), o);
    o += run;
    for (let i = inner - 1; i >= 0; i--) {
      if (++idx[i] < outer[i]!) break;
      idx[i] = 0;
    }
  }
  return out;
};
