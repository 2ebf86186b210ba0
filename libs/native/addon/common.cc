#include "common.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace facet {

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Node worker threads may each run a tfjs engine on this addon: streams, primitive caches and scratchpads are
// per thread (oneDNN primitives may execute concurrently; a shared scratchpad may not be used by two at once).
dnnl::stream& cpuStream() {
  thread_local dnnl::stream stream(cpuEngine());
  return stream;
}

static std::atomic<int64_t> live{0};

Buffer::Buffer(size_t bytes) {
  size_t rounded = ((bytes + 63) / 64) * 64;
  ptr_ = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!ptr_) throw std::runtime_error("out of memory allocating " + std::to_string(bytes) + " bytes");
  live++;
}

Buffer::~Buffer() {
  std::free(ptr_);
  live--;
}

int64_t liveAllocations() { return live.load(); }

dnnl::memory scratchpadFor(const dnnl::memory::desc& md) {
  thread_local std::unique_ptr<Buffer> buffer;
  thread_local size_t capacity = 0;
  size_t need = md.get_size();
  if (need > capacity) {
    buffer = std::make_unique<Buffer>(need);
    capacity = need;
  }
  return dnnl::memory(md, cpuEngine(), buffer ? buffer->data() : nullptr);
}

dnnl::primitive_attr userScratchpadAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

static std::mutex implsMutex;

static std::map<std::string, std::set<std::string>>& impls() {
  static std::map<std::string, std::set<std::string>> m;
  return m;
}

void noteImpl(const std::string& kind, const dnnl::primitive_desc_base& pd) {
  std::lock_guard<std::mutex> lock(implsMutex);
  impls()[kind].insert(pd.impl_info_str());
}

napi_value implsObject(napi_env env) {
  std::lock_guard<std::mutex> lock(implsMutex);
  napi_value obj;
  napi_create_object(env, &obj);
  for (const auto& [kind, names] : impls()) {
    napi_value arr;
    napi_create_array(env, &arr);
    uint32_t i = 0;
    for (const auto& n : names) {
      napi_value s;
      napi_create_string_utf8(env, n.c_str(), n.size(), &s);
      napi_set_element(env, arr, i++, s);
    }
    napi_set_named_property(env, obj, kind.c_str(), arr);
  }
  return obj;
}

std::unordered_map<int64_t, WeightsByKey>& weightCache() {
  thread_local std::unordered_map<int64_t, WeightsByKey> m;
  return m;
}

size_t cachedWeightsCount() {
  size_t n = 0;
  for (auto& entry : weightCache()) n += entry.second.size();
  return n;
}

/** dropWeights(token): forget the reordered weights cached under token (its tensor was deleted). */
napi_value DropWeights(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 1);
  weightCache().erase(int64_t(number(env, a[0], "token")));
  return nullptr;
}

int64_t optionalToken(napi_env env, napi_callback_info info, size_t required, std::vector<napi_value>& argv) {
  size_t argc = required + 1;
  argv.assign(argc, nullptr);
  napi_get_cb_info(env, info, &argc, argv.data(), nullptr, nullptr);
  if (argc < required) throw std::runtime_error("expected " + std::to_string(required) + " arguments, got " + std::to_string(argc));
  napi_valuetype type = napi_undefined;
  if (argc > required) napi_typeof(env, argv[required], &type);
  return type == napi_number ? int64_t(number(env, argv[required], "token")) : 0;
}

std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t expected) {
  size_t argc = expected;
  std::vector<napi_value> argv(expected);
  napi_get_cb_info(env, info, &argc, argv.data(), nullptr, nullptr);
  if (argc < expected) throw std::runtime_error("expected " + std::to_string(expected) + " arguments, got " + std::to_string(argc));
  return argv;
}

F32 f32(napi_env env, napi_value v, const char* what) {
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) throw std::runtime_error(std::string(what) + " must be a Float32Array");
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
  if (type != napi_float32_array) throw std::runtime_error(std::string(what) + " must be a Float32Array");
  return {static_cast<float*>(data), length};
}

bool isNull(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

double number(napi_env env, napi_value v, const char* what) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) throw std::runtime_error(std::string(what) + " must be a number");
  return d;
}

std::vector<int64_t> ints(napi_env env, napi_value v, const char* what) {
  bool isArray = false;
  napi_is_array(env, v, &isArray);
  if (!isArray) throw std::runtime_error(std::string(what) + " must be an array of integers");
  uint32_t n;
  napi_get_array_length(env, v, &n);
  std::vector<int64_t> out(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, v, i, &e);
    out[i] = static_cast<int64_t>(number(env, e, what));
  }
  return out;
}

napi_value guarded(napi_env env, napi_value (*body)(napi_env, napi_callback_info), napi_callback_info info) {
  try {
    return body(env, info);
  } catch (const dnnl::error& e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN: ") + e.what() + " (status " + std::to_string(e.status) + ")").c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

}  // namespace facet
