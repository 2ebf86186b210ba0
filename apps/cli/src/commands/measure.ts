import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as sdk from '@facet/sdk';
import {
  collectTwoViewEmbeddings,
  compareMeasurements,
  headlineMetrics,
  initEngine,
  measureEmbeddings,
  measurementCharts,
  readLabelFile,
  readNpyMatrix,
  tf,
  writeNpyMatrix,
  type BackendChoice,
  type EmbeddingMatrix,
  type MeasureReport,
  type MeasurementCharts,
  type TwoViewBatch,
  type TwoViewEmbeddings,
} from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { FacetCommand } from '../base.js';
import { progressBar } from '../render/progress.js';

/** What `facet measure` writes (measure.json) and reads back for --compare. */
interface MeasureFile {
  facet: 'measure';
  version: 1;
  source: Record<string, unknown>;
  report: MeasureReport;
}

// The model + dataset path uses @facet/data and @facet/backbones through the SDK. They are looked up at run
// time, so `--embeddings` keeps working in a build that lacks them.
interface DatasetLike {
  size: number;
  imageSize: number;
}
interface LoaderLike {
  next(): Promise<{ images: Float32Array | tf.Tensor; views2?: Float32Array | tf.Tensor; labels: ArrayLike<number> | tf.Tensor1D } | null | undefined>;
  close?(): Promise<void> | void;
}
interface BackboneLike {
  inputSize: number;
  apply(x: tf.Tensor4D, opts?: { training?: boolean }): tf.Tensor2D;
  dispose?(): void;
}

/** The @facet/data + @facet/backbones names the model path needs. */
export interface ModelDataApi {
  openDataset(source: string, opts: { imageSize?: number; onWarning?: (m: string) => void }): Promise<DatasetLike>;
  BatchLoader: new (ds: DatasetLike, opts: Record<string, unknown>) => LoaderLike;
  AUGMENT_PRESETS: Record<string, unknown>;
  loadBackbone(dir: string): Promise<BackboneLike>;
}

export interface EmbedTwoViewsOptions {
  /** A key of @facet/data's AUGMENT_PRESETS. */
  augment: string;
  batchSize: number;
  seed: number;
  /** Only the first N images. */
  images?: number;
  onWarning?: (m: string) => void;
  /** Images embedded so far, out of total (called with 0 first). */
  onProgress?: (done: number, total: number) => void;
}

const numberList = (name: string) =>
  Flags.custom<number[]>({
    parse: async (s) => {
      const values = s.split(',').map((v) => Number(v.trim()));
      if (!values.length || values.some((v) => !(Number.isFinite(v) && v > 0))) {
        throw new Error(`--${name} must be comma-separated numbers > 0, e.g. 0.25,0.5,1 (got "${s}").`);
      }
      return values;
    },
  });
const positiveNumber = (name: string) =>
  Flags.custom<number>({
    parse: async (s) => {
      const v = Number(s);
      if (!(Number.isFinite(v) && v > 0)) throw new Error(`--${name} must be a number > 0 (got "${s}").`);
      return v;
    },
  });

export default class Measure extends FacetCommand {
  static description =
    'Contrastive-theory metrics of a model on augmented views of each image (Huang et al. ICLR 2023): alignment, uniformity, ' +
    'class-centre divergence, the concentration curve σ(δ), R_ε, the Theorem 1 bound terms and nearest-centre accuracy';
  static examples = [
    '<%= config.bin %> measure runs/r18/backbone synthetic:identities=50,images=20 --augment contrastive --views 8 --out runs/r18/measure',
    '<%= config.bin %> measure --embeddings v1.npy --embeddings2 v2.npy --labels labels.json --out runs/measure',
    '<%= config.bin %> measure --compare runs/a/measure runs/b/measure --out runs/a-vs-b',
  ];
  static args = {
    model: Args.string({ description: 'backbone checkpoint folder (with --compare: run A, a measure.json or its folder)' }),
    dataset: Args.string({ description: "dataset: image folder, .rec, or 'synthetic[:identities=..,images=..,seed=..]' (with --compare: run B)" }),
  };
  static flags = {
    embeddings: Flags.string({ description: 'precomputed embeddings of view 1, .npy [N, D] float32 (instead of <model> <dataset>)' }),
    embeddings2: Flags.string({ description: 'precomputed embeddings of view 2 (row i: another augmentation of image i)' }),
    labels: Flags.string({ description: 'labels JSON for --embeddings: one integer or name per row' }),
    compare: Flags.boolean({ description: 'put two earlier measure runs side by side: facet measure --compare runA runB' }),
    out: Flags.string({ char: 'o', description: 'folder for measure.json, the plots (and, from a model, the embeddings)', default: 'runs/measure' }),
    plots: Flags.boolean({ description: 'render the σ(δ) curve, centre-cosine and class-alignment histograms', default: true, allowNo: true }),
    augment: Flags.string({
      description: 'augmentation preset of @facet/data for the views (model path): contrastive, insightface, dali, lowres, none',
      default: 'contrastive',
    }),
    'batch-size': Flags.integer({ description: 'images per forward pass (model path)', default: 32, min: 1 }),
    images: Flags.integer({ description: 'measure only the first N images of the dataset (model path)', min: 2 }),
    views: Flags.integer({
      description: 'augmented views per image for the concentration estimate (model path; d_A is a min over views, 2 underestimate it)',
      default: 2,
      min: 2,
    }),
    seed: Flags.integer({ description: 'seed of the augmentations and of the sampled estimates', default: 0 }),
    deltas: numberList('deltas')({ description: 'δ grid of the concentration curve (default 0.1,0.2,…,2)' }),
    epsilons: numberList('epsilons')({ description: 'ε grid of R_ε (default: the δ grid)' }),
    delta: positiveNumber('delta')({ description: 'fix δ of the bound (must be on the δ grid) instead of searching' }),
    epsilon: positiveNumber('epsilon')({ description: 'fix ε of the bound instead of searching' }),
    alpha: positiveNumber('alpha')({ description: 'exponent of the extra Wang–Isola alignment figure', default: 1 }),
    candidates: Flags.integer({ description: 'ball centres tried per class for σ(δ)', default: 256, min: 1 }),
    'uniformity-points': Flags.integer({ description: 'rows per view used for uniformity (cost N²·D)', default: 10000, min: 2 }),
  };

  async run(): Promise<{ files: string[]; report?: MeasureReport; comparison?: ReturnType<typeof compareMeasurements> }> {
    const { args, flags } = await this.parse(Measure);
    const out = resolve(flags.out);
    if (flags.compare) return this.compare(args.model, args.dataset, out, flags.plots);
    await initEngine({ backend: flags.backend as BackendChoice });

    let views: TwoViewEmbeddings;
    let extraViews: EmbeddingMatrix[] = [];
    let source: Record<string, unknown>;
    const files: string[] = [];
    if (flags.embeddings || flags.embeddings2 || flags.labels) {
      if (args.model || args.dataset) throw new Error('give either <model> <dataset> or --embeddings/--embeddings2/--labels, not both.');
      if (!flags.embeddings || !flags.embeddings2 || !flags.labels) {
        throw new Error('precomputed input needs all three: --embeddings (view 1), --embeddings2 (view 2) and --labels.');
      }
      const label = readLabelFile(flags.labels);
      views = { v1: readNpyMatrix(flags.embeddings), v2: readNpyMatrix(flags.embeddings2), labels: label.labels };
      source = { embeddings: resolve(flags.embeddings), embeddings2: resolve(flags.embeddings2), labels: resolve(flags.labels) };
    } else {
      if (!args.model || !args.dataset) {
        throw new Error('usage: facet measure <model> <dataset>, or --embeddings v1.npy --embeddings2 v2.npy --labels labels.json, or --compare runA runB.');
      }
      // One loader pass gives two views; further passes (other augmentation seeds, same image order) give more.
      const api = modelDataApi();
      const passes: TwoViewEmbeddings[] = [];
      const count = Math.ceil(flags.views / 2);
      for (let pass = 0; pass < count; pass++) {
        const bar = progressBar(`embed ${pass + 1}/${count}`, 'images');
        try {
          passes.push(
            await embedTwoViews(api, args.model, args.dataset, {
              augment: flags.augment,
              batchSize: flags['batch-size'],
              seed: flags.seed + 1009 * pass,
              images: flags.images,
              onWarning: (m) => this.warn(m),
              onProgress: (done, total) => (done === 0 ? bar?.start(total, 0) : bar?.update(done)),
            }),
          );
        } finally {
          bar?.stop();
        }
      }
      views = passes[0]!;
      extraViews = passes
        .slice(1)
        .flatMap((p) => [p.v1, p.v2])
        .slice(0, flags.views - 2);
      source = { model: resolve(args.model), dataset: args.dataset, augment: flags.augment, seed: flags.seed, images: views.labels.length, views: flags.views };
      mkdirSync(out, { recursive: true });
      [views.v1, views.v2, ...extraViews].forEach((m, i) => {
        writeNpyMatrix(join(out, `views${i + 1}.npy`), m);
        files.push(join(out, `views${i + 1}.npy`));
      });
      writeFileSync(join(out, 'labels.json'), JSON.stringify(Array.from(views.labels)));
      files.push(join(out, 'labels.json'));
    }

    const bar = progressBar('measure', '{stage}');
    bar?.start(5, 0, { stage: '' });
    const report = await measureEmbeddings(views.v1, views.v2, views.labels, {
      alpha: flags.alpha,
      deltas: flags.deltas,
      epsilons: flags.epsilons,
      delta: flags.delta,
      epsilon: flags.epsilon,
      candidates: flags.candidates,
      uniformityMaxPoints: flags['uniformity-points'],
      extraViews,
      seed: flags.seed,
      onProgress: (stage, done) => bar?.update(done, { stage }),
    });
    bar?.stop();

    mkdirSync(out, { recursive: true });
    const file: MeasureFile = { facet: 'measure', version: 1, source, report };
    writeFileSync(join(out, 'measure.json'), JSON.stringify(file, null, 1));
    files.push(join(out, 'measure.json'));
    if (flags.plots) files.push(...(await this.writeCharts(measurementCharts([{ name: 'run', report }]), out)));

    this.printTable(['metric', 'value', 'better'], headlineMetrics(report).map((m) => [m.label, fmt(m.value), m.better === 'info' ? '' : m.better]));
    this.log(
      `bound        ${report.bound.divergenceHolds ? 'holds' : 'does not hold'} at δ=${report.bound.inputs.delta}, ε=${report.bound.inputs.epsilon} ` +
        `(${report.bound.pairsHolding}/${report.bound.pairsTried} grid pairs satisfy Eq. 2); σ(δ) from ${report.concentration.views} views per image`,
    );
    this.log(`written      ${files.join(', ')}`);
    return { files, report };
  }

  private async compare(a: string | undefined, b: string | undefined, out: string, plots: boolean) {
    if (!a || !b) throw new Error('--compare needs two runs: facet measure --compare runA runB (each a measure.json or the folder holding it).');
    const ra = readMeasureFile(a);
    const rb = readMeasureFile(b);
    const comparison = compareMeasurements(ra.report, rb.report);
    this.printTable(
      ['metric', 'A', 'B', 'theory favours'],
      comparison.map((r) => [r.label, fmt(r.a), fmt(r.b), r.favours === null ? '' : r.favours === '=' ? 'tie' : r.favours.toUpperCase()]),
    );
    this.log(`A = ${a}\nB = ${b}`);
    const files: string[] = [];
    if (plots) {
      mkdirSync(out, { recursive: true });
      files.push(...(await this.writeCharts(measurementCharts([{ name: 'A', report: ra.report }, { name: 'B', report: rb.report }]), out)));
      this.log(`written      ${files.join(', ')}`);
    }
    return { files, comparison };
  }

  private async writeCharts(charts: MeasurementCharts, out: string): Promise<string[]> {
    const render = (sdk as unknown as { renderChart?: (spec: unknown, outBase: string) => Promise<{ svg: string; png: string }> }).renderChart;
    const files: string[] = [];
    for (const [name, spec] of Object.entries(charts)) {
      const base = join(out, `measure-${name}`);
      writeFileSync(`${base}.vl.json`, JSON.stringify(spec));
      files.push(`${base}.vl.json`);
      if (render) {
        const written = await render(spec, base);
        files.push(written.svg, written.png);
      }
    }
    if (!render) this.warn('@facet/plot is not in this build: wrote the Vega-Lite specs (.vl.json) only.');
    return files;
  }

  private printTable(header: string[], rows: string[][]): void {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    this.log(line(header));
    this.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) this.log(line(r));
  }
}

function fmt(v: number | null): string {
  if (v === null || v === undefined) return '—';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(3);
}

function readMeasureFile(path: string): MeasureFile {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'measure.json') : path;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new Error(`cannot read ${file} (${reason}); --compare takes two measure.json files or the folders facet measure wrote them to.`);
  }
  const m = value as Partial<MeasureFile>;
  if (m?.facet !== 'measure' || !m.report?.concentration) throw new Error(`${file} is not a facet measure result (measure.json).`);
  return m as MeasureFile;
}

function modelDataApi(): ModelDataApi {
  const api = sdk as unknown as Partial<ModelDataApi>;
  const missing = (['openDataset', 'BatchLoader', 'loadBackbone'] as const).filter((k) => typeof api[k] !== 'function');
  if (!api.AUGMENT_PRESETS) missing.push('AUGMENT_PRESETS' as never);
  if (missing.length) {
    throw new Error(
      `facet measure <model> <dataset> needs ${missing.join(', ')} from @facet/data / @facet/backbones, which this build does not export; ` +
        'embed the views elsewhere and use --embeddings v1.npy --embeddings2 v2.npy --labels labels.json.',
    );
  }
  return api as ModelDataApi;
}

/**
 * Embed two augmented views of every image of `dataset` with the backbone saved in `model`: one pass of a
 * BatchLoader (no shuffling, no dropped batch, twoViews) whose batches go straight to the backbone in inference
 * mode. The loader yields normalised NHWC floats, which is what `apply` expects.
 */
export async function embedTwoViews(api: ModelDataApi, model: string, dataset: string, opts: EmbedTwoViewsOptions): Promise<TwoViewEmbeddings> {
  const augment = api.AUGMENT_PRESETS[opts.augment];
  if (!augment) throw new Error(`--augment ${opts.augment} is not a preset; use one of ${Object.keys(api.AUGMENT_PRESETS).join(', ')}.`);
  const backbone = await api.loadBackbone(model);
  try {
    const ds = await api.openDataset(dataset, { imageSize: backbone.inputSize, onWarning: opts.onWarning });
    if (ds.imageSize !== backbone.inputSize) {
      throw new Error(`dataset ${dataset} gives ${ds.imageSize} px images but the model takes ${backbone.inputSize} px.`);
    }
    const total = Math.min(opts.images ?? ds.size, ds.size);
    const loader = new api.BatchLoader(ds, { batchSize: opts.batchSize, seed: opts.seed, shuffle: false, dropLast: false, augment, twoViews: true });
    const size = ds.imageSize;
    opts.onProgress?.(0, total);
    async function* batches(): AsyncGenerator<TwoViewBatch> {
      let seen = 0;
      while (seen < total) {
        const batch = await loader.next();
        if (!batch) break;
        if (!batch.views2) throw new Error('the data loader returned no second view; it must support twoViews.');
        const labels = batch.labels instanceof tf.Tensor ? Array.from(batch.labels.dataSync()) : Array.from(batch.labels);
        const keep = Math.min(labels.length, total - seen);
        const toImages = (x: Float32Array | tf.Tensor) =>
          tf.tidy(() => {
            const t = x instanceof tf.Tensor ? x : tf.tensor(x);
            return tf.slice(tf.reshape(t, [labels.length, size, size, 3]), 0, keep) as tf.Tensor4D;
          });
        yield { views1: toImages(batch.images), views2: toImages(batch.views2), labels: labels.slice(0, keep) };
        for (const t of [batch.images, batch.views2, batch.labels]) if (t instanceof tf.Tensor) t.dispose();
        seen += keep;
      }
    }
    try {
      return await collectTwoViewEmbeddings(batches(), (x) => backbone.apply(x, { training: false }), {
        onBatch: (n) => opts.onProgress?.(n, total),
      });
    } finally {
      await loader.close?.();
    }
  } finally {
    backbone.dispose?.();
  }
}
