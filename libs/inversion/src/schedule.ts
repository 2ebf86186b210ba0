// DeepInversion's `lr_cosine_policy(base, warmup, T)`: linear warm-up over the first `warmup` steps, then a cosine
// decay to 0 at step T. The ArcFace paper gives only lr 0.25 with Adam; the schedule is DeepInversion's.

/** Learning rate at 0-based step t of T: base·(t+1)/W for t < W, else ½(1 + cos(π(t − W)/(T − W)))·base. */
export function inversionLearningRate(step: number, totalSteps: number, baseLr: number, warmupSteps = 100): number {
  if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  const span = Math.max(1, totalSteps - warmupSteps);
  return 0.5 * (1 + Math.cos((Math.PI * (step - warmupSteps)) / span)) * baseLr;
}
