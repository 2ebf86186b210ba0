// Independent float64 references written the way insightface / numpy spell them (plain loops, no bucketing).
export { mulberry32 as rng } from '@facet/test-utils';

/** sklearn KFold(n_splits=k, shuffle=False) test index lists. */
export function kfoldIndices(n: number, k: number): number[][] {
  const sizes = Array.from({ length: k }, (_, f) => Math.floor(n / k) + (f < n % k ? 1 : 0));
  const out: number[][] = [];
  let s = 0;
  for (const size of sizes) {
    out.push(Array.from({ length: size }, (_, i) => s + i));
    s += size;
  }
  return out;
}

/** insightface calculate_accuracy: predict same iff dist < thr (l2) or score > thr (cosine); acc = (tp+tn)/n. */
export function accuracyAt(thr: number, scores: ArrayLike<number>, same: ArrayLike<boolean>, idx: number[], metric: 'l2' | 'cosine'): number {
  let correct = 0;
  for (const i of idx) {
    const s = scores[i]!;
    const predicted = metric === 'l2' ? s < thr : s > thr;
    if (predicted === same[i]) correct++;
  }
  return correct / idx.length;
}

/** insightface calculate_roc's accuracy part: per fold, argmax (first) train accuracy, test accuracy there. */
export function referenceFolds(scores: ArrayLike<number>, same: ArrayLike<boolean>, thresholds: ArrayLike<number>, folds: number, metric: 'l2' | 'cosine') {
  return referenceFoldsOn(scores, same, thresholds, kfoldIndices(scores.length, folds), metric);
}

/** The same on given test folds (lists of pair indices). */
export function referenceFoldsOn(scores: ArrayLike<number>, same: ArrayLike<boolean>, thresholds: ArrayLike<number>, testFolds: number[][], metric: 'l2' | 'cosine') {
  const n = scores.length;
  return testFolds.map((test) => {
    const inTest = new Set(test);
    const train = Array.from({ length: n }, (_, i) => i).filter((i) => !inTest.has(i));
    let best = 0;
    let bestAcc = -1;
    for (let t = 0; t < thresholds.length; t++) {
      const acc = accuracyAt(thresholds[t]!, scores, same, train, metric);
      if (acc > bestAcc) {
        bestAcc = acc;
        best = t;
      }
    }
    return { threshold: thresholds[best]!, trainAccuracy: bestAcc, testAccuracy: accuracyAt(thresholds[best]!, scores, same, test, metric), size: test.length };
  });
}

/** Standard normal sample (Box–Muller). */
export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
