// The original MobileFaceNet (Chen et al. 2018) in the naming of its most common public PyTorch implementation,
// TreB1eN/InsightFace_Pytorch `model.py` `MobileFaceNet`, onto Facet's `mobilefacenet_orig` (= insightface's
// get_mbf at scale 1, whose names Facet uses). Both modules are the same graph, unit for unit:
//   Conv_block {conv, bn, prelu}      = ConvBlock   layers.{0, 1, 2}
//   Linear_block {conv, bn}           = LinearBlock layers.{0, 1}
//   Depth_Wise {conv, conv_dw, project} = DepthWise layers.{0, 1, 2}
//   Residual {model.i}                = Residual    layers.i
//   conv1, conv2_dw, conv_23, conv_3, conv_34, conv_4, conv_45, conv_5 = layers.0 … layers.7
//   conv_6_sep = conv_sep, conv_6_dw (the linear 7×7 GDC) = features.layers.0, linear = features.layers.2 (no bias),
//   bn (BatchNorm1d) = features.layers.3.
// TreB1eN's forward ends in an L2 normalisation, which has no weights; Facet's backbone outputs the raw embedding
// (normalising belongs to evaluation), so the directions, and every verification score, are the same.
import type { StateDict } from './tensor.js';

const TOP: Record<string, string> = {
  conv1: 'layers.0',
  conv2_dw: 'layers.1',
  conv_23: 'layers.2',
  conv_3: 'layers.3',
  conv_34: 'layers.4',
  conv_4: 'layers.5',
  conv_45: 'layers.6',
  conv_5: 'layers.7',
  conv_6_sep: 'conv_sep',
  conv_6_dw: 'features.layers.0',
};
const BLOCK: Record<string, string> = { conv: '0', bn: '1', prelu: '2' };
const DEPTHWISE: Record<string, string> = { conv: '0', conv_dw: '1', project: '2' };
const RESIDUALS = new Set(['conv_3', 'conv_4', 'conv_5']);
const DEPTHWISE_UNITS = new Set(['conv_23', 'conv_34', 'conv_45']);

/** Names that only TreB1eN's MobileFaceNet has (every one of them must be present). */
export const TREB1EN_MARKERS = ['conv1.conv.weight', 'conv2_dw.conv.weight', 'conv_23.conv_dw.conv.weight', 'conv_6_sep.conv.weight', 'conv_6_dw.conv.weight', 'linear.weight', 'bn.running_mean'];

export function isTreB1eNMobileFaceNet(sd: StateDict): boolean {
  return TREB1EN_MARKERS.every((n) => sd.has(n));
}

/** `conv`/`bn`/`prelu` + the tensor's own name → Facet's `layers.{0,1,2}.<leaf>`; undefined when it is not one. */
function block(parts: string[]): string | undefined {
  if (parts.length !== 2 || !(parts[0]! in BLOCK)) return undefined;
  return `layers.${BLOCK[parts[0]!]}.${parts[1]}`;
}

/** A Depth_Wise unit's tensor (`conv_dw.bn.weight`) → `layers.1.layers.1.weight`. */
function depthWise(parts: string[]): string | undefined {
  if (!(parts[0]! in DEPTHWISE)) return undefined;
  const inner = block(parts.slice(1));
  return inner && `layers.${DEPTHWISE[parts[0]!]}.${inner}`;
}

/** Facet's name for one of TreB1eN's; undefined for a name that is not part of that MobileFaceNet. */
export function facetNameOf(name: string): string | undefined {
  const parts = name.split('.');
  const top = parts[0]!;
  if (top === 'linear' && parts.length === 2) return `features.layers.2.${parts[1]}`;
  if (top === 'bn' && parts.length === 2) return `features.layers.3.${parts[1]}`;
  const to = TOP[top];
  if (!to) return undefined;
  const rest = parts.slice(1);
  if (RESIDUALS.has(top)) {
    if (rest[0] !== 'model' || !/^\d+$/.test(rest[1] ?? '')) return undefined;
    const inner = depthWise(rest.slice(2));
    return inner && `${to}.layers.${rest[1]}.${inner}`;
  }
  const inner = DEPTHWISE_UNITS.has(top) ? depthWise(rest) : block(rest);
  return inner && `${to}.${inner}`;
}

const invert = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [v, k]));
const TOP_BACK = invert(TOP);
const BLOCK_BACK = invert(BLOCK);
const DEPTHWISE_BACK = invert(DEPTHWISE);

/** TreB1eN's name for one of Facet's mobilefacenet_orig names (for messages about tensors a file lacks). */
export function treb1enNameOf(name: string): string | undefined {
  const head = /^features\.layers\.([23])\.(\w+)$/.exec(name);
  if (head) return `${head[1] === '2' ? 'linear' : 'bn'}.${head[2]}`;
  // block: layers.{0,1,2}.<leaf>; depthwise unit: layers.{0,1,2}.layers.{0,1,2}.<leaf>
  const unit = (rest: string, depthwise: boolean): string | undefined => {
    const m = depthwise ? /^layers\.(\d)\.layers\.(\d)\.(\w+)$/.exec(rest) : /^layers\.(\d)\.(\w+)$/.exec(rest);
    if (!m) return undefined;
    if (!depthwise) return BLOCK_BACK[m[1]!] && `${BLOCK_BACK[m[1]!]}.${m[2]}`;
    return DEPTHWISE_BACK[m[1]!] && BLOCK_BACK[m[2]!] && `${DEPTHWISE_BACK[m[1]!]}.${BLOCK_BACK[m[2]!]}.${m[3]}`;
  };
  for (const [to, top] of Object.entries(TOP_BACK)) {
    if (!name.startsWith(`${to}.`)) continue;
    const rest = name.slice(to.length + 1);
    if (RESIDUALS.has(top)) {
      const m = /^layers\.(\d+)\.(.*)$/.exec(rest);
      const inner = m && unit(m[2]!, true);
      return inner ? `${top}.model.${m![1]}.${inner}` : undefined;
    }
    const inner = unit(rest, DEPTHWISE_UNITS.has(top));
    return inner && `${top}.${inner}`;
  }
  return undefined;
}

/**
 * The state dict under Facet's names (tensors shared, not copied), and the way back for messages (a tensor the
 * file lacks is named as TreB1eN would name it). Names that are not part of the network keep their own name, so
 * the mapping reports them as unexpected.
 */
export function renameTreB1eN(sd: StateDict): { stateDict: StateDict; sourceName: (facetName: string) => string } {
  const out: StateDict = new Map();
  const back = new Map<string, string>();
  for (const [name, t] of sd) {
    const facet = facetNameOf(name) ?? name;
    out.set(facet, t);
    back.set(facet, name);
  }
  return { stateDict: out, sourceName: (n) => back.get(n) ?? treb1enNameOf(n) ?? n };
}
