#include "murmur/train/blas.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

namespace murmur::train {

BlasInfo ConfigureBlas() {
  static const BlasInfo info = [] {
    BlasInfo b;
    // Symbols looked up at run time: murmur links no BLAS itself, LibTorch brings one.
    using SetThreads = void (*)(int);
    using GetConfig = char* (*)();
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
      set(1);
    if (auto get = reinterpret_cast<GetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
      if (const char* c = get()) b.config = c;
    b.thread_safe = b.config.find("SINGLE_THREADED") == std::string::npos;
    Dl_info where;
    if (void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
        sgemm && dladdr(sgemm, &where) && where.dli_fname) {
      char resolved[PATH_MAX];
      b.library = realpath(where.dli_fname, resolved) ? resolved : where.dli_fname;
    }
    return b;
  }();
  return info;
}

}  // namespace murmur::train
