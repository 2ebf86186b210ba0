// Element-wise float32 kernels that dominate a training step once convolutions are native: binary arithmetic
// (residual adds, gradient sums, optimizer updates) and PReLU forward. One side may repeat along the other
// (a scalar, or a per-channel vector over the last axes): tfjs's broadcasting in the cases training produces;
// the JavaScript side hands every other broadcast back to the cpu kernels.
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "common.h"

namespace facet {

enum BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMax = 4, kMin = 5, kSquaredDiff = 6 };

// Small tensors stay on one thread: waking the team costs more than the work below ~32k elements.
static constexpr int64_t kParallelMin = 1 << 15;

template <int Op>
static inline float apply(float x, float y) {
  if constexpr (Op == kAdd) return x + y;
  if constexpr (Op == kSub) return x - y;
  if constexpr (Op == kMul) return x * y;
  if constexpr (Op == kDiv) return x / y;
  if constexpr (Op == kMax) return std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y);
  if constexpr (Op == kMin) return std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y);
  if constexpr (Op == kSquaredDiff) return (x - y) * (x - y);
  return 0;
}

/** out[i] = a[i % na] op b[i % nb], with na, nb either n or a divisor of n (the repeating side). */
template <int Op>
static void run(const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t n) {
  if (na == n && nb == n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; i++) out[i] = apply<Op>(a[i], b[i]);
  } else if (na == n) {
    int64_t rows = n / nb;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t r = 0; r < rows; r++)
      for (int64_t j = 0; j < nb; j++) out[r * nb + j] = apply<Op>(a[r * nb + j], b[j]);
  } else {
    int64_t rows = n / na;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t r = 0; r < rows; r++)
      for (int64_t j = 0; j < na; j++) out[r * na + j] = apply<Op>(a[j], b[r * na + j]);
  }
}

/** binary(op, a, b, out): out has the larger length; the shorter operand's length must divide it. */
napi_value Binary(napi_env env, napi_callback_info info) {
  auto av = args(env, info, 4);
  int op = int(number(env, av[0], "op"));
  F32 a = f32(env, av[1], "a"), b = f32(env, av[2], "b"), out = f32(env, av[3], "out");
  int64_t n = out.length, na = a.length, nb = b.length;
  if (na == 0 || nb == 0 || n % na || n % nb || (na != n && nb != n))
    throw std::runtime_error("binary: one operand must have the output's length and the other a divisor of it");
  switch (op) {
    case kAdd: run<kAdd>(a.data, na, b.data, nb, out.data, n); break;
    case kSub: run<kSub>(a.data, na, b.data, nb, out.data, n); break;
    case kMul: run<kMul>(a.data, na, b.data, nb, out.data, n); break;
    case kDiv: run<kDiv>(a.data, na, b.data, nb, out.data, n); break;
    case kMax: run<kMax>(a.data, na, b.data, nb, out.data, n); break;
    case kMin: run<kMin>(a.data, na, b.data, nb, out.data, n); break;
    case kSquaredDiff: run<kSquaredDiff>(a.data, na, b.data, nb, out.data, n); break;
    default: throw std::runtime_error("binary: unknown op");
  }
  return nullptr;
}

/** prelu(x, alpha, out): out = x if x > 0 else α·x, α repeating along x (per channel, or one value). */
napi_value Prelu(napi_env env, napi_callback_info info) {
  auto av = args(env, info, 3);
  F32 x = f32(env, av[0], "x"), al = f32(env, av[1], "alpha"), out = f32(env, av[2], "out");
  int64_t n = x.length, C = al.length;
  if (C == 0 || n % C || out.length != x.length) throw std::runtime_error("prelu: alpha's length must divide x's; out must match x");
  int64_t rows = n / C;
  const float *xs = x.data, *alpha = al.data;
  float* o = out.data;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    // branch-free (max/min) with restrict pointers so the loop vectorises: the branchy form mispredicted on
    // activations' random signs and ran ~70x slower than an add
    const float* __restrict xr = xs + r * C;
    float* __restrict orow = o + r * C;
    for (int64_t c = 0; c < C; c++) {
      float v = xr[c];
      orow[c] = std::max(v, 0.0f) + alpha[c] * std::min(v, 0.0f);
    }
  }
  return nullptr;
}

}  // namespace facet
