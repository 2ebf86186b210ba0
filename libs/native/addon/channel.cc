// Channel-last loops, multi-threaded with OpenMP (the runtime Debian's oneDNN uses): Facet's fused training-mode
// BatchNorm forward/backward and PReLU backward (same maths as libs/engine/src/kernels/batch-norm.ts and
// prelu-grad.ts: per-channel float64 sums; Ioffe & Szegedy 2015, Alg. 1), and bias + activation for the fused
// conv/matmul kernels. Per-thread partial sums are merged in thread order so results do not depend on timing.
#include <omp.h>

#include <cmath>

#include "common.h"

namespace facet {

/** Per-channel sums over rows of x ([rows, C]): s1[c] = Σ a, s2[c] = Σ a·b, split across threads by rows. */
template <typename Body>
static void channelReduce(int64_t rows, int64_t C, std::vector<double>& s1, std::vector<double>& s2, Body body) {
  int threads = omp_get_max_threads();
  std::vector<double> part(size_t(threads) * 2 * C, 0.0);
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num();
    double* p1 = &part[size_t(t) * 2 * C];
    double* p2 = p1 + C;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; r++) body(r, p1, p2);
  }
  s1.assign(C, 0.0);
  s2.assign(C, 0.0);
  for (int t = 0; t < threads; t++)
    for (int64_t c = 0; c < C; c++) {
      s1[c] += part[size_t(t) * 2 * C + c];
      s2[c] += part[size_t(t) * 2 * C + C + c];
    }
}

/** batchNormTraining(x, gamma, beta, eps, y, mean, variance, invStd); x and y are [rows, C]. */
napi_value BatchNormTraining(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 8);
  F32 x = f32(env, a[0], "x"), g = f32(env, a[1], "gamma"), b = f32(env, a[2], "beta");
  double eps = number(env, a[3], "eps");
  F32 y = f32(env, a[4], "y"), mean = f32(env, a[5], "mean"), var = f32(env, a[6], "variance"), inv = f32(env, a[7], "invStd");
  int64_t C = g.length;
  if (C == 0 || x.length % C || y.length != x.length || b.length != size_t(C) || mean.length != size_t(C) || var.length != size_t(C) ||
      inv.length != size_t(C))
    throw std::runtime_error("batchNormTraining: x/y must be [rows, C] with gamma, beta, mean, variance, invStd of length C");
  int64_t rows = x.length / C;
  const float* xs = x.data;
  std::vector<double> sum, sumSq;
  channelReduce(rows, C, sum, sumSq, [&](int64_t r, double* p1, double* p2) {
    const float* row = xs + r * C;
    for (int64_t c = 0; c < C; c++) {
      double v = row[c];
      p1[c] += v;
      p2[c] += v * v;
    }
  });
  std::vector<float> k(C), shift(C);
  for (int64_t c = 0; c < C; c++) {
    double mu = sum[c] / rows;
    double m2 = std::max(0.0, sumSq[c] - sum[c] * mu);
    double s = 1.0 / std::sqrt(m2 / rows + eps);
    mean.data[c] = float(mu);
    var.data[c] = float(m2 / rows);
    inv.data[c] = float(s);
    k[c] = float(g.data[c] * s);
    shift[c] = float(b.data[c] - mu * g.data[c] * s);
  }
  float* ys = y.data;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < C; c++) ys[r * C + c] = xs[r * C + c] * k[c] + shift[c];
  return nullptr;
}

/** batchNormTrainingGrad(x, dy, mean, invStd, gamma, dx, dGamma, dBeta):
 *  dβ = Σdy, dγ = s·Σdy·(x − μ), dx = γ·s·(dy − dβ/n − (x − μ)·s²·Σdy·(x − μ)/n). */
napi_value BatchNormTrainingGrad(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 8);
  F32 x = f32(env, a[0], "x"), dy = f32(env, a[1], "dy"), mean = f32(env, a[2], "mean"), inv = f32(env, a[3], "invStd");
  F32 g = f32(env, a[4], "gamma"), dx = f32(env, a[5], "dx"), dg = f32(env, a[6], "dGamma"), db = f32(env, a[7], "dBeta");
  int64_t C = g.length;
  if (C == 0 || x.length % C || dy.length != x.length || dx.length != x.length || mean.length != size_t(C) || inv.length != size_t(C) ||
      dg.length != size_t(C) || db.length != size_t(C))
    throw std::runtime_error("batchNormTrainingGrad: x/dy/dx must be [rows, C] with mean, invStd, gamma, dGamma, dBeta of length C");
  int64_t rows = x.length / C;
  const float *xs = x.data, *dys = dy.data;
  std::vector<double> sumDy, sumDyX;
  channelReduce(rows, C, sumDy, sumDyX, [&](int64_t r, double* p1, double* p2) {
    const float* xr = xs + r * C;
    const float* dr = dys + r * C;
    for (int64_t c = 0; c < C; c++) {
      double d = dr[c];
      p1[c] += d;
      p2[c] += d * xr[c];
    }
  });
  std::vector<float> k(C), minusCx(C), r0(C);
  for (int64_t c = 0; c < C; c++) {
    double s = inv.data[c], mu = mean.data[c];
    double sumDyXc = sumDyX[c] - mu * sumDy[c];  // Σdy·(x − μ) = Σdy·x − μ·Σdy
    double kc = double(g.data[c]) * s;
    double cx = kc * s * s * sumDyXc / rows;
    double c0 = kc * sumDy[c] / rows;
    dg.data[c] = float(sumDyXc * s);
    db.data[c] = float(sumDy[c]);
    k[c] = float(kc);
    minusCx[c] = float(-cx);
    r0[c] = float(mu * cx - c0);  // dx = k·dy − cx·x + (μ·cx − c0)
  }
  float* dxs = dx.data;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < C; c++) dxs[r * C + c] = dys[r * C + c] * k[c] + xs[r * C + c] * minusCx[c] + r0[c];
  return nullptr;
}

/** preluGrad(x, dy, alpha, dx, dAlpha): dx = dy where x > 0 else α_c·dy; dα_c = Σ_{x ≤ 0} dy·x. */
napi_value PreluGrad(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 5);
  F32 x = f32(env, a[0], "x"), dy = f32(env, a[1], "dy"), al = f32(env, a[2], "alpha"), dx = f32(env, a[3], "dx"), da = f32(env, a[4], "dAlpha");
  int64_t C = al.length;
  if (C == 0 || x.length % C || dy.length != x.length || dx.length != x.length || da.length != size_t(C))
    throw std::runtime_error("preluGrad: x/dy/dx must be [rows, C] with alpha and dAlpha of length C");
  int64_t rows = x.length / C;
  const float *xs = x.data, *dys = dy.data, *alpha = al.data;
  float* dxs = dx.data;
  std::vector<double> acc, unused;
  channelReduce(rows, C, acc, unused, [&](int64_t r, double* __restrict p1, double*) {
    const float* __restrict xr = xs + r * C;
    const float* __restrict dr = dys + r * C;
    float* __restrict out = dxs + r * C;
    // two branch-free loops over the row (still in L1) so each vectorises: activations' signs are random and a
    // branch mispredicts half the time; gcc does not vectorise one loop mixing a float and a double select
    for (int64_t c = 0; c < C; c++) {
      float v = xr[c], d = dr[c], scaled = alpha[c] * d;
      out[c] = v > 0 ? d : scaled;
    }
    for (int64_t c = 0; c < C; c++) {
      float v = xr[c], vneg = v > 0 ? 0.0f : v;
      p1[c] += double(dr[c]) * double(vneg);
    }
  });
  for (int64_t c = 0; c < C; c++) da.data[c] = float(acc[c]);
  return nullptr;
}

enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kPrelu = 3, kLeakyRelu = 4 };

/** biasActivation(y, bias | null, C, activation, alpha | null, leakyAlpha): in place on y ([rows, C]);
 *  bias and alpha hold C values or one (broadcast). */
napi_value BiasActivation(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 6);
  F32 y = f32(env, a[0], "y");
  bool hasBias = !isNull(env, a[1]), hasAlpha = !isNull(env, a[4]);
  F32 bias = hasBias ? f32(env, a[1], "bias") : F32{nullptr, 0};
  int64_t C = int64_t(number(env, a[2], "C"));
  int act = int(number(env, a[3], "activation"));
  F32 alpha = hasAlpha ? f32(env, a[4], "alpha") : F32{nullptr, 0};
  float leaky = float(number(env, a[5], "leakyAlpha"));
  if (C <= 0 || y.length % C) throw std::runtime_error("biasActivation: y must be [rows, C]");
  if (hasBias && bias.length != size_t(C) && bias.length != 1) throw std::runtime_error("biasActivation: bias must hold C values or one");
  if (act == kPrelu && (!hasAlpha || (alpha.length != size_t(C) && alpha.length != 1)))
    throw std::runtime_error("biasActivation: prelu needs alpha of C values or one");
  if (act < kLinear || act > kLeakyRelu) throw std::runtime_error("biasActivation: unknown activation");
  int64_t rows = y.length / C;
  float* ys = y.data;
  std::vector<float> bc(C, 0.0f), ac(C, leaky);
  if (hasBias)
    for (int64_t c = 0; c < C; c++) bc[c] = bias.data[bias.length == 1 ? 0 : c];
  if (act == kPrelu)
    for (int64_t c = 0; c < C; c++) ac[c] = alpha.data[alpha.length == 1 ? 0 : c];
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    float* __restrict row = ys + r * C;
    const float* __restrict bias = bc.data();
    const float* __restrict slope = ac.data();
    // one loop per activation, branch-free inside, so each vectorises
    if (act == kRelu)
      for (int64_t c = 0; c < C; c++) row[c] = std::max(row[c] + bias[c], 0.0f);
    else if (act == kRelu6)
      for (int64_t c = 0; c < C; c++) row[c] = std::min(std::max(row[c] + bias[c], 0.0f), 6.0f);
    else if (act == kPrelu || act == kLeakyRelu)
      for (int64_t c = 0; c < C; c++) {
        float v = row[c] + bias[c];
        row[c] = std::max(v, 0.0f) + slope[c] * std::min(v, 0.0f);
      }
    else
      for (int64_t c = 0; c < C; c++) row[c] += bias[c];
  }
  return nullptr;
}

}  // namespace facet
