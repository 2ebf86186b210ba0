// Backbones expose only the embedding, but they call `onBatchNorm(layer, input)` with every BatchNorm input in
// forward order (the inversion's hook). That is enough to see the last spatial feature map (IResNet: the input of
// the head's bn2, i.e. the last residual stage; MobileFaceNet: the conv_sep output) and the pre-BN1d embedding,
// without changing the backbones. With the hook set, `apply` runs in the caller's tf scope: wrap it in tf.tidy.
import type { BatchNormLayer } from '@facet/backbones';
import { tf } from '@facet/engine';

export interface FeatureCapture {
  /** Pass as `backbone.apply(x, { onBatchNorm })`. */
  readonly onBatchNorm: (layer: BatchNormLayer, input: tf.Tensor) => void;
  /** Input of the last rank-4 BatchNorm with more than one spatial position: the last feature map [B, h, w, C]. */
  featureMap(): tf.Tensor4D | undefined;
  /** The last BatchNorm layer and its input: IResNet's and MobileFaceNet's embedding BN1d ('features'). */
  lastBatchNorm(): { layer: BatchNormLayer; input: tf.Tensor } | undefined;
  /** The input of the BatchNorm called `name` (the last call wins). */
  inputOf(name: string): tf.Tensor | undefined;
}

export function captureFeatures(): FeatureCapture {
  let map: tf.Tensor4D | undefined;
  let last: { layer: BatchNormLayer; input: tf.Tensor } | undefined;
  const byName = new Map<string, tf.Tensor>();
  return {
    onBatchNorm(layer, input) {
      if (input.rank === 4 && input.shape[1]! * input.shape[2]! > 1) map = input as tf.Tensor4D;
      last = { layer, input };
      byName.set(layer.name, input);
    },
    featureMap: () => map,
    lastBatchNorm: () => last,
    inputOf: (name) => byName.get(name),
  };
}

/** Shape [h, w, C] of a backbone's last feature map, from one inference forward of a blank image. */
export function featureMapShape(backbone: {
  inputSize: number;
  apply(x: tf.Tensor4D, o: { training?: boolean; onBatchNorm?: FeatureCapture['onBatchNorm'] }): tf.Tensor2D;
}): [number, number, number] {
  return tf.tidy(() => {
    const cap = captureFeatures();
    backbone.apply(tf.zeros([1, backbone.inputSize, backbone.inputSize, 3]) as tf.Tensor4D, { training: false, onBatchNorm: cap.onBatchNorm });
    const m = cap.featureMap();
    if (!m) throw new Error('featureMapShape: this backbone has no spatial BatchNorm (ViT); the perceptibility attention needs a convolutional backbone (IResNet, MobileFaceNet) or attentionWeight 0.');
    return [m.shape[1], m.shape[2], m.shape[3]] as [number, number, number];
  });
}
