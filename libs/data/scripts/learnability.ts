// Is the synthetic set learnable by a tiny CPU model in minutes? Trains a 4-conv softmax classifier on
// synthetic identities 0..N-1 (tfjs wasm), then verifies held-out identities (HELD_OUT_IDENTITY_OFFSET..) with
// flip-summed embeddings and the best cosine threshold, next to the raw-pixel baseline on the same pairs.
//   node libs/data/scripts/run.mjs libs/data/scripts/learnability.ts [identities=100] [images=20] [epochs=10] [pairs=600]
import { initEngine, tf } from '@facet/engine';
import { rawPixelVerification, bestThresholdAccuracy } from '../src/verification/raw-pixel.js';
import { syntheticVerificationSet } from '../src/verification/synthetic.js';
import { SyntheticFaceDataset } from '../src/synthetic/dataset.js';
import { normalizeImages } from '../src/normalize.js';
import { makeRng } from '../src/rng.js';

const [ids = '100', imgs = '20', epochsArg = '10', pairsArg = '600'] = process.argv.slice(2);
await initEngine({ backend: 'wasm' });
const S = 112;
const ds = new SyntheticFaceDataset({ identities: Number(ids), imagesPerIdentity: Number(imgs) });
let t0 = performance.now();
const images = Array.from({ length: ds.size }, (_, i) => ds.readSync(i));
console.log(`rendered ${ds.size} training faces in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const ver = syntheticVerificationSet({ pairs: Number(pairsArg) });
const raw = rawPixelVerification(ver);

const input = tf.input({ shape: [S, S, 3] });
let h: tf.SymbolicTensor = input;
for (const f of [16, 32, 64, 128]) {
  h = tf.layers.conv2d({ filters: f, kernelSize: 3, strides: 2, padding: 'same', useBias: false }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
}
h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
const emb = tf.layers.dense({ units: 128 }).apply(h) as tf.SymbolicTensor;
const logits = tf.layers.dense({ units: ds.numClasses, activation: 'softmax' }).apply(emb) as tf.SymbolicTensor;
const model = tf.model({ inputs: input, outputs: logits });
const embedder = tf.model({ inputs: input, outputs: emb });
model.compile({ optimizer: tf.train.adam(3e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

const flip = (img: Uint8Array) => {
  const out = new Uint8Array(img.length);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) out[(y * S + x) * 3 + c] = img[(y * S + (S - 1 - x)) * 3 + c]!;
  return out;
};
const embedAll = (list: Uint8Array[]) => {
  const out: Float32Array[] = [];
  for (let i = 0; i < list.length; i += 64) {
    const chunk = list.slice(i, i + 64);
    const both = [...chunk, ...chunk.map(flip)];
    const x = tf.tensor4d(normalizeImagesBatch(both), [both.length, S, S, 3]);
    const e = (embedder.predict(x) as tf.Tensor).arraySync() as number[][];
    x.dispose();
    for (let j = 0; j < chunk.length; j++) out.push(Float32Array.from(e[j]!.map((v, d) => v + e[j + chunk.length]![d]!)));
  }
  return out;
};
function normalizeImagesBatch(list: Uint8Array[]) {
  const out = new Float32Array(list.length * S * S * 3);
  list.forEach((img, i) => normalizeImages(img, out.subarray(i * S * S * 3)));
  return out;
}
const verify = () => {
  const a = embedAll(ver.imagesA);
  const b = embedAll(ver.imagesB);
  const scores = a.map((ea, i) => {
    const eb = b[i]!;
    let d = 0, na = 0, nb = 0;
    for (let k = 0; k < ea.length; k++) { d += ea[k]! * eb[k]!; na += ea[k]! ** 2; nb += eb[k]! ** 2; }
    return d / Math.sqrt(na * nb);
  });
  return bestThresholdAccuracy(scores, ver.issame).accuracy;
};

const rng = makeRng(1);
const epochs = Number(epochsArg);
t0 = performance.now();
for (let ep = 0; ep < epochs; ep++) {
  const order = Array.from({ length: ds.size }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) { const j = rng.int(i + 1); [order[i], order[j]] = [order[j]!, order[i]!]; }
  const batch = order.map((i) => (rng.chance(0.5) ? flip(images[i]!) : images[i]!));
  const x = tf.tensor4d(normalizeImagesBatch(batch), [batch.length, S, S, 3]);
  const y = tf.tensor1d(order.map((i) => ds.labels[i]!), 'float32');
  const hist = await model.fit(x, y, { batchSize: 64, epochs: 1, verbose: 0 });
  tf.dispose([x, y]);
  const acc = verify();
  console.log(`epoch ${ep + 1}: loss ${(hist.history.loss![0] as number).toFixed(3)} train-acc ${((hist.history.acc ?? hist.history.accuracy)![0] as number).toFixed(3)} | held-out verification ${(100 * acc).toFixed(1)} % | ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
console.log(`raw-pixel baseline on the same ${ver.issame.length} pairs: ${(100 * raw.accuracy).toFixed(1)} %`);
