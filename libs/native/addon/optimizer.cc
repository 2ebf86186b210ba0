// The SGD update of torch.optim.SGD (momentum μ, weight decay λ, dampening 0, not Nesterov) for one variable in
// one pass: g' = g + λ·w; buf' = μ·buf + g'; w' = w − lr·buf' (μ = 0: w' = w − lr·g'). As tfjs ops this was five
// kernels per variable, each a full read/write pass with its own output (9 % of an IResNet-18 step at batch 8).
// Float32 arithmetic in the same order as those ops (no FMA: the addon is compiled for baseline x86-64), so the
// results equal the op-by-op update's bit for bit.
#include <omp.h>

#include "common.h"

namespace facet {

static constexpr int64_t kParallelMin = 1 << 15;

/** sgdUpdate(w, g, buf | null, wOut, bufOut | null, lr, momentum, weightDecay). */
napi_value SgdUpdate(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 8);
  F32 w = f32(env, a[0], "w"), g = f32(env, a[1], "g"), wOut = f32(env, a[3], "wOut");
  bool hasBuf = !isNull(env, a[2]);
  if (hasBuf != !isNull(env, a[4])) throw std::runtime_error("sgdUpdate: buf and bufOut must both be given or both be null");
  F32 buf = hasBuf ? f32(env, a[2], "buf") : F32{nullptr, 0}, bufOut = hasBuf ? f32(env, a[4], "bufOut") : F32{nullptr, 0};
  float lr = float(number(env, a[5], "lr")), mu = float(number(env, a[6], "momentum")), wd = float(number(env, a[7], "weightDecay"));
  int64_t n = int64_t(w.length);
  if (g.length != w.length || wOut.length != w.length || (hasBuf && (buf.length != w.length || bufOut.length != w.length)))
    throw std::runtime_error("sgdUpdate: w, g, buf, wOut and bufOut must have the same length");
  const float* __restrict ws = w.data;
  const float* __restrict gs = g.data;
  float* __restrict wo = wOut.data;
  if (hasBuf) {
    const float* __restrict bs = buf.data;
    float* __restrict bo = bufOut.data;
    if (wd != 0.0f) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
      for (int64_t i = 0; i < n; i++) {
        float gi = gs[i] + ws[i] * wd;
        float b = bs[i] * mu + gi;
        bo[i] = b;
        wo[i] = ws[i] - b * lr;
      }
    } else {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
      for (int64_t i = 0; i < n; i++) {
        float b = bs[i] * mu + gs[i];
        bo[i] = b;
        wo[i] = ws[i] - b * lr;
      }
    }
  } else {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; i++) {
      float gi = wd != 0.0f ? gs[i] + ws[i] * wd : gs[i];
      wo[i] = ws[i] - gi * lr;
    }
  }
  return nullptr;
}

}  // namespace facet
