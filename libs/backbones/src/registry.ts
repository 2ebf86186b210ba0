// The backbones Facet builds, by registry name, with insightface's get_model names as aliases.
import { buildIResNet } from './architectures/iresnet.js';
import { buildMobileFaceNet } from './architectures/mobilefacenet.js';
import { buildViT } from './architectures/vit.js';
import type { BuiltNetwork } from './network.js';
import type { ResolvedBackboneOptions } from './types.js';

export type BackboneFamily = 'iresnet' | 'mobilefacenet' | 'vit';

export interface Architecture {
  name: string;
  /** insightface `get_model` name, where insightface has one (accepted as an alias). */
  insightface?: string;
  family: BackboneFamily;
  description: string;
  /** Family extras at their insightface values, and the embedding size when it is not insightface's 512. */
  defaults: Pick<ResolvedBackboneOptions, 'blocks' | 'depth' | 'heads' | 'patchSize' | 'dropPath' | 'maskRatio'> & { embeddingSize?: number };
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
  {
    // Chen et al. 2018, "MobileFaceNets", Table 1: 3×3 conv 64 s2 → depthwise 3×3 64 → bottlenecks (t, c, n, s) =
    // (2,64,5,2), (4,128,1,2), (2,128,6,1), (4,128,1,2), (2,128,2,1) → 1×1 conv 512 → linear 7×7 GDC → linear 1×1
    // to 128. That is exactly get_mbf(blocks=(1,4,6,2), scale=1) (same code, same state-dict names); insightface's
    // get_model has no name for it (its `mbf` is scale 2), and it is the network most public MobileFaceNet files hold.
    name: 'mobilefacenet_orig',
    family: 'mobilefacenet',
    description: 'original MobileFaceNet (Chen et al. 2018) = get_mbf blocks (1,4,6,2), scale 1; 128-d by default (the paper)',
    defaults: { blocks: [1, 4, 6, 2], embeddingSize: 128 },
    build: (o) => buildMobileFaceNet(o, 1),
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
      `unknown backbone '${name}'; available: ${ARCHITECTURES.map((a) => (a.insightface ? `${a.name} (${a.insightface})` : a.name)).join(', ')}`,
    );
  }
  return found;
}
