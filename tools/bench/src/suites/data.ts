// Loader throughput: images/s decoded + augmented into normalised batches, with 0 (main thread), 1 and 2 worker
// threads, on a folder of 112×112 JPEGs and on the synthetic set (rendered on the fly). Baseline: the 0-worker
// figure of the same source, measured in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUGMENT_PRESETS, BatchLoader, openDataset, SyntheticFaceDataset, writeDatasetFolder, type FaceDataset } from '@facet/sdk';
import { timeIt, type BenchRow, type Suite } from '../harness.js';

const BATCH = 64;

async function imagesPerSecond(ds: FaceDataset, numWorkers: number, batches: number, repeats: number) {
  const loader = new BatchLoader(ds, { batchSize: BATCH, seed: 1, numWorkers, prefetch: 2, augment: AUGMENT_PRESETS.dali });
  try {
    await loader.next(); // start-up (worker spawn, dataset open) and warm-up
    const t = await timeIt(async () => {
      for (let i = 0; i < batches; i++) await loader.next();
    }, repeats, 0);
    const n = batches * BATCH;
    return { median: n / t.median, best: n / t.min };
  } finally {
    await loader.close();
  }
}

export const dataSuite: Suite = {
  name: 'data',
  description: 'BatchLoader images/s (decode + insightface DALI-style augmentation + normalise), 0 vs 1 vs 2 worker threads',
  async run({ quick }) {
    const dir = mkdtempSync(join(tmpdir(), 'facet-bench-data-'));
    try {
      const synth = new SyntheticFaceDataset({ identities: 32, imagesPerIdentity: 16, seed: 1 });
      await writeDatasetFolder(synth, dir, { format: 'jpeg', quality: 95 });
      const folder = await openDataset(dir, { onWarning: () => undefined });
      const rows: BenchRow[] = [];
      const batches = quick ? 2 : 6;
      const repeats = quick ? 1 : 3;
      for (const [name, ds] of [
        [`JPEG folder 112² (${folder.size} files)`, folder],
        ['synthetic faces 112² (rendered)', synth],
      ] as const) {
        const base = await imagesPerSecond(ds, 0, batches, repeats);
        for (const w of [0, 1, 2]) {
          const r = w === 0 ? base : await imagesPerSecond(ds, w, batches, repeats);
          rows.push({
            suite: 'data',
            case: `${name}, batch ${BATCH}`,
            metric: `images/s, ${w} worker${w === 1 ? '' : 's'}`,
            facet: r.median,
            facetMin: r.best,
            baseline: base.median,
            baselineMin: base.best,
            baselineName: 'same loader, 0 workers (main thread)',
            ratio: r.median / base.median,
          });
        }
      }
      return rows;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
