// Verification accuracy on held-out pairs during and after training (insightface's CallBackVerification).
import { tf } from '@facet/engine';
import type { VerificationSet } from '@facet/data';
import { embed, plotVerification, verify, type EmbeddingModel } from '@facet/eval';

export interface ValidationResult {
  target: string;
  step: number;
  pairs: number;
  accuracy: number;
  std: number;
  auc?: number;
  bestThresholdCosine?: number;
}

/** Uint8 RGB HWC images at their own size → normalized NHWC Float32Array at `size` (bilinear when they differ). */
export function toModelInput(images: Uint8Array[], imageSize: number, size: number): Float32Array {
  return tf.tidy(() => {
    const n = images.length;
    const flat = new Float32Array(n * imageSize * imageSize * 3);
    images.forEach((img, i) => {
      for (let j = 0; j < img.length; j++) flat[i * img.length + j] = (img[j]! - 127.5) / 127.5;
    });
    let x = tf.tensor4d(flat, [n, imageSize, imageSize, 3]);
    if (imageSize !== size) x = tf.image.resizeBilinear(x, [size, size], true);
    return x.dataSync() as Float32Array;
  });
}

/** Validate; with `plotDir`, also draw the ROC and genuine/impostor score plots of this set. */
export async function validateOn(model: EmbeddingModel, set: VerificationSet, step: number, plotDir?: string): Promise<ValidationResult & { plots?: string[] }> {
  const a = toModelInput(set.imagesA, set.imageSize, model.inputSize);
  const b = toModelInput(set.imagesB, set.imageSize, model.inputSize);
  const ea = await embed(model, a, { flip: true });
  const eb = await embed(model, b, { flip: true });
  const dim = ea.length / set.issame.length;
  const r = verify(ea, eb, set.issame, { dim, ...(set.foldIds ? { foldIds: set.foldIds } : {}) });
  const plots = plotDir ? await plotVerification(r, plotDir, set.name) : undefined;
  return {
    plots,
    target: set.name,
    step,
    pairs: set.issame.length,
    accuracy: r.accuracy.accuracy,
    std: r.accuracy.std,
    auc: r.auc,
    bestThresholdCosine: r.bestThresholdCosine,
  };
}

/** The same protocol on raw normalized pixels: what a model must beat to have learned anything. */
export function rawPixelAccuracy(set: VerificationSet): ValidationResult {
  const a = toModelInput(set.imagesA, set.imageSize, set.imageSize);
  const b = toModelInput(set.imagesB, set.imageSize, set.imageSize);
  const dim = a.length / set.issame.length;
  const norm = (x: Float32Array) => {
    for (let i = 0; i < x.length; i += dim) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += x[i + j]! * x[i + j]!;
      const inv = 1 / Math.sqrt(s || 1);
      for (let j = 0; j < dim; j++) x[i + j]! *= inv;
    }
    return x;
  };
  const r = verify(norm(a), norm(b), set.issame, { dim, ...(set.foldIds ? { foldIds: set.foldIds } : {}) });
  return { target: `${set.name} (raw pixels)`, step: 0, pairs: set.issame.length, accuracy: r.accuracy.accuracy, std: r.accuracy.std, auc: r.auc };
}
