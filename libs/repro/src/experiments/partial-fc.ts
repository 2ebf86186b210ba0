// Experiment 3 (Partial FC, An et al. CVPR 2022): sample rate 1.0 / 0.3 / 0.1 / 0.05 — accuracy, and the head's
// step time and memory (timed together, see pfc-head-timing.ts); and the robustness claims: with a long-tailed identity distribution and with inter-class conflict
// (one person split over two labels), PFC at r = 0.1 against the full FC.
import { join } from 'node:path';
import type { FaceDataset } from '@facet/data';
import { lineChart, renderChart } from '@facet/plot';
import { experimentData } from '../experiment-data.js';
import { withIdentityConflict } from '../identity-conflict.js';
import { longTailed } from '../long-tail.js';
import { sizesFor } from '../sizes.js';
import { runFingerprint } from '../run-ledger.js';
import { aggregate, baseConfig, trainAndMeasure, trainCommand } from '../training-run.js';
import type { ExperimentOptions, ExperimentResult, ResultRow } from '../types.js';
import { commandOverSeeds, experimentDir, ledgerFor, pct, reproCommand, saveProgress, saveResult, seedList, verdict } from './common.js';
import { timePartialFcHead } from './pfc-head-timing.js';

export const PFC_RATES = [1, 0.3, 0.1, 0.05];

export async function partialFcExperiment(opts: ExperimentOptions): Promise<ExperimentResult> {
  const t0 = performance.now();
  const sizes = sizesFor(opts.quick);
  const data = await experimentData(sizes, { identities: sizes.pfcIdentities, imagesPerIdentity: sizes.pfcImagesPerIdentity }, opts.data);
  const dir = experimentDir(opts, 'partial-fc');
  const rateCols = ['accuracy %', 'TAR@FAR=1e-1 %', 'engine memory MiB'];
  const robustCols = ['full FC acc %', 'PFC r=0.1 acc %', 'PFC − full'];
  const timing = sizes.pfcHeadTiming;
  const headCols = ['sampled classes', 'head step ms', 'speed-up vs r = 1', 'head engine MiB', 'head host MiB'];
  const result: ExperimentResult = {
    name: 'partial-fc',
    title: 'Partial FC',
    claim: 'Sampling 10 % of the class centers per step keeps the accuracy of the full FC at lower cost, and is more robust than the full FC to long-tailed data and inter-class conflict (PFC paper, Tables 2, 5–6).',
    status: 'done',
    tables: [
      {
        title: `Sample rate (${data.train.numClasses} identities)`,
        columns: rateCols,
        rows: [],
        note: "Engine memory is the trainer's estimate for the whole training step.",
      },
      { title: 'Robustness: PFC r=0.1 vs full FC', columns: robustCols, rows: [] },
      {
        title: `Head cost at ${timing.classes.toLocaleString('en-US')} classes, D = ${timing.embeddingSize}, batch ${timing.batch} (timed by this invocation)`,
        columns: headCols,
        rows: [],
        note: `One head step = forward + backward + host update of the sampled centers, fixed embeddings; median of ${timing.steps * timing.rounds} steps per rate, rates interleaved over ${timing.rounds} round(s) so that the machine's load hits each alike. Memory is PartialFC.estimateMemory. The training runs above are too small (the head is a negligible part of their step) and were timed at different moments, so their step times are not compared.`,
      },
    ],
    plots: [],
    findings: [],
    seconds: 0,
    sizes: { ...sizes, seeds: opts.seeds, classes: data.train.numClasses },
  };
  const seeds = seedList(opts);
  const ledger = ledgerFor(opts, 'partial-fc');
  const keys = ['accuracy', 'tarAt1e1', 'memoryMiB'];
  const measure = async (tag: string, ds: FaceDataset, rate: number) => {
    const rows: Array<Record<string, number>> = [];
    let command = '';
    for (const seed of seeds) {
      const cfg = baseConfig(sizes, data.spec, join(opts.workDir, 'partial-fc', `${tag}-r${rate}-s${seed}`), seed, { head: 'arcface', sampleRate: rate });
      command = commandOverSeeds(trainCommand(cfg, ['network', 'width', 'inputSize', 'sampleRate', 'numEpoch', 'dataset', 'seed']), seeds);
      // the long-tailed and conflict wrappers are derived from the seed-free training set: the tag names them
      rows.push(await ledger.measure(`${tag}-r${rate}-s${seed}`, runFingerprint(cfg, { data: tag, images: ds.size }), opts.resume, keys, ds.size * cfg.numEpoch, () => trainAndMeasure(opts, cfg, ds, data.verification)));
    }
    return { ...aggregate(rows, keys), command };
  };
  for (const rate of PFC_RATES) {
    const { values, std, command } = await measure('balanced', data.train, rate);
    const row: ResultRow = {
      setting: `r = ${rate}`,
      values: { [rateCols[0]!]: pct(values.accuracy!), [rateCols[1]!]: pct(values.tarAt1e1 ?? NaN), [rateCols[2]!]: values.memoryMiB! },
      std: { [rateCols[0]!]: pct(std.accuracy!), [rateCols[1]!]: pct(std.tarAt1e1 ?? NaN), [rateCols[2]!]: std.memoryMiB! },
      seeds: seeds.length,
      command: `${command} (${reproCommand(opts, 'partial-fc')})`,
    };
    result.tables[0]!.rows.push(row);
    saveProgress(opts, result);
  }
  const variants: Array<{ name: string; ds: FaceDataset }> = [
    { name: 'long-tailed (Zipf, exponent 1)', ds: longTailed(data.train, { exponent: 1, minImages: 1 }) },
    { name: 'inter-class conflict (50 % of identities split in two)', ds: withIdentityConflict(data.train, 0.5).dataset },
  ];
  for (const v of variants) {
    const tag = v.name.startsWith('long') ? 'longtail' : 'conflict';
    if (v.ds.size < sizes.batchSize) throw new Error(`partial-fc ${tag}: only ${v.ds.size} images, fewer than the batch size ${sizes.batchSize}`);
    const full = await measure(tag, v.ds, 1);
    const pfc = await measure(tag, v.ds, 0.1);
    const a = pct(full.values.accuracy!);
    const b = pct(pfc.values.accuracy!);
    result.tables[1]!.rows.push({
      setting: `${v.name}, ${v.ds.size} images / ${v.ds.numClasses} labels`,
      values: { [robustCols[0]!]: a, [robustCols[1]!]: b, [robustCols[2]!]: b - a },
      std: { [robustCols[0]!]: pct(full.std.accuracy!), [robustCols[1]!]: pct(pfc.std.accuracy!) },
      seeds: seeds.length,
      command: `${full.command} and --sample-rate 0.1, on the ${tag} wrapper (${reproCommand(opts, 'partial-fc')})`,
    });
    saveProgress(opts, result);
  }
  // the plan and the --jobs training processes write to a scratch folder: no minute of timing for them
  const heads = opts.plan || opts.trainOnly ? [] : timePartialFcHead({ ...timing, rates: PFC_RATES });
  for (const h of heads) {
    result.tables[2]!.rows.push({
      setting: `r = ${h.rate}`,
      values: { [headCols[0]!]: h.sampledClasses, [headCols[1]!]: h.medianMs, [headCols[2]!]: heads[0]!.medianMs / h.medianMs, [headCols[3]!]: h.engineMiB, [headCols[4]!]: h.hostMiB },
      command: reproCommand(opts, 'partial-fc'),
    });
  }
  const rates = result.tables[0]!.rows;
  const full = rates[0]!.values[rateCols[0]!]!;
  const headCost = (setting: string) => {
    const h = result.tables[2]!.rows.find((row) => row.setting === setting);
    return h ? `; its head step is ${h.values[headCols[2]!]!.toFixed(1)}× faster than the full FC's at ${timing.classes.toLocaleString('en-US')} classes` : '';
  };
  for (const r of rates.slice(1)) {
    const d = r.values[rateCols[0]!]! - full;
    const noise = Math.max(r.std![rateCols[0]!]!, rates[0]!.std![rateCols[0]!]!);
    // the paper's claim is "no loss": a drop larger than the noise contradicts it
    const claim = d >= 0 ? 'matches the paper (no loss)' : verdict(d, noise, opts.seeds, 'the paper (no loss)');
    result.findings.push(`${r.setting}: accuracy ${d >= 0 ? '+' : ''}${d.toFixed(2)} points vs full FC${opts.seeds > 1 ? ` (seed std ${noise.toFixed(2)})` : ''}: ${claim}${headCost(r.setting)}.`);
  }
  // insightface's sampler keeps every positive class of the batch and fills up to r·C with random negatives:
  // when r·C is below the batch's positive classes, the sample is just the positives and lower rates change nothing
  const classes = data.train.numClasses;
  const positiveOnly = PFC_RATES.filter((r) => r < 1 && r * classes <= sizes.batchSize);
  if (positiveOnly.length) {
    result.findings.push(`With ${classes} classes and batch ${sizes.batchSize}, r·C ≤ batch for r = ${positiveOnly.join(', ')}: the sampled centers are (nearly) only the batch's own classes, so these rates are expected to coincide. The paper's regime is C ≫ batch (full sizes).`);
  }
  result.findings.push("Engine memory is the trainer's estimate for the whole run; at these class counts the head is a negligible part of it, so it barely moves with r (the saving PFC claims grows with C·D, see the head-cost table).");
  for (const r of result.tables[1]!.rows) {
    const d = r.values[robustCols[2]!]!;
    const noise = Math.max(r.std![robustCols[0]!]!, r.std![robustCols[1]!]!);
    result.findings.push(`${r.setting}: PFC − full = ${d.toFixed(2)} points: ${verdict(d, noise, opts.seeds, 'the paper (PFC more robust)')}.`);
  }
  const byRate = (rows: ResultRow[], col: string) => rows.map((r) => [Number(r.setting.slice(4)), r.values[col]!] as [number, number]);
  const charts = [
    { file: 'sample-rate', title: 'Partial FC: verification accuracy vs sample rate', y: 'accuracy %', points: byRate(rates, rateCols[0]!) },
    { file: 'head-step', title: `Partial FC: head step vs sample rate (${timing.classes} classes, D = ${timing.embeddingSize})`, y: 'head step ms', points: byRate(result.tables[2]!.rows, headCols[1]!) },
  ];
  for (const c of charts.filter((c) => c.points.length)) {
    await renderChart(lineChart({ title: c.title, x: 'sample rate', y: c.y, xScale: 'log', series: [{ name: c.y, points: c.points }] }), join(dir, c.file));
    result.plots.push(`partial-fc/${c.file}.png`);
  }
  result.seconds = (performance.now() - t0) / 1000;
  saveResult(opts, result);
  return result;
}
