// The engine-side work for one block of sampled classes of one model-parallel shard (a "rank" of arcface_torch's
// PartialFC_V2) for one step: cosines of the batch against the block's centres, margin logits, and the partial
// softmax statistics (row max and Σexp relative to it) that are reduced across blocks and shards exactly like
// DistCrossEntropyFunc's all_reduce(MAX) and all_reduce(SUM). Blocks bound the size of every engine allocation
// (the wasm heap fragments when hundreds of MiB are allocated and freed repeatedly; a failed allocation silently
// corrupts memory). Between forward and backward a block keeps only cos [B, R] and ‖W‖ (and the sub-centre
// argmax) on the engine: the centre rows are uploaded again from the host for the backward pass. The backward pass is written out by hand (it runs inside tf.customGrad's gradFunc, where tfjs
// cannot run a nested tf.grads):
//   dL/dz = (softmax − onehot)·dy/B;  dcos = s·dL/dz, times f'(t) on the target column ('exact'), zero where the
//   [−1, 1] clamp was active; with sub-centres routed to the argmax k;  cos = x̂·w/‖w‖  ⇒
//   dx̂ = Σ_j dcos_j·w_j/‖w_j‖,   dw_j = Σ_b dcos_bj·(x̂_b/‖w_j‖ − cos_bj·w_j/‖w_j‖²).
// Intermediates are freed as soon as they are consumed: the [B, classes] temporaries dominate the engine memory.
import { tf } from '@facet/engine';
import { NORMALIZE_EPS, labelMask, marginTarget, type ResolvedMarginOptions } from '@facet/heads';

export interface BlockForwardStats {
  /** Row max of this block's logits, −Infinity when the block is empty. */
  rowMax: Float64Array;
  /** Σ_j exp(z_j − rowMax) over this block's columns. */
  sumExp: Float64Array;
  /** s·f(t) for rows whose label lives in this block (NaN elsewhere). */
  targetLogit: Float64Array;
  /** Best cosine and its local column (accuracy); −Infinity / −1 when empty. */
  bestCos: Float64Array;
  bestCol: Int32Array;
}

/** `f(t)` then free `t` (one step of a chain whose intermediates should not pile up until a tidy ends). */
function then<T extends tf.Tensor, U extends tf.Tensor>(t: T, f: (t: T) => U): U {
  const out = tf.tidy(() => f(t));
  t.dispose();
  return out;
}

export class HeadBlock {
  private wNorm: tf.Tensor1D | undefined;
  private cosK: tf.Tensor2D | undefined;
  private argK: tf.Tensor2D | undefined;
  private localLabels: Int32Array | undefined;
  private delta: Float32Array | undefined;
  private slope: Float64Array | undefined;
  private targetLogit: Float64Array | undefined;

  /** `classes` sampled classes in this block, K sub-centres each, dimension D. */
  constructor(
    readonly classes: number,
    readonly subCenters: number,
    readonly dim: number,
    private readonly margin: ResolvedMarginOptions,
  ) {}

  get rows(): number {
    return this.classes * this.subCenters;
  }

  /**
   * `weights`: the block's sampled rows [classes·K·D] (float32, not normalised); `localLabels[b]`: the label's
   * column in this block or −1. Keeps what the backward pass needs until `release()`.
   */
  forward(xHat: tf.Tensor2D, weights: Float32Array, localLabels: Int32Array): BlockForwardStats {
    const B = xHat.shape[0];
    const n = this.classes;
    const R = this.rows;
    const stats: BlockForwardStats = {
      rowMax: new Float64Array(B).fill(-Infinity),
      sumExp: new Float64Array(B),
      targetLogit: new Float64Array(B).fill(NaN),
      bestCos: new Float64Array(B).fill(-Infinity),
      bestCol: new Int32Array(B).fill(-1),
    };
    if (n === 0) return stats;
    const { s } = this.margin;
    const w = tf.tensor2d(weights, [R, this.dim]);
    // row norms on the host: the rows are here anyway, and wasm's Sum over the last axis is slow at [R, 512]
    const norms = new Float32Array(R);
    const D = this.dim;
    for (let r = 0; r < R; r++) {
      let ss = 0;
      for (let j = r * D, e = j + D; j < e; j++) ss += weights[j]! * weights[j]!;
      norms[r] = Math.max(Math.sqrt(ss), NORMALIZE_EPS);
    }
    const wNorm = (this.wNorm = tf.keep(tf.tensor1d(norms)));
    const raw = tf.matMul(xHat, w, false, true);
    w.dispose();
    this.cosK = tf.keep(then(raw, (r) => tf.div(r, tf.reshape(wNorm, [1, R])) as tf.Tensor2D));
    if (this.subCenters > 1) {
      const cosK = this.cosK;
      this.argK = tf.keep(tf.tidy(() => tf.argMax(tf.reshape(cosK, [B, n, this.subCenters]), 2) as tf.Tensor2D));
    }
    // the label mask is rebuilt for the backward pass (a zero fill and B writes) rather than kept: [B, n] bytes
    this.localLabels = localLabels;
    const mask = labelMask(localLabels, n);
    const cos = then(this.classCosRaw(B), (c) => tf.clipByValue(c, -1, 1) as tf.Tensor2D);
    // target cosines t (rows labelled in this block), then f(t) and its slope on the host in float64
    const t = tf.tidy(() => tf.sum(tf.mul(cos, mask), 1));
    const tv = t.dataSync();
    t.dispose();
    this.delta = new Float32Array(B);
    this.slope = new Float64Array(B).fill(1);
    this.targetLogit = stats.targetLogit;
    for (let b = 0; b < B; b++) {
      if (localLabels[b]! < 0) continue;
      const f = marginTarget(tv[b]!, this.margin);
      this.delta[b] = f.value - tv[b]!;
      this.slope[b] = f.slope;
      stats.targetLogit[b] = s * f.value;
    }
    const bc = tf.max(cos, 1);
    const bi = tf.argMax(cos, 1);
    const logits = then(cos, (c) => this.logits(c, mask, B));
    mask.dispose();
    const mx = tf.max(logits, 1);
    const se = then(logits, (z) => tf.sum(tf.exp(tf.sub(z, tf.expandDims(mx, 1))), 1));
    const [mxv, sev, bcv, biv] = [mx.dataSync(), se.dataSync(), bc.dataSync(), bi.dataSync()];
    tf.dispose([mx, se, bc, bi]);
    for (let b = 0; b < B; b++) {
      stats.rowMax[b] = mxv[b]!;
      stats.sumExp[b] = sev[b]!;
      stats.bestCos[b] = bcv[b]!;
      stats.bestCol[b] = biv[b]!;
    }
    return stats;
  }

  /**
   * Backward for this block. `lse[b]` is the global log-sum-exp of row b, `gScale` = dy/B. Writes the gradient of
   * the block's rows into `gradOut` ([classes·K·D], `weights` as given to forward) and returns dL/dx̂ [B, D].
   */
  backward(xHat: tf.Tensor2D, lse: Float64Array, gScale: number, weights: Float32Array, gradOut: Float32Array): tf.Tensor2D {
    const B = xHat.shape[0];
    if (this.classes === 0) return tf.zeros([B, this.dim]);
    if (!this.wNorm || !this.cosK || !this.localLabels) throw new Error('HeadBlock.backward: forward state already released.');
    const { s } = this.margin;
    const K = this.subCenters;
    const R = this.rows;
    const { wNorm, cosK } = this;
    const mask = labelMask(this.localLabels, this.classes);
    const gs = gScale * s;
    // dcos = s·gScale·(p − onehot), with the target column scaled by f'(t):
    //      = gs·p + onehot·(gs·(p_t − 1)·(f' − 1) − gs);   p_t = exp(s·f(t) − lse) is known on the host
    const rowTerm = new Float32Array(B);
    for (let b = 0; b < B; b++) {
      const zt = this.targetLogit![b]!;
      if (Number.isNaN(zt)) continue;
      rowTerm[b] = gs * (Math.exp(zt - lse[b]!) - 1) * (this.slope![b]! - 1) - gs;
    }
    const cosRaw = this.classCosRaw(B);
    const clamped = tf.tidy(() => tf.max(tf.abs(cosRaw)).dataSync()[0]! > 1);
    const clampMask = clamped ? tf.tidy(() => tf.cast(tf.lessEqual(tf.abs(cosRaw), 1), 'float32')) : undefined;
    const logits = then(cosRaw, (c) => this.logits(tf.clipByValue(c, -1, 1) as tf.Tensor2D, mask, B));
    const p = then(logits, (z) => tf.exp(tf.sub(z, tf.tensor2d(Float32Array.from(lse), [B, 1]))));
    let dcos = then(p, (q) => tf.add(tf.mul(q, gs), tf.mul(mask, tf.tensor2d(rowTerm, [B, 1]))) as tf.Tensor2D);
    mask.dispose();
    if (clampMask) {
      dcos = then(dcos, (d) => tf.mul(d, clampMask) as tf.Tensor2D);
      clampMask.dispose();
    }
    if (K > 1) {
      const argK = this.argK!;
      // (float32 one-hot through a cast: wasm's OneHot kernel ignores a float32 dtype and writes int32 bits)
      const route = tf.tidy(() => tf.cast(tf.oneHot(argK, K), 'float32'));
      dcos = then(dcos, (d) => tf.reshape(tf.mul(tf.expandDims(d, 2), route), [B, R]) as tf.Tensor2D);
      route.dispose();
    }
    const coef = tf.tidy(() => tf.div(tf.sum(tf.mul(dcos, cosK), 0), tf.square(wNorm)));
    const dRaw = then(dcos, (d) => tf.div(d, tf.reshape(wNorm, [1, R])) as tf.Tensor2D);
    const w = tf.tensor2d(weights, [R, this.dim]);
    const dxHat = tf.matMul(dRaw, w) as tf.Tensor2D;
    w.dispose();
    const mm = then(dRaw, (d) => tf.matMul(d, xHat, true, false));
    gradOut.set(mm.dataSync());
    mm.dispose();
    const cv = coef.dataSync();
    coef.dispose();
    const D = this.dim;
    for (let r = 0; r < R; r++) {
      const c = cv[r]!;
      if (c === 0) continue;
      const o = r * D;
      for (let j = 0; j < D; j++) gradOut[o + j] = gradOut[o + j]! - c * weights[o + j]!;
    }
    return dxHat;
  }

  release(): void {
    const held: Array<tf.Tensor | undefined> = [this.wNorm, this.cosK, this.argK];
    tf.dispose(held.filter((t): t is tf.Tensor => t !== undefined));
    this.wNorm = this.cosK = this.argK = undefined;
    this.localLabels = undefined;
    this.delta = this.slope = this.targetLogit = undefined;
  }

  /** cos per class before the [−1, 1] clamp (a new tensor): max over sub-centres. */
  private classCosRaw(B: number): tf.Tensor2D {
    const cosK = this.cosK!;
    if (this.subCenters === 1) return cosK.clone();
    return tf.tidy(() => tf.max(tf.reshape(cosK, [B, this.classes, this.subCenters]), 2) as tf.Tensor2D);
  }

  /** s·(cos + onehot·(f(t) − t)) */
  private logits(cos: tf.Tensor2D, mask: tf.Tensor2D, B: number): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.add(cos, tf.mul(mask, tf.tensor2d(this.delta!, [B, 1]))), this.margin.s) as tf.Tensor2D);
  }
}
