// Batched matrix product C[b] = op(A[b]) · op(B[b]) on oneDNN's matmul. Transposes are expressed as strides on
// the operands' memory descriptors (no copies); a batch of 1 on either side broadcasts, as in tfjs's BatchMatMul.
#include <memory>
#include <unordered_map>

#include "common.h"

namespace facet {
using dnnl::memory;
using dt = memory::data_type;

struct MatMulEntry {
  dnnl::matmul prim;
  memory::desc a, b, c, scratch;
};

static std::unordered_map<std::string, std::unique_ptr<MatMulEntry>>& cache() {
  thread_local std::unordered_map<std::string, std::unique_ptr<MatMulEntry>> m;  // per thread: see common.cc
  return m;
}

size_t matmulCacheSize() { return cache().size(); }

static std::unique_ptr<MatMulEntry> build(int64_t Ba, int64_t Bb, int64_t M, int64_t K, int64_t N, bool tA, bool tB) {
  auto e = std::make_unique<MatMulEntry>();
  // A is stored [Ba, M, K] or, transposed, [Ba, K, M]; B is [Bb, K, N] or [Bb, N, K]
  e->a = memory::desc({Ba, M, K}, dt::f32, tA ? memory::dims{M * K, 1, M} : memory::dims{M * K, K, 1});
  e->b = memory::desc({Bb, K, N}, dt::f32, tB ? memory::dims{K * N, 1, K} : memory::dims{K * N, N, 1});
  e->c = memory::desc({std::max(Ba, Bb), M, N}, dt::f32, memory::format_tag::abc);
  auto pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(e->a, e->b, e->c), userScratchpadAttr(), cpuEngine());
  noteImpl("matmul", pd);
  e->prim = dnnl::matmul(pd);
  e->scratch = pd.scratchpad_desc();
  return e;
}

/** matmul(a, b, c, [Ba, Bb, M, K, N, transposeA, transposeB]) writes c ([max(Ba, Bb), M, N]). */
napi_value MatMul(napi_env env, napi_callback_info info) {
  auto av = args(env, info, 4);
  F32 a = f32(env, av[0], "a"), b = f32(env, av[1], "b"), c = f32(env, av[2], "c");
  auto d = ints(env, av[3], "dims");
  if (d.size() != 7) throw std::runtime_error("matmul: dims must be [Ba, Bb, M, K, N, transposeA, transposeB]");
  int64_t Ba = d[0], Bb = d[1], M = d[2], K = d[3], N = d[4];
  if (Ba != Bb && Ba != 1 && Bb != 1) throw std::runtime_error("matmul: batch sizes must match or one must be 1");
  if (a.length != size_t(Ba * M * K) || b.length != size_t(Bb * K * N) || c.length != size_t(std::max(Ba, Bb) * M * N))
    throw std::runtime_error("matmul: buffer lengths do not match the dims");
  std::string key;
  for (auto v : d) key += std::to_string(v) + ",";
  auto& slot = cache()[key];
  if (!slot) slot = build(Ba, Bb, M, K, N, d[5] != 0, d[6] != 0);
  auto& eng = cpuEngine();
  auto& s = cpuStream();
  memory am(slot->a, eng, a.data), bm(slot->b, eng, b.data), cm(slot->c, eng, c.data);
  slot->prim.execute(s, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}, {DNNL_ARG_SCRATCHPAD, scratchpadFor(slot->scratch)}});
  s.wait();
  return nullptr;
}

}  // namespace facet
