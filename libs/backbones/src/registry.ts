// The backbones Facet builds, by registry name, with insightface's get_model names as aliases.
import { buildIResNet } from './architectures/iresnet.js';
import { buildMobileFaceNet } from './architectures/mobilefacenet.js';
import { buildViT } from './architectures/vit.js';
import type { BuiltNetwork } from './network.js';
import type { ResolvedBackboneOptions } from './types.js';

export type BackboneFamily = 'iresnet' | 'mobilefacenet' | 'vit';

export interface Architecture {
  name: string;
  /** insightface `get_model` name. */
  insightface: string;
  family: BackboneFamily;
  description: string;
  /** Family extras at their insightface values. */
  defaults: Pick<ResolvedBackboneOptions, 'blocks' | 'depth' | 'heads' | 'patchSize' | 'dropPath' | 'maskRatio'>;
  build(o: ResolvedBackboneOptions): BuiltNetwork;
}

const iresnet = (depth: number, blocks: number[]): Architecture => ({
  name: `iresnet${depth}`,
  insightface: `r${depth}`,
  family: 'iresnet',
  description: `IResNet-${depth} (insightface r${depth}), stages [${blocks.join(',')}], widths 64/128/256/512`,
  defaults: { blocks },
  build: buildIResNet,
});

const vit = (size: 't' | 's', dim: number): Architecture => ({
  name: `vit_${size}`,
  insightface: `vit_${size}`,
  family: 'vit',
  description: `ViT-${size.toUpperCase()} (insightface vit_${size}): 9×9 patches, 144 tokens, dim ${dim}, depth 12, 8 heads`,
  defaults: { depth: 12, heads: 8, patchSize: 9, dropPath: 0.1, maskRatio: 0.1 },
  build: (o) => buildViT(o, dim),
});

export const ARCHITECTURES: readonly Architecture[] = [
  iresnet(18, [2, 2, 2, 2]),
  iresnet(34, [3, 4, 6, 3]),
  iresnet(50, [3, 4, 14, 3]),
  iresnet(100, [3, 13, 30, 3]),
  iresnet(200, [6, 26, 60, 6]),
  {
    name: 'mobilefacenet',
    insightface: 'mbf',
    family: 'mobilefacenet',
    description: 'MobileFaceNet (insightface mbf): blocks (1,4,6,2), scale 2, 7×7 global depthwise (GDC) head',
    defaults: { blocks: [1, 4, 6, 2] },
    build: (o) => buildMobileFaceNet(o, 2),
  },
  vit('t', 256),
  vit('s', 512),
];

/** Registry names, in listing order. */
export const BACKBONE_NAMES: readonly string[] = ARCHITECTURES.map((a) => a.name);

export function findArchitecture(name: string): Architecture {
  const key = String(name).trim().toLowerCase();
  const found = ARCHITECTURES.find((a) => a.name === key || a.insightface === key);
  if (!found) {
    throw new Error(
      `unknown backbone '${name}'; available: ${ARCHITECTURES.map((a) => `${a.name} (${a.insightface})`).join(', ')}`,
    );
  }
  return found;
}
