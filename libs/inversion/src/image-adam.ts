// Adam on the image batch itself (Kingma & Ba 2015, Alg. 1, with bias correction), the optimiser both the ArcFace
// paper and DeepInversion use. A few lines of our own rather than tf.train.adam so the learning rate can follow
// the schedule step by step and the state is explicit.
import { tf } from '@facet/engine';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
}

export class ImageAdam {
  private m: tf.Variable;
  private v: tf.Variable;
  private t = 0;

  constructor(
    shape: number[],
    private readonly opts: AdamOptions,
  ) {
    // inside tidy: the zeros the variables are made from are freed (a variable keeps its own reference)
    this.m = tf.tidy(() => tf.variable(tf.zeros(shape), false));
    this.v = tf.tidy(() => tf.variable(tf.zeros(shape), false));
  }

  /** x ← x − lr·m̂/(√v̂ + ε) with m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ). */
  step(x: tf.Variable, grad: tf.Tensor, lr: number): void {
    const { beta1: b1, beta2: b2, epsilon } = this.opts;
    this.t++;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    tf.tidy(() => {
      this.m.assign(tf.add(tf.mul(this.m, b1), tf.mul(grad, 1 - b1)));
      this.v.assign(tf.add(tf.mul(this.v, b2), tf.mul(tf.square(grad), 1 - b2)));
      const update = tf.div(tf.div(this.m, c1), tf.add(tf.sqrt(tf.div(this.v, c2)), epsilon));
      x.assign(tf.sub(x, tf.mul(update, lr)));
    });
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}
