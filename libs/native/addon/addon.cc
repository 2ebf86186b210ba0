// Module entry: the kernels and `info()` (oneDNN version, the ISA oneDNN dispatches to, OpenMP threads, the
// addon's live allocations and cached primitives, and the implementation names oneDNN chose so far).
#include <omp.h>

#include "common.h"

namespace facet {
napi_value Conv(napi_env, napi_callback_info);
napi_value MatMul(napi_env, napi_callback_info);
napi_value BatchNormTraining(napi_env, napi_callback_info);
napi_value BatchNormTrainingGrad(napi_env, napi_callback_info);
napi_value PreluGrad(napi_env, napi_callback_info);
napi_value BiasActivation(napi_env, napi_callback_info);
napi_value Binary(napi_env, napi_callback_info);
napi_value Prelu(napi_env, napi_callback_info);
napi_value Reverse(napi_env, napi_callback_info);
napi_value Sum(napi_env, napi_callback_info);
napi_value SgdUpdate(napi_env, napi_callback_info);
napi_value Unary(napi_env, napi_callback_info);
napi_value DropWeights(napi_env, napi_callback_info);
size_t cachedWeightsCount();
size_t convCacheSize();
size_t matmulCacheSize();

static const char* isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::all: return "all";
    default: return "unknown";
  }
}

static void setNumber(napi_env env, napi_value obj, const char* name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, str;
  napi_create_object(env, &obj);
  const dnnl_version_t* v = dnnl::version();
  std::string version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_create_string_utf8(env, version.c_str(), version.size(), &str);
  napi_set_named_property(env, obj, "version", str);
  const char* isa = isaName(dnnl::get_effective_cpu_isa());
  napi_create_string_utf8(env, isa, NAPI_AUTO_LENGTH, &str);
  napi_set_named_property(env, obj, "isa", str);
  setNumber(env, obj, "threads", omp_get_max_threads());
  setNumber(env, obj, "liveAllocations", double(liveAllocations()));
  setNumber(env, obj, "cachedPrimitives", double(convCacheSize() + matmulCacheSize()));
  setNumber(env, obj, "cachedWeights", double(cachedWeightsCount()));
  napi_set_named_property(env, obj, "impls", implsObject(env));
  return obj;
}

/** setThreads(n): the OpenMP threads oneDNN and the channel loops use from now on (default: all cores). */
static napi_value SetThreads(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 1);
  int n = int(number(env, a[0], "threads"));
  if (n < 1) throw std::runtime_error("setThreads: threads must be >= 1");
  omp_set_num_threads(n);
  return nullptr;
}

}  // namespace facet

#define FACET_EXPORT(name, fn)                                                                                 \
  {                                                                                                            \
    name, nullptr,                                                                                             \
        [](napi_env env, napi_callback_info info) -> napi_value { return facet::guarded(env, fn, info); }, \
        nullptr, nullptr, nullptr, napi_default, nullptr                                                       \
  }

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      FACET_EXPORT("info", facet::Info),
      FACET_EXPORT("setThreads", facet::SetThreads),
      FACET_EXPORT("conv", facet::Conv),
      FACET_EXPORT("matmul", facet::MatMul),
      FACET_EXPORT("batchNormTraining", facet::BatchNormTraining),
      FACET_EXPORT("batchNormTrainingGrad", facet::BatchNormTrainingGrad),
      FACET_EXPORT("preluGrad", facet::PreluGrad),
      FACET_EXPORT("biasActivation", facet::BiasActivation),
      FACET_EXPORT("binary", facet::Binary),
      FACET_EXPORT("prelu", facet::Prelu),
      FACET_EXPORT("reverse", facet::Reverse),
      FACET_EXPORT("sum", facet::Sum),
      FACET_EXPORT("sgdUpdate", facet::SgdUpdate),
      FACET_EXPORT("unary", facet::Unary),
      FACET_EXPORT("dropWeights", facet::DropWeights),
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
