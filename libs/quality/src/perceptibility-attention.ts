// RER's perceptibility attention module (theory.md §3.1; the architecture is not published, this one is ours):
// spatial attention over the backbone's last feature map F [B, h, w, C],
//   s_p = w₂ᵀ·ReLU(W₁ᵀ f_p + b₁)             (two 1×1 convolutions, C → hidden → 1; the second has no bias:
//                                            a softmax ignores a constant shift, so it would never get a gradient)
//   a   = softmax_p(s)                      (where in the face to look)
//   v_attn = (Σ_p a_p f_p)·W_o               (attended feature projected to the embedding size)
// Training pulls v̂_attn towards the embedding with its UI component removed (attention-loss.ts), so the
// gradient through F teaches the backbone which regions carry identity rather than "unrecognizable" evidence.
import { tf } from '@facet/engine';
import { freeVariablePrefix } from './variable-names.js';

export interface PerceptibilityAttentionOptions {
  /** C, channels of the feature map (featureMapShape(backbone)[2]). */
  channels: number;
  embeddingSize: number;
  /** Hidden width of the scoring 1×1 convolutions. Default max(8, round(C/4)). */
  hidden?: number;
  seed?: number;
  /** Variable name prefix (a taken prefix gets a _1, _2 … suffix). Default 'quality/attention'. */
  name?: string;
}

export class PerceptibilityAttention {
  readonly channels: number;
  readonly embeddingSize: number;
  readonly hidden: number;
  private readonly w1: tf.Variable;
  private readonly b1: tf.Variable;
  private readonly w2: tf.Variable;
  private readonly wo: tf.Variable;

  constructor(opts: PerceptibilityAttentionOptions) {
    const { channels: c, embeddingSize: d } = opts;
    for (const [k, v] of Object.entries({ channels: c, embeddingSize: d })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`PerceptibilityAttention: ${k} must be a positive integer (got ${v}).`);
    }
    const h = opts.hidden ?? Math.max(8, Math.round(c / 4));
    if (!Number.isInteger(h) || h < 1) throw new Error(`PerceptibilityAttention: hidden must be a positive integer (got ${h}).`);
    this.channels = c;
    this.embeddingSize = d;
    this.hidden = h;
    const seed = opts.seed ?? 2048;
    const name = freeVariablePrefix(opts.name ?? 'quality/attention', ['score1/weight', 'score1/bias', 'score2/weight', 'project/weight']);
    const u = (shape: number[], fanIn: number, s: number) => tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), 'float32', seed + s);
    this.w1 = tf.variable(u([c, h], c, 1), true, `${name}/score1/weight`);
    this.b1 = tf.variable(tf.zeros([h]), true, `${name}/score1/bias`);
    this.w2 = tf.variable(u([h, 1], h, 2), true, `${name}/score2/weight`);
    this.wo = tf.variable(u([c, d], c, 3), true, `${name}/project/weight`);
  }

  /** Attended embedding [B, D] (raw) and the attention weights [B, h·w] (rows sum to 1). */
  apply(featureMap: tf.Tensor4D): { embedding: tf.Tensor2D; weights: tf.Tensor2D } {
    if (featureMap.rank !== 4 || featureMap.shape[3] !== this.channels) {
      throw new Error(`PerceptibilityAttention: feature map [${featureMap.shape}] does not have the ${this.channels} channels the module was built for.`);
    }
    const [b, h, w, c] = featureMap.shape;
    const positions = h * w;
    const out = tf.tidy(() => {
      const flat = tf.reshape(featureMap, [b * positions, c]) as tf.Tensor2D;
      const hidden = tf.relu(tf.add(tf.matMul(flat, this.w1 as tf.Variable<tf.Rank.R2>), this.b1)) as tf.Tensor2D;
      const scores = tf.reshape(tf.matMul(hidden, this.w2 as tf.Variable<tf.Rank.R2>), [b, positions]);
      const weights = tf.softmax(scores) as tf.Tensor2D;
      const pooled = tf.reshape(tf.matMul(tf.reshape(weights, [b, 1, positions]), tf.reshape(featureMap, [b, positions, c])), [b, c]) as tf.Tensor2D;
      return [tf.matMul(pooled, this.wo as tf.Variable<tf.Rank.R2>), weights] as [tf.Tensor2D, tf.Tensor2D];
    });
    return { embedding: out[0], weights: out[1] };
  }

  variables(): tf.Variable[] {
    return [this.w1, this.b1, this.w2, this.wo];
  }

  dispose(): void {
    tf.dispose(this.variables());
  }
}
