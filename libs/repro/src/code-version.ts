// Which code measured a ledger entry. Two entries of one experiment are comparable only if the arithmetic behind
// them rounded the same way: a kernel change (a reordered sum, a fused op, another wasm SIMD path) moves the last
// bits of every float, and a seeded run then drifts to different numbers. The git commit names the code exactly;
// NUMERICS_VERSION says, coarser, whether its float rounding is the one of other commits.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Bumped by one whenever a change to a kernel or other numerics alters float rounding (so a seeded run no longer
 * reproduces bit for bit). Refactors that keep every weight bit-identical leave it. See README "Code version".
 */
export const NUMERICS_VERSION = 1;

export interface CodeVersion {
  /** Commit the code was at (40 hex digits), or 'unknown' (no git checkout, e.g. an installed package). */
  commit: string;
  /** Tracked files differed from the commit (absent when that could not be told: no git executable). */
  dirty?: boolean;
  numerics: number;
}

/** The folder holding `.git` (a folder, or a file `gitdir: …` in worktrees and submodules) at or above `start`. */
function findGitDir(start: string): { workTree: string; gitDir: string } | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const dotGit = join(dir, '.git');
    if (existsSync(dotGit)) {
      if (statSync(dotGit).isDirectory()) return { workTree: dir, gitDir: dotGit };
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf8'));
      return m ? { workTree: dir, gitDir: resolve(dir, m[1]!) } : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

const HASH = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * The commit HEAD points at, read from the files git keeps (gitrepository-layout(5)): HEAD holds a hash (detached)
 * or `ref: refs/heads/…`; the ref is a loose file, or a line of `packed-refs`. Worktrees keep HEAD in their own
 * git dir and refs in the `commondir`. `undefined` when there is no checkout or the layout is not understood.
 */
export function readGitCommit(start: string): string | undefined {
  const found = findGitDir(start);
  if (!found) return undefined;
  try {
    const { gitDir } = found;
    const common = existsSync(join(gitDir, 'commondir')) ? resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim()) : gitDir;
    let head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    for (let depth = 0; depth < 5 && head.startsWith('ref:'); depth++) {
      const ref = head.slice(4).trim();
      const loose = [join(gitDir, ref), join(common, ref)].find((p) => existsSync(p));
      if (loose) head = readFileSync(loose, 'utf8').trim();
      else {
        const packed = join(common, 'packed-refs');
        const line = existsSync(packed) ? readFileSync(packed, 'utf8').split('\n').find((l) => l.endsWith(` ${ref}`)) : undefined;
        if (!line) return undefined; // a branch with no commit yet
        head = line.split(' ')[0]!;
      }
    }
    return HASH.test(head) ? head : undefined;
  } catch {
    return undefined;
  }
}

/** Whether tracked files differ from HEAD (`git status`, untracked files ignored); undefined without git. */
function isDirty(workTree: string): boolean | undefined {
  const r = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: workTree, encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 ? r.stdout.trim().length > 0 : undefined;
}

/** The code version of the checkout holding `start` (default: this lib's own folder, i.e. the code that runs). */
export function codeVersionAt(start: string): CodeVersion {
  const commit = readGitCommit(start);
  if (!commit) return { commit: 'unknown', numerics: NUMERICS_VERSION };
  const dirty = isDirty(findGitDir(start)!.workTree);
  return { commit, ...(dirty === undefined ? {} : { dirty }), numerics: NUMERICS_VERSION };
}

let current: CodeVersion | undefined;

/** The running code's version, worked out once per process (the dirty check runs git once). */
export function currentCodeVersion(): CodeVersion {
  current ??= codeVersionAt(dirname(fileURLToPath(import.meta.url)));
  return current;
}

/** 'a1b2c3d' or 'a1b2c3d+dirty' or 'unknown'. */
export function shortCommit(code: CodeVersion | undefined): string {
  if (!code || code.commit === 'unknown') return 'unknown';
  return code.commit.slice(0, 7) + (code.dirty ? '+dirty' : '');
}
