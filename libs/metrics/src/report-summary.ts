import type { MeasureReport } from './measure-embeddings.js';

export interface HeadlineMetric {
  key: string;
  label: string;
  value: number | null;
  /** Which direction the paper says is better for downstream accuracy (or 'info' when neither). */
  better: 'lower' | 'higher' | 'info';
}

function sigmaAt(report: MeasureReport, delta: number): number | null {
  const i = report.concentration.deltas.findIndex((d) => Math.abs(d - delta) < 1e-9);
  return i < 0 ? null : report.concentration.sigma[i]!;
}

/** The scalar figures of a report, in table order, each with the direction the theory favours. */
export function headlineMetrics(report: MeasureReport): HeadlineMetric[] {
  const d = report.divergence;
  const b = report.bound;
  const deltas = report.concentration.deltas;
  const mid = deltas.find((x) => Math.abs(x - 1) < 1e-9) ?? deltas[Math.floor(deltas.length / 2)]!;
  return [
    { key: 'images', label: 'images (views: 2 each)', value: report.images, better: 'info' },
    { key: 'classes', label: 'classes', value: report.classes, better: 'info' },
    { key: 'alignment', label: 'alignment E||f1-f2||²', value: report.alignment, better: 'lower' },
    { key: 'alignmentAlpha', label: `alignment (Wang–Isola α=${report.alignmentAlpha.alpha})`, value: report.alignmentAlpha.value, better: 'lower' },
    { key: 'uniformity', label: 'uniformity (t=2)', value: report.uniformity, better: 'lower' },
    { key: 'minL2', label: 'centres: min ||µk-µl||', value: d.minL2, better: 'higher' },
    { key: 'minCosineDistance', label: 'centres: min cosine distance', value: d.minCosineDistance, better: 'higher' },
    { key: 'meanPairwiseCosine', label: 'centres: mean pairwise cosine', value: d.meanPairwiseCosine, better: 'lower' },
    { key: 'maxPairwiseCosine', label: 'centres: max pairwise cosine', value: d.maxPairwiseCosine, better: 'lower' },
    { key: 'maxInnerProduct', label: 'centres: max µkᵀµl', value: d.maxInnerProduct, better: 'lower' },
    { key: 'deltaMu', label: 'Δµ = 1 - min ||µk||²', value: d.deltaMu, better: 'lower' },
    { key: `sigma@${mid}`, label: `concentration σ(δ=${mid}) (min over classes)`, value: sigmaAt(report, mid), better: 'higher' },
    { key: 'boundDelta', label: `bound: δ (${b.search === 'grid' ? 'best on grid' : 'fixed'})`, value: b.inputs.delta, better: 'info' },
    { key: 'boundEpsilon', label: `bound: ε (${b.search === 'grid' ? 'best on grid' : 'fixed'})`, value: b.inputs.epsilon, better: 'info' },
    { key: 'boundSigma', label: 'bound: σ(δ)', value: b.inputs.sigma, better: 'higher' },
    { key: 'rEpsilon', label: 'bound: R_ε', value: b.inputs.rEpsilon, better: 'lower' },
    { key: 'rhoMax', label: 'bound: ρ_max', value: b.rhoMax, better: 'lower' },
    { key: 'divergenceThreshold', label: 'bound: divergence threshold (Eq. 2)', value: b.divergenceThreshold, better: 'higher' },
    { key: 'divergenceHolds', label: 'bound: condition holds (1/0)', value: b.divergenceHolds ? 1 : 0, better: 'higher' },
    { key: 'errorBound', label: 'bound: (1-σ)+R_ε', value: b.errorBound, better: 'lower' },
    { key: 'nearestCenterAccuracy', label: 'nearest-centre accuracy', value: report.nearestCenter?.accuracy ?? null, better: 'higher' },
  ];
}

export interface ComparisonRow {
  key: string;
  label: string;
  a: number | null;
  b: number | null;
  /** Which run the theory favours on this figure ('=' on ties, null when not comparable). */
  favours: 'a' | 'b' | '=' | null;
}

/** Two reports side by side (`facet measure --compare runA runB`). */
export function compareMeasurements(a: MeasureReport, b: MeasureReport): ComparisonRow[] {
  const right = new Map(headlineMetrics(b).map((m) => [m.key, m]));
  return headlineMetrics(a).map((m) => {
    const other = right.get(m.key);
    const vb = other?.value ?? null;
    let favours: ComparisonRow['favours'] = null;
    if (m.better !== 'info' && m.value !== null && vb !== null) {
      favours = m.value === vb ? '=' : (m.value < vb) === (m.better === 'lower') ? 'a' : 'b';
    }
    return { key: m.key, label: m.label, a: m.value, b: vb, favours };
  });
}
