/**
 * insightface's PolynomialLRWarmup (arcface_torch/lr_scheduler.py), by optimizer step k (0-based):
 * k = 0 → base (the first step uses the full rate); 1 ≤ k ≤ w → base·k/w; w < k ≤ T → base·(1 − (k−w)/(T−w))^power;
 * k > T → the rate at T (0 for power > 0).
 */
export function polynomialWarmupLr(step: number, base: number, warmupSteps: number, totalSteps: number, power = 1): number {
  if (step === 0) return base;
  if (warmupSteps > 0 && step <= warmupSteps) return (base * step) / warmupSteps;
  const k = Math.min(step, totalSteps);
  const span = totalSteps - warmupSteps;
  if (span <= 0) return base;
  return base * Math.pow(1 - (k - warmupSteps) / span, power);
}
