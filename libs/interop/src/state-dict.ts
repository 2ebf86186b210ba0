// From whatever a checkpoint file holds to the backbone's state dict: a bare `model.state_dict()`, arcface_torch's
// save_all_states dict (train_v2.py: {epoch, global_step, state_dict_backbone, state_dict_softmax_fc, …}), or a
// DistributedDataParallel module's state dict, whose names all start with `module.`.
import type { PyValue } from './pickle/unpickle.js';
import { isTensorData, type TorchValue } from './torch/pth-read.js';
import type { StateDict, TensorData } from './tensor.js';

/** Where the state dict was found in the file, for the import report. */
export interface StateDictSource {
  /** The key of the enclosing checkpoint dict ('state_dict_backbone', …), when the file is not a bare state dict. */
  container?: string;
  /** A prefix removed from every name ('module.' for DDP). */
  strippedPrefix?: string;
  /** arcface_torch checkpoints: the epoch and global_step stored beside the weights. */
  epoch?: number;
  globalStep?: number;
}

/** Keys under which checkpoints commonly keep the backbone, in the order tried. */
const CONTAINERS = ['state_dict_backbone', 'state_dict', 'model', 'backbone'];

function asStateDict(v: TorchValue | undefined): StateDict | undefined {
  if (!(v instanceof Map) || v.size === 0) return undefined;
  const out: StateDict = new Map();
  for (const [k, t] of v) {
    if (typeof k !== 'string' || !isTensorData(t)) return undefined;
    out.set(k, t as TensorData);
  }
  return out;
}

function describe(v: TorchValue): string {
  if (v instanceof Map) {
    const keys = [...v.keys()].map(String);
    return `a dict with keys ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? `, … (${keys.length})` : ''}`;
  }
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (isTensorData(v)) return 'a single tensor';
  return `a ${typeof v}`;
}

/** Find the backbone state dict in a loaded checkpoint object. */
export function extractStateDict(value: TorchValue, file: string): { stateDict: StateDict; source: StateDictSource } {
  const source: StateDictSource = {};
  let sd = asStateDict(value);
  if (!sd && value instanceof Map) {
    for (const key of CONTAINERS) {
      sd = asStateDict(value.get(key as PyValue));
      if (sd) {
        source.container = key;
        const epoch = value.get('epoch');
        const step = value.get('global_step');
        if (typeof epoch === 'number') source.epoch = epoch;
        if (typeof step === 'number') source.globalStep = step;
        break;
      }
    }
  }
  if (!sd) {
    throw new Error(
      `${file} holds ${describe(value)}, not a state dict (name → tensor) nor a checkpoint with one under ${CONTAINERS.join(' / ')}`,
    );
  }
  return { stateDict: stripPrefix(sd, source), source };
}

/** DDP and some trainers prefix every name; strip a prefix shared by all names when the rest looks like a backbone. */
export function stripPrefix(sd: StateDict, source: StateDictSource): StateDict {
  for (const prefix of ['module.', 'backbone.', 'model.']) {
    if ([...sd.keys()].every((k) => k.startsWith(prefix))) {
      source.strippedPrefix = (source.strippedPrefix ?? '') + prefix;
      return stripPrefix(new Map([...sd].map(([k, v]) => [k.slice(prefix.length), v])), source);
    }
  }
  return sd;
}
