// tfjs's 2-D convolution kernels (NHWC) on the addon's oneDNN convolutions. tfjs's own geometry
// (backend_util.computeConv2DInfo) decides output size and padding, so 'same', 'valid', explicit pads and
// dimRoundingMode mean exactly what they mean on the cpu backend; a geometry oneDNN cannot express (output size
// not given by ⌊(in + pads − effective kernel)/stride⌋ + 1) falls back to the cpu kernel.
import { nativeAddon } from '../addon.js';
import { outputPool } from '../pool.js';
import { weightsToken } from '../weights-cache.js';
import { applyEpilogue, fusedEpilogue } from './activation.js';
import { f32, output, size, type KernelArgs, type MaybeNative, type Tf } from './types.js';

type ConvInfo = ReturnType<Tf['backend_util']['computeConv2DInfo']>;

/** [N, H, W, C, KH, KW, G, OCg, OH, OW, sh, sw, dh, dw, pt, pb, pl, pr] for the addon, or undefined. */
export function convGeometry(info: ConvInfo, depthwise: boolean): number[] | undefined {
  const { padInfo: p } = info;
  if (info.dataFormat !== 'channelsLast' || p.top < 0 || p.bottom < 0 || p.left < 0 || p.right < 0) return undefined;
  const fits = (inSize: number, k: number, d: number, s: number, a: number, b: number, out: number) =>
    Math.floor((inSize + a + b - ((k - 1) * d + 1)) / s) + 1 === out;
  if (!fits(info.inHeight, info.filterHeight, info.dilationHeight, info.strideHeight, p.top, p.bottom, info.outHeight)) return undefined;
  if (!fits(info.inWidth, info.filterWidth, info.dilationWidth, info.strideWidth, p.left, p.right, info.outWidth)) return undefined;
  const G = depthwise ? info.inChannels : 1;
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.filterHeight, info.filterWidth, G, info.outChannels / G,
    info.outHeight, info.outWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    p.top, p.bottom, p.left, p.right,
  ];
}

/** Sizes (not pads) all positive: an empty tensor's result is all zeros, already there. */
const hasWork = (g: number[]) => g.slice(0, 10).every((v) => v > 0);

function forwardInfo(tf: Tf, { inputs, attrs }: KernelArgs, depthwise: boolean): ConvInfo | undefined {
  const { x, filter } = inputs;
  if (!x || !filter || (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC')) return undefined;
  const bu = tf.backend_util;
  return bu.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    attrs.strides as [number, number], (attrs.dilations ?? 1) as [number, number], attrs.pad as 'same', attrs.dimRoundingMode as 'floor', depthwise);
}

function forward(args: KernelArgs, tf: Tf, depthwise: boolean, fused: boolean) {
  const info = forwardInfo(tf, args, depthwise);
  const geometry = info && convGeometry(info, depthwise);
  const x = f32(args.backend, args.inputs.x);
  const w = f32(args.backend, args.inputs.filter);
  if (!info || !geometry || !x || !w) return undefined;
  const epilogue = fused ? fusedEpilogue(args.backend, info.outChannels, args.inputs, args.attrs) : undefined;
  if (fused && !epilogue) return undefined;
  const y = outputPool.take(size(info.outShape), !hasWork(geometry));
  const addon = nativeAddon();
  if (hasWork(geometry)) addon.conv(0, x, w, y, geometry, weightsToken(args.inputs.filter!.dataId));
  if (epilogue) applyEpilogue(addon, y, info.outChannels, epilogue);
  return output(args.backend, info.outShape, y);
}

function backpropInput({ inputs, attrs, backend }: KernelArgs, tf: Tf, depthwise: boolean) {
  const { dy, filter } = inputs;
  if (!dy || !filter || (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC')) return undefined;
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], attrs.strides as [number, number],
    (depthwise ? attrs.dilations ?? 1 : 1) as [number, number], attrs.pad as 'same', attrs.dimRoundingMode as 'floor', depthwise);
  const geometry = convGeometry(info, depthwise);
  const d = f32(backend, dy);
  const w = f32(backend, filter);
  if (!geometry || !d || !w) return undefined;
  const dx = outputPool.take(size(inputShape), !hasWork(geometry));
  if (hasWork(geometry)) nativeAddon().conv(1, dx, w, d, geometry);
  return output(backend, [...inputShape], dx);
}

function backpropFilter({ inputs, attrs, backend }: KernelArgs, tf: Tf, depthwise: boolean) {
  const { x, dy } = inputs;
  if (!x || !dy || (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC')) return undefined;
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, attrs.strides as [number, number],
    (depthwise ? attrs.dilations ?? 1 : 1) as [number, number], attrs.pad as 'same', attrs.dimRoundingMode as 'floor', depthwise);
  const geometry = convGeometry(info, depthwise);
  const xs = f32(backend, x);
  const d = f32(backend, dy);
  if (!geometry || !xs || !d) return undefined;
  const dw = outputPool.take(size(filterShape), !hasWork(geometry));
  if (hasWork(geometry)) nativeAddon().conv(2, xs, dw, d, geometry);
  return output(backend, [...filterShape], dw);
}

export const conv2D: MaybeNative = (args, tf) => forward(args, tf, false, false);
export const fusedConv2D: MaybeNative = (args, tf) => forward(args, tf, false, true);
export const conv2DBackpropInput: MaybeNative = (args, tf) => backpropInput(args, tf, false);
export const conv2DBackpropFilter: MaybeNative = (args, tf) => backpropFilter(args, tf, false);
export const depthwiseConv2dNative: MaybeNative = (args, tf) => forward(args, tf, true, false);
export const fusedDepthwiseConv2D: MaybeNative = (args, tf) => forward(args, tf, true, true);
export const depthwiseBackpropInput: MaybeNative = (args, tf) => backpropInput(args, tf, true);
export const depthwiseBackpropFilter: MaybeNative = (args, tf) => backpropFilter(args, tf, true);
