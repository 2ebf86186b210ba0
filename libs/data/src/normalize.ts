/**
 * insightface input normalisation: x = (p − 127.5) / 127.5 ∈ [−1, 1] (ToTensor then Normalize(0.5, 0.5), as
 * arcface_torch's transform). Writes into `out` when given (it must hold u8.length floats).
 */
export function normalizeImages(u8: Uint8Array, out?: Float32Array): Float32Array {
  const dst = out ?? new Float32Array(u8.length);
  if (dst.length < u8.length) throw new Error(`normalizeImages: output holds ${dst.length} floats, need ${u8.length}`);
  for (let i = 0; i < u8.length; i++) dst[i] = (u8[i]! - 127.5) / 127.5;
  return dst;
}
