// Shared pieces of the addon: one oneDNN CPU engine and stream, a grow-only scratchpad, counted buffers (so a
// test can see that the addon's own allocations stay flat over many training steps), and N-API argument helpers.
#pragma once
#include <node_api.h>

#include <cstdint>
#include <dnnl.hpp>
#include <stdexcept>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace facet {

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

/** A 64-byte aligned float buffer the addon owns; every live one is counted (see liveAllocations). */
class Buffer {
 public:
  explicit Buffer(size_t bytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* data() const { return ptr_; }

 private:
  void* ptr_;
};

int64_t liveAllocations();

// Weights already in a primitive's layout, per caller token (one per tfjs tensor: its contents never change while
// it lives) and primitive key. At inference the same (folded) filters run every call, and
// reordering them each time was up to a third of a batch-1 forward; training's weights are new tensors every step,
// so their entries live one step. The caller drops a token's entries when its tensor is deleted (dropWeights).
// Per thread, like the primitive caches.
using WeightsByKey = std::unordered_map<std::string, std::unique_ptr<Buffer>>;
std::unordered_map<int64_t, WeightsByKey>& weightCache();
/** An optional trailing token argument: a number > 0, or 0 when absent/undefined. */
int64_t optionalToken(napi_env env, napi_callback_info info, size_t required, std::vector<napi_value>& argv);
/** oneDNN's scratchpad is user-managed (scratchpad_mode::user) so its memory is one counted, reused buffer. */
dnnl::memory scratchpadFor(const dnnl::memory::desc& md);
/** Remember which implementation oneDNN dispatched to for a kind of primitive (e.g. "brgconv:avx512_core"). */
void noteImpl(const std::string& kind, const dnnl::primitive_desc_base& pd);
napi_value implsObject(napi_env env);
dnnl::primitive_attr userScratchpadAttr();

// ---- N-API helpers: argument errors throw std::runtime_error, turned into a JS Error by `guarded`.
struct F32 {
  float* data;
  size_t length;
};
std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t expected);
F32 f32(napi_env env, napi_value v, const char* what);
bool isNull(napi_env env, napi_value v);
std::vector<int64_t> ints(napi_env env, napi_value v, const char* what);
double number(napi_env env, napi_value v, const char* what);
napi_value guarded(napi_env env, napi_value (*body)(napi_env, napi_callback_info), napi_callback_info info);

}  // namespace facet
