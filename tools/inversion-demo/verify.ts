// Score the images a demo run saved (runs/inversion-demo/<run>/inverted-*.png) under one more verifier, e.g. a
// different architecture: `facet train --preset quickstart --network mobilefacenet --output runs/inv-mbf --seed 11`,
// then SCRIPT=verify.ts tools/inversion-demo/run.sh runs/inv-mbf. Adds `extraVerifiers[<run dir>]` to results.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadBackbone, type Backbone } from '@facet/backbones';
import { renderSyntheticFace } from '@facet/data';
import { initEngine, tf } from '@facet/engine';
import { classCenterShape, decodePng, loadClassCenters, locateModel } from '@facet/inversion';

const runV = process.argv[2] ?? 'runs/inv-mbf';
const OUT = resolve(process.env.OUT ?? 'runs/inversion-demo');
const DOCS = resolve(process.env.DOCS ?? 'docs/inversion');
const HELD_OUT = 100_000;

const normalize = (e: tf.Tensor) => tf.div(e, tf.norm(e, 'euclidean', 1, true));
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const r3 = (v: number) => Math.round(v * 1000) / 1000;

function faces(ids: number[], variant: number, size: number): tf.Tensor4D {
  const px = new Float32Array(ids.length * size * size * 3);
  ids.forEach((id, i) => renderSyntheticFace(id, variant, { imageSize: size }).forEach((v, j) => (px[i * size * size * 3 + j] = (v - 127.5) / 127.5)));
  return tf.tensor4d(px, [ids.length, size, size, 3]);
}

function pngs(dir: string, n: number, size: number): tf.Tensor4D {
  const px = Array.from({ length: n }, (_, i) => Array.from(decodePng(readFileSync(join(dir, `inverted-${i}.png`))).data)).flat();
  return tf.tensor4d(px.map((v) => (v - 127.5) / 127.5), [n, size, size, 3]);
}

const rowCos = (m: Backbone, a: tf.Tensor4D, b: tf.Tensor4D) => tf.tidy(() => Array.from(tf.sum(tf.mul(normalize(m.apply(a)), normalize(m.apply(b))), 1).dataSync()));
const centreCos = (m: Backbone, x: tf.Tensor4D, c: tf.Tensor2D, classes: number[]) =>
  tf.tidy(() => {
    const cos = tf.matMul(normalize(m.apply(x)), normalize(c), false, true).arraySync() as number[][];
    return classes.map((k, i) => cos[i]![k]!);
  });

async function main() {
  await initEngine({ backend: 'wasm' });
  const results = JSON.parse(readFileSync(join(DOCS, 'results.json'), 'utf8'));
  const N: number = results.targets;
  const where = locateModel(runV);
  const v = await loadBackbone(where.modelDir);
  const S = v.inputSize;
  const cc = loadClassCenters(where.runDir!);
  const centres = tf.tensor(cc.centers, classCenterShape(cc) as [number, number]) as tf.Tensor2D;
  const ids = Array.from({ length: N }, (_, i) => HELD_OUT + i);
  const classes = Array.from({ length: N }, (_, i) => i);
  const real0 = faces(ids, 0, S);
  const reference = {
    genuine: r3(mean(rowCos(v, faces(ids, 1, S), real0))),
    impostor: r3(mean(rowCos(v, faces(ids.map((_, i) => ids[(i + 1) % N]!), 0, S), real0))),
    noise: r3(mean(rowCos(v, tf.randomNormal([N, S, S, 3], 0, 1, 'float32', 1) as tf.Tensor4D, real0))),
    realToOwnClassCentre: r3(mean(centreCos(v, faces(classes, 0, S), centres, classes))),
  };
  const runs: Record<string, number> = {};
  for (const r of results.runs as Array<{ name: string }>) {
    const dir = join(OUT, r.name);
    if (!existsSync(join(dir, 'inverted-0.png'))) continue;
    const x = pngs(dir, N, S);
    runs[r.name] = r3(mean(r.name.startsWith('open') ? rowCos(v, x, real0) : centreCos(v, x, centres, classes)));
    x.dispose();
  }
  results.extraVerifiers = { ...(results.extraVerifiers ?? {}), [runV]: { network: v.name, reference, meanVerifierCosine: runs } };
  writeFileSync(join(DOCS, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(JSON.stringify(results.extraVerifiers[runV], null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
