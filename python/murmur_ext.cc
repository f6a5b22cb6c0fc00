// murmur._murmur: the C++ side of the Python package (python/murmur/__init__.py is the API).
// Runs hold no Python lock: the experiment runs with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "murmur/core/check.h"
#include "murmur/graph/spectral.h"
#include "murmur/graph/topology.h"
#include "murmur/run/config.h"
#include "murmur/run/experiment.h"
#include "murmur/run/options.h"
#include "murmur/run/registry.h"
#include "murmur/run/report.h"
#include "murmur/run/runner.h"
#include "plugins.h"

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
Config MakeConfig(const std::string& path, const py::dict& keys,
                  const std::string& source = "murmur.run") {
  Config c = path.empty() ? Config() : Config::FromFile(path);
  for (const auto& [k, v] : keys) {
    const std::string key = py::str(k);
    const murmur::run::KeySpec* spec = murmur::run::FindKey(key);
    // An unknown key: the schema's "unknown key ...; did you mean ..." error.
    if (!spec) c.set_value(key, Value{}, source);
    c.set_value(key, ToValue(key, *spec, v, source), source);
  }
  return c;
}

// A round's figures as the progress callback gets them.
py::dict FiguresDict(const murmur::run::RoundFigures& f, int64_t rounds) {
  py::dict d;
  d["round"] = f.round;
  d["rounds"] = rounds;
  d["lr"] = f.lr;
  d["loss"] = f.loss_mean;
  d["mb_sent_per_node"] = f.mb_sent_per_node;
  d["sim_seconds"] = f.sim_seconds;
  d["evaluated"] = f.evaluated;
  if (f.evaluated) {
    d["acc_mean"] = f.acc_mean;
    d["acc_min"] = f.acc_min;
    d["acc_max"] = f.acc_max;
    d["acc_avg_model"] = f.acc_avg_model < 0 ? py::object(py::none()) : py::float_(f.acc_avg_model);
    d["consensus"] = f.consensus;
  }
  return d;
}

// Runs the experiment a round at a time, the GIL released during each round. After a round
// (with the GIL): Ctrl-C (a pending KeyboardInterrupt), `progress` returning False or raising
// stops the run on every rank: a checkpoint of the rounds done, then the KeyboardInterrupt or
// the progress callback's exception is raised again; a False returns normally.
// Returns (status "finished"|"stopped", out_dir, summary.json text, checkpoint, rounds done).
py::tuple Drive(const Config& c, const murmur::run::RunOptions& o, const py::object& progress) {
  std::unique_ptr<murmur::run::Experiment> e;
  {
    py::gil_scoped_release nogil;
    e = std::make_unique<murmur::run::Experiment>(c, o);
  }
  while (!e->done()) {
    {
      py::gil_scoped_release nogil;
      e->run_round();
    }
    std::optional<py::error_already_set> pending;
    bool stop = false;
    if (PyErr_CheckSignals() != 0) {
      pending.emplace();
      stop = true;
    } else if (!progress.is_none() && e->writes_outputs()) {
      try {
        const py::object r = progress(FiguresDict(e->last_round(), e->total_rounds()));
        stop = r.is(py::bool_(false));
      } catch (py::error_already_set& err) {
        pending.emplace(std::move(err));
        stop = true;
      }
    }
    bool any = false;
    std::string checkpoint;
    {
      py::gil_scoped_release nogil;
      any = e->any_rank(stop);
      if (any) checkpoint = e->stop();
    }
    if (!any) continue;
    const int64_t done = e->next_round();
    const std::string out_dir = e->out_dir();
    e.reset();
    if (pending) {
      if (pending->matches(PyExc_KeyboardInterrupt)) {
        const std::string text = murmur::detail::Concat(
            "murmur.run stopped after ", done, " rounds (checkpoint ", checkpoint,
            "); murmur.run(..., out=..., resume=True) or murmur run --resume continues");
        PyErr_SetString(PyExc_KeyboardInterrupt, text.c_str());
        throw py::error_already_set();
      }
      throw std::move(*pending);
    }
    return py::make_tuple("stopped", out_dir, "", checkpoint, done);
  }
  murmur::run::RunResult r;
  {
    py::gil_scoped_release nogil;
    r = e->finish();
    e.reset();
  }
  return py::make_tuple("finished", r.out_dir, r.summary_json, "", 0);
}

// The topology `keys` name (topology.*, run.nodes, run.seed): its name, whether directed, and
// per graph of its period the edge list and the mixing matrix; its spectral gap.
py::tuple TopologyOf(const py::dict& keys) {
  const Config c = MakeConfig("", keys, "murmur.topology");
  const auto t = murmur::graph::MakeTopology(murmur::run::TopologyOptionsFrom(c));
  py::list graphs;
  for (int p = 0; p < t->period(); ++p) {
    const murmur::graph::Graph& g = t->at(static_cast<uint64_t>(p));
    std::vector<std::pair<int, int>> edges;
    py::array_t<double> w({g.n, g.n});
    auto m = w.mutable_unchecked<2>();
    for (int i = 0; i < g.n; ++i)
      for (int j = 0; j < g.n; ++j) m(i, j) = g.weight(i, j);
    for (int i = 0; i < g.n; ++i)
      for (int j : g.out[i])
        if (g.directed || i < j) edges.emplace_back(i, j);
    graphs.append(py::make_tuple(edges, w));
  }
  return py::make_tuple(t->name(), t->directed(), graphs, murmur::graph::SpectralGap(*t));
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

  murmur::python::RegisterPlugins(m);
  m.def(
      "run",
      [](const std::string& path, const py::dict& keys, const std::string& out, bool quiet,
         bool overwrite, bool resume, const py::object& progress, const py::object& algorithm,
         const py::object& compressor) {
        std::optional<murmur::python::PluginScope> scope;
        if (!algorithm.is_none() || !compressor.is_none()) scope.emplace(algorithm, compressor);
        const Config c = MakeConfig(path, keys);
        murmur::run::RunOptions o;
        o.out_dir = out;
        o.quiet = quiet;
        o.overwrite = overwrite;
        o.resume = resume;
        murmur::run::SetLauncherFromEnvironment(o);
        return Drive(c, o, progress);
      },
      py::arg("path"), py::arg("keys"), py::arg("out"), py::arg("quiet"), py::arg("overwrite"),
      py::arg("resume"), py::arg("progress"), py::arg("algorithm"), py::arg("compressor"),
      "Runs one experiment; returns (status, out_dir, summary.json text, checkpoint, rounds "
      "done).");
  m.def(
      "sweep",
      [](const std::string& path, bool quiet, bool dry_run, const std::vector<std::string>& only) {
        murmur::run::SweepOptions so;
        so.quiet = quiet;
        so.dry_run = dry_run;
        so.only = only;
        murmur::run::SweepResult r;
        {
          py::gil_scoped_release nogil;
          r = murmur::run::RunSweep(path, so);
        }
        py::dict d;
        d["out_dir"] = r.out_dir;
        d["points"] = r.points;
        d["ran"] = r.ran;
        d["skipped"] = r.skipped;
        d["diverged"] = r.diverged;
        d["failed"] = r.failed;
        d["point_names"] = r.point_names;
        return d;
      },
      py::arg("path"), py::arg("quiet"), py::arg("dry_run"), py::arg("only"),
      "Runs a sweep file's points (murmur sweep); returns its counts and point names.");
  m.def(
      "compare_markdown",
      [](const std::vector<std::string>& dirs, double target, const std::string& reference) {
        std::vector<murmur::run::RunRecord> runs;
        for (const std::string& d : murmur::run::ExpandRunDirs(dirs))
          runs.push_back(murmur::run::LoadRun(d));
        MURMUR_CHECK(murmur::IoError, !runs.empty(), "murmur.compare: no run directories");
        murmur::run::CompareOptions co;
        co.target = target;
        co.reference = reference;
        return murmur::run::CompareMarkdown(runs, co);
      },
      py::arg("dirs"), py::arg("target"), py::arg("reference"),
      "The Markdown comparison of murmur compare.");
  m.def("topology", &TopologyOf, py::arg("keys"),
        "(name, directed, [(edges, W) per graph of the period], spectral gap).");
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
