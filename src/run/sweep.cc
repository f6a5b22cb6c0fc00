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

using Overrides = std::vector<std::pair<std::string, const toml::node*>>;

// A named set of overrides (a [[variant]] table).
struct Variant {
  std::string name;
  Overrides kv;
};

// A [grid] key and its values.
struct Axis {
  std::string key;
  std::vector<const toml::node*> values;
};

// What a sweep file says: the directory of the points and every point's config.
struct SweepPlan {
  std::string out;
  std::vector<Point> points;
};

toml::table ParseSweepFile(const std::string& sweep_file) {
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
  return doc;
}

void Apply(Config& c, const std::string& key, const toml::node& v, const std::string& where,
           const std::string& sweep_file) {
  try {
    c.set(key + "=" + TomlText(v));
  } catch (const ConfigError& e) {
    MURMUR_FAIL(ConfigError, sweep_file, ": ", where, ": ", e.message());
  }
}

// Variants: named sets of overrides (default: one, empty).
std::vector<Variant> ReadVariants(toml::table& doc, const std::string& sweep_file) {
  std::vector<Variant> variants;
  const toml::node_view vs = doc["variant"];
  if (!vs) return {Variant{}};
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
  return variants;
}

std::vector<Axis> ReadGrid(toml::table& doc, const std::string& sweep_file) {
  std::vector<Axis> grid;
  const toml::node_view g = doc["grid"];
  if (!g) return grid;
  MURMUR_CHECK(ConfigError, g.is_table(), sweep_file, ": [grid] must be a table");
  Overrides kv;
  Flatten(*g.as_table(), "", kv);
  for (const auto& [k, v] : kv) {
    const toml::array* arr = v->as_array();
    MURMUR_CHECK(ConfigError, arr && !arr->empty(), sweep_file, ": [grid] ", k,
                 ": expected a non-empty list of values");
    Axis axis{k, {}};
    for (const toml::node& e : *arr) axis.values.push_back(&e);
    grid.push_back(std::move(axis));
  }
  return grid;
}

// One point: the variant's overrides, then the grid's values at `at`.
Point MakePoint(const Config& start, const Variant& v, bool named, const std::vector<Axis>& grid,
                const std::vector<size_t>& at, size_t index, const std::string& sweep_file) {
  Point p;
  p.config = start;
  if (named) {
    p.swept.emplace_back("variant", v.name);
    p.name = "variant=" + v.name;
  }
  for (const auto& [k, val] : v.kv) Apply(p.config, k, *val, "variant " + v.name, sweep_file);
  for (size_t d = 0; d < grid.size(); ++d) {
    const toml::node& val = *grid[d].values[at[d]];
    Apply(p.config, grid[d].key, val, "[grid]", sweep_file);
    // Floats as %.9g: 0.1, not TOML's round-trip 0.10000000000000001.
    const std::string text =
        val.is_floating_point() ? Num(*val.value<double>()) : Unquote(TomlText(val));
    p.swept.emplace_back(grid[d].key, text);
    p.name += (p.name.empty() ? "" : "__") + grid[d].key + "=" + text;
  }
  if (p.name.empty()) p.name = "base";
  p.name = Sanitize(p.name);
  if (p.name.size() > 200) p.name = p.name.substr(0, 180) + "-" + std::to_string(index);
  return p;
}

// Every point's config, checked before anything runs.
SweepPlan ReadSweep(const std::string& sweep_file) {
  toml::table doc = ParseSweepFile(sweep_file);
  const auto base = doc["base"].value<std::string>();
  MURMUR_CHECK(ConfigError, base.has_value(), sweep_file,
               ": 'base' (the config every point starts from) is missing or not a string");
  const auto out = doc["out"].value<std::string>();
  MURMUR_CHECK(ConfigError, out.has_value(), sweep_file,
               ": 'out' (the directory of the points) is missing or not a string");
  Config start = Config::FromFile((fs::path(sweep_file).parent_path() / *base).string());
  if (const toml::node_view set = doc["set"]) {
    MURMUR_CHECK(ConfigError, set.is_table(), sweep_file, ": [set] must be a table");
    Overrides kv;
    Flatten(*set.as_table(), "", kv);
    for (const auto& [k, v] : kv) Apply(start, k, *v, "[set]", sweep_file);
  }
  const std::vector<Variant> variants = ReadVariants(doc, sweep_file);
  const std::vector<Axis> grid = ReadGrid(doc, sweep_file);
  SweepPlan plan{*out, {}};
  std::vector<size_t> at(grid.size(), 0);
  for (const Variant& v : variants) {
    std::fill(at.begin(), at.end(), 0);
    const bool named = variants.size() > 1 || !v.name.empty();
    while (true) {
      plan.points.push_back(MakePoint(start, v, named, grid, at, plan.points.size(), sweep_file));
      size_t d = 0;
      for (; d < grid.size(); ++d) {
        if (++at[d] < grid[d].values.size()) break;
        at[d] = 0;
      }
      if (d == grid.size()) break;
    }
  }
  const std::vector<Point>& points = plan.points;
  for (size_t i = 0; i < points.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      MURMUR_CHECK(ConfigError, points[i].name != points[j].name, sweep_file, ": two points named ",
                   points[i].name, "; give the variants distinct names");
  return plan;
}

struct Outcome {
  std::string status = "done";
  std::string error;
};

// A point whose run directory holds a finished run: skipped, if it is this point's config.
Outcome SkipFinished(const Point& p, const fs::path& dir, const std::string& tag,
                     const SweepOptions& options, SweepResult& res) {
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
  if (!options.quiet) LogInfo(tag, diverged ? ": diverged before, skipped" : ": complete, skipped");
  return {diverged ? "skipped (diverged)" : "skipped (complete)", ""};
}

Outcome RunPoint(const Point& p, const fs::path& dir, const std::string& tag,
                 const SweepOptions& options, SweepResult& res) {
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
      LogInfo(tag, ": final accuracy mean ", Num(r.final_acc_mean), ", min ", Num(r.final_acc_min),
              "; ", Num(r.bytes_sent_per_node / 1e6), " MB sent per node");
    return {};
  } catch (const DivergenceError& e) {
    // A result, not a failure: its summary.json says so and the point counts as done.
    ++res.ran;
    ++res.diverged;
    LogWarn(tag, ": diverged: ", e.message());
    return {"diverged", std::string(e.message())};
  } catch (const Error& e) {
    ++res.failed;
    LogWarn(tag, ": failed: ", e.message());
    return {"failed", std::string(e.message())};
  }
}

const std::vector<std::string> kResultFields{
    "final_acc_mean",      "final_acc_min", "final_acc_max", "final_acc_avg_model",
    "bytes_sent_per_node", "sim_seconds",   "rounds",        "wall_seconds"};

// sweep.csv's row of a point: its swept values, then the results from summary.json and the
// wall time from timing.json.
std::vector<std::string> ResultRow(const Point& p, const fs::path& dir, const Outcome& o) {
  std::vector<std::string> row{p.name, o.status};
  for (const auto& [_, v] : p.swept) row.push_back(v);
  if (o.status != "failed" && o.status != "not selected") {
    std::ifstream in(dir / "summary.json"), tin(dir / "timing.json");
    nlohmann::json s = nlohmann::json::parse(in, nullptr, false);
    const nlohmann::json t = nlohmann::json::parse(tin, nullptr, false);
    if (s.is_object() && t.is_object() && t.contains("wall_seconds"))
      s["wall_seconds"] = t["wall_seconds"];
    for (const std::string& f : kResultFields)
      row.push_back(s.is_object() && s.contains(f) && s[f].is_number() ? Num(s[f].get<double>())
                                                                       : "");
  } else {
    row.insert(row.end(), kResultFields.size(), "");
  }
  row.push_back(CsvCell(o.error));
  return row;
}

void WriteSweepCsv(const fs::path& out, const std::vector<std::string>& columns,
                   const std::vector<std::vector<std::string>>& rows) {
  const fs::path tmp = out / "sweep.csv.tmp";
  {
    CsvWriter w(tmp.string(), columns);
    for (const auto& r : rows) w.row(r);
    w.flush();
  }
  fs::rename(tmp, out / "sweep.csv");
}

}  // namespace

SweepResult RunSweep(const std::string& sweep_file, const SweepOptions& options) {
  const SweepPlan plan = ReadSweep(sweep_file);
  const std::vector<Point>& points = plan.points;
  SweepResult res;
  res.out_dir = plan.out;
  res.points = static_cast<int>(points.size());
  for (const Point& p : points) res.point_names.push_back(p.name);
  auto selected = [&](const std::string& name) {
    return std::find(options.only.begin(), options.only.end(), name) != options.only.end();
  };
  for (const std::string& name : options.only)
    MURMUR_CHECK(
        ConfigError,
        std::find(res.point_names.begin(), res.point_names.end(), name) != res.point_names.end(),
        "sweep --only ", name, ": no such point in ", sweep_file, " (see --dry-run)");
  if (options.dry_run) return res;
  fs::create_directories(plan.out);
  std::vector<std::string> columns{"point", "status"};
  for (const auto& [k, _] : points[0].swept) columns.push_back(k);
  columns.insert(columns.end(), kResultFields.begin(), kResultFields.end());
  columns.push_back("error");
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    const fs::path dir = fs::path(plan.out) / p.name;
    const std::string tag =
        "[" + std::to_string(i + 1) + "/" + std::to_string(points.size()) + "] " + p.name;
    Outcome o;
    if (fs::exists(dir / "summary.json"))
      o = SkipFinished(p, dir, tag, options, res);
    else if (options.only.empty() || selected(p.name))
      o = RunPoint(p, dir, tag, options, res);
    else
      o.status = "not selected";
    rows.push_back(ResultRow(p, dir, o));
    WriteSweepCsv(plan.out, columns, rows);
  }
  return res;
}

}  // namespace murmur::run
