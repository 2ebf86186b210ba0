// Demonstration of @facet/inversion (ArcFace TPAMI §4.5 on a CPU scale): invert a quickstart IResNet-18 (56 px,
// width 0.25, trained with `facet train --preset quickstart`) and judge the results with an independent verifier
// (the same recipe trained with another --seed), with and without the BN statistic prior.
//   open set:  targets are the model's embeddings of held-out synthetic faces (identities never trained on);
//              verifier cosine = cos(B(inverted), B(real face)), the paper's third-party-model metric.
//   close set: targets are training classes (the Partial FC centres of model A); verifier cosine = cos to B's
//              centre of the same class (both runs train on the same synthetic identities).
// Reference points under the verifier: real faces of the same identity (genuine pairs), of different identities
// (impostors) and the starting noise.
// Run: tools/inversion-demo/run.sh [runs/inv-a] [runs/inv-b]   (env STEPS, TARGETS, BATCH)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { loadBackbone, type Backbone } from '@facet/backbones';
import { renderSyntheticFace } from '@facet/data';
import { initEngine, tf } from '@facet/engine';
import {
  classCenterShape,
  contactSheet,
  decodePng,
  disposeInversion,
  encodePng,
  invert,
  loadClassCenters,
  locateModel,
  writeInversionOutputs,
  type InversionTarget,
  type InversionSummary,
} from '@facet/inversion';

const runA = process.argv[2] ?? 'runs/inv-a';
const runB = process.argv[3] ?? 'runs/inv-b';
const STEPS = Number(process.env.STEPS ?? 600);
const N = Number(process.env.TARGETS ?? 8);
const OUT = resolve(process.env.OUT ?? 'runs/inversion-demo'); // full outputs (ignored by git)
const DOCS = resolve(process.env.DOCS ?? 'docs/inversion'); // compact sheets + results.json (checked in)
const SHOWN = Math.min(N, 6); // rows of the checked-in sheets
const HELD_OUT = 100_000;

function faces(ids: number[], variant: number, size: number): tf.Tensor4D {
  const px = new Float32Array(ids.length * size * size * 3);
  ids.forEach((id, i) => renderSyntheticFace(id, variant, { imageSize: size }).forEach((v, j) => (px[i * size * size * 3 + j] = (v - 127.5) / 127.5)));
  return tf.tensor4d(px, [ids.length, size, size, 3]);
}

function rowCos(model: Backbone, a: tf.Tensor4D, b: tf.Tensor4D | tf.Tensor2D): number[] {
  return tf.tidy(() => {
    const n = (e: tf.Tensor) => tf.div(e, tf.norm(e, 'euclidean', 1, true));
    const ea = n(model.apply(a));
    const eb = b.rank === 4 ? n(model.apply(b as tf.Tensor4D)) : n(b);
    return Array.from(tf.sum(tf.mul(ea, eb), 1).dataSync());
  });
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const r3 = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 1000) / 1000);

async function main() {
  const engine = await initEngine({ backend: 'wasm' });
  const loadAtStart = loadavg()[0]!;
  const a = locateModel(runA);
  const b = locateModel(runB);
  const model = await loadBackbone(a.modelDir);
  const verifier = await loadBackbone(b.modelDir);
  const S = model.inputSize;
  const ca = loadClassCenters(a.runDir!);
  const cb = loadClassCenters(b.runDir!);
  const centersA = tf.tensor(ca.centers, classCenterShape(ca) as [number, number]) as tf.Tensor2D;
  const centersB = tf.tensor(cb.centers, classCenterShape(cb) as [number, number]) as tf.Tensor2D;
  const heldOut = Array.from({ length: N }, (_, i) => HELD_OUT + i);
  const classes = Array.from({ length: N }, (_, i) => i);
  const real0 = faces(heldOut, 0, S);
  const real1 = faces(heldOut, 1, S);
  const impostor = faces(heldOut.map((id, i) => heldOut[(i + 1) % N]!), 0, S);
  const trainFaces = faces(classes, 0, S);
  const noise = tf.randomNormal([N, S, S, 3], 0, 1, 'float32', 1) as tf.Tensor4D;

  const classCos = (m: Backbone, x: tf.Tensor4D, c: tf.Tensor2D) =>
    tf.tidy(() => {
      const e = tf.div(m.apply(x), tf.norm(m.apply(x), 'euclidean', 1, true));
      const w = tf.div(c, tf.norm(c, 'euclidean', 1, true));
      const cos = tf.matMul(e, w, false, true).arraySync() as number[][];
      return cos.map((row, i) => row[i]!);
    });
  const reference = {
    model: {
      genuine: r3(mean(rowCos(model, real1, real0))),
      impostor: r3(mean(rowCos(model, impostor, real0))),
      noise: r3(mean(rowCos(model, noise, real0))),
      realToOwnClassCentre: r3(mean(classCos(model, trainFaces, centersA))),
    },
    verifier: {
      genuine: r3(mean(rowCos(verifier, real1, real0))),
      impostor: r3(mean(rowCos(verifier, impostor, real0))),
      noise: r3(mean(rowCos(verifier, noise, real0))),
      realToOwnClassCentre: r3(mean(classCos(verifier, trainFaces, centersB))),
    },
  };
  console.log('reference cosines', JSON.stringify(reference));

  const finals = new Map<string, tf.Tensor4D>();
  let progress: tf.Tensor4D[] = [];
  let progressSteps: number[] = [];
  const runs: Array<{ name: string; set: 'open' | 'close'; bn: boolean; identityWeight: number; summary: InversionSummary; perImage: Array<{ cos: number | null; verifier: number | null }> }> = [];
  // the four runs of the comparison, and the BN-prior open-set run with the identity term weighted up (its ℓ2 loss
  // is ≤ 4 while the weighted BN term of this network starts near 250)
  const configs = [
    { name: 'open-set-bn', set: 'open', bn: true, identityWeight: 1 },
    { name: 'open-set-no-bn', set: 'open', bn: false, identityWeight: 1 },
    { name: 'close-set-bn', set: 'close', bn: true, identityWeight: 1 },
    { name: 'close-set-no-bn', set: 'close', bn: false, identityWeight: 1 },
    { name: 'open-set-bn-id16', set: 'open', bn: true, identityWeight: 16 },
  ] as const;
  const only = process.env.RUNS ? process.env.RUNS.split(',') : undefined;
  for (const cfg of configs) {
    {
      const { name, set, bn } = cfg;
      if (only && !only.includes(name)) continue;
      const target: InversionTarget = set === 'open' ? { kind: 'image', images: real0 } : { kind: 'class', classes, centers: centersA };
      let last = 0;
      const r = await invert(model, target, {
        steps: STEPS,
        batchSize: Number(process.env.BATCH ?? N),
        bnWeight: bn ? 0.05 : 0,
        identityWeight: cfg.identityWeight,
        ...(set === 'close' ? { margin: ca.margin } : {}),
        verifier: set === 'open' ? { model: verifier } : { model: verifier, centers: centersB },
        onProgress: (p) => {
          if (p.step - last >= STEPS / 10 || p.step === p.steps) {
            last = p.step;
            console.log(`${name} step ${p.step}/${p.steps} cos ${p.cosine.toFixed(3)} id ${p.identity.toFixed(3)} bn ${p.bn.toFixed(2)} tv ${p.tv.toFixed(3)} ${p.elapsedSeconds.toFixed(0)} s`);
          }
        },
      });
      const dir = join(OUT, name);
      mkdirSync(dir, { recursive: true });
      writeInversionOutputs(r, dir, { targetImages: set === 'open' ? real0 : trainFaces, extra: { model: runA, verifier: runB } });
      finals.set(name, tf.slice(r.images, 0, SHOWN) as tf.Tensor4D);
      if (name === 'open-set-bn') {
        progress = [tf.slice(real0, 0, 3) as tf.Tensor4D, ...r.snapshots.map((s) => tf.slice(s.images, 0, 3) as tf.Tensor4D)];
        progressSteps = r.snapshots.map((s) => s.step);
      }
      runs.push({ name, set, bn, identityWeight: cfg.identityWeight, summary: r.summary, perImage: r.report.map((x) => ({ cos: r3(x.cosine), verifier: r3(x.verifierCosine) })) });
      console.log(`${name}: ${r.summary.seconds.toFixed(0)} s, cos ${r.summary.meanCosine.toFixed(3)}, verifier ${r.summary.meanVerifierCosine?.toFixed(3)}, batch BN ${r.summary.initialBatchBnDistance.toFixed(0)} → ${r.summary.batchBnDistance.toFixed(0)}`);
      disposeInversion(r);
    }
  }
  const results = {
    model: runA,
    verifier: runB,
    steps: STEPS,
    targets: N,
    backend: engine.backend,
    machine: `${cpus().length} CPUs, load average ${loadAtStart.toFixed(1)} at start / ${loadavg()[0]!.toFixed(1)} at end (other jobs shared the cores)`,
    reference,
    runs: runs.map((r) => ({
      name: r.name,
      bnPrior: r.bn,
      identityWeight: r.identityWeight,
      seconds: Math.round(r.summary.seconds),
      secondsPerStep: Math.round((r.summary.seconds / STEPS) * 100) / 100,
      meanCosine: r3(r.summary.meanCosine),
      meanInitialCosine: r3(r.summary.meanInitialCosine),
      meanVerifierCosine: r3(r.summary.meanVerifierCosine),
      batchBnDistance: Math.round(r.summary.batchBnDistance),
      initialBatchBnDistance: Math.round(r.summary.initialBatchBnDistance),
      targetBatchBnDistance: r.summary.targetBatchBnDistance === undefined ? null : Math.round(r.summary.targetBatchBnDistance),
      perImage: r.perImage,
    })),
  };
  // checked-in sheets: rows = targets; columns = real face, inverted with the BN prior, inverted without it
  mkdirSync(DOCS, { recursive: true });
  const shownReal = tf.slice(real0, 0, SHOWN) as tf.Tensor4D;
  const shownTrain = tf.slice(trainFaces, 0, SHOWN) as tf.Tensor4D;
  // a run not done in this invocation is read back from its PNGs in OUT (8-bit, as checked in anyway)
  const finalsOf = (n: string): tf.Tensor4D | undefined => {
    if (finals.has(n)) return finals.get(n);
    const files = Array.from({ length: SHOWN }, (_, i) => join(OUT, n, `inverted-${i}.png`));
    if (!files.every((f) => existsSync(f))) return undefined;
    const px = files.flatMap((f) => Array.from(decodePng(readFileSync(f), f).data, (v) => (v - 127.5) / 127.5));
    return tf.tensor4d(px, [SHOWN, S, S, 3]);
  };
  const sheet = (file: string, first: tf.Tensor4D, names: string[]) => {
    const cols = names.map(finalsOf);
    if (cols.every((c) => c)) writeFileSync(join(DOCS, file), encodePng(contactSheet([first, ...(cols as tf.Tensor4D[])])));
    else console.log(`${file}: not written (runs ${names.join(', ')} needed)`);
  };
  sheet('open-set.png', shownReal, ['open-set-bn', 'open-set-bn-id16', 'open-set-no-bn']);
  sheet('close-set.png', shownTrain, ['close-set-bn', 'close-set-no-bn']);
  if (progress.length) writeFileSync(join(DOCS, 'open-set-progress.png'), encodePng(contactSheet(progress)));
  // a partial run (RUNS=...) replaces its entries in an existing results.json
  const previous = existsSync(join(DOCS, 'results.json')) ? (JSON.parse(readFileSync(join(DOCS, 'results.json'), 'utf8')) as typeof results) : undefined;
  if (only && previous) results.runs = [...previous.runs.filter((r) => !only.includes(r.name)), ...results.runs];
  const withSheets = {
    ...results,
    sheets: {
      'open-set.png': 'rows: held-out identities; columns: real face, inverted with BN prior, with BN prior and identity weight 16, without BN prior',
      'close-set.png': 'rows: training classes; columns: a training face of the class, inverted with BN prior, without',
      'open-set-progress.png': `rows: 3 held-out identities; columns: real face, then steps ${progressSteps.join(', ')} (BN prior on)`,
    },
  };
  writeFileSync(join(DOCS, 'results.json'), JSON.stringify(withSheets, null, 2) + '\n');
  console.log(JSON.stringify(results.runs.map(({ perImage: _p, ...r }) => r), null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
