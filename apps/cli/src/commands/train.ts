import { CONFIG_KEYS, CONFIG_SWITCHES, QUICKSTART_CONFIG, describeConfigFields, initEngine, initModelFolder, resolveConfig, train, type BackendChoice, type ConfigFieldDescription, type StepReport, type TrainSummary } from '@facet/sdk';
import { Flags } from '@oclif/core';
import type { FlagInput } from '@oclif/core/interfaces';
import { FacetCommand } from '../base.js';
import { formatDuration, progressBar } from '../render/progress.js';
import { alignFlag, alignIfAsked } from '../align-flag.js';

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A config field's help line: meaning, accepted values, default and insightface key, all from the SDK's schema. */
export function configFlagHelp(f: ConfigFieldDescription): string {
  const insightface = f.insightface ? `; insightface ${f.insightface}` : '';
  return `${f.description} [${f.accepts}; default ${f.defaultText === '' ? '(empty)' : f.defaultText}${insightface}]`;
}

// Every config field is a flag (kebab-case), parsed as a string and validated by the SDK's config schema. No oclif
// default: an unset flag must not override the config file.
const configFlags: FlagInput = Object.fromEntries(
  describeConfigFields()
    .filter((f) => f.key !== 'backend')
    .map((f) => [
      kebab(f.key),
      CONFIG_SWITCHES.includes(f.key)
        ? Flags.boolean({ description: configFlagHelp(f), helpGroup: 'CONFIG', allowNo: true })
        : Flags.string({ description: configFlagHelp(f), helpGroup: 'CONFIG' }),
    ]),
);

export default class Train extends FacetCommand {
  static description = 'Train a face-recognition model (insightface-style config; every field can be overridden by a flag)';
  static examples = [
    '<%= config.bin %> train --preset quickstart',
    '<%= config.bin %> train --config configs/r18.yaml --output runs/r18',
    '<%= config.bin %> train --dataset faces/ --network mobilefacenet --head cosface --sample-rate 0.3',
    '<%= config.bin %> train --resume runs/r18',
  ];
  static flags = {
    config: Flags.string({ char: 'c', description: 'JSON or YAML config file (default: none: insightface defaults, then flags)' }),
    preset: Flags.string({ description: 'start from a preset (default: none)', options: ['quickstart'] }),
    resume: Flags.string({ description: 'continue the run in this output directory from its latest checkpoint (default: none: start a new run)' }),
    force: Flags.boolean({ description: 'overwrite an output directory that holds another run' }),
    align: alignFlag,
    ...configFlags,
  };

  async run(): Promise<TrainSummary> {
    const { flags } = await this.parse(Train);
    const overrides: Record<string, unknown> = {};
    for (const k of CONFIG_KEYS) {
      const v = (flags as Record<string, unknown>)[kebab(k)];
      if (v !== undefined) overrides[k] = v;
    }
    overrides.backend = flags.backend;
    // a model file given to --init (insightface .pth/.onnx/safetensors) becomes a model folder first
    if (typeof overrides.init === 'string' && overrides.init) {
      await initEngine({ backend: flags.backend as BackendChoice });
      overrides.init = await initModelFolder(overrides.init, { onReport: (r) => this.logToStderr(`--init ${r.file}: ${r.network} (${r.reasons.join('; ')})`) });
    }
    if (flags.resume) overrides.output = flags.resume;
    let file = flags.config;
    if (flags.resume && !file) file = `${flags.resume}/config.json`;
    const resolved = resolveConfig({ preset: flags.preset === 'quickstart' ? QUICKSTART_CONFIG : undefined, file, overrides });
    // raw photos: train on their aligned copy (made once, beside the data); the run's config records that folder
    const config = flags.align && !flags.resume ? { ...resolved, dataset: await alignIfAsked(resolved.dataset, resolved.inputSize, true, (l) => this.logToStderr(l), flags.backend) } : resolved;
    const abort = new AbortController();
    const onSigint = () => {
      if (abort.signal.aborted) process.exit(130);
      process.stderr.write('\nstopping: saving a checkpoint (Ctrl-C again to quit at once)\n');
      abort.abort();
    };
    process.on('SIGINT', onSigint);
    const json = this.jsonEnabled();
    const bar = json ? undefined : progressBar('train', 'loss {loss} acc {acc} | {ips} img/s | lr {lr} | epoch {epoch} | ETA {eta_h}');
    let started = false;
    const onStep = (s: StepReport) => {
      const payload = { loss: s.loss.toFixed(3), acc: s.accuracy === undefined ? '-' : s.accuracy.toFixed(3), ips: s.imagesPerSec.toFixed(1), lr: s.lr.toExponential(2), epoch: s.epoch.toFixed(2), eta_h: formatDuration(s.etaSeconds) };
      if (bar) {
        if (!started) bar.start(s.totalSteps, s.step, payload);
        started = true;
        bar.update(s.step, payload);
      } else if (!json && (s.step % config.frequent === 0 || s.step === s.totalSteps)) {
        this.log(`step ${s.step}/${s.totalSteps} epoch ${payload.epoch} loss ${payload.loss} acc ${payload.acc} ${payload.ips} img/s lr ${payload.lr} ETA ${payload.eta_h}`);
      }
    };
    let summary: TrainSummary;
    try {
      summary = await train(config, {
        resume: Boolean(flags.resume),
        force: flags.force,
        signal: abort.signal,
        onStep,
        onEvent: (e) => {
          if (json) return;
          if (bar && started) bar.stop(), (started = false);
          if (e.type !== 'checkpoint' || !bar) this.logToStderr(`[${e.type}] ${e.message}`);
        },
      });
    } finally {
      bar?.stop();
      process.off('SIGINT', onSigint);
    }
    if (!json) this.render(summary);
    return summary;
  }

  private render(s: TrainSummary): void {
    this.log('');
    this.log(`trained ${s.objective} on ${s.numImages} images / ${s.numClasses} identities: ${s.steps} steps (${s.epochs.toFixed(2)} epochs) in ${formatDuration(s.seconds)}, ${s.imagesPerSec.toFixed(1)} img/s on ${s.backend}`);
    this.log(`loss ${s.firstLoss.toFixed(3)} → ${s.finalLoss.toFixed(3)}${s.finalAccuracy === undefined ? '' : `, training accuracy ${(100 * s.finalAccuracy).toFixed(1)} %`}${s.skippedSteps ? `, ${s.skippedSteps} non-finite steps skipped` : ''} (${s.stoppedBy})`);
    const last = new Map(s.validation.map((v) => [v.target, v]));
    for (const v of last.values()) {
      const raw = s.rawPixelBaseline.find((r) => r.target.startsWith(v.target));
      this.log(`held-out ${v.target}: ${(100 * v.accuracy).toFixed(2)} ± ${(100 * v.std).toFixed(2)} % verification accuracy (${v.pairs} pairs)` + (raw ? ` vs raw pixels ${(100 * raw.accuracy).toFixed(2)} %` : ''));
    }
    this.log(`model   ${s.modelDir}`);
    this.log(`plots   ${s.plots.filter((p) => p.endsWith('.png')).join(', ')}`);
    this.log(`log     ${s.output}/log.jsonl`);
  }
}
