// The output directory of a run, shared by the single-thread trainer and the worker-replica one: refuse to
// overwrite another run, check that a resume is the same model, and keep the step log consistent with the
// checkpoint a run resumes from.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { ConfigError, DEFAULT_CONFIG, mergeConfig, type TrainConfig } from './config.js';

/** Config fields that define the model: a resume must not change them. */
const ARCH_KEYS: Array<keyof TrainConfig> = ['network', 'embeddingSize', 'inputSize', 'width', 'objective', 'subCenters', 'dataset', 'recognizability'];

/** Checks only: nothing is written until every check of the run has passed (see startOutput). */
export function prepareOutput(cfg: TrainConfig, out: string, opts: { resume?: boolean; force?: boolean }): void {
  const stored = join(out, 'config.json');
  if (opts.resume) {
    if (!existsSync(stored)) throw new ConfigError(`--resume ${out}: no run there (config.json missing); start a new run without --resume`);
    const prev = mergeConfig(DEFAULT_CONFIG, JSON.parse(readFileSync(stored, 'utf8')), stored);
    const diff = ARCH_KEYS.filter((k) => JSON.stringify(prev[k]) !== JSON.stringify(cfg[k]));
    if (diff.length) {
      const show = (c: TrainConfig) => diff.map((k) => `${k}=${JSON.stringify(c[k])}`).join(', ');
      throw new ConfigError(`--resume ${out}: the checkpoint is a different model (${show(prev)}) than this config (${show(cfg)}); resume with the same settings or train into a new --output`);
    }
    return;
  }
  const holdsRun = existsSync(stored) || existsSync(join(out, 'log.jsonl')) || existsSync(join(out, 'checkpoints'));
  if (holdsRun && !opts.force) {
    throw new ConfigError(`output directory ${out} holds another run; pass --resume to continue it, --force to overwrite it, or choose another --output`);
  }
  // A folder that is not a run (a dataset, a home directory) would get logs, checkpoints and plots mixed into
  // its files; --force says the user means it.
  if (!holdsRun && !opts.force && existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new ConfigError(`--output ${out} is a file, not a folder; choose another --output`);
    const entries = readdirSync(out).filter((e) => !e.startsWith('.'));
    if (entries.length) {
      const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, … (${entries.length} entries)` : '');
      throw new ConfigError(`output directory ${out} is not empty and holds no Facet run (${shown}); choose an empty or new --output, or pass --force to write into it`);
    }
  }
}

/** Called once every check has passed: only then is anything written to the output directory. */
export function startOutput(cfg: TrainConfig, out: string, opts: { resume?: boolean; force?: boolean }): void {
  if (opts.resume) return;
  mkdirSync(out, { recursive: true });
  if (opts.force) {
    rmSync(join(out, 'checkpoints'), { recursive: true, force: true });
    rmSync(join(out, 'val.jsonl'), { force: true });
  }
  writeFileSync(join(out, 'log.jsonl'), '');
  writeFileAtomic(join(out, 'config.json'), JSON.stringify(cfg, null, 2));
}

function readLog(out: string): Array<Record<string, number>> {
  const path = join(out, 'log.jsonl');
  if (!existsSync(path)) return [];
  const rows: Array<Record<string, number>> = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line));
    } catch {
      // a line cut by a crash mid-write: ignore it, the step is redone after resume
    }
  }
  return rows;
}

/** The log continues from the checkpoint at `step`: drop the steps that will be redone. */
export function truncateLog(out: string, step: number): void {
  const kept = readLog(out).filter((r) => r.step! <= step);
  writeFileAtomic(join(out, 'log.jsonl'), kept.map((r) => JSON.stringify(r) + '\n').join(''));
}
