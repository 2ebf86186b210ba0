// A PyTorch state dict onto a Facet backbone and back, through the layout maps of layout.ts. Every name and shape
// is checked before anything is assigned, and every problem is reported at once (first few of each kind).
import { createBackbone, type Backbone, type BackboneOptions } from '@facet/backbones';
import { layoutFor, toFacet, toTorch, torchShape, type LayoutMap } from './layout.js';
import { float32Tensor, int64Tensor, isFloating, toFloat32, type StateDict } from './tensor.js';

/** PyTorch buffers Facet does not keep: BatchNorm's step counter (only used when momentum=None). */
const IGNORED_SUFFIXES = ['.num_batches_tracked'];

function fcChannels(backbone: Backbone, name: string, weights: Record<string, { shape: number[] }>): { channels: number } | undefined {
  // IResNet's fc flattens bn2's NCHW output; MobileFaceNet's GDC and ViT's tokens need no permutation
  if (!backbone.name.startsWith('iresnet') || name !== 'fc.weight') return undefined;
  return { channels: weights['bn2.weight']!.shape[0]! };
}

function list(items: string[], max = 6): string {
  return items.slice(0, max).join(', ') + (items.length > max ? `, … (${items.length} in all)` : '');
}

function optionsText(o: BackboneOptions): string {
  return Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? `[${v}]` : v}`)
    .join(', ');
}

/**
 * Build `network` with `options` and load the state dict into it (PyTorch layouts converted). `sourceName` gives
 * the file's own name of a tensor in messages, when its state dict was renamed to Facet's names (TreB1eN's).
 */
export function backboneFromStateDict(sd: StateDict, network: string, options: BackboneOptions, file: string, sourceName: (name: string) => string = (n) => n): Backbone {
  let backbone: Backbone;
  try {
    backbone = createBackbone(network, options);
  } catch (e) {
    throw new Error(`${file}: cannot build ${network} (${optionsText(options)}): ${(e as Error).message}`);
  }
  try {
    const weights = backbone.getWeights();
    const missing: string[] = [];
    const wrong: string[] = [];
    const values: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(weights)) {
      const src = sd.get(name);
      if (!src) {
        missing.push(name);
        continue;
      }
      const map = layoutOf(backbone, name, t.shape, weights);
      const expect = torchShape(t.shape, map);
      if (expect.join() !== src.shape.join()) {
        wrong.push(`${sourceName(name)} is [${src.shape}], ${network} needs [${expect}]`);
        continue;
      }
      if (!isFloating(src.dtype)) {
        wrong.push(`${sourceName(name)} is ${src.dtype}, not floating point`);
        continue;
      }
      values[name] = toFacet(toFloat32(src), t.shape, map);
    }
    const unexpected = [...sd.keys()].filter((n) => !(n in weights) && !IGNORED_SUFFIXES.some((s) => n.endsWith(s)));
    if (missing.length || wrong.length || unexpected.length) {
      const parts = [
        wrong.length ? `wrong shapes: ${list(wrong, 4)}` : '',
        missing.length ? `missing: ${list(missing.map(sourceName))}` : '',
        unexpected.length ? `not part of ${network}: ${list(unexpected.map(sourceName))}` : '',
      ].filter(Boolean);
      throw new Error(`${file} does not fit ${network} (${optionsText(backbone.options)}): ${parts.join('; ')}`);
    }
    backbone.setWeights(values);
    return backbone;
  } catch (e) {
    backbone.dispose();
    throw e;
  }
}

/**
 * The groups of a convolution, which Facet's filter shape alone does not tell: insightface's grouped and
 * depthwise convs sit in a ConvBlock/LinearBlock (`X.layers.0` conv, `X.layers.1` BN), whose BN has the conv's O.
 */
function convGroups(name: string, facetShape: number[], weights: Record<string, { shape: number[] }>): number {
  const m = /^(.*)\.0\.weight$/.exec(name);
  const bn = m ? weights[`${m[1]}.1.running_mean`] : undefined;
  if (!bn) return 1;
  const groups = bn.shape[0]! / facetShape[3]!;
  return Number.isInteger(groups) && groups >= 1 ? groups : 1;
}

/** The layout map of one of the backbone's tensors, from Facet's side alone (so a file's shapes are checked, not trusted). */
function layoutOf(backbone: Backbone, name: string, shape: number[], weights: Record<string, { shape: number[] }>): LayoutMap {
  if (shape.length === 4) return { kind: 'conv', groups: convGroups(name, shape, weights) };
  return layoutFor(name, shape, fcChannels(backbone, name, weights));
}

export interface ExportStateDictOptions {
  /** Value of every BatchNorm's num_batches_tracked buffer (PyTorch counts training steps there). Default 0. */
  numBatchesTracked?: number;
}

/**
 * PyTorch's state_dict order: a module's own parameters and buffers, then its children in registration order
 * (nn.Module._save_to_state_dict, then recursion). Facet lists tensors in definition order, which registers children
 * in the same order; only the direct tensors of a parent (ViT's pos_embed, mask_token) must move before its children.
 */
export function torchOrder(names: string[]): string[] {
  interface Node {
    leaves: string[];
    children: Map<string, Node>;
  }
  const root: Node = { leaves: [], children: new Map() };
  for (const name of names) {
    const parts = name.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) {
      let next = node.children.get(p);
      if (!next) node.children.set(p, (next = { leaves: [], children: new Map() }));
      node = next;
    }
    node.leaves.push(name);
  }
  const out: string[] = [];
  const walk = (n: Node) => {
    out.push(...n.leaves);
    for (const c of n.children.values()) walk(c);
  };
  walk(root);
  return out;
}

/** The backbone as PyTorch's `model.state_dict()`: insightface names, PyTorch layouts, num_batches_tracked added. */
export function stateDictFromBackbone(backbone: Backbone, opts: ExportStateDictOptions = {}): StateDict {
  const weights = backbone.getWeights();
  const sd: StateDict = new Map();
  const steps = opts.numBatchesTracked ?? 0;
  for (const [name, t] of Object.entries(weights)) {
    const map = layoutOf(backbone, name, t.shape, weights);
    const values = toTorch(t.dataSync() as Float32Array, t.shape, map);
    sd.set(name, float32Tensor(torchShape(t.shape, map), values));
    // PyTorch's BatchNorm registers num_batches_tracked right after running_var
    if (name.endsWith('.running_var')) sd.set(name.replace(/running_var$/, 'num_batches_tracked'), int64Tensor([], [steps]));
  }
  return new Map(torchOrder([...sd.keys()]).map((k) => [k, sd.get(k)!]));
}
