// `facet clean`: sub-center ArcFace's noisy-sample cleaning (Deng et al., ECCV 2020 §3.2) on a finished run:
// embed every training image, find each class's dominant sub-center, drop samples farther than 75° from it, and
// write the kept items as a list that `facet train --keep-list` trains on.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadBackbone } from '@facet/backbones';
import type { FaceDataset } from '@facet/data';
import { initEngine } from '@facet/engine';
import { embed } from '@facet/eval';
import { cleanBySubCenters, writeCleanList, type SubCenterCleanClassReport } from '@facet/heads';
import { writeFileAtomic } from './atomic.js';
import { latestCheckpoint, readCheckpoint } from './checkpoint.js';
import { DEFAULT_CONFIG, mergeConfig } from './config.js';
import { openTrainingDataset } from './datasets.js';

export interface CleanRunOptions {
  thresholdDegrees?: number;
  /** Output list; default <run>/clean/keep.txt. */
  out?: string;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** The dataset the run trained on, when it was passed to `train` as an object. */
  dataset?: FaceDataset;
}

export interface CleanRunReport {
  run: string;
  list: string;
  images: number;
  kept: number;
  dropped: number;
  thresholdDegrees: number;
  subCenters: number;
  perClass: SubCenterCleanClassReport[];
}

export async function cleanRun(runDir: string, opts: CleanRunOptions = {}): Promise<CleanRunReport> {
  const run = resolve(runDir);
  const cfgPath = join(run, 'config.json');
  if (!existsSync(cfgPath)) throw new Error(`${run}: not a training run (config.json missing); pass the --output directory of facet train`);
  const cfg = mergeConfig(DEFAULT_CONFIG, JSON.parse(readFileSync(cfgPath, 'utf8')), cfgPath);
  if (cfg.objective !== 'margin' || cfg.head === 'softmax') throw new Error(`${run}: cleaning needs a margin-head run (this one trained ${cfg.objective}/${cfg.head})`);
  const ck = latestCheckpoint(run);
  if (!ck) throw new Error(`${run}: no checkpoint to read the class centers from`);
  const centers = readCheckpoint(ck).arrays['objective/weights'] as Float32Array | undefined;
  if (!centers) throw new Error(`${ck}: holds no class centers (objective/weights)`);
  await initEngine({ backend: cfg.backend });
  const model = await loadBackbone(join(run, 'model'));
  const ds = opts.dataset ?? (await openTrainingDataset(cfg, () => undefined));
  const images: Uint8Array[] = [];
  for (let i = 0; i < ds.size; i++) images.push(await ds.read(i));
  const emb = await embed(model, images, { flip: false, batchSize: opts.batchSize ?? 64, onProgress: opts.onProgress });
  model.dispose();
  const thresholdDegrees = opts.thresholdDegrees ?? 75;
  const result = cleanBySubCenters(emb, ds.labels, centers, { numClasses: ds.numClasses, subCenters: cfg.subCenters, embeddingSize: cfg.embeddingSize, thresholdDegrees });
  const list = resolve(opts.out ?? join(run, 'clean', 'keep.txt'));
  mkdirSync(join(list, '..'), { recursive: true });
  writeCleanList(list, Array.from({ length: ds.size }, (_, i) => ds.describe(i)), result.keep);
  const report: CleanRunReport = { run, list, images: ds.size, kept: result.kept, dropped: result.dropped, thresholdDegrees, subCenters: cfg.subCenters, perClass: result.perClass };
  writeFileAtomic(join(list, '..', 'clean-report.json'), JSON.stringify(report, null, 1));
  return report;
}
