// How well a quality measure tells degraded images from clean ones: the probability that a random clean image
// scores higher than a random degraded one (the ROC AUC of the measure as a detector, Mann–Whitney U with ties
// counted ½). 1 = perfect separation, 0.5 = none.
export function separationAuc(quality: ArrayLike<number>, degraded: ArrayLike<boolean>): number {
  if (quality.length !== degraded.length) throw new Error(`separationAuc: ${quality.length} qualities for ${degraded.length} flags.`);
  const idx = Array.from({ length: quality.length }, (_, i) => i).sort((a, b) => quality[a]! - quality[b]!);
  let clean = 0;
  let low = 0;
  for (let i = 0; i < degraded.length; i++) (degraded[i] ? low++ : clean++);
  if (clean === 0 || low === 0) throw new Error(`separationAuc: ${clean} clean and ${low} degraded images; both are needed.`);
  // midranks over ties, then U = Σ ranks(clean) − clean(clean+1)/2
  let rankSum = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && quality[idx[j + 1]!] === quality[idx[i]!]) j++;
    const mid = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (!degraded[idx[k]!]) rankSum += mid;
    i = j + 1;
  }
  return (rankSum - (clean * (clean + 1)) / 2) / (clean * low);
}
