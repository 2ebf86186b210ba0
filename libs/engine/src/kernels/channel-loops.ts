// The per-channel loops of the BatchNorm and PReLU-gradient kernels over NHWC data (channel fastest). The plain form
// `for row, for c: acc[c] += x[row·C + c]` loads and stores a typed-array accumulator for every element; here, when
// C is a multiple of 8, eight channels at a time stay in local variables (registers) while the loop walks a block
// of rows, and the block (≤ 64 KiB) is still in cache when the next eight channels walk it. Measured in Node 20 on
// 3.2 M floats: channel sums ~0.8–1.1 ns per element vs ~1.8 for the plain loop, C = 16…256 (unblocked, the
// strided walk made C = 128 twice slower). Sums are float64 (JS numbers) in both forms; other C take the plain loop.

/** Rows per block: 16,384 floats (64 KiB) per block. */
const blockRows = (C: number) => Math.max(1, Math.floor(16384 / C));

/** sum[c] += Σ a, sumAB[c] += Σ a·b over rows (b = a gives Σa²). */
export function channelSums(a: Float32Array, b: Float32Array, C: number, sum: Float64Array, sumAB: Float64Array): void {
  const n = a.length;
  if (C % 8 !== 0) {
    for (let i = 0; i < n; i += C) {
      for (let c = 0; c < C; c++) {
        const v = a[i + c]!;
        sum[c]! += v;
        sumAB[c]! += v * b[i + c]!;
      }
    }
    return;
  }
  const step = blockRows(C) * C;
  for (let start = 0; start < n; start += step) {
    const end = Math.min(n, start + step);
    for (let c = 0; c < C; c += 8) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      let p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0;
      for (let i = start + c; i < end; i += C) {
        const v0 = a[i]!, v1 = a[i + 1]!, v2 = a[i + 2]!, v3 = a[i + 3]!, v4 = a[i + 4]!, v5 = a[i + 5]!, v6 = a[i + 6]!, v7 = a[i + 7]!;
        s0 += v0; s1 += v1; s2 += v2; s3 += v3; s4 += v4; s5 += v5; s6 += v6; s7 += v7;
        p0 += v0 * b[i]!; p1 += v1 * b[i + 1]!; p2 += v2 * b[i + 2]!; p3 += v3 * b[i + 3]!;
        p4 += v4 * b[i + 4]!; p5 += v5 * b[i + 5]!; p6 += v6 * b[i + 6]!; p7 += v7 * b[i + 7]!;
      }
      sum[c]! += s0; sum[c + 1]! += s1; sum[c + 2]! += s2; sum[c + 3]! += s3;
      sum[c + 4]! += s4; sum[c + 5]! += s5; sum[c + 6]! += s6; sum[c + 7]! += s7;
      sumAB[c]! += p0; sumAB[c + 1]! += p1; sumAB[c + 2]! += p2; sumAB[c + 3]! += p3;
      sumAB[c + 4]! += p4; sumAB[c + 5]! += p5; sumAB[c + 6]! += p6; sumAB[c + 7]! += p7;
    }
  }
}

/** out = a·ka[c] + b·kb[c] + k0[c] per element (pass `b = a`, `kb = 0` for an affine map of one input). */
export function channelAffine2(a: Float32Array, ka: Float32Array, b: Float32Array, kb: Float32Array, k0: Float32Array, C: number, out: Float32Array): void {
  const n = a.length;
  if (C % 8 !== 0) {
    for (let i = 0; i < n; i += C) for (let c = 0; c < C; c++) out[i + c] = a[i + c]! * ka[c]! + b[i + c]! * kb[c]! + k0[c]!;
    return;
  }
  const step = blockRows(C) * C;
  for (let start = 0; start < n; start += step) {
    const end = Math.min(n, start + step);
    for (let c = 0; c < C; c += 8) {
      const a0 = ka[c]!, a1 = ka[c + 1]!, a2 = ka[c + 2]!, a3 = ka[c + 3]!, a4 = ka[c + 4]!, a5 = ka[c + 5]!, a6 = ka[c + 6]!, a7 = ka[c + 7]!;
      const b0 = kb[c]!, b1 = kb[c + 1]!, b2 = kb[c + 2]!, b3 = kb[c + 3]!, b4 = kb[c + 4]!, b5 = kb[c + 5]!, b6 = kb[c + 6]!, b7 = kb[c + 7]!;
      const z0 = k0[c]!, z1 = k0[c + 1]!, z2 = k0[c + 2]!, z3 = k0[c + 3]!, z4 = k0[c + 4]!, z5 = k0[c + 5]!, z6 = k0[c + 6]!, z7 = k0[c + 7]!;
      for (let i = start + c; i < end; i += C) {
        out[i] = a[i]! * a0 + b[i]! * b0 + z0;
        out[i + 1] = a[i + 1]! * a1 + b[i + 1]! * b1 + z1;
        out[i + 2] = a[i + 2]! * a2 + b[i + 2]! * b2 + z2;
        out[i + 3] = a[i + 3]! * a3 + b[i + 3]! * b3 + z3;
        out[i + 4] = a[i + 4]! * a4 + b[i + 4]! * b4 + z4;
        out[i + 5] = a[i + 5]! * a5 + b[i + 5]! * b5 + z5;
        out[i + 6] = a[i + 6]! * a6 + b[i + 6]! * b6 + z6;
        out[i + 7] = a[i + 7]! * a7 + b[i + 7]! * b7 + z7;
      }
    }
  }
}

/** PReLU backward: out = dy where x > 0, α[c]·dy elsewhere; dAlpha[c] += Σ_{x ≤ 0} dy·x. */
export function channelPreluGrad(x: Float32Array, dy: Float32Array, alpha: Float32Array, C: number, out: Float32Array, dAlpha: Float64Array): void {
  const n = x.length;
  if (C % 8 !== 0) {
    for (let i = 0; i < n; i += C) {
      for (let c = 0; c < C; c++) {
        const v = x[i + c]!;
        const d = dy[i + c]!;
        if (v > 0) out[i + c] = d;
        else {
          out[i + c] = alpha[c]! * d;
          dAlpha[c]! += d * v;
        }
      }
    }
    return;
  }
  const step = blockRows(C) * C;
  for (let start = 0; start < n; start += step) {
    const end = Math.min(n, start + step);
    for (let c = 0; c < C; c += 8) {
      const a0 = alpha[c]!, a1 = alpha[c + 1]!, a2 = alpha[c + 2]!, a3 = alpha[c + 3]!, a4 = alpha[c + 4]!, a5 = alpha[c + 5]!, a6 = alpha[c + 6]!, a7 = alpha[c + 7]!;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      for (let i = start + c; i < end; i += C) {
        const v0 = x[i]!, v1 = x[i + 1]!, v2 = x[i + 2]!, v3 = x[i + 3]!, v4 = x[i + 4]!, v5 = x[i + 5]!, v6 = x[i + 6]!, v7 = x[i + 7]!;
        const d0 = dy[i]!, d1 = dy[i + 1]!, d2 = dy[i + 2]!, d3 = dy[i + 3]!, d4 = dy[i + 4]!, d5 = dy[i + 5]!, d6 = dy[i + 6]!, d7 = dy[i + 7]!;
        out[i] = v0 > 0 ? d0 : a0 * d0;
        out[i + 1] = v1 > 0 ? d1 : a1 * d1;
        out[i + 2] = v2 > 0 ? d2 : a2 * d2;
        out[i + 3] = v3 > 0 ? d3 : a3 * d3;
        out[i + 4] = v4 > 0 ? d4 : a4 * d4;
        out[i + 5] = v5 > 0 ? d5 : a5 * d5;
        out[i + 6] = v6 > 0 ? d6 : a6 * d6;
        out[i + 7] = v7 > 0 ? d7 : a7 * d7;
        s0 += v0 > 0 ? 0 : d0 * v0; s1 += v1 > 0 ? 0 : d1 * v1; s2 += v2 > 0 ? 0 : d2 * v2; s3 += v3 > 0 ? 0 : d3 * v3;
        s4 += v4 > 0 ? 0 : d4 * v4; s5 += v5 > 0 ? 0 : d5 * v5; s6 += v6 > 0 ? 0 : d6 * v6; s7 += v7 > 0 ? 0 : d7 * v7;
      }
      dAlpha[c]! += s0; dAlpha[c + 1]! += s1; dAlpha[c + 2]! += s2; dAlpha[c + 3]! += s3;
      dAlpha[c + 4]! += s4; dAlpha[c + 5]! += s5; dAlpha[c + 6]! += s6; dAlpha[c + 7]! += s7;
    }
  }
}

/** acc[accOff + c] += Σ_{r < rows} a[aOff + r·C + c] · b[bOff + r·C + c]: a per-channel dot product over a run of
 * contiguous rows (one tap's row segment of a depthwise filter gradient). */
export function channelDot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, rows: number, C: number, acc: Float64Array, accOff: number): void {
  if (C % 8 !== 0) {
    for (let r = 0; r < rows; r++) {
      const ai = aOff + r * C;
      const bi = bOff + r * C;
      for (let c = 0; c < C; c++) acc[accOff + c]! += a[ai + c]! * b[bi + c]!;
    }
    return;
  }
  const end = rows * C;
  for (let c = 0; c < C; c += 8) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (let o = c; o < end; o += C) {
      const i = aOff + o;
      const j = bOff + o;
      s0 += a[i]! * b[j]!; s1 += a[i + 1]! * b[j + 1]!; s2 += a[i + 2]! * b[j + 2]!; s3 += a[i + 3]! * b[j + 3]!;
      s4 += a[i + 4]! * b[j + 4]!; s5 += a[i + 5]! * b[j + 5]!; s6 += a[i + 6]! * b[j + 6]!; s7 += a[i + 7]! * b[j + 7]!;
    }
    const k = accOff + c;
    acc[k]! += s0; acc[k + 1]! += s1; acc[k + 2]! += s2; acc[k + 3]! += s3;
    acc[k + 4]! += s4; acc[k + 5]! += s5; acc[k + 6]! += s6; acc[k + 7]! += s7;
  }
}
