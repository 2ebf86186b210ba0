// Experiment 1 (ArcFace paper, Deng et al. CVPR 2019, Table 2 / Fig. 5): softmax vs CosFace vs ArcFace vs the
// combined margin, same backbone, data and budget; verification accuracy and TAR@FAR on held-out identities.
import { join } from 'node:path';
import { lineChart, renderChart } from '@facet/plot';
import type { HeadName } from '@facet/train';
import { experimentData } from '../experiment-data.js';
import { sizesFor } from '../sizes.js';
import { runFingerprint } from '../run-ledger.js';
import { aggregate, baseConfig, trainAndMeasure, trainCommand } from '../training-run.js';
import type { ExperimentOptions, ExperimentResult, ResultRow } from '../types.js';
import { commandOverSeeds, experimentDir, ledgerFor, pct, reproCommand, saveProgress, saveResult, seedList, verdict } from './common.js';

export const MARGIN_HEADS: HeadName[] = ['softmax', 'cosface', 'arcface', 'combined'];
const KEYS = ['accuracy', 'tarAt1e1', 'tarAt1e2', 'auc'];

export async function marginsExperiment(opts: ExperimentOptions): Promise<ExperimentResult> {
  const t0 = performance.now();
  const sizes = sizesFor(opts.quick);
  const data = await experimentData(sizes, { identities: sizes.identities, imagesPerIdentity: sizes.imagesPerIdentity }, opts.data);
  const dir = experimentDir(opts, 'margins');
  const result: ExperimentResult = {
    name: 'margins',
    title: 'Margin heads',
    claim: 'ArcFace (additive angular margin) verifies held-out identities better than softmax and CosFace; the combined margin is on par (ArcFace paper, Table 2 / Fig. 5).',
    status: 'done',
    tables: [{ title: 'Held-out verification (synthetic-val pairs)', columns: ['accuracy %', 'TAR@FAR=1e-1 %', 'TAR@FAR=1e-2 %', 'AUC'], rows: [] }],
    plots: [],
    findings: [],
    seconds: 0,
    sizes: { ...sizes, seeds: opts.seeds, verificationPairs: data.verification.issame.length },
  };
  const ledger = ledgerFor(opts, 'margins');
  const perHead: Record<string, Array<Record<string, number>>> = {};
  for (const head of MARGIN_HEADS) {
    perHead[head] = [];
    let command = '';
    for (const seed of seedList(opts)) {
      const cfg = baseConfig(sizes, data.spec, join(opts.workDir, 'margins', `${head}-s${seed}`), seed, { head });
      command = trainCommand(cfg, ['network', 'width', 'inputSize', 'embeddingSize', 'head', 'scale', 'batchSize', 'lr', 'lrReferenceBatch', 'numEpoch', 'dataset', 'seed']);
      perHead[head]!.push(await ledger.measure(`${head}-s${seed}`, runFingerprint(cfg), opts.resume, KEYS, data.train.size * cfg.numEpoch, () => trainAndMeasure(opts, cfg, data.train, data.verification)));
    }
    const { values, std } = aggregate(perHead[head]!, KEYS);
    const row: ResultRow = {
      setting: head,
      values: { 'accuracy %': pct(values.accuracy!), 'TAR@FAR=1e-1 %': pct(values.tarAt1e1 ?? NaN), 'TAR@FAR=1e-2 %': pct(values.tarAt1e2 ?? NaN), AUC: values.auc! },
      std: { 'accuracy %': pct(std.accuracy!), 'TAR@FAR=1e-1 %': pct(std.tarAt1e1 ?? NaN), 'TAR@FAR=1e-2 %': pct(std.tarAt1e2 ?? NaN), AUC: std.auc! },
      seeds: opts.seeds,
      command: `${commandOverSeeds(command, seedList(opts))} (${reproCommand(opts, 'margins')})`,
    };
    result.tables[0]!.rows.push(row);
    saveProgress(opts, result);
  }
  const acc = (h: string) => result.tables[0]!.rows.find((r) => r.setting === h)!.values['accuracy %']!;
  const sd = (h: string) => result.tables[0]!.rows.find((r) => r.setting === h)!.std!['accuracy %']!;
  const best = [...MARGIN_HEADS].sort((a, b) => acc(b) - acc(a))[0]!;
  result.findings.push(`Best held-out accuracy: ${best} (${acc(best).toFixed(2)} %).`);
  for (const other of ['softmax', 'cosface'] as const) {
    const diff = acc('arcface') - acc(other);
    const noise = Math.max(sd('arcface'), sd(other));
    result.findings.push(`ArcFace − ${other}: ${diff >= 0 ? '+' : ''}${diff.toFixed(2)} points${opts.seeds > 1 ? ` (seed std ${noise.toFixed(2)})` : ''}: ${verdict(diff, noise, opts.seeds)}.`);
  }
  const chart = lineChart({
    title: 'Held-out verification accuracy by head',
    x: 'head (0 softmax, 1 cosface, 2 arcface, 3 combined)',
    y: 'accuracy %',
    series: [{ name: 'accuracy', points: MARGIN_HEADS.map((h, i) => [i, acc(h)] as [number, number]) }],
  });
  await renderChart(chart, join(dir, 'accuracy'));
  result.plots.push('margins/accuracy.png');
  result.seconds = (performance.now() - t0) / 1000;
  saveResult(opts, result);
  return result;
}
