// Weight layouts between PyTorch/ONNX and Facet's backbones (libs/backbones README, "Weights: names and layouts"):
// convolutions OIHW [out, in/groups, kh, kw] ↔ HWIO [kh, kw, in, out] (groups = 1) or the grouped/depthwise filter
// [kh, kw, in, out/groups] with F[kh, kw, g·inPG + j, m] = W[g·outPG + m, j, kh, kw]; linear [out, in] ↔ [in, out];
// IResNet's fc reads an NCHW flatten (c·H·W + p) in PyTorch and an NHWC one (p·C + c) in Facet.

/**
 * Every weight of a convolution with OIHW dims in `groups` groups as (Facet index, OIHW index): one walk serves both
 * directions, so the two conversions are exact inverses by construction.
 */
function convIndexPairs(dims: number[], groups: number, visit: (facet: number, torch: number) => void): { inC: number; cols: number } {
  const [outC, inPG, kh, kw] = dims as [number, number, number, number];
  const inC = inPG * groups;
  const outPG = outC / groups;
  const cols = groups === 1 ? outC : outPG;
  for (let o = 0; o < outC; o++) {
    const g = Math.floor(o / outPG);
    const m = o % outPG;
    for (let j = 0; j < inPG; j++) {
      const i = groups === 1 ? j : g * inPG + j;
      const col = groups === 1 ? o : m;
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) visit(((y * kw + x) * inC + i) * cols + col, ((o * inPG + j) * kh + y) * kw + x);
    }
  }
  return { inC, cols };
}

/** ONNX/PyTorch conv weight OIHW → Facet filter. */
export function convToFacet(w: Float32Array, dims: number[], groups: number): { data: Float32Array; shape: number[] } {
  const out = new Float32Array(w.length);
  const { inC, cols } = convIndexPairs(dims, groups, (f, t) => (out[f] = w[t]!));
  return { data: out, shape: [dims[2]!, dims[3]!, inC, cols] };
}

/** Facet filter → ONNX/PyTorch OIHW, for a convolution with `outC` outputs in `groups` groups. */
export function convFromFacet(f: Float32Array, shape: number[], outC: number, groups: number): { data: Float32Array; dims: number[] } {
  const [kh, kw, inC] = shape as [number, number, number, number];
  const dims = [outC, inC / groups, kh, kw];
  const out = new Float32Array(f.length);
  convIndexPairs(dims, groups, (fi, t) => (out[t] = f[fi]!));
  return { data: out, dims };
}

/**
 * Linear weight [out, in] (PyTorch, ONNX Gemm with transB = 1) → Facet [in, out]. With `chw` = [C, H, W] the input
 * features are an NCHW flatten and Facet's rows come out in NHWC order: row p·C + c ← column c·H·W + p.
 */
export function linearToFacet(w: Float32Array, outF: number, inF: number, chw?: [number, number, number]): Float32Array {
  const out = new Float32Array(w.length);
  const row = chwToHwc(inF, chw);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) out[row(i) * outF + o] = w[o * inF + i]!;
  return out;
}

/** Facet [in, out] → [out, in], undoing the NHWC row order when `chw` is given. */
export function linearFromFacet(f: Float32Array, inF: number, outF: number, chw?: [number, number, number]): Float32Array {
  const out = new Float32Array(f.length);
  const row = chwToHwc(inF, chw);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) out[o * inF + i] = f[row(i) * outF + o]!;
  return out;
}

function chwToHwc(inF: number, chw?: [number, number, number]): (i: number) => number {
  if (!chw) return (i) => i;
  const [c, h, w] = chw;
  if (c * h * w !== inF) throw new Error(`internal: flatten ${c}×${h}×${w} ≠ ${inF}`);
  const hw = h * w;
  return (i) => (i % hw) * c + Math.floor(i / hw);
}
