// dx of a strided convolution by phases. The transposed convolution over zero-dilated dy spends (s²−1)/s² of its
// multiply-adds on the inserted zeros. Split dx by the phase of its row and column (i mod s): each phase is reached
// by only the kernel taps kh ≡ (i + top) mod s, with dy read at consecutive rows, so it is a stride-1 forward
// convolution of the undilated dy with a sub-kernel, and the s² phases together do exactly the forward's work.
//   dx[p + s·j] = Σ_{kh ∈ K_p} dy[j + d_kh] · w[kh],   K_p = {kh : (p + top − kh) ≡ 0 mod s},   d_kh = (p + top − kh)/s
// IResNet-18 ×0.25, batch 64 (tf.profile, per layer): 3×3 stride-2 to 56²×16 71 → 15 ms, to 28²×32 64 → 23, to
// 14²×64 27 → 9, to 7²×128 40 → 17; the 1×1 stride-2 downsample to 56²×16 24 → 4 ms.
import type { ConvGeometry } from './conv-geometry.js';
import { f32, free, run, type TensorInfo as Info, type WasmBackend as Backend } from './wasm-util.js';

/** One axis of one phase: which kernel taps reach it (in the order the sub-convolution applies them), its padding. */
export interface PhaseAxis {
  /** Output positions p, p+s, p+2s, … in dx. */
  count: number;
  /** Kernel indices, by ascending dy offset d. */
  taps: number[];
  /** Zero padding of dy for the sub-convolution (where the phase's dy window runs off dy's ends). */
  padBefore: number;
  padAfter: number;
  /** Sub-convolution outputs before the phase's first position (dy rows that reach no dx row of this phase). */
  skip: number;
  /** Length of the sub-convolution's output along this axis (≥ skip + count). */
  outCount: number;
}

export function phaseAxis(p: number, stride: number, k: number, before: number, inSize: number, outSize: number): PhaseAxis {
  const count = p < inSize ? Math.ceil((inSize - p) / stride) : 0;
  const taps: number[] = [];
  for (let kh = k - 1; kh >= 0; kh--) if ((((p + before - kh) % stride) + stride) % stride === 0) taps.push(kh);
  if (taps.length === 0 || count === 0) return { count, taps: [], padBefore: 0, padAfter: 0, skip: 0, outCount: 0 };
  const dMin = (p + before - taps[0]!) / stride;
  const dMax = (p + before - taps[taps.length - 1]!) / stride;
  // conv output j' reads dy[j' − padBefore … j' − padBefore + T − 1], and dx[p + s·j] needs dy[j + dMin … j + dMax]
  const padBefore = Math.max(0, -dMin);
  const skip = Math.max(0, dMin);
  const padAfter = Math.max(0, count + dMax - outSize);
  return { count, taps, padBefore, padAfter, skip, outCount: outSize + padBefore + padAfter - (dMax - dMin) };
}

/** dx by phases; undefined for dilated convolutions (the caller takes the dilated form). */
export function inputGradientByPhases(backend: Backend, dy: Info, filter: Info, g: ConvGeometry): Info | undefined {
  if (g.dilH !== 1 || g.dilW !== 1) return undefined;
  const rows = Array.from({ length: g.strideH }, (_, p) => phaseAxis(p, g.strideH, g.kH, g.top, g.inH, g.outH));
  const cols = Array.from({ length: g.strideW }, (_, p) => phaseAxis(p, g.strideW, g.kW, g.left, g.inW, g.outW));
  const [, , cIn, cOut] = filter.shape as [number, number, number, number];
  const dx = backend.makeOutput([g.batch, g.inH, g.inW, cIn], 'float32');
  // a phase no tap reaches (e.g. the odd rows of a 1×1 stride-2 layer) is zero
  if (rows.some((r) => r.taps.length === 0) || cols.some((c) => c.taps.length === 0)) f32(backend, dx).fill(0);
  for (let ph = 0; ph < g.strideH; ph++) {
    for (let pw = 0; pw < g.strideW; pw++) {
      const r = rows[ph]!;
      const c = cols[pw]!;
      if (r.taps.length === 0 || c.taps.length === 0 || r.count === 0 || c.count === 0) continue;
      // sub-kernel [Th, Tw, cOut, cIn]: the taps of this phase, in/out channels swapped (transposed convolution)
      const sub = backend.makeOutput([r.taps.length, c.taps.length, cOut, cIn], 'float32');
      const w = f32(backend, filter);
      const ws = f32(backend, sub);
      let o = 0;
      for (const kh of r.taps) {
        for (const kw of c.taps) {
          const base = (kh * g.kW + kw) * cIn * cOut;
          for (let co = 0; co < cOut; co++) for (let ci = 0; ci < cIn; ci++) ws[o++] = w[base + ci * cOut + co]!;
        }
      }
      const phase = run(
        backend,
        'Conv2D',
        { x: dy, filter: sub },
        { strides: [1, 1], pad: [[0, 0], [r.padBefore, r.padAfter], [c.padBefore, c.padAfter], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined },
      );
      free(backend, sub);
      // interleave: phase[b, skip + j, skip + l, :] → dx[b, ph + s·j, pw + s·l, :]
      const src = f32(backend, phase);
      const dst = f32(backend, dx);
      for (let b = 0; b < g.batch; b++) {
        for (let j = 0; j < r.count; j++) {
          const rowBase = (b * g.inH + ph + g.strideH * j) * g.inW;
          let i = ((b * r.outCount + r.skip + j) * c.outCount + c.skip) * cIn;
          // element loop, not subarray().set: a subarray per pixel is an allocation (~200k per 56² layer)
          for (let l = 0; l < c.count; l++) {
            const d = (rowBase + pw + g.strideW * l) * cIn;
            for (let q = 0; q < cIn; q++) dst[d + q] = src[i + q]!;
            i += cIn;
          }
        }
      }
      free(backend, phase);
    }
  }
  return dx;
}
