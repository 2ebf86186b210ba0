// SER-FIQ's stochastic forward passes (Terhörst et al., CVPR 2020): the image goes through the network once; only
// the layers after the dropout site are re-run m times with independent dropout masks. Facet's IResNet has its
// dropout where insightface puts it (flatten → dropout → fc → BN1d), so for IResNet the passes drop units of the
// flattened last feature map exactly there. Other backbones have no dropout before the embedding; there the
// mask falls on the input of the embedding BN1d (dropout on the embedding itself), reported as site 'embedding'.
import type { Backbone, BatchNormLayer } from '@facet/backbones';
import { mixSeed } from '@facet/data';
import { tf } from '@facet/engine';
import { captureFeatures } from './feature-capture.js';

export type StochasticSite = 'head' | 'embedding';

export interface StochasticEmbeddingOptions {
  /** m, stochastic passes per image. Default 100 (SER-FIQ). */
  samples?: number;
  /** Dropout rate of the passes. Default 0.5 (SER-FIQ). */
  dropout?: number;
  /** 'auto' (default): 'head' for IResNet, else 'embedding'. */
  site?: 'auto' | StochasticSite;
  seed?: number;
}

export const STOCHASTIC_EMBEDDING_DEFAULTS = { samples: 100, dropout: 0.5, site: 'auto' as const, seed: 0 };

export function resolveStochasticOptions(o: StochasticEmbeddingOptions = {}): Required<StochasticEmbeddingOptions> {
  const r = { ...STOCHASTIC_EMBEDDING_DEFAULTS, ...o };
  if (!Number.isInteger(r.samples) || r.samples < 2) throw new Error(`SER-FIQ: samples must be an integer ≥ 2 (got ${r.samples}); the paper uses 100.`);
  if (!(r.dropout >= 0 && r.dropout < 1)) throw new Error(`SER-FIQ: dropout must be in [0, 1) (got ${r.dropout}); the paper uses 0.5.`);
  if (!['auto', 'head', 'embedding'].includes(r.site)) throw new Error(`SER-FIQ: site must be auto, head or embedding (got ${String(r.site)}).`);
  return r;
}

/** Inference-mode BatchNorm as the backbones compute it: x·a + (β − μ·a), a = γ/√(σ² + ε). */
function batchNormEval(layer: BatchNormLayer, x: tf.Tensor): tf.Tensor {
  const a = tf.mul(layer.weight, tf.rsqrt(tf.add(layer.runningVar, layer.eps)));
  return tf.add(tf.mul(x, a), tf.sub(layer.bias, tf.mul(layer.runningMean, a)));
}

/** Whether the IResNet head (bn2 → flatten → dropout → fc → features) can be re-run from this backbone's weights. */
function headWeights(backbone: Backbone) {
  const w = backbone.getWeights();
  const bns = new Map(backbone.batchNorms().map((l) => [l.name, l]));
  const bn2 = bns.get('bn2');
  const features = bns.get('features');
  if (!w['fc.weight'] || !bn2 || !features) return undefined;
  return { bn2, features, fcWeight: w['fc.weight'] as tf.Tensor2D, fcBias: w['fc.bias'] };
}

/**
 * m stochastic raw embeddings of each image of `x` ([B, S, S, 3], normalised): [B, m, D] row-major, the site the
 * dropout was applied at, and the ordinary inference embeddings [B, D] of the same forward pass. `call` varies the
 * masks between batches (mixed into the seed).
 */
export function stochasticEmbeddings(
  backbone: Backbone,
  x: tf.Tensor4D,
  options: StochasticEmbeddingOptions = {},
  call = 0,
): { samples: Float32Array; site: StochasticSite; embeddings: Float32Array } {
  const o = resolveStochasticOptions(options);
  const head = o.site === 'embedding' ? undefined : headWeights(backbone);
  if (o.site === 'head' && !head) throw new Error(`SER-FIQ: site 'head' needs an IResNet (bn2 → fc → features); ${backbone.name} has none. Use site 'embedding' or 'auto'.`);
  const site: StochasticSite = head ? 'head' : 'embedding';
  const b = x.shape[0];
  const m = o.samples;
  const d = backbone.embeddingSize;
  const out = new Float32Array(b * m * d);
  let embeddings: Float32Array = new Float32Array(0);
  const base = tf.tidy(() => {
    const cap = captureFeatures();
    embeddings = backbone.apply(x, { training: false, onBatchNorm: cap.onBatchNorm }).dataSync() as Float32Array;
    if (head) {
      const map = cap.inputOf('bn2');
      if (!map) throw new Error('SER-FIQ: the IResNet head BatchNorm bn2 was not called; cannot locate the dropout site.');
      return tf.reshape(batchNormEval(head.bn2, map), [b, -1]) as tf.Tensor2D;
    }
    const last = cap.lastBatchNorm();
    if (!last || last.input.rank !== 2) throw new Error(`SER-FIQ: ${backbone.name} does not end in a BatchNorm1d; cannot apply dropout to its embedding.`);
    return last.input as tf.Tensor2D;
  });
  const lastLayer = head ? head.features : backbone.batchNorms().at(-1)!;
  const width = base.shape[1];
  // samples per engine call, so that [chunk·B, width] stays ≤ 8M floats (IResNet-100 at 112: width 25088)
  const chunk = Math.max(1, Math.min(m, Math.floor(2 ** 23 / (b * width))));
  for (let s0 = 0; s0 < m; s0 += chunk) {
    const c = Math.min(chunk, m - s0);
    const values = tf.tidy(() => {
      const tiled = tf.tile(base, [c, 1]);
      const keep = 1 - o.dropout;
      const mask = o.dropout > 0 ? tf.div(tf.step(tf.sub(tf.randomUniform([c * b, width], 0, 1, 'float32', mixSeed(o.seed, call, s0)), o.dropout)), keep) : tf.onesLike(tiled);
      let y: tf.Tensor = tf.mul(tiled, mask);
      if (head) {
        y = tf.matMul(y as tf.Tensor2D, head.fcWeight);
        if (head.fcBias) y = tf.add(y, head.fcBias);
      }
      return batchNormEval(lastLayer, y).dataSync() as Float32Array; // [c, B, D]: sample-major
    });
    for (let s = 0; s < c; s++) for (let i = 0; i < b; i++) out.set(values.subarray((s * b + i) * d, (s * b + i + 1) * d), (i * m + s0 + s) * d);
  }
  base.dispose();
  return { samples: out, site, embeddings };
}
