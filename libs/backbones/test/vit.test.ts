// ViT token masking: the row plan reproduces insightface's random_masking (gather by ids_keep, blocks on kept
// tokens, cat mask tokens, gather by ids_restore), and the mask token is trained only when masking is on.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { maskingRows } from '../src/architectures/vit.js';
import { createBackbone } from '../src/index.js';
import { randomArray, randomImages } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

/** torch argsort of a float array (stable). */
const argsort = (a: number[]) => [...a.keys()].sort((i, j) => a[i]! - a[j]! || i - j);

describe('ViT random token masking', () => {
  it('matches the torch sequence gather(ids_keep) → cat(mask) → gather(ids_restore) on labelled tokens', () => {
    const [B, N] = [3, 10];
    const keep = Math.floor(N * (1 - 0.3));
    const noise = Array.from({ length: B }, (_, b) => Array.from(randomArray(N, 40 + b)));
    const idsShuffle = noise.map(argsort);
    const idsRestore = idsShuffle.map(argsort);
    // token labels: sample b, position n → "b:n"; mask tokens → "M"
    const x = Array.from({ length: B }, (_, b) => Array.from({ length: N }, (_, n) => `${b}:${n}`));
    const xMasked = x.map((row, b) => idsShuffle[b]!.slice(0, keep).map((i) => row[i]!));
    const torch = xMasked.map((row, b) => {
      const cat = [...row, ...Array<string>(N - keep).fill('M')];
      return idsRestore[b]!.map((i) => cat[i]!);
    });

    const plan = maskingRows(idsShuffle, N, keep);
    const flat = x.flat();
    const kept = plan.kept.map((r) => flat[r]!);
    expect(kept).toEqual(xMasked.flat());
    const all = [...kept, ...Array<string>(B * (N - keep)).fill('M')];
    expect(plan.restore.map((r) => all[r]!)).toEqual(torch.flat());
    // every kept token returns to its own position; exactly N − keep positions per sample are masked
    torch.forEach((row) => expect(row.filter((t) => t === 'M')).toHaveLength(N - keep));
  });

  it('the mask token gets a gradient in training with masking, none without', () => {
    const grad = (maskRatio: number, training: boolean) => {
      const net = createBackbone('vit_t', { width: 0.0625, depth: 1, inputSize: 27, embeddingSize: 8, maskRatio, dropPath: 0 });
      const token = net.getWeights()['mask_token'] as tf.Variable;
      const x = randomImages(2, 27, 5);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(net.apply(x, { training }))) as tf.Scalar, net.trainableVariables());
      const g = grads[token.name];
      const norm = g ? tf.tidy(() => tf.sum(tf.abs(g))).dataSync()[0]! : 0;
      tf.dispose([x, value, ...Object.values(grads)]);
      net.dispose();
      return norm;
    };
    expect(grad(0.5, true)).toBeGreaterThan(0);
    expect(grad(0, true)).toBe(0);
    expect(grad(0.5, false)).toBe(0);
  });
});
