{
  "targets": [
    {
      "target_name": "facet_native",
      "sources": ["addon/addon.cc", "addon/common.cc", "addon/conv.cc", "addon/matmul.cc", "addon/channel.cc", "addon/elementwise.cc", "addon/layout.cc", "addon/reduce.cc", "addon/optimizer.cc", "addon/unary.cc"],
      "libraries": ["-ldnnl", "-fopenmp"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-fno-trapping-math", "-fopenmp", "-Wall"]
    }
  ]
}
