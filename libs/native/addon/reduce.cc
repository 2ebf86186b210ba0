// Sum over one contiguous block of axes: x viewed as [A, B, C], out[a, c] = Σ_b x[a, b, c] in float64 (as tfjs's
// cpu kernel accumulates in JavaScript numbers). BatchNorm statistics (leading axes), row sums (trailing axes)
// and totals are all this shape; tfjs's cpu Sum/Mean transpose the tensor first when the axes are not innermost.
#include <omp.h>

#include "common.h"

namespace facet {

/** sum(x, out, [A, B, C], divisor): out = Σ_b x / divisor (divisor 1 for Sum, B for Mean). */
napi_value Sum(napi_env env, napi_callback_info info) {
  auto av = args(env, info, 4);
  F32 x = f32(env, av[0], "x"), out = f32(env, av[1], "out");
  auto d = ints(env, av[2], "dims");
  double divisor = number(env, av[3], "divisor");
  if (d.size() != 3) throw std::runtime_error("sum: dims must be [A, B, C]");
  int64_t A = d[0], B = d[1], C = d[2];
  if (x.length != size_t(A * B * C) || out.length != size_t(A * C)) throw std::runtime_error("sum: buffer lengths do not match [A, B, C]");
  const float* xs = x.data;
  float* o = out.data;
  // tfjs rounds the sum to float32 before a Mean divides it
  auto store = [&](int64_t i, double s) { o[i] = divisor == 1 ? float(s) : float(double(float(s)) / divisor); };
  int threads = omp_get_max_threads();
  bool big = A * B * C >= (1 << 15);
  if (C == 1) {
#pragma omp parallel for schedule(static) if (big)
    for (int64_t a = 0; a < A; a++) {
      double s = 0;
      const float* __restrict row = xs + a * B;
      for (int64_t b = 0; b < B; b++) s += row[b];
      store(a, s);
    }
  } else if (A >= threads || !big) {
#pragma omp parallel for schedule(static) if (big)
    for (int64_t a = 0; a < A; a++) {
      std::vector<double> acc(C, 0.0);
      double* __restrict s = acc.data();
      for (int64_t b = 0; b < B; b++) {
        const float* __restrict row = xs + (a * B + b) * C;
        for (int64_t c = 0; c < C; c++) s[c] += row[c];
      }
      for (int64_t c = 0; c < C; c++) store(a * C + c, s[c]);
    }
  } else {
    // few outputs rows, many reduced rows (per-channel statistics): split b across threads, merge in thread order
    std::vector<double> part(size_t(threads) * C);
    for (int64_t a = 0; a < A; a++) {
      std::fill(part.begin(), part.end(), 0.0);
#pragma omp parallel num_threads(threads)
      {
        double* __restrict s = &part[size_t(omp_get_thread_num()) * C];
#pragma omp for schedule(static)
        for (int64_t b = 0; b < B; b++) {
          const float* __restrict row = xs + (a * B + b) * C;
          for (int64_t c = 0; c < C; c++) s[c] += row[c];
        }
      }
      for (int64_t c = 0; c < C; c++) {
        double s = 0;
        for (int t = 0; t < threads; t++) s += part[size_t(t) * C + c];
        store(a * C + c, s);
      }
    }
  }
  return nullptr;
}

}  // namespace facet
