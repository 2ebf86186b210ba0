import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseExperimentList, planRepro, runRepro, trainReproRun, type ReproPlan, type ReproSummary, type RunTask } from '@facet/sdk';
import { Flags } from '@oclif/core';
import { FacetCommand } from '../base.js';

export default class Repro extends FacetCommand {
  static description =
    "Reproduce the papers' claims at CPU scale (margins, sub-center noise, Partial FC, contrastive theory, inversion, recognizability) and write REPORT.md";
  static examples = [
    '<%= config.bin %> repro --quick',
    '<%= config.bin %> repro --only margins,partial-fc --seeds 3',
    '<%= config.bin %> repro --jobs 2 --out docs/repro/full',
    '<%= config.bin %> repro --plan --seeds 3 --out docs/repro/full',
    '<%= config.bin %> repro --data faces/ --out docs/repro-faces',
  ];
  static flags = {
    quick: Flags.boolean({ description: 'toy sizes: every experiment in minutes (a smoke check, not evidence)' }),
    only: Flags.string({ description: 'comma-separated experiments: margins, subcenter, partial-fc, contrastive, inversion, recognizability (default: all six)' }),
    seeds: Flags.integer({ description: 'seeds per setting (default 1 with --quick, else 3)', min: 1 }),
    data: Flags.string({ description: 'image folder or .rec to use instead of the synthetic faces (25 % of identities are held out) (default: the built-in synthetic faces)' }),
    out: Flags.string({ description: 'report folder', default: 'docs/repro' }),
    'work-dir': Flags.string({ description: 'where training runs go (default runs/repro or runs/repro-quick)' }),
    restart: Flags.boolean({ description: 'retrain runs that already finished instead of resuming' }),
    plan: Flags.boolean({ description: 'list the runs still to train (the run ledger in the report folder) with a time estimate; trains nothing' }),
    jobs: Flags.integer({ description: 'training runs in flight at once, each in its own process (one wasm engine uses one core)', min: 1, default: 1 }),
    'train-run': Flags.string({ description: 'train and record this one run of the --only experiment, nothing else (what each --jobs process does)', hidden: true, dependsOn: ['only'] }),
  };

  async run(): Promise<ReproSummary | ReproPlan | { trained: string }> {
    const { flags } = await this.parse(Repro);
    const only = flags.only ? parseExperimentList(flags.only) : undefined;
    const json = this.jsonEnabled();
    const common = { quick: flags.quick, seeds: flags.seeds, data: flags.data, out: flags.out, workDir: flags['work-dir'], resume: !flags.restart };
    if (flags.plan) {
      const plan = await planRepro({ ...common, only });
      if (!json) this.renderPlan(plan);
      return plan;
    }
    const log = (line: string) => {
      if (!json) process.stderr.write(`${line}\n`);
    };
    if (flags['train-run']) {
      if (only?.length !== 1) this.error('--train-run trains one run of one experiment: give --only a single experiment');
      await trainReproRun(only[0]!, flags['train-run'], { ...common, onLog: log });
      return { trained: `${only[0]}/${flags['train-run']}` };
    }
    // --jobs: each run is this same command limited to it (--train-run), in a child process; its lines are prefixed
    const childArgs = (run: RunTask) => [
      process.argv[1]!,
      'repro',
      '--only',
      run.experiment,
      '--train-run',
      run.key,
      '--out',
      flags.out,
      ...(flags.quick ? ['--quick'] : []),
      ...(flags.seeds ? ['--seeds', String(flags.seeds)] : []),
      ...(flags.data ? ['--data', flags.data] : []),
      ...(flags['work-dir'] ? ['--work-dir', flags['work-dir']] : []),
      ...(flags.restart ? ['--restart'] : []),
    ];
    const runTask = (run: RunTask) =>
      new Promise<void>((done, fail) => {
        const child = spawn(process.execPath, childArgs(run), { stdio: ['ignore', 'pipe', 'pipe'] });
        const tag = `[${run.experiment}/${run.key}]`;
        const tail: string[] = [];
        for (const stream of [child.stdout, child.stderr]) {
          createInterface({ input: stream }).on('line', (line) => {
            tail.push(line);
            if (tail.length > 5) tail.shift();
            log(`${tag} ${line}`);
          });
        }
        child.on('error', fail);
        child.on('close', (code) => (code === 0 ? done() : fail(new Error(`exit code ${code}: ${tail.at(-1) ?? 'no output'}`))));
      });
    const summary = await runRepro({ ...common, only, jobs: flags.jobs, runTask, onLog: log });
    if (!json) {
      for (const r of summary.results) this.log(`${r.name.padEnd(16)} ${r.status.padEnd(8)} ${r.seconds.toFixed(0).padStart(5)} s  ${r.findings[0] ?? ''}`);
      this.log(`report  ${summary.report}  (${summary.seconds.toFixed(0)} s)`);
    }
    return summary;
  }

  private renderPlan(plan: ReproPlan): void {
    const names = [...new Set(plan.runs.map((r) => r.experiment))];
    let images = 0;
    for (const name of names) {
      const runs = plan.runs.filter((r) => r.experiment === name);
      const todo = runs.filter((r) => !r.recorded);
      const todoImages = todo.reduce((a, r) => a + r.images, 0);
      images += todoImages;
      this.log(`${name.padEnd(16)} ${String(runs.length - todo.length).padStart(3)} recorded  ${String(todo.length).padStart(3)} to train  ${(todoImages / PLAN_IMAGES_PER_SECOND / 3600).toFixed(1).padStart(5)} core-h`);
      if (todo.length) this.log(`${''.padEnd(16)} ${todo.map((r) => r.key).join(' ')}`);
    }
    for (const o of plan.other) this.log(`${o.experiment.padEnd(16)} ${o.status} (not in the run ledger: it needs its trained models)`);
    // recorded runs measured by different code (numerics versions or commits, see @facet/repro's README)
    for (const note of plan.versionNotes) this.log(`mixed code versions: ${note}`);
    this.log(`to train: ${(images / 1e6).toFixed(2)} M image passes ≈ ${(images / PLAN_IMAGES_PER_SECOND / 3600).toFixed(1)} core-hours at ${PLAN_IMAGES_PER_SECOND} img/s per core (two-view runs count each view)`);
  }
}

/**
 * The time estimate's training speed: IResNet-18 ×0.25 at 56², batch 64, wasm, one core of the 2-core build machine
 * with a second run on the other core and nothing else running (the full-size repro runs logged 56–62 img/s on
 * 2026-12-02 evening; 31–38 that morning, before the session-4 kernels and with other work on the machine). A rough
 * guide only: anything else running on the machine slows it.
 */
const PLAN_IMAGES_PER_SECOND = 55;
