// The measured numbers of every finished run, kept in the report folder (`<out>/<experiment>/runs.json`) beside
// results.json. Checkpoints and models live in the work folder (runs/, git-ignored, hundreds of MB), which a new
// machine or a fresh clone does not have: the ledger is what lets a multi-hour full run continue there without
// retraining what is already measured. An entry is reused only for the very same training config (hashed, the
// output path left out) and measurement; anything else is retrained.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@facet/plot';
import type { TrainConfig } from '@facet/train';
import { currentCodeVersion, shortCommit, type CodeVersion } from './code-version.js';

export const RUN_LEDGER_FILE = 'runs.json';

export interface LedgerEntry {
  /** Hash of the training config (output path excluded) and of the measurement's own settings. */
  fingerprint: string;
  /** Measured numbers; NaN is stored as null (JSON has no NaN) and read back as NaN. */
  values: Record<string, number | null>;
  recorded: string;
  /** Where the numbers came from, when not measured by the code that reads them (e.g. carried over). */
  source?: string;
  /** The code that measured them. Absent in entries recorded before versions were kept: shown as 'unknown'. */
  code?: CodeVersion;
}

/** One run an experiment would measure, as seen by `facet repro --plan`. */
export interface PlannedRun {
  experiment: string;
  key: string;
  /** Recorded for the same fingerprint: a resumed run reads it back. */
  recorded: boolean;
  /** Images the run's training passes over (dataset × epochs × views), for a time estimate. */
  images: number;
  /** Code version of the recorded entry (recorded runs whose entry has one). */
  code?: CodeVersion;
}

interface LedgerFile {
  version: 1;
  runs: Record<string, LedgerEntry>;
}

/** Hash of what determines a run's numbers: its config without the output folder, plus measurement settings. */
export function runFingerprint(cfg: TrainConfig, measurement: Record<string, unknown> = {}): string {
  const { output: _output, ...rest } = cfg;
  return createHash('sha256').update(JSON.stringify({ cfg: rest, measurement })).digest('hex').slice(0, 16);
}

/**
 * How `measure` treats runs that are not recorded. By default it trains them. With `plan` it trains nothing: it lists
 * every run and returns the recorded numbers or zeros. With `trainOnly` it trains just the named runs (one process of
 * `facet repro --jobs`) and returns zeros for the other unrecorded ones.
 */
export interface LedgerMode {
  plan?: { experiment: string; runs: PlannedRun[] };
  trainOnly?: ReadonlySet<string>;
}

export class RunLedger {
  private readonly file: LedgerFile;

  constructor(
    readonly path: string,
    private readonly mode: LedgerMode = {},
  ) {
    this.file = existsSync(path) ? RunLedger.parse(path) : { version: 1, runs: {} };
  }

  /** The ledger of one experiment's report folder. */
  static inDir(dir: string, mode?: LedgerMode): RunLedger {
    return new RunLedger(join(dir, RUN_LEDGER_FILE), mode);
  }

  private static parse(path: string): LedgerFile {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`${path}: not valid JSON (${(e as Error).message}); restore it from git or delete it to retrain every run of this experiment`);
    }
    const f = data as Partial<LedgerFile>;
    if (f.version !== 1 || typeof f.runs !== 'object' || f.runs === null) throw new Error(`${path}: not a run ledger (expected {"version":1,"runs":{…}}); restore it from git or delete it`);
    return f as LedgerFile;
  }

  /** The stored entry of `key` if it was measured for this fingerprint. */
  entry(key: string, fingerprint: string): LedgerEntry | undefined {
    const e = this.file.runs[key];
    return e && e.fingerprint === fingerprint ? e : undefined;
  }

  /** The stored numbers of `key` if they were measured for this fingerprint. */
  get(key: string, fingerprint: string): Record<string, number> | undefined {
    const e = this.entry(key, fingerprint);
    if (!e) return undefined;
    return Object.fromEntries(Object.entries(e.values).map(([k, v]) => [k, v === null ? NaN : v]));
  }

  /**
   * Record `values` for `key` and write the file at once (atomically), so a kill right after loses nothing. The file
   * is re-read first: another `facet repro` process may have recorded other runs of this experiment meanwhile.
   * The entry carries the version of the code that measured it (`code`; by default the running code's, except for
   * numbers carried over from elsewhere, given a `source`); other entries are written back as they were.
   */
  put(key: string, fingerprint: string, values: Record<string, number>, source?: string, code: CodeVersion | undefined = source === undefined ? currentCodeVersion() : undefined): void {
    const stored = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
    if (existsSync(this.path)) this.file.runs = { ...this.file.runs, ...RunLedger.parse(this.path).runs };
    this.file.runs[key] = { fingerprint, values: stored, recorded: new Date().toISOString(), ...(source ? { source } : {}), ...(code ? { code } : {}) };
    writeFileAtomic(this.path, JSON.stringify(this.file, null, 1) + '\n');
  }

  keys(): string[] {
    return Object.keys(this.file.runs);
  }

  /**
   * The numbers of `key`: read back when recorded for this fingerprint and `resume` is on, otherwise computed by
   * `measure` (which trains) and recorded. Only the named numeric `fields` of the measurement are kept. `images` is
   * what the training passes over (for `--plan`'s estimate).
   */
  async measure<T extends object>(
    key: string,
    fingerprint: string,
    resume: boolean,
    fields: readonly string[],
    images: number,
    measure: () => Promise<T>,
  ): Promise<Record<string, number>> {
    const stored = resume ? this.get(key, fingerprint) : undefined;
    const code = stored ? this.entry(key, fingerprint)!.code : undefined;
    // zeros, not NaN: the experiment goes on to its tables and findings (written to a scratch folder)
    const zeros = () => Object.fromEntries(fields.map((f) => [f, 0]));
    const { plan, trainOnly } = this.mode;
    if (plan) {
      plan.runs.push({ experiment: plan.experiment, key, recorded: stored !== undefined, images, ...(code ? { code } : {}) });
      return stored ?? zeros();
    }
    if (stored) return stored;
    if (trainOnly && !trainOnly.has(key)) return zeros();
    const m = await measure();
    const values: Record<string, number> = {};
    for (const f of fields) {
      const v = (m as Record<string, unknown>)[f];
      if (typeof v !== 'number') throw new Error(`run ledger ${key}: measurement has no number '${f}'`);
      values[f] = v;
    }
    this.put(key, fingerprint, values);
    return values;
  }
}

const UNKNOWN = 'unknown (recorded before versions were kept)';

const tally = (xs: string[]) => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
};

/**
 * `facet repro --plan`'s warning about recorded runs that different code measured, one line per experiment that
 * mixes them: numerics versions first (their numbers may differ in the last bits and, through training, more), else
 * commits (same numerics: comparable, but worth knowing). Entries without a version count as unknown.
 */
export function ledgerVersionNotes(runs: readonly PlannedRun[]): string[] {
  const notes: string[] = [];
  for (const experiment of [...new Set(runs.map((r) => r.experiment))]) {
    const recorded = runs.filter((r) => r.experiment === experiment && r.recorded);
    const numerics = tally(recorded.map((r) => (r.code ? `numerics v${r.code.numerics}` : UNKNOWN)));
    if (numerics.length > 1) {
      notes.push(`${experiment}: ${numerics.map(([v, n], i) => `${n} ${i === 0 ? `entr${n === 1 ? 'y' : 'ies'} ` : ''}from ${v}`).join(', ')}: numbers from different numerics versions may not be comparable; --restart retrains them all`);
      continue;
    }
    const commits = tally(recorded.map((r) => shortCommit(r.code)));
    if (commits.length > 1) {
      notes.push(`${experiment}: ${recorded.length} entries recorded at ${commits.length} commits (${commits.map(([c, n]) => `${c === 'unknown' ? UNKNOWN : c} ×${n}`).join(', ')}), ${numerics[0]![0]}`);
    }
  }
  return notes;
}
