import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  buildUiCenter,
  imageQualities,
  degradedDatasetImages,
  initEngine,
  loadBackbone,
  loadBin,
  loadPairs,
  mixLowResolution,
  pairsErrorVersusReject,
  plotErrorVersusReject,
  readImageFolder,
  readLabelMap,
  readQualityModel,
  saveQualityModel,
  separationAuc,
  syntheticVerificationSet,
  writeFileAtomic,
  type BackendChoice,
  type ErrorVersusReject,
  type ImageQualityOptions,
  type QualityModel,
  type QualityPairs,
} from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { countProgress } from '../render/progress.js';
import { FacetCommand } from '../base.js';
import { checkOutFolder, outFolderFlag } from '../out-flag.js';
import { alignFlag, alignIfAsked } from '../align-flag.js';
import { anyPairSet, checkPairSetFlags, pairSetFlags, pairSets } from '../pair-sets.js';

export interface QualityUiInfo {
  source: string | null;
  count: number | null;
  saved: string | null;
}

export interface QualityImagesResult {
  mode: 'images';
  model: string;
  count: number;
  measures: string[];
  skipped: Array<{ measure: string; reason: string }>;
  serFiqSite: string | null;
  ui: QualityUiInfo;
  out: string;
  images: Array<Record<string, string | number>>;
}

export interface QualityErcSet {
  set: string;
  pairs: number;
  genuine: number;
  impostor: number;
  /** AUC of each measure telling degraded from clean images (with --degrade). */
  separation: Record<string, number> | null;
  /** Measures left out and why (no RI head, no UI centre, SER-FIQ disabled). */
  skipped: Array<{ measure: string; reason: string }>;
  erc: ErrorVersusReject;
  plots: string[];
}

export interface QualityErcResult {
  mode: 'erc';
  model: string;
  ui: QualityUiInfo;
  sets: QualityErcSet[];
  out: string;
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export default class Quality extends FacetCommand {
  static description =
    'Face image quality: a score per image (the RI head of a --recognizability model, ERS to the unrecognizable-identity centre, embedding norm, SER-FIQ) as CSV/JSON in --out, or error-versus-reject curves on verification pairs (--erc)';
  static examples = [
    '<%= config.bin %> quality runs/r18/model faces/ --out q/               # q/scores.csv',
    '<%= config.bin %> quality runs/r18/model --erc --pairs pairs.txt --root lfw-aligned/',
    '<%= config.bin %> quality runs/r18/model --erc --synthetic --degrade 0.3 --json',
    '<%= config.bin %> quality runs/r18/model --ui-images unrecognizable/ --save-ui',
  ];
  static args = {
    model: Args.string({ description: 'model folder (the model/ of a facet train run)', required: true }),
    images: Args.string({ description: 'folder of face crops to score (loose or in identity sub-folders)', required: false }),
  };
  static flags = {
    out: outFolderFlag('facet-quality', 'scores.csv/scores.json (per-image scores), or with --erc the ERC plots and results.json'),
    format: Flags.string({ description: 'format of the per-image scores file in --out', options: ['csv', 'json'], default: 'csv' }),
    erc: Flags.boolean({ description: 'error-versus-reject curves on verification pairs (--pairs/--bin/--synthetic)' }),
    ...pairSetFlags({ syntheticPairs: 2000, syntheticDescription: 'held-out synthetic pairs' }),
    degrade: Flags.string({ description: 'mix in very-low-resolution images: this fraction of images shrunk to --degrade-size px and restored', default: '0' }),
    'degrade-size': Flags.string({ description: 'side range in px of the degraded images, min,max', default: '6,16' }),
    fmr: Flags.string({ description: 'target FMR of the ERC (repeatable)', multiple: true, default: ['1e-2', '1e-3'] }),
    'recompute-threshold': Flags.boolean({ description: "recompute the threshold on the pairs kept at each fraction (CR-FIQA's erc.py) instead of fixing it on all pairs (ISO/IEC 29794-1)" }),
    'ui-images': Flags.string({ description: 'build the UI centre from this folder of unrecognizable faces (default: none; see --ui-degrade)' }),
    'ui-degrade': Flags.string({ description: 'build the UI centre from degraded images of this dataset (folder, .rec or synthetic:…); default: the training set named in the model labels.json' }),
    'ui-count': Flags.integer({ description: 'degraded images for the UI centre', default: 256, min: 1 }),
    'save-ui': Flags.boolean({ description: 'store the UI centre in <model>/quality.json' }),
    'ser-fiq-samples': Flags.integer({ description: 'SER-FIQ stochastic passes per image (0 skips SER-FIQ)', default: 100, min: 0 }),
    'ser-fiq-dropout': Flags.string({ description: 'SER-FIQ dropout rate', default: '0.5' }),
    flip: Flags.boolean({ description: 'flip test for the comparison embeddings; --no-flip to disable', default: true, allowNo: true }),
    'batch-size': Flags.integer({ description: 'images per forward pass', default: 32, min: 1 }),
    seed: Flags.integer({ description: 'seed of synthetic pairs, degradations and random discard', default: 0 }),
    align: alignFlag,
  };

  async run(): Promise<QualityImagesResult | QualityErcResult> {
    const { args, flags } = await this.parse(Quality);
    const setFlags = anyPairSet(flags);
    if (flags.erc && !setFlags) throw new Error('--erc needs verification pairs: --pairs with --root, --bin, or --synthetic.');
    if (!flags.erc && setFlags) throw new Error('--pairs/--bin/--synthetic are for error-versus-reject curves: add --erc.');
    if (!flags.erc && !args.images && !flags['save-ui']) throw new Error('pass a folder of images to score, --erc with verification pairs, or --save-ui to only store the UI centre.');
    checkPairSetFlags(flags);
    checkOutFolder(flags.out, flags.erc ? 'ERC plots and results.json' : `scores.${flags.format}; --format json for JSON`);
    const num = (name: string, v: string, lo: number, hi: number) => {
      const x = Number(v);
      if (!(Number.isFinite(x) && x >= lo && x <= hi)) throw new Error(`--${name} ${v} must be a number in [${lo}, ${hi}].`);
      return x;
    };
    const degrade = num('degrade', flags.degrade, 0, 1);
    const sizes = flags['degrade-size'].split(',').map(Number);
    if (sizes.length !== 2 || !sizes.every(Number.isInteger)) throw new Error(`--degrade-size ${flags['degrade-size']} must be two integers min,max (e.g. 6,16).`);
    const fmrs = flags.fmr.map((f) => num('fmr', f, Number.MIN_VALUE, 0.999999));
    const dropout = num('ser-fiq-dropout', flags['ser-fiq-dropout'], 0, 0.99);
    if (!existsSync(join(args.model, 'manifest.json'))) throw new Error(`${args.model} is not a model folder (no manifest.json); pass the model/ folder of a facet train run.`);

    await initEngine({ backend: flags.backend as BackendChoice });
    const model = await loadBackbone(args.model);
    try {
      const size = model.inputSize;
      const { quality, ui } = await this.qualityModel(args.model, model, flags);
      const opts: ImageQualityOptions = {
        batchSize: flags['batch-size'],
        flip: flags.flip,
        serFiq: flags['ser-fiq-samples'] >= 2 ? { samples: flags['ser-fiq-samples'], dropout, seed: flags.seed } : false,
      };
      if (flags.erc) {
        const out = resolve(flags.out);
        const result: QualityErcResult = { mode: 'erc', model: resolve(args.model), ui, sets: [], out };
        const sets = pairSets<QualityPairs>({ ...flags, root: flags.root && (await alignIfAsked(flags.root, size, flags.align, (l) => this.logToStderr(l))) }, size, { loadBin, loadPairs, syntheticVerificationSet });
        for (const s of sets) {
          let set = await s.load();
          let flagsLow: boolean[] | undefined;
          if (degrade > 0) {
            const mixed = mixLowResolution(set, size, { fraction: degrade, minSize: sizes[0]!, maxSize: sizes[1]!, seed: flags.seed });
            set = mixed.set;
            flagsLow = [...mixed.degradedA, ...mixed.degradedB];
          }
          const bar = countProgress(s.name);
          const r = await pairsErrorVersusReject(model, set, quality, {
            ...opts,
            onProgress: bar.update,
            fmrs,
            threshold: flags['recompute-threshold'] ? 'recompute' : 'fixed',
            seed: flags.seed,
          });
          bar.stop();
          const separation =
            flagsLow && flagsLow.some(Boolean) && !flagsLow.every(Boolean)
              ? Object.fromEntries(Object.entries(r.images.measures).map(([k, q]) => [k, separationAuc(q, flagsLow!)]))
              : null;
          const plots = await plotErrorVersusReject(r.erc, out, `${s.name}-erc`, `${s.name}: error versus reject`);
          result.sets.push({ set: s.name, pairs: r.erc.pairs, genuine: r.erc.genuine, impostor: r.erc.impostor, separation, skipped: r.images.skipped, erc: r.erc, plots });
          for (const sk of r.images.skipped) this.warn(`${sk.measure}: ${sk.reason}`);
        }
        writeFileAtomic(join(out, 'results.json'), JSON.stringify(result, null, 1) + '\n');
        this.renderErc(result);
        return result;
      }

      if (!args.images) {
        this.log(`UI centre: ${ui.source} (${ui.count} images)${ui.saved ? `; saved to ${ui.saved}` : ''}`);
        return { mode: 'images', model: resolve(args.model), count: 0, measures: [], skipped: [], serFiqSite: null, ui, out: '', images: [] };
      }
      const files = await readImageFolder(await alignIfAsked(args.images, size, flags.align, (l) => this.logToStderr(l)), size);
      const bar = countProgress('quality');
      const q = await imageQualities(model, files.images, quality, { ...opts, onProgress: bar.update });
      bar.stop();
      const names = Object.keys(q.measures);
      const rows = files.paths.map((path, i) => ({ path, ...Object.fromEntries(names.map((m) => [m, +q.measures[m as keyof typeof q.measures]![i]!.toPrecision(6)])) }));
      const out = join(resolve(flags.out), `scores.${flags.format}`);
      const result: QualityImagesResult = {
        mode: 'images',
        model: resolve(args.model),
        count: q.count,
        measures: names,
        skipped: q.skipped,
        serFiqSite: q.serFiqSite ?? null,
        ui,
        out,
        images: rows,
      };
      if (flags.format === 'json') writeFileAtomic(out, JSON.stringify(result, null, 1) + '\n');
      else writeFileAtomic(out, [['path', ...names].join(','), ...rows.map((r) => [csvCell(r.path), ...names.map((m) => String(r[m as keyof typeof r]))].join(','))].join('\n') + '\n');
      for (const sk of q.skipped) this.warn(`${sk.measure}: ${sk.reason}`);
      this.table(
        ['measure', 'mean', 'min', 'max'],
        names.map((m) => {
          const v = Array.from(q.measures[m as keyof typeof q.measures]!);
          return [m, (v.reduce((a, b) => a + b, 0) / v.length).toFixed(4), Math.min(...v).toFixed(4), Math.max(...v).toFixed(4)];
        }),
      );
      this.log(`${q.count} images scored; wrote ${out}`);
      return result;
    } finally {
      model.dispose();
    }
  }

  /** The stored quality model, with the UI centre replaced or built as the flags ask. */
  private async qualityModel(
    modelDir: string,
    model: Awaited<ReturnType<typeof loadBackbone>>,
    flags: { 'ui-images'?: string; 'ui-degrade'?: string; 'ui-count': number; 'save-ui': boolean; seed: number; 'batch-size': number },
  ): Promise<{ quality: QualityModel | undefined; ui: QualityUiInfo }> {
    let quality = readQualityModel(modelDir);
    if (quality && quality.embeddingSize !== model.embeddingSize) {
      throw new Error(`${join(modelDir, 'quality.json')} is for ${quality.embeddingSize}-d embeddings but the model gives ${model.embeddingSize}-d; rebuild it with --save-ui.`);
    }
    let images: Uint8Array[] | undefined;
    let source: string | undefined;
    if (flags['ui-images']) {
      images = (await readImageFolder(flags['ui-images'], model.inputSize)).images;
      source = `folder ${resolve(flags['ui-images'])}`;
    } else if (flags['ui-degrade'] || !quality?.uiCenter) {
      let dataset = flags['ui-degrade'];
      if (!dataset) {
        try {
          dataset = (await readLabelMap(modelDir)).source;
        } catch {
          dataset = undefined;
        }
      }
      if (dataset) {
        images = await degradedDatasetImages(dataset, model.inputSize, { count: flags['ui-count'], seed: flags.seed });
        source = `${images.length} degraded images of ${dataset}`;
      } else if (flags['save-ui']) {
        throw new Error('--save-ui: no UI images; pass --ui-images <folder> or --ui-degrade <dataset>.');
      }
    }
    if (images) {
      const bar = countProgress('UI centre');
      const ui = await buildUiCenter(model, images, { batchSize: flags['batch-size'], source: source!, onProgress: bar.update });
      bar.stop();
      quality = { ...(quality ?? {}), ...ui };
    }
    let saved: string | null = null;
    if (flags['save-ui'] && quality) saved = saveQualityModel(modelDir, quality);
    return { quality, ui: { source: quality?.uiSource ?? null, count: quality?.uiCount ?? null, saved } };
  }

  private renderErc(result: QualityErcResult): void {
    for (const s of result.sets) {
      this.log(`${s.set}: ${s.pairs} pairs (${s.genuine} genuine, ${s.impostor} impostor); threshold ${s.erc.thresholdMode}; UI centre: ${result.ui.source ?? 'none'}`);
      const at = (c: ErrorVersusReject['curves'][number], u: number) => {
        const p = c.points.find((x) => Math.abs(x.reject - u) < 1e-9);
        return p?.fnmr == null ? 'n/a' : (100 * p.fnmr).toFixed(2);
      };
      this.table(
        ['measure', 'FMR', 'AUC', 'FNMR % @0', '@10%', '@30%', ...(s.separation ? ['sep. AUC'] : [])],
        s.erc.curves.map((c) => [
          c.measure,
          c.targetFmr.toExponential(0),
          c.auc === null ? 'n/a' : c.auc.toFixed(4),
          at(c, 0),
          at(c, 0.1),
          at(c, 0.3),
          ...(s.separation ? [s.separation[c.measure] === undefined ? '' : s.separation[c.measure]!.toFixed(3)] : []),
        ]),
      );
      for (const n of s.erc.notes) this.log(`  note: ${n}`);
    }
    this.log(`results: ${join(result.out, 'results.json')}; plots in ${result.out}`);
  }
}
