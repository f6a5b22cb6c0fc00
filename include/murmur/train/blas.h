// The BLAS that LibTorch's linear layers run on.
//
// Debian's LibTorch calls whatever libblas.so.3 the alternatives system selects: the reference
// (netlib) BLAS on a stock machine, several times slower than OpenBLAS, or an OpenBLAS flavour.
// murmur installs libopenblas0-pthread (scripts/install-deps.sh) and runs it with one BLAS
// thread, because its own threads already train one node each: more BLAS threads fight them
// (measured 2x slower), and the serial flavour is not safe to call from several threads at
// once (results differed between runs). Results are bit-identical for the same binary, BLAS
// and seed; timing.json records which BLAS a run used.
#pragma once

#include <string>

namespace murmur::train {

struct BlasInfo {
  std::string library;      // the shared object that provides sgemm_, resolved ("" = unknown)
  std::string config;       // OpenBLAS's own description (openblas_get_config), "" for others
  bool thread_safe = true;  // false for OpenBLAS's single-threaded flavour
};

// Sets an OpenBLAS to one thread (once per process; a no-op for other BLAS libraries) and says
// which BLAS is loaded.
BlasInfo ConfigureBlas();

}  // namespace murmur::train
