// Element-wise float32 functions of one tensor (Exp, Log, Sqrt, Rsqrt, Square, Abs, Neg, Relu, Relu6, Sigmoid, Tanh,
// Reciprocal, ClipByValue, LeakyRelu): the last compute kernels of Facet's training and inference steps that ran on
// tfjs's JavaScript loops. Transcendentals are evaluated in double and rounded to float32, as the cpu kernels do
// (JavaScript numbers are doubles), so results agree with them to the last bit or one unit in the last place.
#include <omp.h>

#include <cmath>

#include "common.h"

namespace facet {

enum UnaryOp {
  kExp = 0, kLog, kSqrt, kRsqrt, kSquare, kAbs, kNeg, kRelu, kRelu6, kSigmoid, kTanh, kReciprocal, kClip, kLeakyRelu, kUnaryCount
};

static constexpr int64_t kParallelMin = 1 << 15;

template <int Op>
static inline float f(float x, double a, double b) {
  if constexpr (Op == kExp) return float(std::exp(double(x)));
  if constexpr (Op == kLog) return float(std::log(double(x)));
  if constexpr (Op == kSqrt) return float(std::sqrt(double(x)));
  if constexpr (Op == kRsqrt) return float(1.0 / std::sqrt(double(x)));
  if constexpr (Op == kSquare) return x * x;
  if constexpr (Op == kAbs) return std::fabs(x);
  if constexpr (Op == kNeg) return -x;
  // comparisons written so NaN passes through, as in the cpu kernels
  // Math.max(0, x): NaN stays NaN, −0 becomes +0
  if constexpr (Op == kRelu) return x > 0.0f ? x : (x != x ? x : 0.0f);
  if constexpr (Op == kRelu6) return x > 0.0f ? (x > 6.0f ? 6.0f : x) : (x != x ? x : 0.0f);
  if constexpr (Op == kSigmoid) return float(1.0 / (1.0 + std::exp(-double(x))));
  if constexpr (Op == kTanh) return float(std::tanh(double(x)));
  if constexpr (Op == kReciprocal) return float(1.0 / double(x));
  if constexpr (Op == kClip) return double(x) > b ? float(b) : (double(x) < a ? float(a) : x);
  if constexpr (Op == kLeakyRelu) return x < 0.0f ? float(a * double(x)) : x;
  return 0.0f;
}

template <int Op>
static void run(const float* __restrict x, float* __restrict out, int64_t n, double a, double b) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) out[i] = f<Op>(x[i], a, b);
}

/** unary(op, x, out, a, b): out = op(x); a, b: ClipByValue's min and max, LeakyRelu's slope (a). */
napi_value Unary(napi_env env, napi_callback_info info) {
  auto av = args(env, info, 5);
  int op = int(number(env, av[0], "op"));
  F32 x = f32(env, av[1], "x"), out = f32(env, av[2], "out");
  double a = number(env, av[3], "a"), b = number(env, av[4], "b");
  if (out.length != x.length) throw std::runtime_error("unary: out must have x's length");
  int64_t n = int64_t(x.length);
  switch (op) {
    case kExp: run<kExp>(x.data, out.data, n, a, b); break;
    case kLog: run<kLog>(x.data, out.data, n, a, b); break;
    case kSqrt: run<kSqrt>(x.data, out.data, n, a, b); break;
    case kRsqrt: run<kRsqrt>(x.data, out.data, n, a, b); break;
    case kSquare: run<kSquare>(x.data, out.data, n, a, b); break;
    case kAbs: run<kAbs>(x.data, out.data, n, a, b); break;
    case kNeg: run<kNeg>(x.data, out.data, n, a, b); break;
    case kRelu: run<kRelu>(x.data, out.data, n, a, b); break;
    case kRelu6: run<kRelu6>(x.data, out.data, n, a, b); break;
    case kSigmoid: run<kSigmoid>(x.data, out.data, n, a, b); break;
    case kTanh: run<kTanh>(x.data, out.data, n, a, b); break;
    case kReciprocal: run<kReciprocal>(x.data, out.data, n, a, b); break;
    case kClip: run<kClip>(x.data, out.data, n, a, b); break;
    case kLeakyRelu: run<kLeakyRelu>(x.data, out.data, n, a, b); break;
    default: throw std::runtime_error("unary: unknown op");
  }
  return nullptr;
}

}  // namespace facet
