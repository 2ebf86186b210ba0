// Experiment 6 (RER, Chai et al. CVPR 2023): on held-out pairs with very-low-resolution probes mixed in, the
// error-versus-reject curves of the quality measures (discard the lowest-quality pairs, watch FNMR at a fixed FMR)
// and the verification accuracy of the low-resolution set with and without the RI training additions.
// Models: the ArcFace model of experiment 1 (flip augmentation; embedding norm, ERS, SER-FIQ), and per seed two
// ArcFace models trained with the very-low-resolution augmentation, one plain and one with `--recognizability`
// (RI head, index-diversion loss, perceptibility attention; its calibrated RI head is stored with the model).
import { join } from 'node:path';
import { loadBackbone } from '@facet/backbones';
import type { VerificationSet } from '@facet/data';
import { verify } from '@facet/eval';
import { buildUiCenter, degradedDatasetImages, mixLowResolution, pairsErrorVersusReject, plotErrorVersusReject, readQualityModel, type QualityModel } from '@facet/quality';
import type { TrainConfig } from '@facet/train';
import { experimentData } from '../experiment-data.js';
import { sizesFor } from '../sizes.js';
import { aggregate, baseConfig, trainAndMeasure, trainCommand } from '../training-run.js';
import type { ExperimentOptions, ExperimentResult } from '../types.js';
import { commandOverSeeds, experimentDir, pct, reproCommand, saveResult, seedList, shownPath, verdict } from './common.js';

export const LOW_RESOLUTION = { fraction: 0.3, minSize: 4, maxSize: 8 };

interface ModelErc {
  areas: Record<string, { e2: number; e3: number }>;
  accuracy: number;
  tarAt1e2: number;
  erc: Awaited<ReturnType<typeof pairsErrorVersusReject>>['erc'];
}

/** A UI centre (no RI head) for a model trained without the RI additions, from degraded training images. */
async function uiQuality(modelDir: string, uiImages: Uint8Array[]): Promise<QualityModel> {
  const backbone = await loadBackbone(modelDir);
  try {
    return await buildUiCenter(backbone, uiImages, { source: 'degraded training images' });
  } finally {
    backbone.dispose();
  }
}

/** The calibrated quality model a `--recognizability` run stored with its model. */
function storedQuality(modelDir: string): QualityModel {
  const stored = readQualityModel(modelDir);
  if (!stored?.head) throw new Error(`${modelDir}: no RI head in quality.json after a --recognizability run`);
  return stored;
}

/** ERC areas of every measure the model supports, and verification on the low-resolution pairs. */
async function measureLowResolution(modelDir: string, low: VerificationSet, quality: QualityModel, serFiqSamples: number): Promise<ModelErc> {
  const backbone = await loadBackbone(modelDir);
  try {
    const r = await pairsErrorVersusReject(backbone, low, quality, { serFiq: { samples: serFiqSamples }, fmrs: [1e-2, 1e-3] });
    const areas: ModelErc['areas'] = {};
    for (const m of [...Object.keys(r.pairQualities), 'random']) {
      const auc = (f: number) => r.erc.curves.find((c) => c.measure === m && c.targetFmr === f)?.auc ?? NaN;
      areas[m] = { e2: auc(1e-2), e3: auc(1e-3) };
    }
    const dim = r.images.dim;
    const n = low.issame.length;
    const v = verify(r.images.embeddings.subarray(0, n * dim), r.images.embeddings.subarray(n * dim), low.issame, { dim, fars: [1e-2] });
    return { areas, accuracy: v.accuracy.accuracy, tarAt1e2: v.tarAtFar[0]?.tar ?? NaN, erc: r.erc };
  } finally {
    backbone.dispose();
  }
}

export async function recognizabilityExperiment(opts: ExperimentOptions): Promise<ExperimentResult> {
  const t0 = performance.now();
  const sizes = sizesFor(opts.quick);
  const data = await experimentData(sizes, { identities: sizes.identities, imagesPerIdentity: sizes.imagesPerIdentity }, opts.data);
  const dir = experimentDir(opts, 'recognizability');
  const cmd = reproCommand(opts, 'recognizability');
  const seeds = seedList(opts);
  const serFiqSamples = opts.quick ? 8 : 50;
  const ercCols = ['ERC area FMR=1e-2 (lower = better)', 'ERC area FMR=1e-3'];
  const accCols = ['accuracy %', 'TAR@FAR=1e-2 %'];
  const result: ExperimentResult = {
    name: 'recognizability',
    title: 'Recognizability on very-low-resolution probes',
    claim: 'The recognizability index (RI) ranks low-resolution probes better than the embedding norm and ERS (lower ERC area), and the RI training additions raise the verification accuracy of low-resolution probes (RER, CVPR 2023).',
    status: 'done',
    tables: [
      { title: `Error versus reject on held-out pairs, ${pct(LOW_RESOLUTION.fraction)} % of images shrunk to ${LOW_RESOLUTION.minSize}–${LOW_RESOLUTION.maxSize} px (seed ${seeds[0]})`, columns: ercCols, rows: [] },
      { title: `Verification accuracy of the low-resolution pairs (mean ± std over ${seeds.length} seed${seeds.length > 1 ? 's' : ''})`, columns: accCols, rows: [] },
    ],
    plots: [],
    findings: [],
    seconds: 0,
    sizes: { ...sizes, lowResolution: LOW_RESOLUTION },
  };
  const low = mixLowResolution(data.verification, data.verification.imageSize, { ...LOW_RESOLUTION, seed: 7 }).set;

  // the ArcFace model of experiment 1: no RI head, so norm, ERS and SER-FIQ only
  const base = await trainAndMeasure(opts, baseConfig(sizes, data.spec, join(opts.workDir, 'margins', `arcface-s${seeds[0]}`), seeds[0]!, { head: 'arcface' }), data.train, data.verification);
  const uiImages = await degradedDatasetImages(data.spec, sizes.inputSize, { count: 64, seed: 3 });
  const baseQuality = await uiQuality(base.modelDir, uiImages);
  const baseErc = await measureLowResolution(base.modelDir, low, baseQuality, serFiqSamples);

  // per seed: lowres augmentation alone vs lowres augmentation + RER additions
  const variants: Array<[string, Partial<TrainConfig>, Array<keyof TrainConfig>]> = [
    ['ArcFace, lowres augmentation', { head: 'arcface', augment: 'lowres' }, ['augment']],
    ['ArcFace, lowres augmentation + RI training additions', { head: 'arcface', augment: 'lowres', recognizability: true }, ['augment', 'recognizability']],
  ];
  const perVariant: Array<{ rows: Array<Record<string, number>>; erc?: ModelErc; command: string }> = [];
  for (const [name, over, keys] of variants) {
    const rows: Array<Record<string, number>> = [];
    let first: ModelErc | undefined;
    let command = '';
    for (const seed of seeds) {
      const cfg = baseConfig(sizes, data.spec, join(opts.workDir, 'recognizability', `${over.recognizability ? 'rer' : 'lowres'}-s${seed}`), seed, over);
      command = commandOverSeeds(trainCommand(cfg, ['network', 'width', 'inputSize', 'embeddingSize', 'dataset', ...keys]), seeds);
      const m = await trainAndMeasure(opts, cfg, data.train, data.verification);
      const quality = over.recognizability ? storedQuality(m.modelDir) : await uiQuality(m.modelDir, uiImages);
      const e = await measureLowResolution(m.modelDir, low, quality, serFiqSamples);
      first ??= e;
      rows.push({ accuracy: e.accuracy, tar: e.tarAt1e2, cleanAccuracy: m.accuracy });
      opts.onLog?.(`${name} seed ${seed}: low-resolution accuracy ${pct(e.accuracy).toFixed(2)} %`);
    }
    perVariant.push({ rows, erc: first, command });
  }

  const ercTable = result.tables[0]!;
  const addErcRows = (model: string, e: ModelErc, command: string) => {
    for (const [m, a] of Object.entries(e.areas)) ercTable.rows.push({ setting: `${model}: ${m}`, values: { [ercCols[0]!]: a.e2, [ercCols[1]!]: a.e3 }, command });
  };
  addErcRows('ArcFace (exp. 1)', baseErc, `facet quality ${shownPath(base.modelDir)} --erc --synthetic --degrade ${LOW_RESOLUTION.fraction} (${cmd})`);
  addErcRows('lowres + RI additions', perVariant[1]!.erc!, `${perVariant[1]!.command} (${cmd})`);
  const ercFiles = await plotErrorVersusReject(perVariant[1]!.erc!.erc, dir, 'erc', 'Low-resolution probes, model trained with the RI additions');
  const baseFiles = await plotErrorVersusReject(baseErc.erc, dir, 'erc-arcface', 'Low-resolution probes, ArcFace model of experiment 1');
  result.plots.push(...[...ercFiles, ...baseFiles].filter((f) => f.endsWith('.png')).map((f) => `recognizability/${f.split('/').pop()}`));

  const accTable = result.tables[1]!;
  accTable.rows.push(
    { setting: 'ArcFace (exp. 1, flip augmentation), clean pairs', values: { [accCols[0]!]: pct(base.accuracy), [accCols[1]!]: pct(base.tarAt1e2) }, command: cmd },
    { setting: 'ArcFace (exp. 1, flip augmentation), low-resolution pairs', values: { [accCols[0]!]: pct(baseErc.accuracy), [accCols[1]!]: pct(baseErc.tarAt1e2) }, command: cmd },
  );
  const stats = perVariant.map((v) => aggregate(v.rows, ['accuracy', 'tar']));
  variants.forEach(([name], i) => {
    const s = stats[i]!;
    accTable.rows.push({
      setting: `${name}, low-resolution pairs`,
      values: { [accCols[0]!]: pct(s.values.accuracy!), [accCols[1]!]: pct(s.values.tar!) },
      std: { [accCols[0]!]: pct(s.std.accuracy!), [accCols[1]!]: pct(s.std.tar!) },
      command: `${perVariant[i]!.command} (${cmd})`,
    });
  });

  const rer = perVariant[1]!.erc!.areas;
  const others = ['norm', 'ers', 'ser-fiq'].filter((m) => rer[m]);
  const best = others.sort((a, b) => rer[a]!.e2 - rer[b]!.e2)[0]!;
  const diffAcc = stats[1]!.values.accuracy! - stats[0]!.values.accuracy!;
  const noise = Math.hypot(stats[0]!.std.accuracy ?? 0, stats[1]!.std.accuracy ?? 0);
  result.findings.push(
    rer.ri
      ? `On the model trained with the RI additions, the RI's ERC area at FMR 1e-2 is ${rer.ri.e2.toFixed(4)} against ${rer[best]!.e2.toFixed(4)} for the best other measure (${best}) and ${rer.random!.e2.toFixed(4)} for random discard: the RI ${rer.ri.e2 < rer[best]!.e2 ? 'ranks the low-resolution probes better, as the paper claims' : 'does not beat it here, contrary to the paper'}.`
      : 'The RI head was not found in the trained model (quality.json): no RI row.',
    `Low-resolution accuracy with the RI additions minus without (same lowres augmentation): ${pct(diffAcc).toFixed(2)} points; ${verdict(diffAcc, noise, seeds.length)}.`,
    `Low-resolution probes cost ${(pct(base.accuracy) - pct(baseErc.accuracy)).toFixed(2)} accuracy points on the flip-augmented ArcFace model.`,
  );
  result.seconds = (performance.now() - t0) / 1000;
  saveResult(opts, result);
  return result;
}
