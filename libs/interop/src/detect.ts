// Which insightface backbone a state dict is, from its names and shapes alone (arcface_torch/backbones/__init__.py
// get_model): IResNet r18/34/50/100/200 (IBasicBlock counts per stage from the layer indices), get_mbf (blocks from
// the Residual indices; scale 2 = insightface's mbf, scale 1 = the original MobileFaceNet, also read in TreB1eN's
// naming, see treb1en.ts), vit_t / vit_s. Also the options Facet needs to rebuild it: embedding size (the last
// linear's out-features), width multiplier (narrow test variants; Facet's `width`), and the input side, from the
// final feature map (IResNet: fc in-features = C·f·f; MobileFaceNet: the GDC kernel is f; ViT: tokens and patch).
import type { BackboneOptions } from '@facet/backbones';
import type { StateDict } from './tensor.js';
import { isTreB1eNMobileFaceNet, renameTreB1eN } from './treb1en.js';

export interface Detection {
  /** Facet registry name. */
  network: string;
  options: BackboneOptions;
  /** One line per inference, for the import report. */
  reasons: string[];
  /** When the file uses another naming of the same network (TreB1eN's MobileFaceNet): its tensors under Facet's names. */
  stateDict?: StateDict;
  /** The file's own name of a Facet tensor name, for messages (identity unless renamed). */
  sourceName?: (facetName: string) => string;
}

const IRESNETS: Array<[string, number[]]> = [
  ['iresnet18', [2, 2, 2, 2]],
  ['iresnet34', [3, 4, 6, 3]],
  ['iresnet50', [3, 4, 14, 3]],
  ['iresnet100', [3, 13, 30, 3]],
  ['iresnet200', [6, 26, 60, 6]],
];

/** Sides Facet trains at, preferred when several input sides give the same final map. */
const PREFERRED_SIDES = [112, 56];

/** Count the indices i of names `${prefix}.${i}.…`. */
function countIndexed(names: string[], prefix: string): number {
  let max = -1;
  for (const n of names) {
    if (!n.startsWith(prefix + '.')) continue;
    const i = Number(n.slice(prefix.length + 1).split('.')[0]);
    if (Number.isInteger(i)) max = Math.max(max, i);
  }
  return max + 1;
}

/** The input side whose four stride-2 (k3 p1) stages end at f×f: any side in (16(f−1), 16f]; Facet's usual first. */
function sideForFinalMap(f: number, given: number | undefined, reasons: string[]): number {
  const final = (s: number) => {
    for (let i = 0; i < 4; i++) s = Math.floor((s - 1) / 2) + 1;
    return s;
  };
  if (given !== undefined) {
    if (final(given) !== f) throw new Error(`inputSize ${given} gives a ${final(given)}×${final(given)} final map but the weights need ${f}×${f} (any side from ${16 * (f - 1) + 1} to ${16 * f})`);
    reasons.push(`input ${given}×${given} (given; final map ${f}×${f})`);
    return given;
  }
  const side = PREFERRED_SIDES.find((s) => final(s) === f) ?? 16 * f;
  reasons.push(`input ${side}×${side}: the final map is ${f}×${f}${f === 7 ? " (insightface's 112×112)" : `, which any side from ${16 * (f - 1) + 1} to ${16 * f} gives; pass inputSize to choose`}`);
  return side;
}

/** The width multiplier w with round(base·w) = channels, as simple as the layer allows (exact for Facet's widths). */
function widthOf(channels: number, base: number): number {
  return channels / base;
}

function shapeOf(sd: StateDict, name: string): number[] | undefined {
  return sd.get(name)?.shape;
}

function detectIResNet(sd: StateDict, names: string[], given: BackboneOptions, reasons: string[]): Detection {
  const blocks = [1, 2, 3, 4].map((s) => countIndexed(names, `layer${s}`));
  const c4 = shapeOf(sd, 'layer4.0.conv1.weight')?.[0] ?? shapeOf(sd, 'bn2.weight')?.[0];
  const fc = shapeOf(sd, 'fc.weight');
  if (!c4 || !fc || fc.length !== 2) throw new Error('IResNet names found but fc.weight / layer4 are missing or malformed');
  const width = widthOf(c4, 512);
  const f = Math.round(Math.sqrt(fc[1]! / c4));
  if (f * f * c4 !== fc[1]) throw new Error(`fc.weight has ${fc[1]} in-features, not ${c4}·f·f for the ${c4} channels of layer4`);
  const known = IRESNETS.find(([, b]) => b.join() === blocks.join());
  const network = known?.[0] ?? 'iresnet18';
  reasons.push(
    known
      ? `IResNet: conv1, layer1–4, fc, features; stages [${blocks}] = insightface ${network.replace('iresnet', 'r')}`
      : `IResNet: conv1, layer1–4, fc, features; stages [${blocks}] (none of r18/34/50/100/200: built as iresnet18 with these blocks)`,
  );
  reasons.push(`width ${width} (layer4 has ${c4} channels of 512), embedding ${fc[0]} (fc.weight [${fc}])`);
  const options: BackboneOptions = { embeddingSize: fc[0]!, width, inputSize: sideForFinalMap(f, given.inputSize, reasons) };
  if (!known) options.blocks = blocks;
  return { network, options, reasons };
}

function detectMobileFaceNet(sd: StateDict, names: string[], given: BackboneOptions, reasons: string[]): Detection {
  const sep = shapeOf(sd, 'conv_sep.layers.0.weight')?.[0];
  const gdc = shapeOf(sd, 'features.layers.0.layers.0.weight');
  const fc = shapeOf(sd, 'features.layers.2.weight');
  const stem = shapeOf(sd, 'layers.0.layers.0.weight')?.[0];
  if (!sep || !gdc || !fc || !stem) throw new Error('MobileFaceNet names found but conv_sep / features / layers.0 are missing');
  // blocks[0] = 1 is a single (grouped) ConvBlock at layers.1; otherwise a Residual of DepthWise blocks
  const b0 = names.includes('layers.1.layers.0.weight') ? 1 : countIndexed(names, 'layers.1.layers');
  const blocks = [b0, countIndexed(names, 'layers.3.layers'), countIndexed(names, 'layers.5.layers'), countIndexed(names, 'layers.7.layers')];
  const width = widthOf(sep, 512);
  const unit = Math.max(1, Math.round(64 * width));
  // get_mbf's stem has 64·scale·width channels: scale 2 is insightface's mbf, scale 1 the paper's network
  if (stem !== 2 * unit && stem !== unit) {
    throw new Error(
      `layers.0 has ${stem} channels where get_mbf gives ${unit} (scale 1, the original MobileFaceNet) or ${2 * unit} (scale 2, insightface's mbf) at the width of conv_sep (${sep} of 512): a MobileFaceNet of another scale (mbf_large?), which Facet does not build`,
    );
  }
  const network = stem === unit ? 'mobilefacenet_orig' : 'mobilefacenet';
  reasons.push(
    network === 'mobilefacenet'
      ? `MobileFaceNet (get_mbf, scale 2): layers.0–7, conv_sep, GDC features; blocks [${blocks}]${blocks.join() === '1,4,6,2' ? " (insightface's)" : ''}`
      : `original MobileFaceNet (Chen et al. 2018; get_mbf scale 1): a ${stem}-channel stem = 64·width; blocks [${blocks}]${blocks.join() === '1,4,6,2' ? " (the paper's)" : ''}`,
  );
  reasons.push(`width ${width} (conv_sep has ${sep} channels of 512), embedding ${fc[0]} (features.layers.2.weight [${fc}])`);
  const options: BackboneOptions = { embeddingSize: fc[0]!, width, inputSize: sideForFinalMap(gdc[2]!, given.inputSize, reasons) };
  if (blocks.join() !== '1,4,6,2') options.blocks = blocks;
  return { network, options, reasons };
}

function detectViT(sd: StateDict, names: string[], given: BackboneOptions, reasons: string[]): Detection {
  const patch = shapeOf(sd, 'patch_embed.proj.weight');
  const pos = shapeOf(sd, 'pos_embed');
  const out = shapeOf(sd, 'feature.2.weight');
  if (!patch || !pos || !out) throw new Error('ViT names found but patch_embed / pos_embed / feature.2 are missing');
  const dim = patch[0]!;
  const p = patch[2]!;
  const grid = Math.round(Math.sqrt(pos[1]!));
  if (grid * grid !== pos[1]) throw new Error(`pos_embed has ${pos[1]} tokens, not a square grid`);
  const depth = countIndexed(names, 'blocks');
  const network = dim === 512 ? 'vit_s' : 'vit_t';
  const width = dim / (network === 'vit_s' ? 512 : 256);
  const fits = (s: number) => Math.floor(s / p) === grid;
  const inputSize = given.inputSize ?? (fits(112) ? 112 : p * grid);
  if (!fits(inputSize)) throw new Error(`inputSize ${inputSize} gives ${Math.floor(inputSize / p)}² patches but pos_embed has ${grid}²`);
  reasons.push(`ViT: patch_embed, pos_embed, ${depth} blocks, feature head; dim ${dim} → ${network}${width !== 1 ? ` at width ${width}` : ''}`);
  reasons.push(`patch ${p}, ${grid}×${grid} tokens → input ${inputSize}, embedding ${out[0]}; heads not stored in the weights: ${given.heads ?? 8} assumed`);
  return { network, options: { embeddingSize: out[0]!, width, inputSize, depth, patchSize: p, ...(given.heads ? { heads: given.heads } : {}) }, reasons };
}

/** Detect the architecture; `given` options (inputSize, heads) take precedence where the weights cannot tell. */
export function detectArchitecture(sd: StateDict, file: string, given: BackboneOptions = {}): Detection {
  const names = [...sd.keys()];
  const has = (n: string) => sd.has(n);
  const reasons: string[] = [];
  try {
    if (has('conv1.weight') && has('layer1.0.conv1.weight') && has('fc.weight') && has('features.running_mean')) {
      return detectIResNet(sd, names, given, reasons);
    }
    if (has('layers.0.layers.0.weight') && has('conv_sep.layers.0.weight') && has('features.layers.2.weight')) {
      return detectMobileFaceNet(sd, names, given, reasons);
    }
    if (isTreB1eNMobileFaceNet(sd)) {
      const { stateDict, sourceName } = renameTreB1eN(sd);
      reasons.push('TreB1eN/InsightFace_Pytorch MobileFaceNet names (conv1, conv2_dw, conv_23, conv_3.model.i, …, conv_6_sep, conv_6_dw, linear, bn): mapped one to one onto get_mbf\'s');
      const d = detectMobileFaceNet(stateDict, [...stateDict.keys()], given, reasons);
      return { ...d, stateDict, sourceName };
    }
    if (has('patch_embed.proj.weight') && has('pos_embed') && has('feature.2.weight')) {
      return detectViT(sd, names, given, reasons);
    }
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const sample = names.slice(0, 6).map((n) => `${n} [${sd.get(n)!.shape}]`).join(', ');
  throw new Error(
    `${file}: not an insightface IResNet (conv1, layer1.0.conv1, fc, features), get_mbf MobileFaceNet (layers.0, conv_sep, features.layers.2), TreB1eN MobileFaceNet (conv1.conv, conv2_dw, conv_23, conv_6_dw, linear, bn) or ViT (patch_embed, pos_embed, feature.2) state dict; it has ${names.length} tensors (${sample}${names.length > 6 ? ', …' : ''}); pass --network to name the architecture`,
  );
}
