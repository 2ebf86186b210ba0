// Every backbone trains on wasm (tiny variants) without a missing kernel and without leaking tensors; whole-network
// gradients on wasm (Facet's kernels) agree with the pure-JS cpu backend.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { BACKBONE_NAMES, createBackbone, type Backbone, type BackboneOptions } from '../src/index.js';
import { maxAbs, maxAbsDiff, randomArray, randomImages } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const SIZE = 32;
const tiny = (name: string): BackboneOptions => ({ width: 0.125, inputSize: SIZE, embeddingSize: 16, ...(name.startsWith('iresnet') ? { dropout: 0.1 } : {}) });

/** A stand-in for the margin loss: pull each embedding towards a fixed random target. */
function loss(net: Backbone, x: tf.Tensor4D, target: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.square(tf.sub(net.apply(x, { training: true }), target)));
}

describe('one SGD step on wasm for every backbone', () => {
  for (const name of BACKBONE_NAMES) {
    it(`${name}: 3 steps, all trainable weights move, running stats update, tensor count flat`, () => {
      expect(tf.getBackend()).toBe('wasm');
      const net = createBackbone(name, tiny(name));
      const x = randomImages(4, SIZE, 21);
      const target = tf.tensor2d(randomArray(4 * 16, 22), [4, 16]);
      const opt = tf.train.sgd(0.01);
      const vars = net.trainableVariables();
      const w0 = vars.map((v) => v.dataSync().slice());
      const rv0 = net.batchNorms()[0]!.runningVar.dataSync().slice();
      const counts: number[] = [];
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const l = opt.minimize(() => loss(net, x, target), true, vars)!;
        losses.push(l.dataSync()[0]!);
        l.dispose();
        counts.push(tf.memory().numTensors);
      }
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(counts[2]).toBe(counts[0]);
      // a weight whose gradient is exactly zero would not move; only biases cancelled by a following
      // training-mode BN (IResNet's fc.bias) may legitimately have a ~0 gradient
      const still = vars.filter((v, i) => maxAbsDiff(v.dataSync(), w0[i]!) === 0).map((v) => v.name);
      expect(still.filter((n) => !n.endsWith('/fc.bias'))).toEqual([]);
      expect(maxAbsDiff(net.batchNorms()[0]!.runningVar.dataSync(), rv0)).toBeGreaterThan(0);
      tf.dispose([x, target]);
      opt.dispose();
      net.dispose();
    });
  }
});

describe('whole-network gradients: wasm vs the cpu backend', () => {
  for (const name of ['iresnet18', 'mobilefacenet', 'vit_t']) {
    it(`${name} (training mode, same seed): all parameter gradients agree`, async () => {
      // no dropout/drop-path/masking randomness to line up: both runs draw the same stream anyway (same seed)
      const opts: BackboneOptions = { width: 0.125, inputSize: SIZE, embeddingSize: 16, ...(name === 'vit_t' ? { depth: 2 } : { blocks: name === 'mobilefacenet' ? [1, 1, 1, 1] : [1, 1, 1, 1] }) };
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const net = createBackbone(name, opts);
        const x = randomImages(3, SIZE, 31);
        const target = tf.tensor2d(randomArray(3 * 16, 32), [3, 16]);
        const { value, grads } = tf.variableGrads(() => loss(net, x, target), net.trainableVariables());
        const out = net.trainableVariables().map((v) => grads[v.name]!.dataSync().slice());
        const l = value.dataSync()[0]!;
        tf.dispose([x, target, value, ...Object.values(grads)]);
        net.dispose();
        return { out, l };
      };
      const cpu = await run('cpu');
      const wasm = await run('wasm');
      expect(Math.abs(wasm.l - cpu.l)).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu.l)));
      // biases followed by a training-mode BN (e.g. bn3.bias feeding only BN'd paths) have an exactly-zero
      // gradient; their ~1e-8 rounding noise is judged against the network's gradient scale, not their own
      const scale = Math.max(...cpu.out.map(maxAbs));
      let worst = 0;
      cpu.out.forEach((g, i) => {
        worst = Math.max(worst, maxAbsDiff(wasm.out[i]!, g) / (maxAbs(g) + 1e-4 * scale));
      });
      expect(worst).toBeLessThan(2e-3);
    });
  }
});
