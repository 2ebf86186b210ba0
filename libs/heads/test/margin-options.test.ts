import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { COS_CLIP_EPS, MARGIN_PRESETS, marginTarget, marginTargetTensor, validateMarginOptions, type MarginOptions } from '../src/index.js';
import { refTarget } from './reference.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

describe('validateMarginOptions', () => {
  it('accepts every preset and fills the defaults', () => {
    for (const p of Object.values(MARGIN_PRESETS)) {
      const o = validateMarginOptions(p);
      expect(o.rule).toBe('plain');
      expect(o.gradient).toBe('exact');
      expect(o.s).toBe(64);
    }
    const a = validateMarginOptions(MARGIN_PRESETS.arcface);
    expect(a.th).toBeCloseTo(Math.cos(Math.PI - 0.5), 15);
    expect(a.mm).toBeCloseTo(Math.sin(Math.PI - 0.5) * 0.5, 15);
  });

  const bad: Array<[string, Partial<MarginOptions> & Record<string, unknown>, RegExp]> = [
    ['s = 0', { s: 0 }, /s=0 must be > 0/],
    ['s < 0', { s: -1 }, /s=-1 must be > 0/],
    ['s NaN', { s: NaN }, /s=NaN is not a finite number/],
    ['m1 < 1', { m1: 0.9 }, /m1=0.9 must be ≥ 1/],
    ['m1 NaN', { m1: NaN }, /m1=NaN/],
    ['m2 < 0', { m2: -0.1 }, /m2=-0.1 must be in \[0, π\)/],
    ['m2 = π', { m2: Math.PI }, /must be in \[0, π\)/],
    ['m2 Infinity', { m2: Infinity }, /m2=Infinity is not a finite number/],
    ['m3 < 0', { m3: -0.2 }, /m3=-0.2 must be in \[0, 2\)/],
    ['m3 missing', { m3: undefined }, /m3=undefined is not a finite number/],
    ['rule', { rule: 'easy' as never }, /rule='easy' must be one of plain, th_mm/],
    ['gradient', { gradient: 'none' as never }, /gradient='none' must be one of exact, straight_through/],
  ];
  for (const [name, patch, re] of bad) {
    it(`rejects ${name}`, () => {
      expect(() => validateMarginOptions({ ...MARGIN_PRESETS.arcface, ...patch } as MarginOptions)).toThrow(re);
    });
  }
});

describe('marginTarget (host, float64) and marginTargetTensor (engine, autodiff)', () => {
  const grid = [-0.999, -0.97, -0.9, -0.88, -0.5, -0.1, 0, 0.2, 0.6, 0.95, 0.999];
  const cases: MarginOptions[] = [];
  for (const p of Object.values(MARGIN_PRESETS))
    for (const rule of ['plain', 'th_mm'] as const) for (const gradient of ['exact', 'straight_through'] as const) cases.push({ ...p, rule, gradient });

  it('host value and slope: value matches the reference; exact slope = finite difference; straight-through slope = 1', () => {
    for (const opts of cases) {
      const o = validateMarginOptions(opts);
      for (const t of grid) {
        const got = marginTarget(t, o);
        const ref = refTarget(t, { ...o });
        expect(got.value).toBeCloseTo(ref.f, 12);
        if (o.gradient === 'straight_through') expect(got.slope).toBe(1);
        else {
          const h = 1e-7;
          const fd = (marginTarget(t + h, o).value - marginTarget(t - h, o).value) / (2 * h);
          expect(Math.abs(got.slope - fd)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
        }
      }
    }
  });

  it('engine value and gradient agree with the host twin', () => {
    for (const opts of cases) {
      const o = validateMarginOptions(opts);
      const t = tf.tensor1d(grid);
      // straight-through is applied in marginLogits, not in f itself: compare against the exact slope
      const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => tf.sum(marginTargetTensor(x as tf.Tensor1D, o)))(t);
      const vals = value.dataSync();
      const vtT = marginTargetTensor(t, o);
      const vt = vtT.dataSync();
      const g = grad.dataSync();
      grid.forEach((x, i) => {
        const h = marginTarget(x, { ...o, gradient: 'exact' });
        expect(Math.abs(vt[i]! - h.value)).toBeLessThan(2e-6);
        expect(Math.abs(g[i]! - h.slope)).toBeLessThan(1e-3 * Math.max(1, Math.abs(h.slope)));
      });
      expect(Number.isFinite(vals[0]!)).toBe(true);
      tf.dispose([t, value, grad, vtT]);
    }
  });

  it('the arccos clip keeps the gradient finite at |cos| = 1', () => {
    const o = validateMarginOptions(MARGIN_PRESETS.arcface);
    const g = tf.grad((x: tf.Tensor) => tf.sum(marginTargetTensor(x as tf.Tensor1D, o)))(tf.tensor1d([1, -1, 1 - COS_CLIP_EPS / 2]));
    for (const v of g.dataSync()) expect(Number.isFinite(v)).toBe(true);
    g.dispose();
  });
});
