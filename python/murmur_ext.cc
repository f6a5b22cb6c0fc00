// murmur._murmur: the C++ side of the Python package (python/murmur/__init__.py is the API).
// Runs hold no Python lock: the experiment runs with the GIL released.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "murmur/core/check.h"
#include "murmur/run/config.h"
#include "murmur/run/registry.h"
#include "murmur/run/runner.h"

namespace py = pybind11;
using murmur::run::Config;
using murmur::run::Type;
using murmur::run::Value;

namespace {

std::string PyTypeName(py::handle v) { return py::str(py::type::of(v).attr("__name__")); }

// A Python value for config key `key`, as the key's type: bool, int, float, str or a list.
Value ToValue(const std::string& key, const murmur::run::KeySpec& spec, py::handle v,
              const std::string& source) {
  auto fail = [&](const char* want) -> Value {
    MURMUR_FAIL(murmur::ConfigError, source, ": ", key, ": expected ", want, ", got ",
                PyTypeName(v));
  };
  const bool is_bool = py::isinstance<py::bool_>(v);
  const bool is_int = py::isinstance<py::int_>(v) && !is_bool;
  const bool is_number = is_int || py::isinstance<py::float_>(v);
  switch (spec.type) {
    case Type::kBool:
      return is_bool ? Value(v.cast<bool>()) : fail("a bool");
    case Type::kInt:
      return is_int ? Value(v.cast<int64_t>()) : fail("an int");
    case Type::kFloat:
      return is_number ? Value(v.cast<double>()) : fail("a number");
    case Type::kString:
      return py::isinstance<py::str>(v) ? Value(v.cast<std::string>()) : fail("a str");
    case Type::kFloatList: {
      if (!py::isinstance<py::sequence>(v) || py::isinstance<py::str>(v)) return fail("a list");
      std::vector<double> out;
      for (py::handle e : v.cast<py::sequence>()) {
        if (py::isinstance<py::bool_>(e) ||
            !(py::isinstance<py::int_>(e) || py::isinstance<py::float_>(e)))
          return fail("a list of numbers");
        out.push_back(e.cast<double>());
      }
      return Value(out);
    }
    case Type::kIntList: {
      if (!py::isinstance<py::sequence>(v) || py::isinstance<py::str>(v)) return fail("a list");
      std::vector<int64_t> out;
      for (py::handle e : v.cast<py::sequence>()) {
        if (py::isinstance<py::bool_>(e) || !py::isinstance<py::int_>(e))
          return fail("a list of ints");
        out.push_back(e.cast<int64_t>());
      }
      return Value(out);
    }
  }
  return fail("a known type");
}

// The config: the file at `path` (or every default when empty), then `keys` (a dict of
// "section.key" -> value) applied in order, as `murmur run --set` would.
Config MakeConfig(const std::string& path, const py::dict& keys) {
  Config c = path.empty() ? Config() : Config::FromFile(path);
  for (const auto& [k, v] : keys) {
    const std::string key = py::str(k);
    const murmur::run::KeySpec* spec = murmur::run::FindKey(key);
    // An unknown key: the schema's "unknown key ...; did you mean ..." error.
    if (!spec) c.set_value(key, Value{}, "murmur.run");
    c.set_value(key, ToValue(key, *spec, v, "murmur.run"), "murmur.run");
  }
  return c;
}

}  // namespace

PYBIND11_MODULE(_murmur, m) {
  m.doc() = "murmur's C++ core; use the murmur package";
  // murmur's errors as Python exceptions: Error (RuntimeError) and its kinds.
  static py::exception<murmur::Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<murmur::ConfigError> config_error(m, "ConfigError", error.ptr());
  static py::exception<murmur::DataError> data_error(m, "DataError", error.ptr());
  static py::exception<murmur::IoError> io_error(m, "IoError", error.ptr());
  static py::exception<murmur::DivergenceError> divergence_error(m, "DivergenceError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const murmur::ConfigError& e) {
      PyErr_SetString(config_error.ptr(), std::string(e.message()).c_str());
    } catch (const murmur::DataError& e) {
      PyErr_SetString(data_error.ptr(), std::string(e.message()).c_str());
    } catch (const murmur::IoError& e) {
      PyErr_SetString(io_error.ptr(), std::string(e.message()).c_str());
    } catch (const murmur::DivergenceError& e) {
      PyErr_SetString(divergence_error.ptr(), std::string(e.message()).c_str());
    } catch (const murmur::Error& e) {
      PyErr_SetString(error.ptr(), std::string(e.message()).c_str());
    }
  });

  m.def(
      "run",
      [](const std::string& path, const py::dict& keys, const std::string& out, bool quiet,
         bool overwrite) {
        const Config c = MakeConfig(path, keys);
        murmur::run::RunOptions o;
        o.out_dir = out;
        o.quiet = quiet;
        o.overwrite = overwrite;
        murmur::run::RunResult r;
        {
          py::gil_scoped_release nogil;
          r = murmur::run::RunExperiment(c, o);
        }
        return py::make_tuple(r.out_dir, r.summary_json);
      },
      py::arg("path"), py::arg("keys"), py::arg("out"), py::arg("quiet"), py::arg("overwrite"),
      "Runs one experiment; returns (out_dir, summary.json text).");
  m.def(
      "config_toml",
      [](const std::string& path, const py::dict& keys) {
        return MakeConfig(path, keys).to_toml();
      },
      py::arg("path"), py::arg("keys"), "The resolved config as TOML (every key).");
  m.def(
      "components",
      [] {
        std::vector<std::tuple<std::string, std::string, std::string>> out;
        for (const auto& c : murmur::run::Components()) out.emplace_back(c.kind, c.name, c.help);
        return out;
      },
      "(kind, name, help) of every registered component.");
}
