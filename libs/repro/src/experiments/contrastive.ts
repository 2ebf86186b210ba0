// Experiment 4 (Huang, Yi, Zhao, ICLR 2023): across augmentation strengths and self-supervised objectives
// (InfoNCE, Barlow Twins), downstream nearest-center accuracy against the three quantities of their bound —
// alignment of positive views, divergence of class centers and concentration of augmented data — with the
// correlations over all runs.
import { join } from 'node:path';
import { augment, makeRng, type AugmentOptions, type FaceDataset } from '@facet/data';
import { loadBackbone } from '@facet/backbones';
import { embed } from '@facet/eval';
import { measureEmbeddings } from '@facet/metrics';
import { renderChart, scatterChart } from '@facet/plot';
import type { TrainConfig } from '@facet/train';
import { pearson, spearman } from '../correlation.js';
import { experimentData } from '../experiment-data.js';
import { sizesFor } from '../sizes.js';
import { runFingerprint } from '../run-ledger.js';
import { baseConfig, trainAndMeasure, trainCommand } from '../training-run.js';
import type { ExperimentOptions, ExperimentResult } from '../types.js';
import { experimentDir, ledgerFor, pct, reproCommand, saveProgress, saveResult, seedList } from './common.js';

/** The training presets of `facet train --augment`, as AugmentOptions (the same values @facet/train uses). */
export const AUGMENT_STRENGTHS: Record<'flip' | 'lowres' | 'strong', AugmentOptions> = {
  flip: { flip: true },
  lowres: { flip: true, downscale: { minSize: 8, maxSize: 32, p: 0.5 } },
  strong: {
    flip: true,
    randomResizedCrop: { scale: [0.6, 1], ratio: [0.8, 1.25] },
    colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4 },
    blur: { sigma: [0.1, 2], p: 0.3 },
    grayscale: 0.2,
  },
};
/**
 * Concentration is summarised as the mean of σ(δ) over the δ grid 0.1…2.0 (the normalised area under the
 * concentration curve): a single δ is either degenerate (every ball holds one image) or saturated at toy scale.
 */
export const CONCENTRATION_SUMMARY = 'mean σ(δ) over δ = 0.1…2.0';

async function probeImages(ds: FaceDataset, identities: number, images: number): Promise<{ imgs: Uint8Array[]; labels: Int32Array }> {
  const imgs: Uint8Array[] = [];
  const labels: number[] = [];
  const seen = new Map<number, number>();
  for (let i = 0; i < ds.size; i++) {
    const l = ds.labels[i]!;
    if (l >= identities) continue;
    const c = seen.get(l) ?? 0;
    if (c >= images) continue;
    seen.set(l, c + 1);
    imgs.push(await ds.read(i));
    labels.push(l);
  }
  return { imgs, labels: Int32Array.from(labels) };
}

const POINT_KEYS = ['acc', 'alignment', 'maxCos', 'sigma'] as const;

export async function contrastiveExperiment(opts: ExperimentOptions): Promise<ExperimentResult> {
  const t0 = performance.now();
  const sizes = sizesFor(opts.quick);
  const data = await experimentData(sizes, { identities: sizes.identities, imagesPerIdentity: sizes.imagesPerIdentity }, opts.data);
  const dir = experimentDir(opts, 'contrastive');
  const probe = await probeImages(data.unseen, sizes.probeIdentities, sizes.probeImages);
  const cols = ['nearest-center acc %', 'alignment', 'max center cosine', 'concentration (mean σ)'];
  const result: ExperimentResult = {
    name: 'contrastive',
    title: 'Contrastive theory: what predicts downstream accuracy',
    claim: 'Downstream (nearest-center) accuracy rises with better alignment (lower), larger center divergence (lower max center cosine) and sharper concentration (higher σ); stronger augmentation sharpens concentration (Huang et al., Theorem 1 / §5).',
    status: 'done',
    tables: [
      { title: `Per run (probe: ${probe.imgs.length} images of ${sizes.probeIdentities} unseen identities, two views under the training augmentation)`, columns: cols, rows: [] },
      { title: 'Correlation with nearest-center accuracy over all runs', columns: ['Pearson r', 'Spearman ρ', 'expected sign'], rows: [] },
    ],
    plots: [],
    findings: [],
    seconds: 0,
    sizes: { ...sizes, seeds: opts.seeds, probeImageCount: probe.imgs.length },
  };
  const ledger = ledgerFor(opts, 'contrastive');
  const points: Array<{ label: string; acc: number; alignment: number; maxCos: number; sigma: number }> = [];
  for (const objective of ['infonce', 'barlow'] as const) {
    for (const aug of Object.keys(AUGMENT_STRENGTHS) as Array<keyof typeof AUGMENT_STRENGTHS>) {
      for (const seed of seedList(opts)) {
        const over: Partial<TrainConfig> = { objective, augment: aug, lr: objective === 'barlow' ? 0.05 : 0.1 };
        const cfg = baseConfig(sizes, data.spec, join(opts.workDir, 'contrastive', `${objective}-${aug}-s${seed}`), seed, over);
        const measurement = { probeIdentities: sizes.probeIdentities, probeImages: sizes.probeImages, candidates: 64, concentration: CONCENTRATION_SUMMARY };
        const label = `${objective}/${aug}/s${seed}`;
        const measured = await ledger.measure(`${objective}-${aug}-s${seed}`, runFingerprint(cfg, measurement), opts.resume, POINT_KEYS, 2 * data.train.size * cfg.numEpoch, async () => {
          const m = await trainAndMeasure(opts, cfg, data.train, null);
          const model = await loadBackbone(m.modelDir);
          const rng = makeRng(seed);
          const v1 = probe.imgs.map((img) => augment(img, data.unseen.imageSize, AUGMENT_STRENGTHS[aug], rng));
          const v2 = probe.imgs.map((img) => augment(img, data.unseen.imageSize, AUGMENT_STRENGTHS[aug], rng));
          const dim = sizes.embeddingSize;
          const e1 = await embed(model, v1, { flip: false });
          const e2 = await embed(model, v2, { flip: false });
          model.dispose();
          const rep = await measureEmbeddings({ data: e1, dim }, { data: e2, dim }, probe.labels, { candidates: measurement.candidates, seed });
          const ms = rep.concentration.meanSigma;
          return {
            acc: rep.nearestCenter ? pct(rep.nearestCenter.accuracy) : NaN,
            alignment: rep.alignment,
            maxCos: rep.divergence.maxPairwiseCosine,
            sigma: ms.length ? ms.reduce((a, b) => a + b, 0) / ms.length : NaN,
          };
        });
        const p = { label, acc: measured.acc!, alignment: measured.alignment!, maxCos: measured.maxCos!, sigma: measured.sigma! };
        points.push(p);
        result.tables[0]!.rows.push({
          setting: p.label,
          values: { [cols[0]!]: p.acc, [cols[1]!]: p.alignment, [cols[2]!]: p.maxCos, [cols[3]!]: p.sigma },
          command: `${trainCommand(cfg, ['network', 'width', 'inputSize', 'objective', 'augment', 'lr', 'numEpoch', 'dataset', 'seed'])}; facet measure on the probe views (${reproCommand(opts, 'contrastive')})`,
        });
        saveProgress(opts, result);
      }
    }
  }
  const acc = points.map((p) => p.acc);
  const metrics: Array<{ key: 'alignment' | 'maxCos' | 'sigma'; name: string; sign: -1 | 1 }> = [
    { key: 'alignment', name: 'alignment (lower = better)', sign: -1 },
    { key: 'maxCos', name: 'max center cosine (lower = more divergence)', sign: -1 },
    { key: 'sigma', name: `concentration, ${CONCENTRATION_SUMMARY} (higher = sharper)`, sign: 1 },
  ];
  for (const m of metrics) {
    const xs = points.map((p) => p[m.key]);
    const r = pearson(xs, acc);
    const rho = spearman(xs, acc);
    result.tables[1]!.rows.push({ setting: m.name, values: { 'Pearson r': r, 'Spearman ρ': rho, 'expected sign': m.sign }, command: reproCommand(opts, 'contrastive') });
    const verdict = !Number.isFinite(rho) ? 'undefined (a constant series)' : Math.sign(rho) === m.sign && Math.abs(rho) >= 0.5 ? 'agrees with the theory' : Math.sign(rho) === -m.sign && Math.abs(rho) >= 0.5 ? 'CONTRADICTS the theory' : 'weak (|ρ| < 0.5, no conclusion)';
    result.findings.push(`${m.name}: Spearman ρ = ${rho.toFixed(2)}, Pearson r = ${r.toFixed(2)} over ${points.length} runs (${opts.seeds} seed${opts.seeds > 1 ? 's' : ''} per setting): ${verdict}.`);
    const file = `vs-${m.key}`;
    await renderChart(
      scatterChart({ title: `Nearest-center accuracy vs ${m.name}`, x: m.name, y: 'nearest-center accuracy %', points: points.map((p) => ({ x: p[m.key], y: p.acc, label: p.label, group: p.label.split('/')[0] })) }),
      join(dir, file),
    );
    result.plots.push(`contrastive/${file}.png`);
  }
  if (new Set(points.map((p) => p.label.split('/')[1])).size > 1) {
    result.findings.push(
      'Caveat: each run is probed with views made by its own training augmentation, so across augmentation strengths alignment and concentration also measure how far apart the views are (stronger augmentation, larger alignment distance), not only the encoder; the theory compares encoders under one fixed augmentation.',
    );
  }
  result.seconds = (performance.now() - t0) / 1000;
  saveResult(opts, result);
  return result;
}
