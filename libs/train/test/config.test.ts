import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, effectiveLr, mergeConfig, resolveConfig } from '../src/config.js';
import { polynomialWarmupLr } from '../src/schedule.js';

describe('training config', () => {
  it('merges file then flags onto insightface defaults, accepting snake_case keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'facet-cfg-'));
    const file = join(dir, 'r18.yaml');
    writeFileSync(file, 'network: iresnet18\nmargin_list: [1.0, 0.0, 0.4]\nsample_rate: 0.3\nnum_epoch: 4\nval_targets: [a.bin]\n');
    const cfg = resolveConfig({ file, overrides: { batchSize: '64', lr: '0.2' } });
    expect(cfg.network).toBe('iresnet18');
    expect(cfg.marginList).toEqual([1, 0, 0.4]);
    expect(cfg.sampleRate).toBe(0.3);
    expect(cfg.numEpoch).toBe(4);
    expect(cfg.batchSize).toBe(64);
    expect(cfg.valTargets).toEqual(['a.bin']);
    expect(cfg.momentum).toBe(0.9);
    expect(cfg.weightDecay).toBe(5e-4);
    expect(effectiveLr(cfg)).toBeCloseTo((0.2 * 64) / 1024, 12);
  });

  it('rejects unknown keys, wrong types and out-of-range values naming the key and source', () => {
    expect(() => mergeConfig(DEFAULT_CONFIG, { batchsize: 3 }, 'config file x.json')).toThrow(/config file x.json: unknown key "batchsize" \(did you mean "batchSize"\?\)/);
    expect(() => mergeConfig(DEFAULT_CONFIG, { batchSize: 'many' }, 'flag')).toThrow(/flag: "batchSize" must be a number/);
    expect(() => mergeConfig(DEFAULT_CONFIG, { batchSize: 2.5 }, 'flag')).toThrow(/must be an integer/);
    expect(() => mergeConfig(DEFAULT_CONFIG, { sampleRate: 0 }, 'flag')).toThrow(/"sampleRate" must be > 0 and ≤ 1 \(got 0\)/);
    expect(() => mergeConfig(DEFAULT_CONFIG, { sampleRate: 1.5 }, 'flag')).toThrow(/sampleRate/);
    expect(() => mergeConfig(DEFAULT_CONFIG, { head: 'magface' }, 'flag')).toThrow(/one of arcface, cosface/);
    expect(() => mergeConfig(DEFAULT_CONFIG, { marginList: [1, 0.5] }, 'flag')).toThrow(/three numbers/);
    const dir = mkdtempSync(join(tmpdir(), 'facet-cfg-'));
    writeFileSync(join(dir, 'bad.json'), '{ "network": ');
    expect(() => resolveConfig({ file: join(dir, 'bad.json') })).toThrow(/bad.json: not valid JSON/);
    expect(() => resolveConfig({ file: join(dir, 'missing.json') })).toThrow(/missing.json: cannot read it \(ENOENT\)/);
  });
});

describe('PolynomialLRWarmup', () => {
  it('matches insightface: full lr at step 0, linear warm-up, polynomial decay to 0', () => {
    const base = 0.1;
    const w = 10;
    const T = 110;
    for (let k = 0; k <= 120; k++) {
      const expected = k === 0 ? base : k <= w ? (base * k) / w : base * Math.pow(1 - (Math.min(k, T) - w) / (T - w), 2);
      expect(polynomialWarmupLr(k, base, w, T, 2)).toBeCloseTo(expected, 15);
    }
    expect(polynomialWarmupLr(110, base, w, T, 1)).toBe(0);
    expect(polynomialWarmupLr(60, base, 0, 110, 1)).toBeCloseTo(base * (1 - 60 / 110), 15);
  });
});

describe('describeConfigFields: the one description of every config field', () => {
  it('covers every key with a description, the accepted values and the default', async () => {
    const { describeConfigFields, CONFIG_KEYS } = await import('../src/config.js');
    const fields = describeConfigFields();
    expect(fields.map((f) => f.key)).toEqual(CONFIG_KEYS);
    for (const f of fields) {
      expect(f.description.length, f.key).toBeGreaterThan(10);
      expect(f.flag).toMatch(/^--[a-z0-9-]+$/);
    }
    const by = Object.fromEntries(fields.map((f) => [f.key, f]));
    expect(by.sampleRate).toMatchObject({ flag: '--sample-rate', insightface: 'sample_rate', accepts: 'number > 0, ≤ 1', defaultText: String(DEFAULT_CONFIG.sampleRate) });
    expect(by.optimizer!.accepts).toBe('one of sgd, adamw');
    expect(by.marginList!.defaultText).toBe('unset');
    expect(by.batchSize!.defaultText).toBe(String(DEFAULT_CONFIG.batchSize));
  });

  it('accepts exactly what validation accepts at the stated bounds', async () => {
    const { describeConfigFields } = await import('../src/config.js');
    for (const f of describeConfigFields()) {
      const m = /^(?:number|integer) (>|≥) (-?[\d.e-]+)/.exec(f.accepts);
      if (!m) continue;
      const bound = Number(m[2]);
      const at = () => mergeConfig(DEFAULT_CONFIG, { [f.key]: bound }, 'test');
      if (m[1] === '>') expect(at, f.key).toThrow(/must be > /);
      else expect(at, f.key).not.toThrow();
    }
  });
});
