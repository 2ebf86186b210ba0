// Options are validated once, at the boundary, and resolved to insightface's defaults.
import type { Architecture } from './registry.js';
import type { BackboneOptions, ResolvedBackboneOptions } from './types.js';

const CORE = ['embeddingSize', 'inputSize', 'width', 'dropout', 'seed'] as const;
const EXTRAS: Record<Architecture['family'], ReadonlyArray<keyof BackboneOptions>> = {
  iresnet: ['blocks'],
  mobilefacenet: ['blocks'],
  vit: ['depth', 'heads', 'patchSize', 'dropPath', 'maskRatio'],
};

/** insightface's training seed (configs/base.py: seed = 2048). */
export const DEFAULT_SEED = 2048;

function fail(arch: string, option: string, message: string): never {
  throw new Error(`${arch}: option ${option} ${message}`);
}

function integer(arch: string, option: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(arch, option, `must be an integer in [${min}, ${max}] (got ${JSON.stringify(v)})`);
  }
  return v;
}

function real(arch: string, option: string, v: unknown, min: number, max: number, maxOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (maxOpen ? v >= max : v > max)) {
    fail(arch, option, `must be a number in [${min}, ${max}${maxOpen ? ')' : ']'} (got ${JSON.stringify(v)})`);
  }
  return v;
}

export function resolveOptions(arch: Architecture, options: BackboneOptions = {}): ResolvedBackboneOptions {
  if (options === null || typeof options !== 'object') throw new Error(`${arch.name}: options must be an object`);
  const allowed = new Set<string>([...CORE, ...EXTRAS[arch.family]]);
  for (const key of Object.keys(options)) {
    if ((options as Record<string, unknown>)[key] === undefined) continue;
    if (!allowed.has(key)) {
      const all = new Set<string>([...CORE, ...Object.values(EXTRAS).flat()]);
      throw new Error(
        all.has(key)
          ? `${arch.name}: option ${key} does not apply to the ${arch.family} family (it takes ${[...allowed].join(', ')})`
          : `${arch.name}: unknown option ${key}; options are ${[...allowed].join(', ')}`,
      );
    }
  }
  const n = arch.name;
  const o: ResolvedBackboneOptions = {
    embeddingSize: integer(n, 'embeddingSize', options.embeddingSize ?? arch.defaults.embeddingSize ?? 512, 1, 65536),
    inputSize: integer(n, 'inputSize', options.inputSize ?? 112, 1, 1024),
    width: real(n, 'width', options.width ?? 1, 1 / 64, 8),
    dropout: real(n, 'dropout', options.dropout ?? 0, 0, 1, true),
    seed: integer(n, 'seed', options.seed ?? DEFAULT_SEED, 0, 2 ** 32 - 1),
  };
  if (arch.family !== 'iresnet' && o.dropout !== 0) {
    fail(n, 'dropout', `is IResNet-only (${arch.insightface ? `insightface's ${arch.insightface}` : arch.name} has no dropout layer); leave it at 0`);
  }
  if (arch.family === 'iresnet' || arch.family === 'mobilefacenet') {
    const blocks = options.blocks ?? arch.defaults.blocks!;
    if (!Array.isArray(blocks) || blocks.length !== 4) fail(n, 'blocks', `must be 4 block counts (got ${JSON.stringify(blocks)})`);
    blocks.forEach((v, i) => integer(n, `blocks[${i}]`, v, arch.family === 'iresnet' ? 1 : i === 0 ? 1 : 0, 1024));
    o.blocks = [...blocks];
    // IResNet: four stride-2 stages + stem; MobileFaceNet: four stride-2 convs then the global depthwise conv
    if (o.inputSize < 16) fail(n, 'inputSize', `must be at least 16 for four stride-2 stages (got ${o.inputSize})`);
  } else {
    o.depth = integer(n, 'depth', options.depth ?? arch.defaults.depth!, 1, 256);
    o.heads = integer(n, 'heads', options.heads ?? arch.defaults.heads!, 1, 256);
    o.patchSize = integer(n, 'patchSize', options.patchSize ?? arch.defaults.patchSize!, 1, 1024);
    o.dropPath = real(n, 'dropPath', options.dropPath ?? arch.defaults.dropPath!, 0, 1, true);
    o.maskRatio = real(n, 'maskRatio', options.maskRatio ?? arch.defaults.maskRatio!, 0, 1, true);
    if (o.inputSize < o.patchSize) fail(n, 'inputSize', `(${o.inputSize}) must be at least patchSize (${o.patchSize})`);
    const tokens = Math.floor(o.inputSize / o.patchSize) ** 2;
    if (Math.floor(tokens * (1 - o.maskRatio)) < 1) fail(n, 'maskRatio', `${o.maskRatio} keeps no token of ${tokens}`);
  }
  return o;
}
