import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  compareMeasurements,
  embedTwoViews,
  headlineMetrics,
  initEngine,
  measureEmbeddings,
  measurementCharts,
  readLabelFile,
  readNpyMatrix,
  renderChart,
  writeNpyMatrix,
  type BackendChoice,
  type InferenceRuntime,
  type EmbeddingMatrix,
  type MeasureReport,
  type MeasurementCharts,
  type TwoViewEmbeddings,
} from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { FacetCommand } from '../base.js';
import { runtimeFlag } from '../runtime-flag.js';
import { outFolderFlag } from '../out-flag.js';
import { progressBar } from '../render/progress.js';

/** What `facet measure` writes (measure.json) and reads back for --compare. */
interface MeasureFile {
  facet: 'measure';
  version: 1;
  source: Record<string, unknown>;
  report: MeasureReport;
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
    embeddings: Flags.string({ description: 'precomputed embeddings of view 1, .npy [N, D] float32 (instead of <model> <dataset>) (default: none)' }),
    embeddings2: Flags.string({ description: 'precomputed embeddings of view 2 (row i: another augmentation of image i) (default: none)' }),
    labels: Flags.string({ description: 'labels JSON for --embeddings: one integer or name per row (default: none)' }),
    compare: Flags.boolean({ description: 'put two earlier measure runs side by side: facet measure --compare runA runB' }),
    out: outFolderFlag('runs/measure', 'measure.json, the plots (and, from a model, the embeddings)'),
    plots: Flags.boolean({ description: 'render the σ(δ) curve, centre-cosine and class-alignment histograms', default: true, allowNo: true }),
    augment: Flags.string({
      description: 'augmentation preset of @facet/data for the views (model path): contrastive, insightface, dali, lowres, none',
      default: 'contrastive',
    }),
    'batch-size': Flags.integer({ description: 'images per forward pass (model path)', default: 32, min: 1 }),
    images: Flags.integer({ description: 'measure only the first N images of the dataset (model path) (default: all)', min: 2 }),
    views: Flags.integer({
      description: 'augmented views per image for the concentration estimate (model path; d_A is a min over views, 2 underestimate it)',
      default: 2,
      min: 2,
    }),
    runtime: runtimeFlag,
    seed: Flags.integer({ description: 'seed of the augmentations and of the sampled estimates', default: 0 }),
    deltas: numberList('deltas')({ description: 'δ grid of the concentration curve (default 0.1,0.2,…,2)' }),
    epsilons: numberList('epsilons')({ description: 'ε grid of R_ε (default: the δ grid)' }),
    delta: positiveNumber('delta')({ description: 'fix δ of the bound (must be on the δ grid) instead of searching (default: searched)' }),
    epsilon: positiveNumber('epsilon')({ description: 'fix ε of the bound instead of searching (default: searched)' }),
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
      const passes: TwoViewEmbeddings[] = [];
      const count = Math.ceil(flags.views / 2);
      for (let pass = 0; pass < count; pass++) {
        const bar = progressBar(`embed ${pass + 1}/${count}`, 'images');
        try {
          passes.push(
            await embedTwoViews(args.model, args.dataset, {
              augment: flags.augment,
              batchSize: flags['batch-size'],
              seed: flags.seed + 1009 * pass,
              images: flags.images,
              runtime: flags.runtime as InferenceRuntime,
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

    this.table(['metric', 'value', 'better'], headlineMetrics(report).map((m) => [m.label, fmt(m.value), m.better === 'info' ? '' : m.better]));
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
    this.table(
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
    const files: string[] = [];
    for (const [name, spec] of Object.entries(charts)) {
      const base = join(out, `measure-${name}`);
      writeFileSync(`${base}.vl.json`, JSON.stringify(spec));
      files.push(`${base}.vl.json`);
      const written = await renderChart(spec, base);
      files.push(written.svg, written.png);
    }
    return files;
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
