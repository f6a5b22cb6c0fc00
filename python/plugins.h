// Algorithms and compressors written in Python (murmur.Algorithm, murmur.Compressor), as
// murmur's algorithm "python" and compressor "python".
//
// Both are registered once, when the extension is imported (before any config exists, so the
// schema knows the names). A run hands its Python objects over with a PluginScope, which holds
// them for the run's length; the registry entries' factories wrap whichever objects the
// current scope holds (one run with Python plug-ins at a time per process).
//
// The C++ side does everything but the arithmetic: it calls the Python methods with the GIL
// taken (only for the call), hands them NumPy views of murmur's buffers, and moves their
// messages as real frames through the transport (counted, subject to faults, over MPI).
#pragma once

#include <pybind11/pybind11.h>

namespace murmur::python {

// Registers the algorithm and the compressor named "python" and the payload decoder of the
// Python compressor's payloads; binds the Context classes into module m.
void RegisterPlugins(pybind11::module_& m);

// Makes `algorithm` and `compressor` (None for none) the objects the "python" entries wrap
// until the scope ends. A second scope while one is alive is an Error.
class PluginScope {
 public:
  PluginScope(pybind11::object algorithm, pybind11::object compressor);
  ~PluginScope();
  PluginScope(const PluginScope&) = delete;
  PluginScope& operator=(const PluginScope&) = delete;
};

}  // namespace murmur::python
