export interface BoundInputs {
  /** σ of a (σ, δ)-augmentation (Def. 1): fraction of every class inside its main part. */
  sigma: number;
  /** δ: diameter of the main parts, in the units of `lipschitz`·δ (embedding units when measured on embeddings). */
  delta: number;
  /** ε of the ε-aligned set S_ε. */
  epsilon: number;
  /** R_ε: mass of samples that are not ε-aligned. */
  rEpsilon: number;
  /** min_k p_k: the smallest class probability. */
  minClassProbability: number;
  /** max_{k≠l} µ_kᵀµ_l. */
  maxInnerProduct: number;
  /** Δ_µ = 1 - min_k ||µ_k||²/r². */
  deltaMu: number;
  /** L, the Lipschitz constant of f. Default 1: with δ measured on embeddings, L is already absorbed in δ. */
  lipschitz?: number;
  /** r = ||f||; 1 for L2-normalized embeddings (InfoNCE), √d for Barlow Twins. Default 1. */
  radius?: number;
}

export interface BoundTerms {
  inputs: Required<BoundInputs>;
  /** ρ_max(σ, δ, ε) = 2(1-σ) + R_ε/min_k p_k + σ(Lδ/r + 2ε/r)  (Theorem 1). */
  rhoMax: number;
  /** r²(1 - ρ_max - √(2ρ_max) - Δ_µ/2): every µ_kᵀµ_l must be below this (Eq. 2). */
  divergenceThreshold: number;
  /** maxInnerProduct < divergenceThreshold: the divergence condition of Theorem 1. */
  divergenceHolds: boolean;
  /** (1-σ) + R_ε: the error bound of Eq. 3 (a valid bound on Err(G_f) only when divergenceHolds). */
  errorBound: number;
}

function check(value: number, name: string, lo: number, hi = Infinity): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= lo && value <= hi)) {
    throw new Error(`boundTerms: ${name} must be a number in [${lo}, ${hi}], got ${value}.`);
  }
}

/**
 * The terms of Huang et al.'s Theorem 1 from measured inputs. Pure arithmetic; the caller decides which
 * (σ, δ) and (ε, R_ε) pair to plug in (`measureEmbeddings` searches its grids for the tightest valid one).
 */
export function boundTerms(inputs: BoundInputs): BoundTerms {
  const full: Required<BoundInputs> = { lipschitz: 1, radius: 1, ...inputs };
  check(full.sigma, 'sigma', 0, 1);
  check(full.rEpsilon, 'rEpsilon', 0, 1);
  check(full.minClassProbability, 'minClassProbability', Number.MIN_VALUE, 1);
  check(full.delta, 'delta', 0);
  check(full.epsilon, 'epsilon', 0);
  check(full.lipschitz, 'lipschitz', 0);
  check(full.radius, 'radius', Number.MIN_VALUE);
  check(full.deltaMu, 'deltaMu', -Infinity);
  check(full.maxInnerProduct, 'maxInnerProduct', -Infinity);
  const { sigma, delta, epsilon, rEpsilon, minClassProbability, maxInnerProduct, deltaMu, lipschitz, radius } = full;
  const rhoMax = 2 * (1 - sigma) + rEpsilon / minClassProbability + sigma * ((lipschitz * delta) / radius + (2 * epsilon) / radius);
  const divergenceThreshold = radius * radius * (1 - rhoMax - Math.sqrt(2 * rhoMax) - deltaMu / 2);
  return {
    inputs: full,
    rhoMax,
    divergenceThreshold,
    divergenceHolds: maxInnerProduct < divergenceThreshold,
    errorBound: 1 - sigma + rEpsilon,
  };
}
