// 2-D convolution forward, backward-data and backward-weights on oneDNN, for tfjs's NHWC activations and HWIO
// filters (depthwise: [KH, KW, C, M], i.e. oneDNN's grouped weights with G = C, one input channel per group).
// Activations stay in the caller's NHWC buffers (no reorder); weights are described in tfjs's layout and
// reordered on every call into the layout the primitive chose (tag::any): they change every training step, so
// caching the reordered copy would go stale. Primitives (and the weight reorders) are cached per shape key.
#include <memory>
#include <unordered_map>

#include "common.h"

namespace facet {
using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

enum ConvMode { kForward = 0, kBackwardData = 1, kBackwardWeights = 2 };

// [N, H, W, C, KH, KW, G, OCg, OH, OW, sh, sw, dh, dw, pt, pb, pl, pr], dilations in tfjs's convention (1 = none)
struct ConvGeom {
  int64_t N, H, W, C, KH, KW, G, OCg, OH, OW, sh, sw, dh, dw, pt, pb, pl, pr;
};

struct ConvEntry {
  dnnl::primitive prim;
  memory::desc src, dst, userWeights, primWeights, scratch;
  bool reorderWeights = false;
  dnnl::reorder weightsReorder;  // user -> primitive layout (fwd, bwd data) or back (bwd weights)
};

static ConvGeom geometry(const std::vector<int64_t>& d) {
  if (d.size() != 18) throw std::runtime_error("conv: geometry must have 18 integers");
  return {d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15], d[16], d[17]};
}

static std::unique_ptr<ConvEntry> build(int mode, const ConvGeom& g) {
  auto& eng = cpuEngine();
  memory::desc src({g.N, g.C, g.H, g.W}, dt::f32, tag::nhwc);
  memory::desc dst({g.N, g.G * g.OCg, g.OH, g.OW}, dt::f32, tag::nhwc);
  memory::dims wDims = g.G == 1 ? memory::dims{g.OCg, g.C, g.KH, g.KW} : memory::dims{g.G, g.OCg, g.C / g.G, g.KH, g.KW};
  memory::desc userW(wDims, dt::f32, g.G == 1 ? tag::hwio : tag::hwigo);
  memory::desc anyW(wDims, dt::f32, tag::any);
  memory::dims strides{g.sh, g.sw}, dil{g.dh - 1, g.dw - 1}, padL{g.pt, g.pl}, padR{g.pb, g.pr};
  auto attr = userScratchpadAttr();
  auto fwdDesc = dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src,
                                                 anyW, dst, strides, dil, padL, padR);
  auto fwd = dnnl::convolution_forward::primitive_desc(fwdDesc, attr, eng);
  auto e = std::make_unique<ConvEntry>();
  e->src = src;
  e->dst = dst;
  e->userWeights = userW;
  if (mode == kForward) {
    noteImpl("conv_fwd", fwd);
    e->prim = dnnl::convolution_forward(fwd);
    e->primWeights = fwd.weights_desc();
    e->scratch = fwd.scratchpad_desc();
  } else if (mode == kBackwardData) {
    auto bd = dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, src, anyW, dst, strides, dil, padL, padR);
    auto pd = dnnl::convolution_backward_data::primitive_desc(bd, attr, eng, fwd);
    noteImpl("conv_bwd_data", pd);
    e->prim = dnnl::convolution_backward_data(pd);
    e->primWeights = pd.weights_desc();
    e->scratch = pd.scratchpad_desc();
  } else {
    auto bw = dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, src, anyW, dst, strides, dil, padL, padR);
    auto pd = dnnl::convolution_backward_weights::primitive_desc(bw, attr, eng, fwd);
    noteImpl("conv_bwd_weights", pd);
    e->prim = dnnl::convolution_backward_weights(pd);
    e->primWeights = pd.diff_weights_desc();
    e->scratch = pd.scratchpad_desc();
  }
  e->reorderWeights = e->primWeights != userW;
  if (e->reorderWeights) {
    e->weightsReorder = mode == kBackwardWeights ? dnnl::reorder(dnnl::reorder::primitive_desc(eng, e->primWeights, eng, userW))
                                                 : dnnl::reorder(dnnl::reorder::primitive_desc(eng, userW, eng, e->primWeights));
  }
  return e;
}

static std::unordered_map<std::string, std::unique_ptr<ConvEntry>>& cache() {
  thread_local std::unordered_map<std::string, std::unique_ptr<ConvEntry>> m;  // per thread: see common.cc
  return m;
}

size_t convCacheSize() { return cache().size(); }

/** One oneDNN convolution on caller buffers (x: src or diff_src, w: weights or diff_weights, y: dst or diff_dst). */
static void runConv(int mode, float* x, float* w, float* y, const ConvGeom& g, int64_t token) {
  std::string key = std::to_string(mode);
  for (int64_t v : {g.N, g.H, g.W, g.C, g.KH, g.KW, g.G, g.OCg, g.OH, g.OW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pb, g.pl, g.pr})
    key += "," + std::to_string(v);
  auto& slot = cache()[key];
  if (!slot) slot = build(mode, g);
  ConvEntry& e = *slot;
  auto& eng = cpuEngine();
  auto& s = cpuStream();
  memory srcM(e.src, eng, x), dstM(e.dst, eng, y), userW(e.userWeights, eng, w);
  std::unique_ptr<Buffer> wBuf;
  memory primW = userW;
  if (e.reorderWeights && mode == kForward && token > 0) {
    auto& cached = weightCache()[token][key];
    if (!cached) {
      cached = std::make_unique<Buffer>(e.primWeights.get_size());
      memory m(e.primWeights, eng, cached->data());
      e.weightsReorder.execute(s, userW, m);
    }
    primW = memory(e.primWeights, eng, cached->data());
  } else if (e.reorderWeights) {
    wBuf = std::make_unique<Buffer>(e.primWeights.get_size());
    primW = memory(e.primWeights, eng, wBuf->data());
    if (mode != kBackwardWeights) e.weightsReorder.execute(s, userW, primW);
  }
  memory scratch = scratchpadFor(e.scratch);
  if (mode == kForward) {
    e.prim.execute(s, {{DNNL_ARG_SRC, srcM}, {DNNL_ARG_WEIGHTS, primW}, {DNNL_ARG_DST, dstM}, {DNNL_ARG_SCRATCHPAD, scratch}});
  } else if (mode == kBackwardData) {
    e.prim.execute(s, {{DNNL_ARG_DIFF_SRC, srcM}, {DNNL_ARG_WEIGHTS, primW}, {DNNL_ARG_DIFF_DST, dstM}, {DNNL_ARG_SCRATCHPAD, scratch}});
  } else {
    e.prim.execute(s, {{DNNL_ARG_SRC, srcM}, {DNNL_ARG_DIFF_WEIGHTS, primW}, {DNNL_ARG_DIFF_DST, dstM}, {DNNL_ARG_SCRATCHPAD, scratch}});
    if (e.reorderWeights) e.weightsReorder.execute(s, primW, userW);
  }
  s.wait();
}

/** A grow-only per-thread buffer for the replicated activations of depthwise convolutions with a multiplier. */
static float* replicaBuffer(size_t floats) {
  thread_local std::unique_ptr<Buffer> buffer;
  thread_local size_t capacity = 0;
  if (floats > capacity) {
    buffer.reset();
    buffer = std::make_unique<Buffer>(floats * sizeof(float));
    capacity = floats;
  }
  return static_cast<float*>(buffer->data());
}

/**
 * Depthwise with channel multiplier M (G = C groups of one input and M outputs) as a plain depthwise convolution over
 * C·M channels, input channel c repeated M times: tfjs's output channel c·M + m is then channel c·M + m of the
 * repeated input, and the filter [KH, KW, C, M] is already [KH, KW, C·M, 1]. oneDNN has fast depthwise kernels only
 * for one output per group (jit_dw / brdgmm_dw); with M = 2 it ran a generic grouped kernel at ~4 GFLOP/s (a third
 * of MobileFaceNet's depthwise time at batch 32). The input gradient sums the M copies' gradients.
 */
static void runDepthwiseMultiplier(int mode, float* x, float* w, float* y, const ConvGeom& g, int64_t token) {
  const int64_t C = g.C, M = g.OCg, pixels = g.N * g.H * g.W;
  ConvGeom r = g;
  r.C = C * M;
  r.G = C * M;
  r.OCg = 1;
  float* rep = replicaBuffer(size_t(pixels * C * M));
  if (mode == kBackwardData) {
    runConv(mode, rep, w, y, r, 0);
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < pixels; p++) {
      const float* __restrict src = rep + p * C * M;
      float* __restrict dst = x + p * C;
      for (int64_t c = 0; c < C; c++) {
        float acc = src[c * M];
        for (int64_t m = 1; m < M; m++) acc += src[c * M + m];
        dst[c] = acc;
      }
    }
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < pixels; p++) {
    const float* __restrict src = x + p * C;
    float* __restrict dst = rep + p * C * M;
    for (int64_t c = 0; c < C; c++)
      for (int64_t m = 0; m < M; m++) dst[c * M + m] = src[c];
  }
  runConv(mode, rep, w, y, r, token);
}

/** conv(mode, src, weights, dst, geometry, token?): mode 0 writes dst, 1 writes src (as diff_src from dst = diff_dst),
 *  2 writes weights. token > 0 (forward only): `weights` never change under this token, so their reordered copy is
 *  cached until dropWeights(token). */
napi_value Conv(napi_env env, napi_callback_info info) {
  std::vector<napi_value> a;
  int64_t token = optionalToken(env, info, 5, a);
  int mode = static_cast<int>(number(env, a[0], "mode"));
  if (mode < 0 || mode > 2) throw std::runtime_error("conv: mode must be 0, 1 or 2");
  F32 x = f32(env, a[1], "src"), w = f32(env, a[2], "weights"), y = f32(env, a[3], "dst");
  auto dims = ints(env, a[4], "geometry");
  ConvGeom g = geometry(dims);
  if (x.length != size_t(g.N * g.H * g.W * g.C)) throw std::runtime_error("conv: src length does not match its shape");
  if (y.length != size_t(g.N * g.OH * g.OW * g.G * g.OCg)) throw std::runtime_error("conv: dst length does not match its shape");
  if (w.length != size_t(g.KH * g.KW * (g.C / g.G) * g.G * g.OCg)) throw std::runtime_error("conv: weights length does not match its shape");
  if (g.G > 1 && g.G == g.C && g.OCg > 1)
    runDepthwiseMultiplier(mode, x.data, w.data, y.data, g, token);
  else
    runConv(mode, x.data, w.data, y.data, g, token);
  return nullptr;
}

}  // namespace facet
