// Fine-tuning: `--init` starts the backbone from a saved model (a Facet model folder, e.g. one written by
// `facet import` from an insightface checkpoint) instead of seeded random weights; the margin head is new, since its
// classes are this dataset's. `--freeze` keeps chosen parameters (by insightface parameter-name prefix) fixed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createBackbone, loadBackboneWeights, type Backbone, type BackboneManifest } from '@facet/backbones';
import type { tf } from '@facet/engine';
import { ConfigError, type TrainConfig } from './config.js';

/** The config fields the init model decides: its architecture. */
export const INIT_ARCHITECTURE_KEYS = ['network', 'embeddingSize', 'inputSize', 'width'] as const;

/** The model folder `--init` names: the folder itself, or the model/ of a facet train run. */
export function initModelDir(path: string): string {
  if (existsSync(join(path, 'manifest.json'))) return path;
  if (existsSync(join(path, 'model', 'manifest.json'))) return join(path, 'model');
  if (existsSync(path) && statSync(path).isFile()) {
    throw new ConfigError(`--init ${path}: a file; convert it to a Facet model folder first (facet import ${path} --out <model-dir>) and pass that folder`);
  }
  throw new ConfigError(`--init ${path}: not a Facet model folder (no manifest.json there or in ${join(path, 'model')}); pass a model folder or a facet train run`);
}

function readManifest(dir: string): BackboneManifest {
  const path = join(dir, 'manifest.json');
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BackboneManifest;
  } catch (e) {
    throw new ConfigError(`--init ${dir}: cannot read ${path} (${(e as Error).message.split('\n')[0]})`);
  }
}

/**
 * The config with the init model's architecture. Fields a config file or flag set explicitly must agree with it
 * (a contradiction is an error naming both values); the others are taken from the model.
 */
export function withInitArchitecture(cfg: TrainConfig, explicit: ReadonlySet<string>): TrainConfig {
  const dir = initModelDir(cfg.init);
  const m = readManifest(dir);
  const model: Pick<TrainConfig, (typeof INIT_ARCHITECTURE_KEYS)[number]> = {
    network: m.architecture,
    embeddingSize: m.embeddingSize,
    inputSize: m.inputSize,
    width: m.options.width,
  };
  const conflicts = INIT_ARCHITECTURE_KEYS.filter((k) => explicit.has(k) && cfg[k] !== model[k]);
  if (conflicts.length) {
    const show = (c: Partial<TrainConfig>) => conflicts.map((k) => `${k}=${JSON.stringify(c[k])}`).join(', ');
    throw new ConfigError(`--init ${cfg.init} is ${show(model)} but the config asks for ${show(cfg)}; drop those settings (the init model decides the architecture)`);
  }
  return { ...cfg, ...model };
}

/** The backbone of a fine-tuning run: the init model's architecture and weights (BN statistics included). */
export async function initBackbone(cfg: TrainConfig): Promise<Backbone> {
  const dir = initModelDir(cfg.init);
  const m = readManifest(dir);
  const backbone = createBackbone(m.architecture, { ...m.options, dropout: cfg.dropout, seed: cfg.seed });
  try {
    await loadBackboneWeights(backbone, dir);
  } catch (e) {
    backbone.dispose();
    throw new ConfigError(`--init ${cfg.init}: ${(e as Error).message}`);
  }
  return backbone;
}

/**
 * The backbone's trainable variables minus those `--freeze` names. A prefix matches a parameter equal to it or
 * starting with it followed by '.', so `layer1` freezes `layer1.0.conv1.weight` but not `layer10…`.
 */
export function unfrozenVariables(backbone: Backbone, prefixes: readonly string[]): tf.Variable[] {
  const vars = backbone.trainableVariables();
  if (!prefixes.length) return vars;
  const paramOf = new Map<string, string>();
  for (const [param, v] of Object.entries(backbone.getWeights())) paramOf.set((v as tf.Variable).name, param);
  const matches = (param: string, p: string) => param === p || param.startsWith(`${p}.`);
  const unmatched = prefixes.filter((p) => !vars.some((v) => matches(paramOf.get(v.name) ?? '', p)));
  if (unmatched.length) {
    const top = [...new Set(vars.map((v) => (paramOf.get(v.name) ?? '').split('.')[0]))].join(', ');
    throw new ConfigError(`--freeze ${unmatched.join(',')}: no trainable parameter of ${backbone.name} has that name prefix; its top-level names are ${top}`);
  }
  const kept = vars.filter((v) => !prefixes.some((p) => matches(paramOf.get(v.name) ?? '', p)));
  if (!kept.length) throw new ConfigError(`--freeze ${prefixes.join(',')} freezes every backbone parameter; train the head alone is not supported, freeze fewer`);
  return kept;
}
