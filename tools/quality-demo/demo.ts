// Demonstration of @facet/quality (issue 10) on the synthetic faces:
//  1. fine-tune a quickstart model with the recognizability additions (RI head, index diversion, perceptibility
//     attention; very-low-resolution augmentation and degraded UI images in every batch);
//  2. calibrate the RI head on the final model (inference mode) and store it with a UI centre built from degraded
//     training images;
//  3. on held-out synthetic pairs with 30 % very-low-resolution images mixed in (4–12 px and 6–16 px), check that
//     the RI separates degraded from clean images, and draw error-versus-reject curves of RI (calibrated and joint
//     head), ERS, embedding norm, SER-FIQ and random discard.
// Run: tools/quality-demo/run.sh [base-run=runs/quality-base] [out=runs/quality-rer]
// (after `facet train --preset quickstart --output runs/quality-base`). Env: STEPS (150), PAIRS (4000), SER (30).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadBackbone, saveBackbone } from '@facet/backbones';
import { AUGMENT_PRESETS, augment, BatchLoader, makeRng, mixSeed, openDataset, readLabelMap, syntheticVerificationSet, writeLabelMap } from '@facet/data';
import { initEngine, tf } from '@facet/engine';
import { MARGIN_PRESETS, marginLoss } from '@facet/heads';
import {
  calibrateRecognizability,
  captureFeatures,
  errorVersusReject,
  pairQuality,
  predictRecognizability,
  degradedDatasetImages,
  featureMapShape,
  mixLowResolution,
  pairsErrorVersusReject,
  plotErrorVersusReject,
  RecognizabilityTraining,
  saveQualityModel,
  separationAuc,
  unrecognizableBatch,
} from '@facet/quality';
import { clipByGlobalNorm, latestCheckpoint, readCheckpoint, sgd } from '@facet/train';

const base = resolve(process.argv[2] ?? 'runs/quality-base');
const out = resolve(process.argv[3] ?? 'runs/quality-rer');
const STEPS = Number(process.env.STEPS ?? 150);
const PAIRS = Number(process.env.PAIRS ?? 4000);
const SER = Number(process.env.SER ?? 30);
const B = 32;
const U = 8;
const LR = 0.02;
const docs = resolve('docs/quality');
const t0 = performance.now();
const log = (m: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${m}`);

await initEngine({ backend: 'wasm' });
const backbone = await loadBackbone(join(base, 'model'));
const S = backbone.inputSize;
const D = backbone.embeddingSize;
const labelMap = await readLabelMap(join(base, 'model'));
// the run's config names the exact training set (the label map only says 'synthetic')
const trainSource = (JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as { dataset: string }).dataset;
const ck = latestCheckpoint(base);
if (!ck) throw new Error(`${base}: no checkpoint; train it first with facet train --preset quickstart --output ${base}`);
const centres = readCheckpoint(ck).arrays['objective/weights'] as Float32Array;
const C = labelMap.numClasses;
if (!centres || centres.length !== C * D) throw new Error(`${ck}: expected objective/weights with ${C}×${D} class centres`);
log(`base ${backbone.name} ${S}px ${D}-d, ${C} classes, trained on ${trainSource}`);

// ---------------------------------------------------------------- 1. fine-tune with the recognizability additions
const W = tf.variable(tf.tensor2d(centres, [C, D]), true, 'demo/arcface/weight');
const [, , channels] = featureMapShape(backbone);
const rer = new RecognizabilityTraining({ embeddingSize: D, featureChannels: channels, uiImagesPerBatch: U });
const backboneVars = backbone.trainableVariables();
const vars = [...backboneVars, W, ...rer.variables()];
const optimizer = sgd(vars, { momentum: 0.9, weightDecay: 5e-4 });
const ds = await openDataset(trainSource, { imageSize: S });
if (ds.numClasses !== C) throw new Error(`${trainSource} has ${ds.numClasses} classes, the checkpoint ${C}`);
const loader = new BatchLoader(ds, { batchSize: B, seed: 1, augment: AUGMENT_PRESETS.lowres, numWorkers: 0 });
const margin = { ...MARGIN_PRESETS.arcface, s: 32 };
const history: Array<Record<string, number | null>> = [];
const backboneNames = new Set(backboneVars.map((v) => v.name));
for (let step = 0; step < STEPS; step++) {
  const batch = await loader.next();
  const ui = unrecognizableBatch(batch.images, S, U, step);
  let cls = 0;
  const { value, grads } = tf.variableGrads(
    () =>
      tf.tidy(() => {
        const cap = captureFeatures();
        const x = tf.concat([tf.tensor4d(batch.images, [B, S, S, 3]), tf.tensor4d(ui, [U, S, S, 3])]) as tf.Tensor4D;
        const all = backbone.apply(x, { training: true, onBatchNorm: cap.onBatchNorm });
        const emb = tf.slice(all, [0, 0], [B, D]) as tf.Tensor2D;
        const lossCls = marginLoss(emb, W as tf.Variable<tf.Rank.R2>, tf.tensor1d(batch.labels, 'int32'), margin);
        cls = lossCls.dataSync()[0]!;
        const extra = rer.loss({ embeddings: emb, labels: batch.labels, prototypes: W, uiEmbeddings: tf.slice(all, [B, 0], [U, D]) as tf.Tensor2D, featureMap: cap.featureMap()! });
        return tf.add(lossCls, extra) as tf.Scalar;
      }),
    vars,
  );
  const loss = value.dataSync()[0]!;
  const bb: Record<string, tf.Tensor> = {};
  const rest: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) (backboneNames.has(k) ? bb : rest)[k] = g;
  const clipped = clipByGlobalNorm(bb, 5);
  const lr = LR * (1 - step / STEPS);
  if (Number.isFinite(loss) && Number.isFinite(clipped.norm)) {
    optimizer.apply({ ...clipped.grads, ...rest }, lr);
    rer.afterStep();
  }
  tf.dispose([value, ...Object.values(grads)]);
  if (clipped.grads !== bb) tf.dispose(Object.values(clipped.grads));
  const p = rer.lastParts()!;
  history.push({ step: step + 1, loss, arcface: cls, ...p });
  if ((step + 1) % 10 === 0 || step === 0) {
    log(
      `step ${step + 1}/${STEPS} loss ${loss.toFixed(3)} (arcface ${cls.toFixed(3)}, RI ${p.regression.toFixed(4)}, ID ${p.diversion.toFixed(4)}, PAM ${p.attention.toFixed(4)}) ` +
        `ξ ${p.meanIndex.toFixed(3)} ξ̂ ${p.meanPredicted.toFixed(3)} ξ_UI ${p.meanUiIndex?.toFixed(3)} cos_UI ${p.meanCosUi.toFixed(3)}/${p.meanUiCosUi?.toFixed(3)} tensors ${tf.memory().numTensors}`,
    );
  }
}
await loader.close();

// ---------------------------------------------------------------- 2. store the model with its RI head and UI centre
// The head trained jointly saw training-mode embeddings (batch statistics, UI rows in the batch, dropout) of a moving
// backbone; it is refitted on the final model's inference embeddings (calibrateRecognizability) — same Smooth-L1,
// same RI targets — and both heads are evaluated below.
const modelDir = join(out, 'model');
mkdirSync(out, { recursive: true });
await saveBackbone(backbone, modelDir, { classNames: labelMap.classNames, trainedSteps: STEPS, objective: 'arcface + recognizability (demo fine-tune)' });
await writeLabelMap(modelDir, ds);
const calibration: Uint8Array[] = [];
for (let i = 0; i < ds.size; i++) calibration.push(augment(await ds.read(i), S, AUGMENT_PRESETS.lowres, makeRng(mixSeed(7, i))));
const uiImages = await degradedDatasetImages(trainSource, S, { count: 256, seed: 0 });
const jointHead = rer.head.toJSON();
writeFileSync(join(out, 'joint-head.json'), JSON.stringify(jointHead));
const quality = await calibrateRecognizability(backbone, {
  images: calibration,
  labels: ds.labels,
  prototypes: W.dataSync() as Float32Array,
  uiImages,
  uiSource: `256 degraded images of ${trainSource}`,
  fit: { init: jointHead },
});
saveQualityModel(modelDir, quality);
writeFileSync(join(out, 'history.json'), JSON.stringify(history));
log(`saved ${modelDir} (UI radius ${quality.uiRadius!.toFixed(3)}, head fit Smooth-L1 ${quality.fitLoss.toFixed(4)})`);

// ---------------------------------------------------------------- 3. evaluate on held-out pairs with low-res images
const clean = syntheticVerificationSet({ imageSize: S, pairs: PAIRS, seed: 0 });
const settings: unknown[] = [];
const plots: string[] = [];
mkdirSync(docs, { recursive: true });
for (const [lo, hi] of [
  [4, 12],
  [6, 16],
] as const) {
  const tag = `${lo}-${hi}px`;
  const mixed = mixLowResolution(clean, S, { fraction: 0.3, minSize: lo, maxSize: hi, seed: 0 });
  const degraded = [...mixed.degradedA, ...mixed.degradedB];
  log(`evaluating ${PAIRS} pairs, ${degraded.filter(Boolean).length} of ${2 * PAIRS} images at ${lo}–${hi} px, SER-FIQ m=${SER}`);
  const res = await pairsErrorVersusReject(backbone, mixed.set, quality, { fmrs: [1e-2, 1e-3], serFiq: { samples: SER, dropout: 0.5 }, randomRepeats: 0, batchSize: 64 });
  const joint = predictRecognizability(jointHead, res.images.raw);
  const measures: Record<string, Float64Array> = { ...(res.images.measures as Record<string, Float64Array>), 'ri-joint': joint };
  const pq = Object.fromEntries(Object.entries(measures).map(([k, q]) => [k, pairQuality(q.subarray(0, PAIRS), q.subarray(PAIRS))]));
  const erc = errorVersusReject(res.scores, mixed.set.issame, pq, { fmrs: [1e-2, 1e-3], randomRepeats: 20 });
  const genuine: Record<string, { pairs: number; fnmr: number }> = {};
  for (let i = 0; i < PAIRS; i++) {
    if (!mixed.set.issame[i]) continue;
    const k = `${Number(degraded[i]) + Number(degraded[PAIRS + i])} degraded`;
    genuine[k] ??= { pairs: 0, fnmr: 0 };
    genuine[k]!.pairs++;
    if (!(res.scores[i]! > erc.thresholds[0]!)) genuine[k]!.fnmr++;
  }
  for (const g of Object.values(genuine)) g.fnmr /= g.pairs;
  const meanOf = (q: Float64Array, want: boolean) => {
    let s = 0;
    let n = 0;
    q.forEach((v, i) => {
      if (degraded[i] === want) {
        s += v;
        n++;
      }
    });
    return s / n;
  };
  settings.push({
    degradation: `30 % of images shrunk to ${lo}–${hi} px and restored`,
    degradedImages: degraded.filter(Boolean).length,
    fnmrAt1e2ByPairKind: genuine,
    riMean: { clean: meanOf(measures.ri!, false), degraded: meanOf(measures.ri!, true) },
    separationAuc: Object.fromEntries(Object.entries(measures).map(([k, q]) => [k, separationAuc(q, degraded)])),
    thresholds: erc.thresholds,
    notes: erc.notes,
    erc: erc.curves.map((c) => ({
      measure: c.measure,
      fmr: c.targetFmr,
      auc: c.auc,
      fnmr: Object.fromEntries(c.points.filter((p) => [0, 0.1, 0.2, 0.3, 0.5].some((u) => Math.abs(u - p.reject) < 1e-9)).map((p) => [p.reject, p.fnmr])),
    })),
  });
  writeFileSync(join(out, `erc-${tag}.json`), JSON.stringify(erc)); // full curves: plots can be redrawn without re-embedding
  const files = await plotErrorVersusReject(erc, join(out, 'plots'), `erc-${tag}`, `Synthetic pairs, 30 % at ${lo}–${hi} px`);
  plots.push(...files);
  for (const f of files.filter((p) => p.endsWith('.png'))) copyFileSync(f, join(docs, f.split('/').at(-1)!));
}
const summary = {
  base,
  model: modelDir,
  steps: STEPS,
  pairs: PAIRS,
  serFiq: { samples: SER, dropout: 0.5 },
  headFitLoss: quality.fitLoss,
  uiRadius: quality.uiRadius,
  settings,
  seconds: (performance.now() - t0) / 1000,
};
writeFileSync(resolve('tools/quality-demo/results.json'), JSON.stringify(summary, null, 1) + '\n');
console.log(JSON.stringify(summary, null, 1));
log(`plots: ${plots.join(', ')}${existsSync(docs) ? `; PNGs copied to ${docs}` : ''}`);
