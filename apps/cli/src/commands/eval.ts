import { basename, join, resolve } from 'node:path';
import {
  embedDataset,
  evaluateIdentification,
  evaluatePairs,
  gatherRows,
  initEngine,
  loadBin,
  loadPairs,
  lowResolutionSet,
  openDataset,
  openEmbeddingModel,
  plotCmc,
  plotRocComparison,
  plotVerification,
  readEmbeddings,
  readPairsIndex,
  summarizeVerification,
  syntheticVerificationSet,
  verify,
  writeFileAtomic,
  type BackendChoice,
  type InferenceRuntime,
  type PairImages,
  type RocCurve,
  type VerificationMetric,
  type VerificationSummary,
} from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { countProgress } from '../render/progress.js';
import { FacetCommand } from '../base.js';
import { runtimeFlag } from '../runtime-flag.js';
import { alignFlag, alignIfAsked } from '../align-flag.js';
import { outFolderFlag } from '../out-flag.js';
import { anyPairSet, checkPairSetFlags, pairSetFlags, pairSets } from '../pair-sets.js';

export interface IdentificationRow {
  set: string;
  probes: number;
  galleryClasses: number;
  galleryOnlyClasses: number;
  rank1: number;
  rank5: number;
  cmc: Array<{ rank: number; rate: number }>;
}

export interface EvalResult {
  model: string | null;
  /** What embedded the images ('onnx' | 'tfjs'); null with --embeddings. */
  runtime: 'onnx' | 'tfjs' | null;
  flip: boolean;
  metric: VerificationMetric;
  verification: VerificationSummary[];
  identification: IdentificationRow[];
  plots: string[];
  out: string;
}

const pct = (v: number) => (100 * v).toFixed(2);

export default class Eval extends FacetCommand {
  static description =
    "Evaluate a model (or embeddings made anywhere): insightface's 10-fold verification on .bin sets or pairs lists, ROC/AUC/EER/TAR@FAR, 1:N identification with CMC; prints a table and writes plots";
  static examples = [
    '<%= config.bin %> eval runs/r18 --bin lfw.bin --bin cfp_fp.bin --bin agedb_30.bin',
    '<%= config.bin %> eval runs/r18 --pairs pairs.txt --root lfw-aligned/',
    '<%= config.bin %> eval runs/r18 --pairs pairs.txt --root photos/ --align     # raw photos: detect + align first',
    '<%= config.bin %> eval --embeddings emb.npy --pairs-index pairs.json --out eval-python-model',
    '<%= config.bin %> eval runs/r18 --identify faces/ --json',
    '<%= config.bin %> eval runs/r18 --synthetic',
  ];
  static args = {
    model: Args.string({ description: 'model folder (as saved by facet train or facet import) or an .onnx file; not needed with --embeddings', required: false }),
  };
  static flags = {
    ...pairSetFlags({ syntheticPairs: 600, syntheticDescription: 'also verify on held-out synthetic pairs (the built-in data npm start trains on)' }),
    embeddings: Flags.string({ description: '.npy of [N, dim] embeddings made elsewhere (float32/float64) (default: none; embed with <model>)' }),
    'pairs-index': Flags.string({ description: 'JSON pairs over --embeddings rows: [[i, j, same(, fold)], …] or {"issame": […]} (.bin order) (default: none)' }),
    labels: Flags.string({ description: 'JSON with "labels" (or a plain array) for identification on --embeddings (default: the .json beside the .npy)' }),
    identify: Flags.string({ description: 'image folder (one sub-folder per identity) for 1:N identification (default: none)' }),
    out: outFolderFlag('facet-eval', 'plots and results.json'),
    flip: Flags.boolean({ description: 'flip test: embed image + mirror (insightface); --no-flip to disable', default: true, allowNo: true }),
    metric: Flags.string({ description: '10-fold score: squared L2 (insightface) or cosine', options: ['l2', 'cosine'], default: 'l2' }),
    folds: Flags.integer({ description: 'number of contiguous folds', default: 10, min: 2 }),
    'batch-size': Flags.integer({ description: 'images per forward pass', default: 64, min: 1 }),
    'gallery-per-class': Flags.integer({ description: 'gallery images per identity for --identify', default: 1, min: 1 }),
    seed: Flags.integer({ description: 'seed of the gallery/probe split', default: 0 }),
    plots: Flags.boolean({ description: 'write plots (--no-plots to skip)', default: true, allowNo: true }),
    runtime: runtimeFlag,
    align: alignFlag,
    'low-res': Flags.integer({ description: 'simulate small faces: every crop of the pair sets shrunk to this many pixels a side and restored to the input size before embedding, as the lowres training augmentation does (default: off)', min: 1 }),
  };

  async run(): Promise<EvalResult> {
    const { args, flags } = await this.parse(Eval);
    const needsModel = anyPairSet(flags) || Boolean(flags.identify);
    if (!needsModel && !flags.embeddings) {
      throw new Error(
        'nothing to evaluate: pass --bin, --pairs with --root, --identify or --synthetic (with a model folder), or --embeddings with --pairs-index / --labels.',
      );
    }
    if (flags.align && !flags.root && !flags.identify) throw new Error('--align aligns photo folders: it needs --pairs with --root, or --identify (.bin sets and embeddings are already aligned).');
    if (needsModel && !args.model) throw new Error('--bin, --pairs, --identify and --synthetic embed images: pass the model folder as the first argument.');
    checkPairSetFlags(flags);
    if ((flags['pairs-index'] || flags.labels) && !flags.embeddings) throw new Error('--pairs-index and --labels refer to rows of --embeddings; pass --embeddings emb.npy.');
    await initEngine({ backend: flags.backend as BackendChoice });

    const out = resolve(flags.out);
    const metric = flags.metric as VerificationMetric;
    const evalOpts = { flip: flags.flip, batchSize: flags['batch-size'], metric, folds: flags.folds };
    const result: EvalResult = { model: args.model ?? null, runtime: null, flip: flags.flip, metric, verification: [], identification: [], plots: [], out };
    const rocs: Array<{ name: string; roc: RocCurve }> = [];
    const addVerification = async (name: string, report: Parameters<typeof summarizeVerification>[1], xnorm?: number) => {
      result.verification.push(summarizeVerification(name, report, xnorm === undefined ? {} : { xnorm }));
      rocs.push({ name, roc: report.roc });
      if (flags.plots) result.plots.push(...(await plotVerification(report, out, name)));
    };

    if (needsModel) {
      const opened = await openEmbeddingModel(args.model!, { runtime: flags.runtime as InferenceRuntime });
      const model = opened.model;
      if (!this.jsonEnabled()) this.logToStderr(`model: ${opened.why}`);
      result.runtime = opened.runtime;
      try {
        const size = { imageSize: model.inputSize };
        const log = (l: string) => this.logToStderr(l);
        const root = flags.root && (await alignIfAsked(flags.root, model.inputSize, flags.align, log));
        const sets = pairSets<PairImages>({ ...flags, root }, model.inputSize, {
          loadBin,
          loadPairs,
          syntheticVerificationSet,
        });
        for (const s of sets) {
          const loaded = await s.load();
          const set = flags['low-res'] ? lowResolutionSet(loaded, flags['low-res'], model.inputSize) : loaded;
          const skipped = (set as { skipped?: string[] }).skipped;
          if (skipped?.length) this.warn(`${s.name}: ${skipped.length} pairs skipped as unreadable (${skipped.slice(0, 3).join('; ')}${skipped.length > 3 ? '; …' : ''})`);
          const name = flags['low-res'] ? `${s.name}@${flags['low-res']}px` : s.name;
          const progress = countProgress(name);
          const ev = await evaluatePairs(model, set, { ...evalOpts, onProgress: progress.update });
          progress.stop();
          await addVerification(name, ev.report, ev.xnorm);
        }
        if (flags.identify) {
          const name = basename(resolve(flags.identify));
          const ds = await openDataset(await alignIfAsked(flags.identify, model.inputSize, flags.align, log), size);
          const progress = countProgress(name);
          const emb = await embedDataset(model, ds, { flip: flags.flip, batchSize: flags['batch-size'], onProgress: progress.update });
          progress.stop();
          await this.identify(result, name, emb.embeddings, ds.labels, emb.dim, flags, out);
        }
      } finally {
        await opened.dispose();
      }
    }

    if (flags.embeddings) {
      const name = basename(flags.embeddings).replace(/\.npy$/i, '');
      const file = readEmbeddings(flags.embeddings, flags.labels);
      if (flags['pairs-index']) {
        const idx = readPairsIndex(flags['pairs-index'], file.count);
        const report = verify(gatherRows(file.embeddings, file.dim, idx.a), gatherRows(file.embeddings, file.dim, idx.b), idx.issame, {
          dim: file.dim,
          metric,
          folds: flags.folds,
          ...(idx.foldIds ? { foldIds: idx.foldIds } : {}),
        });
        await addVerification(name, report);
      }
      const labels = file.meta?.labels ?? (Array.isArray(file.meta) ? (file.meta as number[]) : undefined);
      if (flags.labels || (!flags['pairs-index'] && labels)) {
        if (!labels || labels.length !== file.count || !labels.every((l) => Number.isInteger(l))) {
          throw new Error(`${flags.labels ?? 'the .json beside ' + flags.embeddings} needs "labels": one integer per embedding row (${file.count}).`);
        }
        await this.identify(result, name, file.embeddings, Int32Array.from(labels), file.dim, flags, out);
      } else if (!flags['pairs-index']) {
        throw new Error(`${flags.embeddings}: pass --pairs-index for verification or --labels for identification (no labels found beside it).`);
      }
    }

    if (flags.plots && rocs.length > 1) result.plots.push(...(await plotRocComparison(rocs, out, 'roc-all', 'ROC of every set')));
    writeFileAtomic(join(out, 'results.json'), JSON.stringify(result, null, 1) + '\n');
    this.render(result);
    return result;
  }

  private async identify(
    result: EvalResult,
    name: string,
    embeddings: Float32Array,
    labels: Int32Array,
    dim: number,
    flags: { seed: number; 'gallery-per-class': number; plots: boolean },
    out: string,
  ): Promise<void> {
    const ev = evaluateIdentification(embeddings, labels, dim, { seed: flags.seed, galleryPerClass: flags['gallery-per-class'] });
    const r = ev.result;
    result.identification.push({
      set: name,
      probes: r.probes,
      galleryClasses: r.galleryClasses,
      galleryOnlyClasses: ev.galleryOnlyClasses,
      rank1: r.rank1,
      rank5: r.rank5,
      cmc: Array.from(r.ranks, (rank, i) => ({ rank, rate: r.cmc[i]! })),
    });
    if (flags.plots) result.plots.push(...(await plotCmc(r, out, name)));
  }

  private render(result: EvalResult): void {
    if (result.verification.length) {
      const rows = result.verification.map((v) => {
        const t3 = v.tarAtFar.find((t) => t.far === 1e-3);
        return [
          v.set,
          String(v.pairs),
          `${pct(v.accuracy)} ± ${pct(v.std)}`,
          // the pairs list's own fold column, or insightface's contiguous split of the pair order
          `${v.foldCount} ${v.foldSource === 'file' ? 'from file' : 'contiguous'}`,
          v.auc.toFixed(4),
          pct(v.eer),
          t3?.tar == null ? 'n/a' : pct(t3.tar),
          v.bestThresholdCosine.toFixed(3),
        ];
      });
      this.table(['set', 'pairs', 'accuracy %', 'folds', 'AUC', 'EER %', 'TAR@FAR=1e-3 %', 'best cos thr'], rows);
      for (const v of result.verification) {
        const farLine = v.tarAtFar.map((t) => `${t.far.toExponential(0)}: ${t.tar == null ? 'n/a' : pct(t.tar)}`).join(', ');
        this.log(`  ${v.set}: TAR@FAR ${farLine}${v.xnorm !== undefined ? `; XNorm ${v.xnorm.toFixed(2)}` : ''}`);
        for (const t of v.tarAtFar) if (t.note) this.log(`    FAR ${t.far.toExponential(0)}: ${t.note}`);
      }
    }
    if (result.identification.length) {
      if (result.verification.length) this.log('');
      this.table(
        ['set', 'probes', 'gallery ids', 'rank-1 %', 'rank-5 %'],
        result.identification.map((r) => [r.set, String(r.probes), String(r.galleryClasses), pct(r.rank1), pct(r.rank5)]),
      );
    }
    this.log(`results: ${join(result.out, 'results.json')}${result.plots.length ? `; ${result.plots.length} plot files in ${result.out}` : ''}`);
  }
}
