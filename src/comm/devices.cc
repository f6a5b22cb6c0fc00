#include "murmur/comm/devices.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "murmur/core/check.h"
#include "murmur/core/rng.h"

namespace murmur::comm {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return {};
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

std::vector<std::string> SplitComma(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(Trim(cell));
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// A CSV file of numbers with a header naming every column of `columns` (in any order, other
// columns ignored): one vector per row, in `columns` order. Errors name the file and line.
std::vector<std::vector<double>> ReadNumbers(const std::string& path, const std::string& key,
                                             const std::vector<std::string>& columns) {
  std::ifstream in(path);
  MURMUR_CHECK(IoError, in.good(), key, ": cannot read '", path, "'");
  std::string line;
  int64_t line_no = 1;
  MURMUR_CHECK(DataError, static_cast<bool>(std::getline(in, line)), key, ": '", path,
               "' is empty; its first line names the columns (", columns.front(), ", ...)");
  const std::vector<std::string> header = SplitComma(line);
  std::vector<size_t> at;
  for (const std::string& c : columns) {
    const auto it = std::find(header.begin(), header.end(), c);
    MURMUR_CHECK(
        DataError, it != header.end(), key, ": '", path, "' line 1 has no column '", c,
        "' (it needs ",
        [&] {
          std::string all;
          for (const std::string& n : columns) all += (all.empty() ? "" : ", ") + n;
          return all;
        }(),
        ")");
    at.push_back(static_cast<size_t>(it - header.begin()));
  }
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    ++line_no;
    if (Trim(line).empty()) continue;
    const std::vector<std::string> cells = SplitComma(line);
    std::vector<double> row;
    for (size_t k = 0; k < at.size(); ++k) {
      MURMUR_CHECK(DataError, at[k] < cells.size(), key, ": '", path, "' line ", line_no,
                   " has no value for '", columns[k], "'");
      const std::string& cell = cells[at[k]];
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(cell.c_str(), &end);
      MURMUR_CHECK(
          DataError,
          !cell.empty() && end == cell.c_str() + cell.size() && errno == 0 && std::isfinite(v), key,
          ": '", path, "' line ", line_no, ": '", cell, "' in column '", columns[k],
          "' is not a finite number");
      row.push_back(v);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

int NodeOf(double v, int nodes, const std::string& key, const std::string& path, size_t row) {
  MURMUR_CHECK(DataError, v >= 0 && v < nodes && v == std::floor(v), key, ": '", path,
               "' data row ", row + 1, " names node ", v, ", not one of 0..", nodes - 1);
  return static_cast<int>(v);
}

}  // namespace

std::vector<std::vector<double>> ReadStepTrace(const std::string& path, int nodes) {
  const std::string key = "device.trace";
  const auto rows = ReadNumbers(path, key, {"node", "seconds"});
  std::vector<std::vector<double>> trace(nodes);
  for (size_t r = 0; r < rows.size(); ++r) {
    const int i = NodeOf(rows[r][0], nodes, key, path, r);
    MURMUR_CHECK(DataError, rows[r][1] > 0, key, ": '", path, "' data row ", r + 1,
                 ": a step takes > 0 seconds, got ", rows[r][1]);
    trace[i].push_back(rows[r][1]);
  }
  return trace;
}

DeviceModel::DeviceModel(const DeviceOptions& o, double base_seconds, std::vector<double> slowdown,
                         uint64_t seed)
    : o_(o), base_(base_seconds), slowdown_(std::move(slowdown)), seed_(seed) {
  MURMUR_CHECK(ConfigError, o.node_spread >= 0 && o.step_jitter >= 0,
               "device.node_spread and device.step_jitter must be >= 0");
  const int n = nodes();
  node_factor_.assign(n, 1.0);
  for (int i = 0; i < n && o.node_spread > 0; ++i) {
    Rng rng(seed, static_cast<uint64_t>(i), Stream::kDevice);
    node_factor_[i] = std::exp(o.node_spread * rng.normal());
  }
  trace_.resize(n);
  if (!o.trace.empty()) trace_ = ReadStepTrace(o.trace, n);
}

double DeviceModel::step_seconds(int node, int64_t step) const {
  const std::vector<double>& t = trace_[node];
  if (!t.empty()) return t[static_cast<size_t>(step) % t.size()];
  double s = base_ * slowdown_[node] * node_factor_[node];
  if (o_.step_jitter > 0) {
    Rng rng(DeriveSeed(seed_, static_cast<uint64_t>(step), Stream::kDevice),
            static_cast<uint64_t>(node) + 1, Stream::kDevice);
    s *= std::exp(o_.step_jitter * rng.normal());
  }
  return s;
}

OfflinePeriod OfflinePeriod::Parse(const std::string& text, const std::string& key) {
  OfflinePeriod p;
  const size_t at = text.find('@');
  bool ok = at != std::string::npos && at > 0;
  char* end = nullptr;
  if (ok) {
    const long node = std::strtol(text.c_str(), &end, 10);
    ok = end == text.c_str() + at && node >= 0 && node < (1L << 30);
    p.node = static_cast<int>(node);
  }
  if (ok) {
    const std::string rest = text.substr(at + 1);
    const size_t colon = rest.find(':');
    p.from = std::strtod(rest.c_str(), &end);
    ok = end == rest.c_str() + (colon == std::string::npos ? rest.size() : colon) &&
         !rest.empty() && rest[0] != ':';
    if (ok && colon != std::string::npos) {
      const std::string to = rest.substr(colon + 1);
      p.to = std::strtod(to.c_str(), &end);
      ok = !to.empty() && end == to.c_str() + to.size();
    }
  }
  MURMUR_CHECK(ConfigError, ok, key, ": '", text,
               "' is not an offline period; write NODE@T0:T1 (offline from T0 to T1 simulated "
               "seconds) or NODE@T0 (gone for good)");
  MURMUR_CHECK(ConfigError, std::isfinite(p.from) && p.from >= 0 && p.to > p.from, key, ": '", text,
               "' needs 0 <= T0 < T1");
  return p;
}

ChurnModel::ChurnModel(ChurnOptions o, int nodes, uint64_t seed) : o_(std::move(o)), seed_(seed) {
  MURMUR_CHECK(ConfigError, o_.offline_fraction >= 0 && o_.offline_fraction < 1,
               "churn.offline_fraction: must be in [0, 1), got ", o_.offline_fraction);
  MURMUR_CHECK(ConfigError, o_.period_s > 0 && std::isfinite(o_.period_s),
               "churn.period_s: must be > 0, got ", o_.period_s);
  for (const OfflinePeriod& p : o_.schedule)
    MURMUR_CHECK(ConfigError, p.node < nodes, "churn.schedule: node ", p.node, " is not one of 0..",
                 nodes - 1);
  active_ = o_.offline_fraction > 0 || !o_.schedule.empty();
  random_.resize(nodes);
  generated_until_.assign(nodes, 0.0);
  draws_.assign(nodes, 0);
  if (o_.offline_fraction <= 0) generated_until_.assign(nodes, kInf);
}

const std::vector<OfflinePeriod>& ChurnModel::periods_until(int node, double t) const {
  std::vector<OfflinePeriod>& v = random_[node];
  const double f = o_.offline_fraction;
  auto draw = [&](double mean) {
    Rng rng(DeriveSeed(seed_, draws_[node]++, Stream::kChurn), static_cast<uint64_t>(node),
            Stream::kChurn);
    return -mean * std::log1p(-rng.uniform());  // Exp(mean)
  };
  if (draws_[node] == 0 && generated_until_[node] == 0.0) {
    // Start in the stationary state: offline with probability f, for a residual period.
    Rng rng(DeriveSeed(seed_, ~uint64_t{0}, Stream::kChurn), static_cast<uint64_t>(node),
            Stream::kChurn);
    if (rng.uniform() < f) {
      const double off = draw(f * o_.period_s);
      v.push_back({node, 0.0, off});
      generated_until_[node] = off;
    }
  }
  while (generated_until_[node] <= t) {
    const double on_end = generated_until_[node] + draw((1 - f) * o_.period_s);
    const double off_end = on_end + draw(f * o_.period_s);
    v.push_back({node, on_end, off_end});
    generated_until_[node] = off_end;
  }
  return v;
}

bool ChurnModel::online(int node, double t) const {
  if (!active_) return true;
  for (const OfflinePeriod& p : o_.schedule)
    if (p.node == node && t >= p.from && t < p.to) return false;
  for (const OfflinePeriod& p : periods_until(node, t))
    if (t >= p.from && t < p.to) return false;
  return true;
}

double ChurnModel::next_change(int node, double t) const {
  if (!active_) return kInf;
  double next = kInf;
  auto consider = [&](const OfflinePeriod& p) {
    if (p.from > t) next = std::min(next, p.from);
    if (p.to > t) next = std::min(next, p.to);
  };
  for (const OfflinePeriod& p : o_.schedule)
    if (p.node == node) consider(p);
  for (const OfflinePeriod& p : periods_until(node, t)) consider(p);
  return next;
}

NodeUsage& NodeUsage::operator+=(const NodeUsage& o) {
  busy_s += o.busy_s;
  online_s += o.online_s;
  steps += o.steps;
  bytes_sent += o.bytes_sent;
  bytes_received += o.bytes_received;
  return *this;
}

EnergyModel::EnergyModel(const EnergyOptions& o, int nodes) : params_(nodes, o.all) {
  auto check = [](const NodeEnergyParams& p, const std::string& where) {
    for (double v :
         {p.compute_watts, p.compute_j_per_step, p.tx_nj_per_bit, p.rx_nj_per_bit, p.idle_watts})
      MURMUR_CHECK(ConfigError, v >= 0 && std::isfinite(v), where,
                   ": energy parameters must be finite and >= 0, got ", v);
  };
  check(o.all, "energy.*");
  if (!o.classes.empty()) {
    const std::string key = "energy.classes";
    const auto rows = ReadNumbers(o.classes, key,
                                  {"node", "compute_watts", "compute_j_per_step", "tx_nj_per_bit",
                                   "rx_nj_per_bit", "idle_watts"});
    for (size_t r = 0; r < rows.size(); ++r) {
      const int i = NodeOf(rows[r][0], nodes, key, o.classes, r);
      NodeEnergyParams& p = params_[i];
      p = {rows[r][1], rows[r][2], rows[r][3], rows[r][4], rows[r][5]};
      check(p, key + " '" + o.classes + "' data row " + std::to_string(r + 1));
    }
  }
  for (const NodeEnergyParams& p : params_)
    active_ |= p.compute_watts > 0 || p.compute_j_per_step > 0 || p.tx_nj_per_bit > 0 ||
               p.rx_nj_per_bit > 0 || p.idle_watts > 0;
}

EnergyBreakdown EnergyModel::joules(int node, const NodeUsage& u) const {
  const NodeEnergyParams& p = params_[node];
  EnergyBreakdown e;
  e.compute = p.compute_j_per_step > 0 ? p.compute_j_per_step * static_cast<double>(u.steps)
                                       : p.compute_watts * u.busy_s;
  e.radio = 8e-9 * (p.tx_nj_per_bit * static_cast<double>(u.bytes_sent) +
                    p.rx_nj_per_bit * static_cast<double>(u.bytes_received));
  e.idle = p.idle_watts * std::max(0.0, u.online_s - u.busy_s);
  return e;
}

}  // namespace murmur::comm
