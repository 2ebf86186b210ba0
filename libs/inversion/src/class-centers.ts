// Close-set targets need the trained head's class centres. `facet train` keeps them (Partial FC, in host memory)
// in its checkpoints as `objective/weights` ([C, K, D] float32, K sub-centres), with the head's margin in the
// checkpoint's config.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MARGIN_PRESETS, type MarginOptions } from '@facet/heads';
import { latestCheckpoint, readCheckpoint } from '@facet/train';

export interface TrainedClassCenters {
  /** Row-major [C, K, D] (K = 1: [C, D]). */
  centers: Float32Array;
  numClasses: number;
  subCenters: number;
  embeddingSize: number;
  /** The margin the head was trained with (s, m1, m2, m3). */
  margin: MarginOptions;
  /** Training step of the checkpoint read. */
  step: number;
  /** Checkpoint directory read. */
  source: string;
}

/** The shape to build a tensor from: [C, D] for K = 1, else [C, K, D]. */
export function classCenterShape(c: TrainedClassCenters): [number, number] | [number, number, number] {
  return c.subCenters === 1 ? [c.numClasses, c.embeddingSize] : [c.numClasses, c.subCenters, c.embeddingSize];
}

/**
 * Read the class centres of a `facet train` run: `runDir` is the run's output directory (its latest checkpoint is
 * used) or one checkpoint directory (`<run>/checkpoints/step-…`).
 */
export function loadClassCenters(runDir: string): TrainedClassCenters {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) {
    throw new Error(`loadClassCenters: ${runDir} is not a directory; pass the output directory of facet train (it holds checkpoints/).`);
  }
  const ck = existsSync(join(runDir, 'state.json')) ? runDir : latestCheckpoint(runDir);
  if (!ck) {
    throw new Error(`loadClassCenters: ${runDir} has no checkpoints/ with a complete checkpoint; class targets need the run directory of facet train (not only its model/).`);
  }
  const c = readCheckpoint(ck);
  const objective = c.meta.objective as { kind?: string; meta?: Record<string, unknown> } | undefined;
  const weights = c.arrays['objective/weights'];
  if (objective?.kind !== 'partial-fc' || !(weights instanceof Float32Array)) {
    throw new Error(
      `loadClassCenters: checkpoint ${ck} has no class centres (objective ${objective?.kind ?? 'unknown'}); class targets need a run trained with a margin head (--head arcface|cosface|…), not softmax or SSL. Use --embedding or --image targets instead.`,
    );
  }
  const meta = objective.meta ?? {};
  const numClasses = Number(meta.numClasses);
  const embeddingSize = Number(meta.embeddingSize);
  const subCenters = Number(meta.subCenters ?? 1);
  if (!(numClasses > 0 && embeddingSize > 0 && subCenters > 0) || weights.length !== numClasses * subCenters * embeddingSize) {
    throw new Error(`loadClassCenters: checkpoint ${ck}: objective/weights has ${weights.length} values, expected numClasses·subCenters·embeddingSize = ${numClasses}·${subCenters}·${embeddingSize}.`);
  }
  const cfg = (c.meta.config ?? {}) as { head?: string; scale?: number; marginList?: [number, number, number] | null };
  const preset = (MARGIN_PRESETS as Record<string, MarginOptions>)[cfg.head ?? 'arcface'] ?? MARGIN_PRESETS.arcface;
  const [m1, m2, m3] = cfg.marginList ?? [preset.m1, preset.m2, preset.m3];
  return {
    centers: Float32Array.from(weights),
    numClasses,
    subCenters,
    embeddingSize,
    margin: { s: cfg.scale ?? preset.s, m1, m2, m3 },
    step: c.step,
    source: ck,
  };
}
