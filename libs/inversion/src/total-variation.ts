// Image priors of DeepDream / DeepInversion (`get_image_prior_losses`), used by ArcFace TPAMI §4.5 with weights
// 1e-3 (total variation) and 1e-4 (image ℓ2 norm). The paper does not give its TV form; we follow DeepInversion.
import { tf } from '@facet/engine';

export type TotalVariationNorm = 'l2' | 'l1';

const NORM_EPS = 1e-12;

/** The four neighbour differences of an NHWC batch: horizontal, vertical and the two diagonals. */
function neighbourDifferences(x: tf.Tensor4D): tf.Tensor4D[] {
  const [n, h, w, c] = x.shape;
  if (h < 2 || w < 2) throw new Error(`totalVariation: images must be at least 2×2, got ${h}×${w}.`);
  const s = (y0: number, x0: number, hh: number, ww: number) => tf.slice(x, [0, y0, x0, 0], [n, hh, ww, c]);
  return [
    tf.sub(s(0, 0, h, w - 1), s(0, 1, h, w - 1)), // x[:, :, :-1] − x[:, :, 1:]
    tf.sub(s(0, 0, h - 1, w), s(1, 0, h - 1, w)), // x[:, :-1] − x[:, 1:]
    tf.sub(s(1, 0, h - 1, w - 1), s(0, 1, h - 1, w - 1)), // x[:, 1:, :-1] − x[:, :-1, 1:]
    tf.sub(s(0, 0, h - 1, w - 1), s(1, 1, h - 1, w - 1)), // x[:, :-1, :-1] − x[:, 1:, 1:]
  ];
}

/**
 * Total variation of an NHWC batch (normalised pixels), summed over the four neighbour directions d_k:
 * - 'l2' (default, DeepInversion `loss_var_l2`): Σ_k ‖d_k‖_F, the Frobenius norm of the whole batch's difference
 *   tensor, not squared (so it grows like √(N·H·W·C));
 * - 'l1' (`loss_var_l1`): Σ_k mean |d_k|.
 */
export function totalVariation(x: tf.Tensor4D, norm: TotalVariationNorm = 'l2'): tf.Scalar {
  if (norm !== 'l2' && norm !== 'l1') throw new Error(`totalVariation norm "${String(norm)}" is not one of l2, l1.`);
  if (x.rank !== 4) throw new Error(`totalVariation: expected an NHWC batch [N,H,W,C], got shape [${x.shape.join(', ')}].`);
  return tf.tidy(() => {
    const d = neighbourDifferences(x);
    const terms = d.map((dk) => (norm === 'l2' ? tf.sqrt(tf.add(tf.sum(tf.square(dk)), NORM_EPS)) : tf.mean(tf.abs(dk))));
    return tf.addN(terms) as tf.Scalar;
  });
}

/** DeepInversion's image ℓ2 prior: mean over the batch of each image's ℓ2 norm, mean_b ‖x_b‖₂. */
export function imageL2Norm(x: tf.Tensor4D): tf.Scalar {
  if (x.rank !== 4) throw new Error(`imageL2Norm: expected an NHWC batch [N,H,W,C], got shape [${x.shape.join(', ')}].`);
  return tf.tidy(() => tf.mean(tf.sqrt(tf.add(tf.sum(tf.square(x), [1, 2, 3]), NORM_EPS))) as tf.Scalar);
}
