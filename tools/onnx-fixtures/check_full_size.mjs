// One-off full-size check (not part of npm test: the files are ~100 MB): PyTorch-exported IResNet-18 and get_mbf at
// 112² (make_fixtures.py --full-size DIR) imported into Facet (wasm) and run in ONNX Runtime, against PyTorch's output.
// Run after `npm run build`: node tools/onnx-fixtures/check_full_size.mjs DIR
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, tf } from '@facet/engine';
import { importOnnxBackbone, loadOnnxModel } from '@facet/onnx';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node tools/onnx-fixtures/check_full_size.mjs DIR (written by make_fixtures.py --full-size DIR)');
  process.exit(2);
}
const floats = (f) => {
  const b = readFileSync(join(dir, f));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const relToMax = (a, b) => {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
};
await initEngine({ backend: 'wasm' });
const nchw = floats('inputs.bin');
const hw = 112 * 112;
const x = new Float32Array(nchw.length);
for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) for (let p = 0; p < hw; p++) x[(b * hw + p) * 3 + c] = nchw[(b * 3 + c) * hw + p];
for (const name of ['mbf', 'r18']) {
  const want = floats(`${name}.out.bin`);
  const { backbone, network } = await importOnnxBackbone(join(dir, `${name}.onnx`));
  const y = tf.tidy(() => backbone.apply(tf.tensor4d(x, [2, 112, 112, 3]), { training: false }));
  const facet = y.dataSync();
  y.dispose();
  backbone.dispose();
  const model = await loadOnnxModel(join(dir, `${name}.onnx`));
  const ort = await model.embed(x, 2);
  await model.dispose();
  console.log(`${name} → ${network.name}: Facet (wasm) vs PyTorch ${relToMax(facet, want).toExponential(2)}, ONNX Runtime vs PyTorch ${relToMax(ort, want).toExponential(2)} (max |Δ| / max |y|)`);
}
