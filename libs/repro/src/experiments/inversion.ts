// Experiment 5 (ArcFace TPAMI §3.3 / §4.5, after DeepInversion): synthesize faces of training identities from the
// ArcFace model's gradients alone, with and without the BatchNorm-statistics prior, and score them with an
// independent verifier (a CosFace model trained on the same identities from another seed). The reference row is
// the verifier's cosine for real images of the same identities. A second table does the same for new identities
// (open set, `facet invert --random`): drawn from the Gaussian of the model's class centres, carried into the
// verifier's space as the same mixture of its own centres, with the verifier's impostor level (the other targets'
// images) as the reference a transferred identity must beat.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackbone } from '@facet/backbones';
import { tf } from '@facet/engine';
import { embed } from '@facet/eval';
import { contactSheet, disposeInversion, encodePng, invert, loadClassCenters, type InversionResult } from '@facet/inversion';
import { experimentData } from '../experiment-data.js';
import { sizesFor } from '../sizes.js';
import { baseConfig, trainAndMeasure } from '../training-run.js';
import type { ExperimentOptions, ExperimentResult } from '../types.js';
import { experimentDir, pairedDifference, reproCommand, saveResult, shownPath, verdict } from './common.js';

function marginOf(runDir: string) {
  return loadClassCenters(runDir).margin;
}

function centersTensor(runDir: string): tf.Tensor2D | tf.Tensor3D {
  const c = loadClassCenters(runDir);
  return c.subCenters === 1 ? tf.tensor2d(c.centers, [c.numClasses, c.embeddingSize]) : tf.tensor3d(c.centers, [c.numClasses, c.subCenters, c.embeddingSize]);
}

/** Mean cosine between unit rows of `emb` and the unit center of each row's class. */
function meanCenterCosine(emb: Float32Array, dim: number, classes: number[], centers: Float32Array): number {
  let sum = 0;
  classes.forEach((k, i) => {
    let dot = 0;
    let ne = 0;
    let nc = 0;
    for (let j = 0; j < dim; j++) {
      const e = emb[i * dim + j]!;
      const c = centers[k * dim + j]!;
      dot += e * c;
      ne += e * e;
      nc += c * c;
    }
    sum += dot / Math.sqrt(ne * nc);
  });
  return sum / classes.length;
}

export async function inversionExperiment(opts: ExperimentOptions): Promise<ExperimentResult> {
  const t0 = performance.now();
  const sizes = sizesFor(opts.quick);
  const data = await experimentData(sizes, { identities: sizes.identities, imagesPerIdentity: sizes.imagesPerIdentity }, opts.data);
  const dir = experimentDir(opts, 'inversion');
  const cols = ['verifier cosine', 'inverted-model cosine', 'BN distance'];
  const openCols = ['verifier cosine', 'verifier impostor level', 'inverted-model cosine', 'converged', 'BN distance'];
  const result: ExperimentResult = {
    name: 'inversion',
    title: 'Face inversion with and without the BN prior',
    claim: 'Images synthesized from a trained model with the BatchNorm-statistics prior keep their identity under an independent verifier better than without the prior (ArcFace TPAMI §4.5).',
    status: 'done',
    tables: [
      { title: `Close-set inversion of ${sizes.inversionTargets} training identities, ${sizes.inversionSteps} steps (verifier: CosFace, other seed)`, columns: cols, rows: [] },
      {
        title: `Open-set inversion of ${sizes.inversionTargets} new identities (facet invert --random: drawn from the class centres' Gaussian), ${sizes.inversionSteps} steps, default recipe (identity weight s/2)`,
        columns: openCols,
        rows: [],
      },
    ],
    plots: [],
    findings: [],
    seconds: 0,
    sizes: { ...sizes },
  };
  // the inverted model and the verifier: margins-experiment settings (reused when that experiment already ran)
  const model = await trainAndMeasure(opts, baseConfig(sizes, data.spec, join(opts.workDir, 'margins', 'arcface-s2048'), 2048, { head: 'arcface' }), data.train, data.verification);
  const ver = await trainAndMeasure(opts, baseConfig(sizes, data.spec, join(opts.workDir, 'inversion', 'verifier-cosface-s4096'), 4096, { head: 'cosface' }), data.train, data.verification);
  const backbone = await loadBackbone(model.modelDir);
  const verifier = await loadBackbone(ver.modelDir);
  const targets = centersTensor(model.output);
  const verifierCenters = centersTensor(ver.output);
  const classes = Array.from({ length: Math.min(sizes.inversionTargets, data.train.numClasses) }, (_, i) => i);
  const cmd = reproCommand(opts, 'inversion');
  const runs: Array<{ name: string; r: InversionResult }> = [];
  try {
    for (const [name, bnWeight] of [['with BN prior (λ = 0.05)', 0.05], ['without BN prior (λ = 0)', 0]] as const) {
      opts.onLog?.(`invert ${name}`);
      const r = await invert(backbone, { kind: 'class', classes, centers: targets }, { steps: sizes.inversionSteps, bnWeight, batchSize: classes.length, seed: 1, verifier: { model: verifier, centers: verifierCenters } });
      runs.push({ name, r });
      result.tables[0]!.rows.push({
        setting: name,
        values: { [cols[0]!]: r.summary.meanVerifierCosine ?? NaN, [cols[1]!]: r.summary.meanCosine, [cols[2]!]: r.summary.meanBnDistance },
        command: `facet invert ${shownPath(model.output)} --class ${classes.join(',')} --steps ${sizes.inversionSteps}${bnWeight === 0 ? ' --no-bn-prior' : ''} --verifier ${shownPath(ver.output)} (${cmd})`,
      });
    }
    // reference: real training images of the same identities under the verifier
    const first = classes.map((k) => data.train.labels.indexOf(k));
    const real = await Promise.all(first.map((i) => data.train.read(i)));
    const emb = await embed(verifier, real, { flip: false });
    const vc = loadClassCenters(ver.output);
    const realCos = vc.subCenters === 1 ? meanCenterCosine(emb, vc.embeddingSize, classes, vc.centers) : NaN;
    result.tables[0]!.rows.push({ setting: 'real images (reference)', values: { [cols[0]!]: realCos }, command: cmd });
    // open set: new identities, the issue-25 path (`facet invert --random`), with and without the prior
    const open: InversionResult[] = [];
    for (const [name, bnWeight] of [['with BN prior (λ = 0.05)', 0.05], ['without BN prior (λ = 0)', 0]] as const) {
      opts.onLog?.(`invert random identities ${name}`);
      const r = await invert(backbone, { kind: 'random', count: classes.length, seed: 1, reference: targets }, { steps: sizes.inversionSteps, bnWeight, batchSize: classes.length, seed: 1, margin: marginOf(model.output), verifier: { model: verifier, centers: verifierCenters } });
      open.push(r);
      runs.push({ name: `random ${name}`, r });
      result.tables[1]!.rows.push({
        setting: name,
        values: {
          [openCols[0]!]: r.summary.meanVerifierCosine ?? NaN,
          [openCols[1]!]: r.summary.meanVerifierImpostorCosine ?? NaN,
          [openCols[2]!]: r.summary.meanCosine,
          [openCols[3]!]: r.summary.convergedCount,
          [openCols[4]!]: r.summary.meanBnDistance,
        },
        command: `facet invert ${shownPath(model.output)} --random ${classes.length} --seed 1 --steps ${sizes.inversionSteps}${bnWeight === 0 ? ' --no-bn-prior' : ''} --verifier ${shownPath(ver.output)} (${cmd})`,
      });
    }
    const sheet = contactSheet(runs.map((x) => x.r.images));
    writeFileSync(join(dir, 'contact-sheet.png'), encodePng(sheet, 3));
    result.plots.push('inversion/contact-sheet.png');
    // both settings start every identity from the same noise (seed 1), so the per-identity differences are paired
    const [withPrior, without] = runs.map((x) => x.r.report.map((img) => img.verifierCosine ?? NaN));
    const p = pairedDifference(withPrior!, without!);
    const claim = verdict(p.mean, p.se, p.n, 'the paper', 'identity-to-identity');
    result.findings.push(
      `Verifier cosine with − without the BN prior: ${p.mean >= 0 ? '+' : ''}${p.mean.toFixed(3)} (real images: ${realCos.toFixed(3)}), paired over ${p.n} identities: ` +
        `standard error ${p.se.toFixed(3)}, the prior scores higher for ${p.positive} of ${p.n}; ${claim}. One inversion start and one model pair: the error covers identities, not training seeds.`,
      'Contact sheet columns: training identities with the BN prior, then without it; new random identities with the BN prior, then without it; one row per target.',
    );
    const [ow, oo] = open.map((r) => r.summary);
    result.findings.push(
      `New identities (open set): inverted-model cosine ${ow!.meanCosine.toFixed(3)} with the prior, ${oo!.meanCosine.toFixed(3)} without; verifier ${ow!.meanVerifierCosine?.toFixed(3)} / ${oo!.meanVerifierCosine?.toFixed(3)} against impostor levels ${ow!.meanVerifierImpostorCosine?.toFixed(3)} / ${oo!.meanVerifierImpostorCosine?.toFixed(3)}; ` +
        `${ow!.convergedCount}/${ow!.targets} and ${oo!.convergedCount}/${oo!.targets} targets converged (${ow!.convergence.why}).`,
    );
  } finally {
    for (const x of runs) disposeInversion(x.r);
    tf.dispose([targets, verifierCenters]);
    backbone.dispose();
    verifier.dispose();
  }
  result.seconds = (performance.now() - t0) / 1000;
  saveResult(opts, result);
  return result;
}
