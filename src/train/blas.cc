#include "murmur/train/blas.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

namespace murmur::train {

BlasInfo ConfigureBlas() {
  static const BlasInfo info = [] {
    BlasInfo b;
    // Symbols looked up at run time: murmur links no BLAS itself, LibTorch brings one. Any
    // OpenBLAS loaded (its LAPACK can sit beside the reference BLAS) gets one thread; its
    // description is the BLAS's only when it is the library that provides sgemm_.
    using SetThreads = void (*)(int);
    using GetConfig = char* (*)();
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
      set(1);
    Dl_info where;
    void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
    if (!sgemm || !dladdr(sgemm, &where) || !where.dli_fname) return b;
    char resolved[PATH_MAX];
    b.library = realpath(where.dli_fname, resolved) ? resolved : where.dli_fname;
    // The BLAS object and what it depends on (Debian's libblas.so.3 of OpenBLAS is a thin
    // library over libopenblas.so.0).
    void* handle = dlopen(where.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    auto from_blas = [&](const char* name) { return handle ? dlsym(handle, name) : nullptr; };
    if (auto get = reinterpret_cast<GetConfig>(from_blas("openblas_get_config")))
      if (const char* c = get()) b.config = c;
    b.thread_safe = b.config.find("SINGLE_THREADED") == std::string::npos;
    if (handle) dlclose(handle);
    return b;
  }();
  return info;
}

}  // namespace murmur::train
