// DeepInversion's `lr_cosine_policy(base, warmup, T)`: linear warm-up over the first `warmup` steps, then a cosine
// decay to 0 at step T. The ArcFace paper gives only lr 0.25 with Adam; the schedule is DeepInversion's.

/** Learning rate at 0-based step t of T: base·(t+1)/W for t < W, else ½(1 + cos(π(t − W)/(T − W)))·base. */
export function inversionLearningRate(step: number, totalSteps: number, baseLr: number, warmupSteps = 100): number {
  if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  const span = Math.max(1, totalSteps - warmupSteps);
  return 0.5 * (1 + Math.cos((Math.PI * (step - warmupSteps)) / span)) * baseLr;
}

/**
 * λ_bn at 0-based step t of T with a ramp over the first f·T steps: λ·min(1, (t + 1)/⌈f·T⌉); f = 0 is the paper's
 * constant λ. Letting the identity term act first moves the image toward its target while the prior is weak;
 * the prior then makes it natural without the identity having to fight it from pure noise.
 */
export function bnWeightAt(step: number, totalSteps: number, bnWeight: number, rampFraction = 0): number {
  const ramp = Math.ceil(rampFraction * totalSteps);
  if (ramp <= 0) return bnWeight;
  return bnWeight * Math.min(1, (step + 1) / ramp);
}
