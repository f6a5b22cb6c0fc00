#include "murmur/run/report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <sys/wait.h>

#include "murmur/algo/algorithm.h"
#include "murmur/core/check.h"
#include "murmur/run/metrics.h"

namespace murmur::run {
namespace {

namespace fs = std::filesystem;

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int column(const std::string& name, const std::string& path, bool required = true) const {
    for (size_t k = 0; k < header.size(); ++k)
      if (header[k] == name) return static_cast<int>(k);
    MURMUR_CHECK(DataError, !required, path, ": no column '", name, "'");
    return -1;
  }
};

Csv ReadCsv(const fs::path& path) {
  std::ifstream in(path);
  MURMUR_CHECK(IoError, in.good(), path.string(), ": cannot open (", std::strerror(errno), ")");
  Csv csv;
  std::string line;
  for (size_t n = 0; std::getline(in, line); ++n) {
    std::vector<std::string> cells;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    if (n == 0) {
      csv.header = std::move(cells);
      continue;
    }
    if (line.empty()) continue;
    // A run still being written may end in a partial line: keep only complete rows.
    if (cells.size() != csv.header.size()) break;
    csv.rows.push_back(std::move(cells));
  }
  MURMUR_CHECK(DataError, !csv.header.empty(), path.string(), ": empty file");
  return csv;
}

double Number(const std::string& s, const fs::path& path) {
  if (s.empty()) return std::nan("");
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  MURMUR_CHECK(DataError, end == s.c_str() + s.size(), path.string(), ": '", s,
               "' is not a number");
  return v;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

bool Ignored(const std::string& key, bool with_seed) {
  return key.rfind("output.", 0) == 0 || key.rfind("comm.", 0) == 0 || key == "run.threads" ||
         (!with_seed && key == "run.seed");
}

// The short name of a key in labels: the section for "<section>.name" (algorithm=choco), else
// the last component (ratio=0.1), else the key itself.
std::string ShortKey(const std::string& key) {
  const size_t dot = key.find('.');
  const std::string section = key.substr(0, dot), name = key.substr(dot + 1);
  if (name == "name") return section;
  return name;
}

// "key=value" with strings unquoted.
std::string Setting(const Config& c, const std::string& key, const std::string& shown) {
  std::string v = c.show(key);
  if (v.size() >= 2 && v.front() == '"') return shown + "=" + v.substr(1, v.size() - 2);
  // Numbers, alone or in a list, with 6 significant digits: 0.1, not 0.10000000000000001.
  std::string out, token;
  auto flush = [&] {
    char* end = nullptr;
    const double d = std::strtod(token.c_str(), &end);
    if (!token.empty() && end == token.c_str() + token.size() &&
        token.find('.') != std::string::npos) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", d);
      out += buf;
    } else {
      out += token;
    }
    token.clear();
  };
  for (char ch : v) {
    if (ch == '[' || ch == ']' || ch == ',' || ch == ' ') {
      flush();
      out += ch;
    } else {
      token += ch;
    }
  }
  flush();
  return shown + "=" + out;
}

}  // namespace

RunRecord LoadRun(const std::string& dir_name) {
  const fs::path dir(dir_name);
  MURMUR_CHECK(IoError, fs::is_directory(dir), dir_name, ": not a run directory");
  RunRecord r;
  r.dir = dir_name;
  r.config = Config::FromFile((dir / "config.toml").string());
  const int n = static_cast<int>(r.config.get_int("run.nodes"));

  // Per round: bytes sent (all nodes) and simulated time.
  const fs::path mpath = dir / "metrics.csv";
  const Csv m = ReadCsv(mpath);
  const int c_round = m.column("round", mpath.string()),
            c_bytes = m.column("bytes_sent", mpath.string());
  const int c_sim = m.column("sim_seconds", mpath.string(), false);
  std::map<int64_t, double> bytes, sim;
  for (const auto& row : m.rows) {
    const int64_t round = static_cast<int64_t>(Number(row[c_round], mpath));
    bytes[round] += Number(row[c_bytes], mpath);
    if (c_sim >= 0) sim[round] = Number(row[c_sim], mpath);
  }
  std::map<int64_t, double> cumulative;
  double total = 0;
  for (const auto& [round, b] : bytes) cumulative[round] = (total += b) / n;

  const fs::path epath = dir / "eval.csv";
  const Csv e = ReadCsv(epath);
  const int e_round = e.column("round", epath.string()),
            e_acc = e.column("test_acc", epath.string());
  const int e_cons = e.column("consensus_distance", epath.string());
  std::map<int64_t, std::vector<double>> accs;
  std::map<int64_t, double> cons;
  for (const auto& row : e.rows) {
    const int64_t round = static_cast<int64_t>(Number(row[e_round], epath));
    accs[round].push_back(Number(row[e_acc], epath));
    cons[round] = Number(row[e_cons], epath);
  }
  for (const auto& [round, a] : accs) {
    if (static_cast<int>(a.size()) != n) continue;  // an evaluation still being written
    CurvePoint p;
    p.round = round;
    p.acc_min = *std::min_element(a.begin(), a.end());
    p.acc_max = *std::max_element(a.begin(), a.end());
    for (double v : a) p.acc_mean += v / n;
    p.consensus = cons[round];
    p.bytes_per_node = cumulative.count(round) ? cumulative[round] : 0.0;
    p.sim_seconds = sim.count(round) ? sim[round] : std::nan("");  // runs before sim_seconds
    r.curve.push_back(p);
  }

  const fs::path spath = dir / "summary.json";
  if (fs::exists(spath)) {
    std::ifstream in(spath);
    nlohmann::json s;
    try {
      s = nlohmann::json::parse(in);
      r.diverged = s.value("status", "") == "diverged";
      if (r.diverged) {
        r.diverged_round = s.at("diverged_round").get<int64_t>();
        r.final_acc_mean = r.final_acc_min = std::nan("");
      } else {
        // Under attack (faults.byzantine) the honest nodes' figures are the ones to compare.
        const bool honest = s.contains("final_acc_honest_mean");
        r.final_acc_mean = s.at(honest ? "final_acc_honest_mean" : "final_acc_mean").get<double>();
        r.final_acc_min = s.at(honest ? "final_acc_honest_min" : "final_acc_min").get<double>();
      }
      r.bytes_per_node = s.at("bytes_sent_per_node").get<double>();
      r.sim_seconds = s.value("sim_seconds", 0.0);
    } catch (const nlohmann::json::exception& ex) {
      MURMUR_FAIL(DataError, spath.string(), ": ", ex.what());
    }
    r.finished = true;
  } else if (!r.curve.empty()) {  // still running: its latest evaluation
    r.final_acc_mean = r.curve.back().acc_mean;
    r.final_acc_min = r.curve.back().acc_min;
    r.bytes_per_node = r.curve.back().bytes_per_node;
    r.sim_seconds = r.curve.back().sim_seconds;
  }
  return r;
}

std::vector<std::string> ExpandRunDirs(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& a : args) {
    const fs::path p(a);
    MURMUR_CHECK(IoError, fs::is_directory(p), a, ": no such directory");
    if (fs::exists(p / "config.toml")) {
      out.push_back(a);
      continue;
    }
    std::vector<std::string> inner;
    for (const auto& entry : fs::directory_iterator(p))
      if (entry.is_directory() && fs::exists(entry.path() / "config.toml"))
        inner.push_back(entry.path().string());
    MURMUR_CHECK(IoError, !inner.empty(), a, ": neither a run directory (no config.toml) nor a ",
                 "directory of runs");
    std::sort(inner.begin(), inner.end());
    out.insert(out.end(), inner.begin(), inner.end());
  }
  return out;
}

namespace {

// Whether a key says anything about this run: algorithm sections only for their algorithm,
// compression parameters only when something is compressed, a partitioner's, topology's or
// dataset's parameters only for that one.
bool Relevant(const Config& c, const std::string& key) {
  // An algorithm's own keys say something only for the algorithms that own them.
  bool owned = false;
  for (const auto* entry : algo::AlgorithmRegistry().entries())
    for (const OptionSpec& spec : entry->value.keys)
      if (spec.key == key) {
        if (entry->name == c.get_string("algorithm.name")) return true;
        owned = true;
      }
  if (owned) return false;
  if (key.rfind("compression.", 0) == 0 && key != "compression.name")
    return c.get_string("compression.name") != "none";
  const std::string& partition = c.get_string("partition.name");
  if (key == "partition.alpha" || key == "partition.min_samples") return partition == "dirichlet";
  if (key == "partition.shards_per_node") return partition == "shards";
  if (key == "topology.degree") return c.get_string("topology.name") == "regular";
  if (key.rfind("data.synthetic_", 0) == 0) return c.get_string("data.name") == "synthetic";
  return true;
}

}  // namespace

namespace {

// The keys (in schema order) that `keep` selects and whose values differ between the runs.
template <typename Keep>
std::vector<std::string> DifferingKeys(const std::vector<const RunRecord*>& runs, Keep keep) {
  std::vector<std::string> differing;
  for (const KeySpec& k : Schema()) {
    if (!keep(k.key)) continue;
    for (const RunRecord* r : runs)
      if (r->config.show(k.key) != runs[0]->config.show(k.key)) {
        differing.push_back(k.key);
        break;
      }
  }
  return differing;
}

std::vector<std::string> Labels(const std::vector<const RunRecord*>& runs, bool with_seed) {
  const std::vector<std::string> differing =
      DifferingKeys(runs, [&](const std::string& key) { return !Ignored(key, with_seed); });
  // Short key names where they stay unambiguous among the differing keys.
  std::vector<std::string> shown;
  for (const std::string& k : differing) shown.push_back(ShortKey(k));
  for (size_t a = 0; a < shown.size(); ++a)
    for (size_t b = 0; b < shown.size(); ++b)
      if (a != b && shown[a] == shown[b]) shown[a] = differing[a];
  std::vector<std::string> labels;
  for (const RunRecord* r : runs) {
    std::string l;
    for (size_t k = 0; k < differing.size(); ++k)
      if (Relevant(r->config, differing[k]))
        l += (l.empty() ? "" : ", ") + Setting(r->config, differing[k], shown[k]);
    labels.push_back(l.empty() ? fs::path(r->dir).filename().string() : l);
  }
  return labels;
}

// Runs with equal labels, in the order the labels first appear.
struct Groups {
  std::vector<std::string> label;
  std::vector<std::vector<const RunRecord*>> runs;
};
Groups GroupByLabel(const std::vector<const RunRecord*>& runs,
                    const std::vector<std::string>& labels) {
  Groups g;
  for (size_t i = 0; i < runs.size(); ++i) {
    auto it = std::find(g.label.begin(), g.label.end(), labels[i]);
    if (it == g.label.end()) {
      g.label.push_back(labels[i]);
      g.runs.emplace_back();
      it = g.label.end() - 1;
    }
    g.runs[it - g.label.begin()].push_back(runs[i]);
  }
  return g;
}

// Runs that differ only in run.seed.
Groups GroupBySetting(const std::vector<const RunRecord*>& runs) {
  return GroupByLabel(runs, Labels(runs, false));
}

}  // namespace

std::vector<std::string> RunLabels(const std::vector<RunRecord>& runs, bool with_seed) {
  std::vector<const RunRecord*> all;
  for (const RunRecord& r : runs) all.push_back(&r);
  return Labels(all, with_seed);
}

namespace {

bool FullSharing(const Config& c) {
  return algo::GetAlgorithm(c.get_string("algorithm.name")).traits.full_sharing &&
         c.get_string("compression.name") == "none";
}

// First evaluation reaching `target`: its round and simulated time.
const CurvePoint* Reach(const RunRecord& r, double target) {
  for (const CurvePoint& p : r.curve)
    if (p.acc_mean >= target) return &p;
  return nullptr;
}

}  // namespace

namespace {

// Keys that define the problem rather than the method: runs are compared within a problem.
bool ProblemKey(const std::string& key) {
  return key.rfind("data.", 0) == 0 || key.rfind("partition.", 0) == 0 ||
         key.rfind("model.", 0) == 0 || key == "run.nodes";
}

// The table of one problem's runs.
std::string CompareTable(const std::vector<const RunRecord*>& runs, const CompareOptions& o) {
  const Groups groups = GroupBySetting(runs);
  int ref = -1;
  for (size_t g = 0; g < groups.runs.size() && ref < 0; ++g)
    for (const RunRecord* r : groups.runs[g])
      if (o.reference.empty() ? FullSharing(r->config) && !r->diverged
                              : fs::equivalent(fs::path(r->dir), fs::path(o.reference)))
        ref = static_cast<int>(g);
  // Means over the runs of a group that did not diverge (bytes: over all of them).
  auto mean_of = [](const std::vector<const RunRecord*>& g, auto field, bool all = false) {
    double s = 0;
    int k = 0;
    for (const RunRecord* r : g)
      if (all || !r->diverged) s += field(*r), ++k;
    return k ? s / k : std::nan("");
  };
  double target = o.target;
  if (target < 0 && ref >= 0)
    target = mean_of(groups.runs[ref], [](const RunRecord& r) { return r.final_acc_mean; }) - 0.01;
  if (std::isnan(target)) target = -1;
  const double ref_bytes =
      ref >= 0 ? mean_of(
                     groups.runs[ref], [](const RunRecord& r) { return r.bytes_per_node; }, true)
               : 0;

  std::ostringstream os;
  os << "| run | seeds | final acc mean | final acc min | MB sent/node | compression";
  if (target >= 0) os << " | rounds to " << Fixed(target, 4) << " | sim s to " << Fixed(target, 4);
  os << " |\n|---|---|---|---|---|---";
  if (target >= 0) os << "|---|---";
  os << "|\n";
  for (size_t g = 0; g < groups.runs.size(); ++g) {
    const auto& runs_g = groups.runs[g];
    std::vector<double> accs;
    std::string diverged_at;
    bool unfinished = false;
    for (const RunRecord* r : runs_g) {
      unfinished |= !r->finished;
      if (r->diverged)
        diverged_at +=
            (diverged_at.empty() ? std::string() : ", ") + std::to_string(r->diverged_round);
      else
        accs.push_back(r->final_acc_mean);
    }
    const double acc = mean_of(runs_g, [](const RunRecord& r) { return r.final_acc_mean; });
    double var = 0;
    for (double a : accs) var += (a - acc) * (a - acc);
    const double sd = accs.size() > 1 ? std::sqrt(var / (accs.size() - 1)) : 0.0;
    const double bytes = mean_of(
        runs_g, [](const RunRecord& r) { return r.bytes_per_node; }, true);
    const size_t n_div = runs_g.size() - accs.size();
    os << "| " << groups.label[g] << (static_cast<int>(g) == ref ? " (reference)" : "")
       << (unfinished ? " (unfinished)" : "") << " | " << runs_g.size() << " | ";
    if (accs.empty()) {
      os << "diverged (round " << diverged_at << ") | – | ";
    } else {
      os << Fixed(acc, 4) << (accs.size() > 1 ? " ± " + Fixed(sd, 4) : "")
         << (n_div ? " (" + std::to_string(n_div) + " diverged, round " + diverged_at + ")" : "")
         << " | " << Fixed(mean_of(runs_g, [](const RunRecord& r) { return r.final_acc_min; }), 4)
         << " | ";
    }
    os << Fixed(bytes / 1e6, 2) << " | "
       << (ref >= 0 && bytes > 0 ? Fixed(ref_bytes / bytes, 1) + "×" : "–");
    if (target >= 0) {
      int reached = 0;
      double rounds = 0, sim = 0;
      for (const RunRecord* r : runs_g)
        if (const CurvePoint* p = Reach(*r, target)) {
          ++reached;
          rounds += static_cast<double>(p->round + 1);
          sim += p->sim_seconds;
        }
      if (reached == static_cast<int>(runs_g.size()))
        os << " | " << Fixed(rounds / reached, 0) << " | "
           << (std::isnan(sim) ? "–" : Num(sim / reached));
      else
        os << " | not reached (" << reached << "/" << runs_g.size() << ") | –";
    }
    os << " |\n";
  }
  if (ref < 0)
    os << "\nNo full-sharing run (dpsgd, allreduce or sgp without compression) among these; "
          "pass --reference RUN_DIR for the compression column.\n";
  else
    os << "\ncompression = MB sent per node by the reference / by the row; rounds to target "
          "count the rounds up to the first evaluation whose mean accuracy reached it (mean "
          "over seeds).\n";
  return os.str();
}

}  // namespace

std::string CompareMarkdown(const std::vector<RunRecord>& runs, const CompareOptions& o) {
  MURMUR_CHECK(ConfigError, !runs.empty(), "compare: no runs");
  bool ref_found = o.reference.empty();
  for (const RunRecord& r : runs)
    ref_found = ref_found || fs::equivalent(fs::path(r.dir), fs::path(o.reference));
  MURMUR_CHECK(ConfigError, ref_found, "compare --reference ", o.reference,
               ": not one of the runs compared");
  // Problems: the runs whose problem keys agree.
  std::vector<const RunRecord*> all;
  for (const RunRecord& r : runs) all.push_back(&r);
  const std::vector<std::string> problem_keys = DifferingKeys(all, ProblemKey);
  std::vector<std::string> names;
  for (const RunRecord* r : all) {
    std::string name;
    for (const std::string& k : problem_keys)
      name += (name.empty() ? "" : ", ") + Setting(r->config, k, k);
    names.push_back(name);
  }
  const Groups problems = GroupByLabel(all, names);
  const auto& members = problems.runs;
  if (members.size() == 1) return CompareTable(members[0], o);
  std::string out;
  for (size_t p = 0; p < members.size(); ++p) {
    CompareOptions po = o;
    bool has_ref = false;
    for (const RunRecord* r : members[p])
      has_ref = has_ref ||
                (!o.reference.empty() && fs::equivalent(fs::path(r->dir), fs::path(o.reference)));
    if (!has_ref) po.reference.clear();  // the default reference of this problem
    if (p) out += '\n';
    out += "### " + problems.label[p] + "\n\n";
    out += CompareTable(members[p], po);
  }
  return out;
}

std::string PlotScript(const std::vector<RunRecord>& runs, const PlotOptions& o) {
  MURMUR_CHECK(ConfigError, !runs.empty(), "plot: no runs");
  MURMUR_CHECK(ConfigError, o.x == "round" || o.x == "bytes" || o.x == "sim_time", "plot --x: '",
               o.x, "' is not round, bytes or sim_time");
  const std::string ext = fs::path(o.out).extension().string();
  MURMUR_CHECK(ConfigError, ext == ".png" || ext == ".svg", "plot --out ", o.out,
               ": the file must end in .png or .svg");
  for (char ch : o.out)
    MURMUR_CHECK(ConfigError, ch != '"' && ch != '\\', "plot --out: no quotes or backslashes");
  if (o.x == "sim_time")
    for (const RunRecord& r : runs)
      MURMUR_CHECK(ConfigError, r.curve.empty() || !std::isnan(r.curve[0].sim_seconds), "plot --x ",
                   "sim_time: ", r.dir, " has no sim_seconds (it predates the network model); use ",
                   "--x round or bytes");
  auto quoted = [](const std::string& s) {
    std::string q = "\"";
    for (char ch : s) q += (ch == '"' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
    return q + "\"";
  };
  auto x_of = [&](const CurvePoint& p) {
    return o.x == "round"   ? static_cast<double>(p.round + 1)
           : o.x == "bytes" ? p.bytes_per_node / 1e6
                            : p.sim_seconds;
  };
  // One series per setting: a run alone, or the mean over its seeds at the rounds all of
  // them evaluated.
  std::vector<const RunRecord*> all;
  for (const RunRecord& r : runs) all.push_back(&r);
  const Groups groups = GroupBySetting(all);
  std::ostringstream os;
  os << "# murmur plot: " << runs.size() << " run(s), " << groups.runs.size()
     << " setting(s); data inline. Rerun: gnuplot THIS_FILE\n";
  os << (ext == ".png" ? "set terminal pngcairo size 1100,800 noenhanced font \",10\"\n"
                       : "set terminal svg size 1100,800 noenhanced font \"sans,10\"\n");
  os << "set output " << quoted(o.out) << "\n";
  os << "set datafile missing \"?\"\n";  // a consensus distance of 0 (exact averaging)
  bool any_consensus = false;
  std::vector<std::string> titles;
  for (size_t g = 0; g < groups.runs.size(); ++g) {
    const auto& members = groups.runs[g];
    os << "$run" << g << " << EOD\n";
    for (const CurvePoint& p0 : members[0]->curve) {
      double x = 0, mean = 0, lo = 0, hi = 0, cons = 0;
      bool everywhere = true;
      std::vector<double> means;
      for (const RunRecord* r : members) {
        auto it = std::find_if(r->curve.begin(), r->curve.end(),
                               [&](const CurvePoint& q) { return q.round == p0.round; });
        if (it == r->curve.end()) {
          everywhere = false;
          break;
        }
        x += x_of(*it) / members.size();
        cons += it->consensus / members.size();
        means.push_back(it->acc_mean);
      }
      if (!everywhere) continue;
      for (double m : means) mean += m / means.size();
      lo = members.size() > 1 ? *std::min_element(means.begin(), means.end()) : p0.acc_min;
      hi = members.size() > 1 ? *std::max_element(means.begin(), means.end()) : p0.acc_max;
      any_consensus |= cons > 0;
      os << Num(x) << " " << Num(mean) << " " << Num(lo) << " " << Num(hi) << " "
         << (cons > 0 ? Num(cons) : "?") << "\n";
    }
    os << "EOD\n";
    titles.push_back(groups.label[g] + (members.size() > 1
                                            ? " (" + std::to_string(members.size()) + " seeds)"
                                            : std::string()));
  }
  // Ten colours (Tableau 10), then dash patterns: 40 settings before a style repeats.
  static const char* kColours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                   "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  for (size_t g = 0; g < groups.runs.size(); ++g)
    os << "set linetype " << g + 1 << " lc rgb \"" << kColours[g % 10] << "\" dt " << g / 10 % 4 + 1
       << " pt " << 7 + 2 * (g / 10 % 4) << "\n";
  const std::string xlabel = o.x == "round"   ? "round"
                             : o.x == "bytes" ? "MB sent per node"
                                              : "simulated seconds (network model)";
  os << "set multiplot layout 2,1 title " << quoted(o.title.empty() ? "murmur" : o.title) << "\n"
     << "set grid\nset key below Left reverse\nset xlabel " << quoted(xlabel) << "\n"
     << "set ylabel \"test accuracy (band: min-max)\"\nset yrange [0:1]\n"
     << "set style fill transparent solid 0.15 noborder\nplot ";
  for (size_t i = 0; i < groups.runs.size(); ++i)
    os << (i ? ", \\\n     " : "") << "$run" << i << " using 1:3:4 with filledcurves lt " << i + 1
       << " notitle, $run" << i << " using 1:2 with linespoints lt " << i + 1 << " ps 0.5 title "
       << quoted(titles[i]);
  os << "\nunset key\n";
  if (any_consensus) {
    os << "set ylabel \"consensus distance (log; 0 not drawn)\"\nset autoscale y\n"
       << "set logscale y\nset format y \"%g\"\nplot ";
    for (size_t i = 0; i < groups.runs.size(); ++i)
      os << (i ? ", \\\n     " : "") << "$run" << i << " using 1:5 with linespoints lt " << i + 1
         << " ps 0.5 title " << quoted(titles[i]);
  } else {  // every run averages exactly: nothing to draw on a log axis
    os << "set ylabel \"consensus distance\"\nset yrange [-1:1]\n"
       << "set label 1 \"0 in every run (exact averaging)\" at graph 0.5, graph 0.5 center\n"
       << "plot NaN notitle";
  }
  os << "\nunset multiplot\n";
  return os.str();
}

void Plot(const std::vector<RunRecord>& runs, const PlotOptions& o) {
  const std::string script = PlotScript(runs, o);
  const std::string gp = o.out + ".gp";
  {
    std::ofstream out(gp);
    MURMUR_CHECK(IoError, out.good(), gp, ": cannot create (", std::strerror(errno), ")");
    out << script;
  }
  std::string cmd = "gnuplot '";
  for (char ch : gp) cmd += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  cmd += "' 2>&1";
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  MURMUR_CHECK(IoError, pipe, "plot: cannot start gnuplot");
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe)) output += buf;
  const int status = ::pclose(pipe);
  MURMUR_CHECK(IoError, !(WIFEXITED(status) && WEXITSTATUS(status) == 127),
               "plot: gnuplot not found; install it (apt-get install gnuplot-nox)");
  MURMUR_CHECK(IoError, WIFEXITED(status) && WEXITSTATUS(status) == 0, "plot: gnuplot failed on ",
               gp, ": ", output);
  MURMUR_CHECK(IoError, fs::exists(o.out) && fs::file_size(o.out) > 0, "plot: gnuplot wrote no ",
               o.out, ": ", output);
}

}  // namespace murmur::run
