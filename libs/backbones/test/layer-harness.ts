// Materialise a few layers outside a registered backbone, for unit tests of one layer.
import { tf } from '@facet/engine';
import { initValues } from '../src/init.js';
import { NetworkBuilder, type ForwardContext } from '../src/network.js';
import { Rng } from '../src/rng.js';
import type { ApplyOptions, BatchNormLayer } from '../src/types.js';

export function materialize(b: NetworkBuilder) {
  const vars = new Map<string, tf.Variable>();
  b.params.forEach((p, i) => vars.set(p.name, tf.variable(tf.tensor(initValues(p.init, p.shape.reduce((x, y) => x * y, 1), 77 + i), p.shape), p.trainable)));
  const layers = new Map<string, BatchNormLayer>();
  for (const bn of b.batchNorms) {
    layers.set(bn.name, {
      ...bn,
      weight: vars.get(`${bn.name}.weight`)!,
      bias: vars.get(`${bn.name}.bias`)!,
      runningMean: vars.get(`${bn.name}.running_mean`)!,
      runningVar: vars.get(`${bn.name}.running_var`)!,
    });
  }
  const ctx = (training: boolean, onBatchNorm?: ApplyOptions['onBatchNorm'], fused = true): ForwardContext => ({
    training,
    rng: new Rng(1),
    onBatchNorm,
    fusedBatchNorm: fused,
    variable: (n) => vars.get(n)!,
    batchNorm: (n) => layers.get(n)!,
    scope: (fn) => fn(),
  });
  return { vars, layers, ctx, dispose: () => vars.forEach((v) => v.dispose()) };
}
