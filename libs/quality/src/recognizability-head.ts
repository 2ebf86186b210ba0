// RER's RI regression head (theory.md §3.1: backbone feature → dropout → FC → scalar ξ̂): at test time ξ̂ is the
// quality score, so the model rates an image without labels or prototypes. Input: the raw embedding v and its norm
// — a linear layer cannot compute a norm, yet the norm is itself a quality cue (MagFace) — both scaled by 1/√D:
// a BN1d embedding has unit-variance entries, so the input has norm ≈ 1 and the dense layer trains at the
// backbone's learning rate without diverging (unscaled, one SGD step would move ξ̂ by ~lr·D times the error).
//   ξ̂ = [v/√D, ‖v‖/√D]·w + b          (w has D + 1 entries)
import { mixSeed } from '@facet/data';
import { tf } from '@facet/engine';
import { freeVariablePrefix } from './variable-names.js';

export interface RecognizabilityHeadOptions {
  embeddingSize: number;
  /** Dropout on the head's input while training. Default 0.4 (ours; the paper's rate is not known). */
  dropout?: number;
  seed?: number;
  /** Variable name prefix (global in tfjs: a taken prefix gets a _1, _2 … suffix). Default 'quality/ri_head'. */
  name?: string;
}

/** What is stored with a model: ξ̂ = [v/√D, ‖v‖/√D]·weight + bias (weight: D + 1 numbers). */
export interface RecognizabilityHeadWeights {
  embeddingSize: number;
  weight: number[];
  bias: number;
}

export class RecognizabilityHead {
  readonly embeddingSize: number;
  readonly dropout: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  private readonly seed: number;
  /** Dropout masks drawn so far (each mask's seed derives from it; checkpointed so a resumed run draws the same masks). */
  draws = 0;

  constructor(opts: RecognizabilityHeadOptions) {
    const d = opts.embeddingSize;
    if (!Number.isInteger(d) || d < 1) throw new Error(`RecognizabilityHead: embeddingSize must be a positive integer (got ${d}).`);
    const p = opts.dropout ?? 0.4;
    if (!(p >= 0 && p < 1)) throw new Error(`RecognizabilityHead: dropout must be in [0, 1) (got ${p}).`);
    this.embeddingSize = d;
    this.dropout = p;
    this.seed = opts.seed ?? 2048;
    const name = freeVariablePrefix(opts.name ?? 'quality/ri_head', ['weight', 'bias']);
    // PyTorch nn.Linear default U(±1/√in) for the weight; bias 0 (the target is in [0, 1])
    const bound = 1 / Math.sqrt(d + 1);
    this.weight = tf.variable(tf.randomUniform([d + 1, 1], -bound, bound, 'float32', this.seed), true, `${name}/weight`);
    this.bias = tf.variable(tf.zeros([1]), true, `${name}/bias`);
  }

  /** ξ̂ [B] for raw embeddings [B, D]; dropout only when training (a fresh mask per call). */
  apply(embeddings: tf.Tensor2D, training = false): tf.Tensor1D {
    if (embeddings.rank !== 2 || embeddings.shape[1] !== this.embeddingSize) {
      throw new Error(`RecognizabilityHead: embeddings [${embeddings.shape}] do not match the head's ${this.embeddingSize}-d input.`);
    }
    return tf.tidy(() => {
      const scaled = tf.mul(embeddings, 1 / Math.sqrt(this.embeddingSize)) as tf.Tensor2D;
      let x = tf.concat([scaled, tf.norm(scaled, 'euclidean', 1, true)], 1) as tf.Tensor2D;
      if (training && this.dropout > 0) {
        const u = tf.randomUniform(x.shape, 0, 1, 'float32', mixSeed(this.seed, 0x41, this.draws++));
        x = tf.mul(x, tf.div(tf.step(tf.sub(u, this.dropout)), 1 - this.dropout)) as tf.Tensor2D;
      }
      return tf.reshape(tf.add(tf.matMul(x, this.weight as tf.Variable<tf.Rank.R2>), this.bias), [-1]) as tf.Tensor1D;
    });
  }

  variables(): tf.Variable[] {
    return [this.weight, this.bias];
  }

  toJSON(): RecognizabilityHeadWeights {
    return { embeddingSize: this.embeddingSize, weight: Array.from(this.weight.dataSync()), bias: this.bias.dataSync()[0]! };
  }

  setWeights(w: RecognizabilityHeadWeights): void {
    if (w.embeddingSize !== this.embeddingSize || w.weight.length !== this.embeddingSize + 1) {
      throw new Error(`RecognizabilityHead: stored weights have ${w.weight.length} entries, this head takes ${this.embeddingSize} + 1.`);
    }
    tf.tidy(() => {
      this.weight.assign(tf.tensor2d(w.weight, [this.embeddingSize + 1, 1]));
      this.bias.assign(tf.tensor1d([w.bias]));
    });
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}

/** ξ̂ on the host (float64) from stored head weights: what `facet quality` reports as the RI score. */
export function predictRecognizability(head: RecognizabilityHeadWeights, embeddings: ArrayLike<number>): Float64Array {
  const d = head.embeddingSize;
  if (head.weight.length !== d + 1) throw new Error(`predictRecognizability: the head has ${head.weight.length} weights; expected ${d} + 1 (embedding and its norm).`);
  if (embeddings.length % d !== 0) throw new Error(`predictRecognizability: ${embeddings.length} values are not whole ${d}-d rows.`);
  const n = embeddings.length / d;
  const out = new Float64Array(n);
  const scale = 1 / Math.sqrt(d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    let sq = 0;
    for (let k = 0; k < d; k++) {
      const x = embeddings[i * d + k]!;
      s += x * head.weight[k]!;
      sq += x * x;
    }
    out[i] = head.bias + scale * (s + Math.sqrt(sq) * head.weight[d]!);
  }
  return out;
}
