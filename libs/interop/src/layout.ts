// PyTorch ↔ Facet tensor layouts. Names are the same on both sides (Facet's backbones use insightface's state_dict
// names); layouts differ:
//  - Conv2d: PyTorch [O, I/g, kh, kw] (OIHW). Facet HWIO [kh, kw, I, O] for g = 1, and for g > 1 a depthwise filter
//    [kh, kw, I, O/g] (channel multiplier O/g, per-group partial sums added): F[kh, kw, g·IPG + j, m] =
//    W[g·OPG + m, j, kh, kw] with IPG = I/g, OPG = O/g (depthwise [C, 1, k, k] → [k, k, C, 1]).
//  - Linear: PyTorch [out, in], Facet [in, out].
//  - IResNet's fc sees bn2's output flattened in C·H·W order (NCHW); Facet flattens NHWC (H·W·C), so its rows are
//    permuted: Facet row (h·W + w)·C + c = PyTorch column c·H·W + h·W + w.
//  - Everything else (BN vectors, PReLU slopes, LayerNorm, ViT's pos_embed / mask_token) is identical.
import { convFromFacet, convToFacet, linearFromFacet, linearToFacet } from '@facet/onnx';
import type { TensorData } from './tensor.js';

/** How one Facet tensor maps onto its PyTorch counterpart. */
export type LayoutMap =
  | { kind: 'same' }
  | { kind: 'linear' }
  | { kind: 'linear-chw'; channels: number; height: number; width: number }
  | { kind: 'conv'; groups: number };

/** PyTorch's shape for a Facet tensor under a layout map. */
export function torchShape(facetShape: number[], map: LayoutMap): number[] {
  switch (map.kind) {
    case 'same':
      return [...facetShape];
    case 'linear':
    case 'linear-chw':
      return [facetShape[1]!, facetShape[0]!];
    case 'conv': {
      const [kh, kw, i, opg] = facetShape as [number, number, number, number];
      return [opg * map.groups, i / map.groups, kh, kw];
    }
  }
}

/** The layout map of a Facet linear or vector tensor (convolutions: { kind: 'conv', groups }, see backbone-map). */
export function layoutFor(name: string, facetShape: number[], fcChw?: { channels: number }): LayoutMap {
  if (facetShape.length === 2 && !name.endsWith('pos_embed')) {
    if (fcChw) {
      const hw = facetShape[0]! / fcChw.channels;
      const side = Math.round(Math.sqrt(hw));
      return { kind: 'linear-chw', channels: fcChw.channels, height: side, width: side };
    }
    return { kind: 'linear' };
  }
  return { kind: 'same' };
}

/** PyTorch values (row-major in torchShape) → Facet values (row-major in facetShape). */
export function toFacet(values: Float32Array, facetShape: number[], map: LayoutMap): Float32Array {
  return permute(values, facetShape, map, true);
}

/** Facet values → PyTorch values. */
export function toTorch(values: Float32Array, facetShape: number[], map: LayoutMap): Float32Array {
  return permute(values, facetShape, map, false);
}

function permute(src: Float32Array, facetShape: number[], map: LayoutMap, intoFacet: boolean): Float32Array {
  switch (map.kind) {
    case 'same':
      return Float32Array.from(src);
    case 'linear':
    case 'linear-chw': {
      const [inF, outF] = facetShape as [number, number];
      const chw: [number, number, number] | undefined = map.kind === 'linear-chw' ? [map.channels, map.height, map.width] : undefined;
      return intoFacet ? linearToFacet(src, outF, inF, chw) : linearFromFacet(src, inF, outF, chw);
    }
    case 'conv':
      return intoFacet
        ? convToFacet(src, torchShape(facetShape, map), map.groups).data
        : convFromFacet(src, facetShape, facetShape[3]! * map.groups, map.groups).data;
  }
}

export function describeShape(t: TensorData | number[]): string {
  return `[${(Array.isArray(t) ? t : t.shape).join(', ')}]`;
}
