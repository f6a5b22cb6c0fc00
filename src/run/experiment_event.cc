// The parts of Experiment::Impl that the event-driven simulation adds (sim.mode = "event",
// docs/simulation.md): device step times, churn, energy, and the asynchronous algorithms'
// rounds, which are windows of simulated time run by AsyncEngine (event_sim.h).
#include <algorithm>
#include <cmath>
#include <limits>

#include "experiment_impl.h"
#include "murmur/core/log.h"

namespace murmur::run {

// Called by place_nodes once the network model exists.
void Experiment::Impl::build_simulation() {
  const comm::DeviceOptions dev = DeviceOptionsFrom(config_);
  const comm::ChurnOptions churn = ChurnOptionsFrom(config_);
  energy_.emplace(EnergyOptionsFrom(config_), n_);
  if (!sim_.event) {
    MURMUR_CHECK(ConfigError,
                 dev.trace.empty() && dev.node_spread == 0 && dev.step_jitter == 0 &&
                     dev.seconds_per_step == 0 && churn.offline_fraction == 0 &&
                     churn.schedule.empty(),
                 "device.* and churn.* act in the event-driven simulation; set sim.mode = "
                 "\"event\" (docs/simulation.md)");
    extended_ = energy_->active();
    return;
  }
  MURMUR_CHECK(ConfigError, ranks_ == 1, "sim.mode = \"event\" runs in one process; this is ",
               ranks_, " MPI ranks (docs/distributed.md says what an MPI version would take); ",
               "run it without mpirun, or use sim.mode = \"rounds\"");
  MURMUR_CHECK(ConfigError, s_.model_compute,
               "sim.mode = \"event\" takes compute times from the device model; set "
               "network.compute = \"model\"");
  std::vector<double> slowdown(n_);
  for (int i = 0; i < n_; ++i) slowdown[i] = network_->slowdown(i);
  const double base =
      dev.seconds_per_step > 0 ? s_.local_steps * dev.seconds_per_step : model_compute_base();
  device_.emplace(dev, base, std::move(slowdown), s_.seed);
  for (int i = 0; i < n_; ++i)
    MURMUR_CHECK(
        ConfigError, device_->traced(i) || device_->step_seconds(i, 0) > 0,
        "sim.mode = \"event\": node ", i, "'s local steps take no simulated time; set ",
        "network.seconds_per_sample > 0 or device.seconds_per_step > 0 (or give every node "
        "a row in device.trace)");
  churn_.emplace(churn, n_, s_.seed);
  extended_ = true;
}

double Experiment::Impl::model_compute_base() const {
  return s_.local_steps * s_.batch_size * s_.seconds_per_sample;
}

std::vector<std::string> Experiment::Impl::metric_columns() const {
  std::vector<std::string> c = kMetricColumns();
  if (extended_)
    for (const char* e : {"online_s", "busy_s", "energy_j", "staleness_mean", "staleness_max"})
      c.emplace_back(e);
  return c;
}

// An asynchronous algorithm keeps the models itself; the nodes' models and loaders train the
// local steps the engine asks for.
void Experiment::Impl::check_async_config() const {
  auto refuse = [&](bool bad, const std::string& what) {
    MURMUR_CHECK(ConfigError, !bad, "algorithm.name = ", s_.algorithm, " (asynchronous): ", what);
  };
  refuse(!sim_.event, "it runs in the event-driven simulation; set sim.mode = \"event\"");
  refuse(s_.final_gossip_rounds > 0,
         "run.final_gossip_rounds has no meaning without rounds; set 0");
  refuse(byzantine_.active(), "faults.byzantine is not supported; remove it");
  const comm::FaultOptions f = FaultOptionsFrom(config_);
  refuse(!f.crashes.empty() || !f.link_down.empty() || f.delay_prob > 0,
         "faults.crash, link_down and delay count rounds; use churn.* (faults.loss works)");
  refuse(oopt_.quasi_global, "train.quasi_global_momentum needs rounds; set it to false");
}

void Experiment::Impl::build_async(const algo::AlgorithmContext& actx) {
  check_async_config();
  // A unit slip (milliseconds for seconds, ...) would make a window hold billions of events.
  for (int i = 0; i < n_; ++i)
    MURMUR_CHECK(ConfigError, device_->step_seconds(i, 0) * 1e6 >= sim_.window_s,
                 "sim.window_s = ", sim_.window_s,
                 " holds more than a million local-steps "
                 "rounds of node ",
                 i, " (", device_->step_seconds(i, 0),
                 " s each): check network.seconds_per_sample / device.seconds_per_step, or "
                 "shorten sim.window_s");
  async_ = algo::GetAlgorithm(s_.algorithm).make_async(actx);
  auto train = [this](int i, std::span<float> start, double started_at) {
    const int64_t window = static_cast<int64_t>(std::floor(started_at / sim_.window_s));
    const double lr = s_.lr.at(std::min(window, s_.rounds - 1));
    const std::span<float> p = models_[i]->params();
    std::copy(start.begin(), start.end(), p.begin());
    const double loss = models_[i]->train_steps(s_.local_steps, s_.batch_size, lr, *loaders_[i]);
    for (size_t k = 0; k < start.size(); ++k) start[k] = p[k] - start[k];
    return loss;
  };
  engine_ = std::make_unique<AsyncEngine>(*async_, *network_, *device_, *churn_, *faults_, n_,
                                          *pool_, train);
}

// Churn in synchronous rounds: the nodes offline when the round starts sit it out (as crashed
// nodes do; the algorithm's rule for missing messages applies).
void Experiment::Impl::set_churn(int64_t round) {
  if (!churn_ || !churn_->active()) return;
  std::vector<bool> offline(n_);
  for (int i = 0; i < n_; ++i) offline[i] = !churn_->online(i, sim_total_);
  faults_->set_offline(static_cast<uint32_t>(round), std::move(offline));
}

// The models as the algorithm holds them, into the nodes' models (for evaluation and files).
void Experiment::Impl::publish_async_models() {
  engine_->flush();
  for (int i = 0; i < n_; ++i) {
    const std::span<const float> x = async_->model(i);
    std::copy(x.begin(), x.end(), models_[i]->params().begin());
    bad_[i] = FirstNonFiniteIn(models_[i]->params());
  }
  check_models(next_round_, "the simulated window ", true);
}

void Experiment::Impl::async_round(int64_t round) {
  const double lr = s_.lr.at(round);
  const auto t0 = Clock::now();
  engine_->run_until(static_cast<double>(round + 1) * sim_.window_s);
  train_s_ += Seconds(t0, Clock::now());
  for (int i = 0; i < n_; ++i) {
    const NodeWindow w = engine_->take_window(i);
    transport_->set_counters(i, w.counters);
    trained_[i] = w.loss_count > 0;
    losses_[i] = trained_[i] ? w.loss_sum / static_cast<double>(w.loss_count) : 0.0;
    MURMUR_CHECK(DivergenceError, std::isfinite(losses_[i]), "training diverged: node ", i,
                 " has loss ", losses_[i], " in window ", round, advice(true));
    usage_round_[i] = w.usage;
    stale_round_[i] = w.staleness;
  }
  end_round(round, lr, record_metrics(round, lr, true, sim_.window_s));
}

// A synchronous round's usage: compute while training, online for the round unless down.
void Experiment::Impl::sync_usage(int64_t round, double seconds, bool training) {
  const uint32_t r32 = static_cast<uint32_t>(round);
  for (int i = 0; i < n_; ++i) {
    comm::NodeUsage& u = usage_round_[i];
    u = comm::NodeUsage{};
    if (faults_->down(i, r32)) continue;
    u.online_s = seconds;
    if (training) {
      u.busy_s = compute_s_[i] * network_->slowdown(i);
      u.steps = 1;
    }
  }
}

// The simulation's cells of node i's row: this round's online and busy seconds, joules, and
// the staleness of what it took in (asynchronous algorithms).
void Experiment::Impl::add_energy(std::vector<std::string>& row, int i) {
  comm::NodeUsage& u = usage_round_[i];
  const comm::ByteCounters& c = transport_->counters(i);  // the engine's, in windows
  u.bytes_sent = c.bytes_sent - usage_total_[i].bytes_sent;
  u.bytes_received = c.bytes_received - usage_total_[i].bytes_received;
  usage_total_[i] += u;
  const double joules = energy_->joules(i, usage_total_[i]).total();
  const double spent = joules - energy_before_[i];
  energy_before_[i] = joules;
  const algo::AsyncAlgorithm::Staleness& st = stale_round_[i];
  row.push_back(Num(u.online_s));
  row.push_back(Num(u.busy_s));
  row.push_back(Num(spent));
  row.push_back(st.count ? Num(st.sum / static_cast<double>(st.count)) : "");
  row.push_back(st.count ? std::to_string(st.max) : "");
  stale_total_.sum += st.sum;
  stale_total_.count += st.count;
  stale_total_.max = std::max(stale_total_.max, st.max);
}

void Experiment::Impl::energy_summary(nlohmann::ordered_json& s) const {
  if (!extended_) return;
  using Json = nlohmann::ordered_json;
  comm::EnergyBreakdown sum;
  double max_j = 0.0, online = 0.0, busy = 0.0;
  int64_t steps = 0;
  Json per_node = Json::array();
  for (int i = 0; i < n_; ++i) {
    const comm::EnergyBreakdown e = energy_->joules(i, usage_total_[i]);
    sum.compute += e.compute;
    sum.radio += e.radio;
    sum.idle += e.idle;
    max_j = std::max(max_j, e.total());
    per_node.push_back(e.total());
    online += usage_total_[i].online_s;
    busy += usage_total_[i].busy_s;
    steps += usage_total_[i].steps;
  }
  s["sim_mode"] = sim_.event ? "event" : "rounds";
  s["energy_j_total"] = sum.total();
  s["energy_j_per_node_mean"] = sum.total() / n_;
  s["energy_j_per_node_max"] = max_j;
  s["energy_j_compute"] = sum.compute;
  s["energy_j_radio"] = sum.radio;
  s["energy_j_idle"] = sum.idle;
  s["energy_j_per_node"] = per_node;
  s["local_step_rounds_total"] = steps;
  s["busy_fraction"] = online > 0 ? std::min(1.0, busy / online) : 0.0;
  s["online_fraction"] = sim_total_ > 0 ? online / (sim_total_ * n_) : 1.0;
  if (engine_) {
    s["staleness_mean"] = stale_total_.count
                              ? Json(stale_total_.sum / static_cast<double>(stale_total_.count))
                              : Json();
    s["staleness_max"] = stale_total_.max;
    s["events"] = engine_->events();
  }
}

}  // namespace murmur::run
