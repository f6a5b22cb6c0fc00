// murmur sweep: a base config, optional variants and a grid of overrides; one run per point.
#include <toml++/toml.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "murmur/core/check.h"
#include "murmur/core/log.h"
#include "murmur/run/checkpoint.h"
#include "murmur/run/metrics.h"
#include "murmur/run/report.h"
#include "murmur/run/run_dir.h"
#include "murmur/run/runner.h"

namespace murmur::run {
namespace {

namespace fs = std::filesystem;

// A TOML value as the text Config::set parses ("choco" quoted, 0.01, [1, 2]).
std::string TomlText(const toml::node& node) {
  if (const auto s = node.value<std::string>()) return "\"" + *s + "\"";
  std::ostringstream os;
  node.visit([&](const auto& v) { os << v; });
  return os.str();
}

// "section.key" -> value text, from a table whose keys are dotted strings or nested tables.
void Flatten(const toml::table& t, const std::string& prefix,
             std::vector<std::pair<std::string, const toml::node*>>& out) {
  for (const auto& [k, v] : t) {
    const std::string key =
        prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const toml::table* sub = v.as_table())
      Flatten(*sub, key, out);
    else
      out.emplace_back(key, &v);
  }
}

std::string Sanitize(std::string s) {
  for (char& ch : s)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '=' || ch == '-' ||
          ch == '_' || ch == '+'))
      ch = '_';
  return s;
}

struct Point {
  std::string name;                                        // directory name
  std::vector<std::pair<std::string, std::string>> swept;  // column -> value text
  Config config;
};

std::string Unquote(std::string v) {
  if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

std::string CsvCell(std::string s) {
  for (char& ch : s)
    if (ch == ',' || ch == '\n' || ch == '\r') ch = ';';
  return s;
}

}  // namespace

SweepResult RunSweep(const std::string& sweep_file, const SweepOptions& options) {
  toml::table doc;
  try {
    doc = toml::parse(ReadConfigFile(sweep_file, "sweep file"), sweep_file);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << e.description() << " (line " << e.source().begin.line << ")";
    MURMUR_FAIL(ConfigError, sweep_file, ": ", os.str());
  }
  for (const auto& [k, v] : doc) {
    const std::string key(k.str());
    MURMUR_CHECK(ConfigError,
                 key == "base" || key == "out" || key == "set" || key == "grid" || key == "variant",
                 sweep_file, ": unknown key '", key,
                 "' (known: base, out, [set], [grid], [[variant]])");
  }
  const auto base = doc["base"].value<std::string>();
  MURMUR_CHECK(ConfigError, base.has_value(), sweep_file,
               ": 'base' (the config every point starts from) is missing or not a string");
  const auto out = doc["out"].value<std::string>();
  MURMUR_CHECK(ConfigError, out.has_value(), sweep_file,
               ": 'out' (the directory of the points) is missing or not a string");
  const fs::path base_path = fs::path(sweep_file).parent_path() / *base;
  Config start = Config::FromFile(base_path.string());

  auto apply = [&](Config& c, const std::string& key, const toml::node& v,
                   const std::string& where) {
    try {
      c.set(key + "=" + TomlText(v));
    } catch (const ConfigError& e) {
      MURMUR_FAIL(ConfigError, sweep_file, ": ", where, ": ", e.message());
    }
  };
  if (const toml::node_view set = doc["set"]) {
    MURMUR_CHECK(ConfigError, set.is_table(), sweep_file, ": [set] must be a table");
    std::vector<std::pair<std::string, const toml::node*>> kv;
    Flatten(*set.as_table(), "", kv);
    for (const auto& [k, v] : kv) apply(start, k, *v, "[set]");
  }

  // Variants: named sets of overrides (default: one, empty).
  struct Variant {
    std::string name;
    std::vector<std::pair<std::string, const toml::node*>> kv;
  };
  std::vector<Variant> variants;
  if (const toml::node_view vs = doc["variant"]) {
    const toml::array* arr = vs.as_array();
    MURMUR_CHECK(ConfigError, arr && arr->is_array_of_tables() && !arr->empty(), sweep_file,
                 ": 'variant' must be [[variant]] tables");
    for (const toml::node& n : *arr) {
      Variant v;
      Flatten(*n.as_table(), "", v.kv);
      for (auto it = v.kv.begin(); it != v.kv.end(); ++it)
        if (it->first == "name") {
          v.name = Unquote(TomlText(*it->second));
          v.kv.erase(it);
          break;
        }
      if (v.name.empty())
        for (const auto& [k, val] : v.kv)
          v.name += (v.name.empty() ? "" : "+") + Unquote(TomlText(*val));
      variants.push_back(std::move(v));
    }
  } else {
    variants.push_back({});
  }
  std::vector<std::pair<std::string, std::vector<const toml::node*>>> grid;
  if (const toml::node_view g = doc["grid"]) {
    MURMUR_CHECK(ConfigError, g.is_table(), sweep_file, ": [grid] must be a table");
    std::vector<std::pair<std::string, const toml::node*>> kv;
    Flatten(*g.as_table(), "", kv);
    for (const auto& [k, v] : kv) {
      const toml::array* arr = v->as_array();
      MURMUR_CHECK(ConfigError, arr && !arr->empty(), sweep_file, ": [grid] ", k,
                   ": expected a non-empty list of values");
      std::vector<const toml::node*> values;
      for (const toml::node& e : *arr) values.push_back(&e);
      grid.emplace_back(k, std::move(values));
    }
  }

  // Every point's config, checked before anything runs.
  std::vector<Point> points;
  std::vector<size_t> at(grid.size(), 0);
  for (const Variant& v : variants) {
    std::fill(at.begin(), at.end(), 0);
    while (true) {
      Point p;
      p.config = start;
      if (variants.size() > 1 || !v.name.empty()) {
        p.swept.emplace_back("variant", v.name);
        p.name = "variant=" + v.name;
      }
      for (const auto& [k, val] : v.kv) apply(p.config, k, *val, "variant " + v.name);
      for (size_t d = 0; d < grid.size(); ++d) {
        const toml::node& val = *grid[d].second[at[d]];
        apply(p.config, grid[d].first, val, "[grid]");
        // Floats as %.9g: 0.1, not TOML's round-trip 0.10000000000000001.
        const std::string text =
            val.is_floating_point() ? Num(*val.value<double>()) : Unquote(TomlText(val));
        p.swept.emplace_back(grid[d].first, text);
        p.name += (p.name.empty() ? "" : "__") + grid[d].first + "=" + text;
      }
      if (p.name.empty()) p.name = "base";
      p.name = Sanitize(p.name);
      if (p.name.size() > 200) p.name = p.name.substr(0, 180) + "-" + std::to_string(points.size());
      points.push_back(std::move(p));
      size_t d = 0;
      for (; d < grid.size(); ++d) {
        if (++at[d] < grid[d].second.size()) break;
        at[d] = 0;
      }
      if (d == grid.size()) break;
    }
  }
  for (size_t i = 0; i < points.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      MURMUR_CHECK(ConfigError, points[i].name != points[j].name, sweep_file, ": two points named ",
                   points[i].name, "; give the variants distinct names");

  SweepResult res;
  res.out_dir = *out;
  res.points = static_cast<int>(points.size());
  for (const Point& p : points) res.point_names.push_back(p.name);
  for (const std::string& name : options.only)
    MURMUR_CHECK(
        ConfigError,
        std::find(res.point_names.begin(), res.point_names.end(), name) != res.point_names.end(),
        "sweep --only ", name, ": no such point in ", sweep_file, " (see --dry-run)");
  if (options.dry_run) return res;
  fs::create_directories(*out);
  std::vector<std::string> columns{"point", "status"};
  for (const auto& [k, _] : points[0].swept) columns.push_back(k);
  const std::vector<std::string> fields{
      "final_acc_mean",      "final_acc_min", "final_acc_max", "final_acc_avg_model",
      "bytes_sent_per_node", "sim_seconds",   "rounds",        "wall_seconds"};
  columns.insert(columns.end(), fields.begin(), fields.end());
  columns.push_back("error");
  std::vector<std::vector<std::string>> rows;

  auto write_csv = [&] {
    const fs::path tmp = fs::path(*out) / "sweep.csv.tmp";
    {
      CsvWriter w(tmp.string(), columns);
      for (const auto& r : rows) w.row(r);
      w.flush();
    }
    fs::rename(tmp, fs::path(*out) / "sweep.csv");
  };

  for (size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    const fs::path dir = fs::path(*out) / p.name;
    const std::string tag =
        "[" + std::to_string(i + 1) + "/" + std::to_string(points.size()) + "] " + p.name;
    std::string status = "done", error;
    const bool complete = fs::exists(dir / "summary.json");
    const bool selected =
        options.only.empty() ||
        std::find(options.only.begin(), options.only.end(), p.name) != options.only.end();
    if (!selected && !complete) {
      status = "not selected";
    } else if (complete) {
      Config done;
      try {
        done = Config::FromFile((dir / "config.toml").string());
      } catch (const Error& e) {
        MURMUR_FAIL(ConfigError, dir.string(),
                    " holds a finished run whose config.toml cannot be read (", e.message(),
                    "); move it away to rerun the point");
      }
      MURMUR_CHECK(ConfigError, done == p.config, dir.string(),
                   " holds a finished run of a different config (the base or [set] changed); move "
                   "it away or change 'out' to rerun the sweep");
      ++res.skipped;
      const bool diverged = RunDiverged(dir);
      res.diverged += diverged ? 1 : 0;
      status = diverged ? "skipped (diverged)" : "skipped (complete)";
      if (!options.quiet)
        LogInfo(tag, diverged ? ": diverged before, skipped" : ": complete, skipped");
    } else {
      RunOptions ro;
      ro.out_dir = dir.string();
      ro.quiet = true;  // the sweep prints one line per point
      ro.overwrite = true;
      // An interrupted point with a checkpoint of this very config continues from it.
      if (fs::exists(dir / "config.toml") && LoadLatestCheckpoint(dir, false)) {
        try {
          ro.resume = Config::FromFile((dir / "config.toml").string()) == p.config;
        } catch (const Error&) {
        }
      }
      if (!options.quiet)
        LogInfo(tag, ro.resume         ? ": resuming from its checkpoint (interrupted before)"
                     : fs::exists(dir) ? ": rerunning (interrupted before)"
                                       : ": running");
      try {
        const RunResult r = RunExperiment(p.config, ro);
        ++res.ran;
        if (!options.quiet)
          LogInfo(tag, ": final accuracy mean ", Num(r.final_acc_mean), ", min ",
                  Num(r.final_acc_min), "; ", Num(r.bytes_sent_per_node / 1e6),
                  " MB sent per node");
      } catch (const DivergenceError& e) {
        // A result, not a failure: its summary.json says so and the point counts as done.
        ++res.ran;
        ++res.diverged;
        status = "diverged";
        error = e.message();
        LogWarn(tag, ": diverged: ", error);
      } catch (const Error& e) {
        ++res.failed;
        status = "failed";
        error = e.message();
        LogWarn(tag, ": failed: ", error);
      }
    }
    std::vector<std::string> row{p.name, status};
    for (const auto& [_, v] : p.swept) row.push_back(v);
    if (status != "failed" && status != "not selected") {
      // Results from summary.json, the wall time from timing.json.
      std::ifstream in(dir / "summary.json"), tin(dir / "timing.json");
      nlohmann::json s = nlohmann::json::parse(in, nullptr, false);
      const nlohmann::json t = nlohmann::json::parse(tin, nullptr, false);
      if (s.is_object() && t.is_object() && t.contains("wall_seconds"))
        s["wall_seconds"] = t["wall_seconds"];
      for (const std::string& f : fields)
        row.push_back(s.is_object() && s.contains(f) && s[f].is_number() ? Num(s[f].get<double>())
                                                                         : "");
    } else {
      row.insert(row.end(), fields.size(), "");
    }
    row.push_back(CsvCell(error));
    rows.push_back(std::move(row));
    write_csv();
  }
  return res;
}

}  // namespace murmur::run
