// Bookkeeping shared by both training loops (trainer.ts, parallel/train-with-workers.ts): stop conditions, the
// non-finite step policy, the JSON-lines step log and step reports, validation during and after the run, reading a
// checkpoint back, and the summary at the end.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveBackbone, type Backbone } from '@facet/backbones';
import { writeLabelMap, type FaceDataset, type VerificationSet } from '@facet/data';
import { writeFileAtomic } from './atomic.js';
import type { CheckpointContent } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { plotRun } from './plots.js';
import type { StepReport, TrainEvent, TrainRunOptions, TrainSummary } from './trainer.js';
import { rawPixelAccuracy, validateOn, type ValidationResult } from './validation.js';

/** Consecutive non-finite steps after which a run stops (each one is rolled back). */
export const MAX_CONSECUTIVE_NON_FINITE = 5;

export class RunProgress {
  readonly t0 = performance.now();
  firstLoss = NaN;
  lastLoss = NaN;
  lastAccuracy: number | undefined;
  skipped = 0;
  stoppedBy: TrainSummary['stoppedBy'];
  private consecutiveBad = 0;
  private rate = 0;

  constructor(
    private readonly cfg: TrainConfig,
    private readonly out: string,
    private readonly opts: TrainRunOptions,
    readonly stepsPerEpoch: number,
    readonly totalSteps: number,
    readonly endStep: number,
  ) {
    this.stoppedBy = cfg.maxSteps > 0 && cfg.maxSteps < totalSteps ? 'maxSteps' : 'done';
  }

  /** Ctrl-C or the time budget: the loop ends cleanly (a checkpoint follows). */
  shouldStop(): boolean {
    if (this.opts.signal?.aborted) this.stoppedBy = 'signal';
    else if (this.cfg.timeBudget > 0 && this.seconds() > this.cfg.timeBudget) this.stoppedBy = 'timeBudget';
    else return false;
    return true;
  }

  seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** A step whose loss or gradient norm was not finite (already rolled back). Returns true when the run must stop. */
  nonFinite(step: number, loss: number, gradNorm: number): boolean {
    this.skipped++;
    this.consecutiveBad++;
    this.opts.onEvent?.({
      type: 'nan',
      message: `step ${step + 1}: loss ${loss}, gradient norm ${gradNorm}: update skipped, weights and BN statistics kept at the last good state`,
      data: { step: step + 1, loss },
    });
    appendFileSync(join(this.out, 'log.jsonl'), JSON.stringify({ step: step + 1, event: 'non-finite', loss: String(loss) }) + '\n');
    return this.consecutiveBad >= MAX_CONSECUTIVE_NON_FINITE;
  }

  divergedError(step: number): Error {
    return new Error(
      `training diverged: ${this.consecutiveBad} consecutive non-finite steps (last at step ${step + 1}); the last good state is saved in ${this.out}/checkpoints. Lower --lr or check the data`,
    );
  }

  /** An applied step: log line and step report. `extra` goes into both (e.g. loss parts, replica phases). */
  applied<R extends StepReport>(step: number, seconds: number, r: { loss: number; accuracy?: number; lr: number; gradNorm: number }, extra: Omit<R, keyof StepReport>, logExtra: Record<string, unknown> = {}): R {
    this.consecutiveBad = 0;
    const B = this.cfg.batchSize;
    this.rate = this.rate === 0 ? B / seconds : 0.9 * this.rate + 0.1 * (B / seconds);
    if (Number.isNaN(this.firstLoss)) this.firstLoss = r.loss;
    this.lastLoss = r.loss;
    this.lastAccuracy = r.accuracy;
    const done = step + 1;
    const epoch = done / this.stepsPerEpoch;
    const report = { step: done, totalSteps: this.endStep, epoch, loss: r.loss, accuracy: r.accuracy, lr: r.lr, gradNorm: r.gradNorm, imagesPerSec: this.rate, etaSeconds: ((this.endStep - done) * B) / this.rate, ...extra } as R;
    const line = { step: done, epoch: +epoch.toFixed(4), loss: r.loss, accuracy: r.accuracy, lr: r.lr, gradNorm: r.gradNorm, imagesPerSec: +this.rate.toFixed(2), seconds: +seconds.toFixed(4), ...logExtra };
    appendFileSync(join(this.out, 'log.jsonl'), JSON.stringify(line) + '\n');
    this.opts.onStep?.(report);
    return report;
  }

  /** Whether a periodic checkpoint / validation is due after `done` steps. */
  checkpointDue(done: number): boolean {
    return this.cfg.checkpointEvery > 0 && done % this.cfg.checkpointEvery === 0 && done < this.endStep;
  }
  validationDue(done: number): boolean {
    return this.cfg.verbose > 0 && done % this.cfg.verbose === 0 && done < this.endStep;
  }
}

/** Validation sets evaluated during the run (every `verbose` steps) and at its end, with plots at the end. */
export class RunValidation {
  readonly results: ValidationResult[] = [];
  readonly plots: string[] = [];

  constructor(
    private readonly sets: VerificationSet[],
    private readonly out: string,
    private readonly emit: (e: TrainEvent) => void,
  ) {}

  get empty(): boolean {
    return this.sets.length === 0;
  }

  async run(backbone: Backbone, step: number, final = false): Promise<void> {
    for (const set of this.sets) {
      const { plots, ...r } = await validateOn(backbone, set, step, final ? join(this.out, 'plots') : undefined);
      if (plots) this.plots.push(...plots);
      this.results.push(r);
      appendFileSync(join(this.out, 'val.jsonl'), JSON.stringify(r) + '\n');
      this.emit({ type: 'validation', message: `step ${step} ${r.target}: accuracy ${(100 * r.accuracy).toFixed(2)} ± ${(100 * r.std).toFixed(2)} %`, data: r });
    }
  }

  rawPixelBaseline(): ValidationResult[] {
    return this.sets.map((s) => rawPixelAccuracy(s));
  }
}

/** A checkpoint's arrays by owner: backbone weights (by parameter name), head variables, optimizer slots, objective. */
export function splitCheckpoint(c: CheckpointContent): Record<'backbone' | 'head' | 'opt' | 'objective' | 'quality', Record<string, Float32Array>> {
  const parts = { backbone: {}, head: {}, opt: {}, objective: {}, quality: {} } as Record<'backbone' | 'head' | 'opt' | 'objective' | 'quality', Record<string, Float32Array>>;
  for (const [k, a] of Object.entries(c.arrays)) {
    const slash = k.indexOf('/');
    const owner = k.slice(0, slash) as keyof typeof parts;
    if (owner in parts) parts[owner][k.slice(slash + 1)] = a as Float32Array;
  }
  return parts;
}

/** Model export, plots and summary.json at the end of a run. */
export async function finishRun(a: {
  cfg: TrainConfig;
  out: string;
  backbone: Backbone;
  dataset: FaceDataset;
  objectiveName: string;
  progress: RunProgress;
  validation: RunValidation;
  backend: string;
  start: number;
  step: number;
  seconds: number;
  estimatedEngineBytes: number;
  /** Writes extra model files (the recognizability quality model). */
  exportExtra?: (modelDir: string) => Promise<void>;
}): Promise<TrainSummary> {
  const { cfg, out, progress, step } = a;
  const modelDir = join(out, 'model');
  await saveBackbone(a.backbone, modelDir, { classNames: a.dataset.classNames, trainedSteps: step, objective: a.objectiveName });
  await writeLabelMap(modelDir, a.dataset);
  await a.exportExtra?.(modelDir);
  const plots = [...(await plotRun(out)), ...a.validation.plots];
  const summary: TrainSummary = {
    output: out,
    modelDir,
    config: cfg,
    backend: a.backend,
    objective: a.objectiveName,
    numClasses: a.dataset.numClasses,
    numImages: a.dataset.size,
    steps: step,
    totalSteps: progress.totalSteps,
    epochs: step / progress.stepsPerEpoch,
    seconds: a.seconds,
    imagesPerSec: ((step - a.start) * cfg.batchSize) / a.seconds,
    firstLoss: progress.firstLoss,
    finalLoss: progress.lastLoss,
    finalAccuracy: progress.lastAccuracy,
    validation: a.validation.results,
    rawPixelBaseline: a.validation.rawPixelBaseline(),
    plots,
    skippedSteps: progress.skipped,
    stoppedBy: progress.stoppedBy,
    memory: { estimatedEngineBytes: a.estimatedEngineBytes },
  };
  writeFileAtomic(join(out, 'summary.json'), JSON.stringify(summary, null, 2));
  return summary;
}
