// Sparse SGD with majority voting over the in-process transport.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "algo/harness.h"
#include "murmur/algo/majority_vote.h"
#include "murmur/comm/frame.h"
#include "murmur/compress/codecs.h"
#include "vote_scene.h"

namespace murmur::algo {
namespace {

using testing::Sim;

graph::TopologyOptions Complete(int n) {
  graph::TopologyOptions t;
  t.name = "complete";
  t.nodes = n;
  return t;
}

// A majority-vote simulation whose nodes all start at the same x0.
struct Vote {
  std::vector<float> x0;
  Sim sim;
  Vote(int n, int64_t d, const VoteOptions& o, std::vector<int64_t> segments = {},
       compress::IndexCodec codec = compress::IndexCodec::kAuto,
       std::function<double(int64_t)> learning_rate = {})
      : x0(Start(d)), sim("majority_vote", Complete(n), d, 1, [&](AlgorithmContext& c) {
          c.initial_model = x0;
          c.options = o;
          c.segments = segments;
          c.compressor.index_codec = codec;
          c.learning_rate = learning_rate;
        }) {
    for (auto& v : sim.x) v = x0;
  }
  static std::vector<float> Start(int64_t d) {
    std::vector<float> v(d);
    Rng rng(3);
    for (float& e : v) e = static_cast<float>(rng.normal());
    return v;
  }
};

VoteOptions Options(const std::string& mode, double mask, double vote = 0.0, int64_t reuse = 1,
                    bool layerwise = false) {
  VoteOptions o;
  o.mode = mode == "all_to_all" ? VoteOptions::Mode::kAllToAll : VoteOptions::Mode::kServer;
  o.mask_ratio = mask;
  o.vote_ratio = vote;
  o.mask_reuse = reuse;
  o.layerwise = layerwise;
  return o;
}

TEST(MajorityVote, FullMaskIsAllReduceSgd) {
  for (const char* mode : {"server", "all_to_all"}) {
    const int n = 6;
    const int64_t d = 77;
    Vote v(n, d, Options(mode, 1.0));
    Sim ar("allreduce", Complete(n), d, 1, [](AlgorithmContext&) {});
    for (auto& x : ar.x) x = v.x0;
    ThreadPool pool(2);
    for (uint32_t r = 0; r < 6; ++r) {
      v.sim.round(r, pool, /*perturb=*/true);
      ar.round(r, pool, /*perturb=*/true);
      for (int i = 0; i < n; ++i)
        for (int64_t k = 0; k < d; ++k)
          ASSERT_NEAR(v.sim.x[i][k], ar.x[i][k], 1e-5) << mode << " round " << r;
    }
  }
}

// Every node ends each round with the same model, changed on exactly the K coordinates of
// one common mask; with mask_reuse = R the mask stays the same for R rounds; with layerwise
// voting each layer gets its own share.
TEST(MajorityVote, MaskIsCommonToAllWorkers) {
  const std::vector<int64_t> layers = {40, 7, 53};
  for (const char* mode : {"server", "all_to_all"}) {
    for (bool layerwise : {false, true}) {
      const int n = 5;
      const int64_t d = 100;
      Vote v(n, d, Options(mode, 0.1, 0.2, 3, layerwise), layers);
      ThreadPool pool(2);
      std::vector<float> before = v.x0;
      std::vector<int> last_changed;
      for (uint32_t r = 0; r < 9; ++r) {
        v.sim.round(r, pool, /*perturb=*/true);
        for (int i = 1; i < n; ++i) ASSERT_EQ(v.sim.x[i], v.sim.x[0]) << mode << " round " << r;
        std::vector<int> changed;
        for (int64_t k = 0; k < d; ++k)
          if (v.sim.x[0][k] != before[k]) changed.push_back(static_cast<int>(k));
        // K = 10 globally; per layer ceil(0.1 * len) = 4 + 1 + 6 = 11.
        ASSERT_EQ(changed.size(), layerwise ? 11u : 10u) << mode << " round " << r;
        if (layerwise) {
          int l0 = 0, l1 = 0;
          for (int k : changed) {
            if (k < 40)
              ++l0;
            else if (k < 47)
              ++l1;
          }
          EXPECT_EQ(l0, 4);
          EXPECT_EQ(l1, 1);
        }
        if (r % 3 != 0) {
          EXPECT_EQ(changed, last_changed) << "mask reused in round " << r;
        }
        last_changed = changed;
        before = v.sim.x[0];
      }
    }
  }
}

// The mean over n nodes of the perturbation of round 0, recomputed as the harness draws it.
std::vector<double> MeanPerturbation(int n, int64_t d) {
  std::vector<double> mean(d, 0.0);
  for (int i = 0; i < n; ++i) {
    Rng rng(99, i, Stream::kData);
    for (int64_t k = 0; k < d; ++k) mean[k] += 0.1 * rng.normal() / n;
  }
  return mean;
}

// After one round of perturbation and enough rounds without, node 0's model is x0 plus the
// mean perturbation: nothing was lost, only delayed.
void ExpectMeanUpdate(const Vote& v, int n, int64_t d, double tol, const std::string& what) {
  const std::vector<double> mean = MeanPerturbation(n, d);
  for (int64_t k = 0; k < d; ++k)
    ASSERT_NEAR(v.sim.x[0][k], v.x0[k] + mean[k], tol) << what << " coord " << k;
}

// One round of changes (round 0), then `rounds` - 1 rounds without; every node keeps the same
// model and each coordinate moves at most once. first[k] = the round coordinate k moved in.
void RunOneChange(Vote& v, int n, int64_t d, uint32_t rounds, std::vector<int>& first) {
  ThreadPool pool(2);
  first.assign(d, -1);
  std::vector<float> before = v.x0;
  for (uint32_t r = 0; r < rounds; ++r) {
    v.sim.round(r, pool, /*perturb=*/r == 0);
    for (int i = 1; i < n; ++i) ASSERT_EQ(v.sim.x[i], v.sim.x[0]) << "round " << r;
    for (int64_t k = 0; k < d; ++k) {
      if (v.sim.x[0][k] == before[k]) continue;
      ASSERT_EQ(first[k], -1) << "coordinate " << k << " moved again in round " << r;
      first[k] = static_cast<int>(r);
    }
    before = v.sim.x[0];
  }
  for (int64_t k = 0; k < d; ++k) ASSERT_GE(first[k], 0) << "coordinate " << k << " never sent";
}

// Error feedback: what a round does not send stays in the accumulators, so after one round
// of updates and enough rounds without, the model has moved by exactly the mean update.
TEST(MajorityVote, ErrorFeedbackEventuallySendsEverything) {
  for (const char* mode : {"server", "all_to_all"}) {
    const int n = 4;
    const int64_t d = 60;
    Vote v(n, d, Options(mode, 0.05));
    ThreadPool pool(2);
    v.sim.round(0, pool, /*perturb=*/true);
    for (uint32_t r = 1; r < 40; ++r) v.sim.round(r, pool);
    ExpectMeanUpdate(v, n, d, 1e-5, mode);
  }
}

// vote.global_momentum = b with K = d: every node applies w = b w + (mean change), x += w —
// all-reduce SGD with heavy-ball momentum b, computed here from the all-reduce run's updates.
TEST(MajorityVote, FullMaskWithGlobalMomentumIsMomentumSgd) {
  for (const char* mode : {"server", "all_to_all"}) {
    const int n = 6;
    const int64_t d = 77;
    const double b = 0.9;
    VoteOptions o = Options(mode, 1.0);
    o.global_momentum = b;
    Vote v(n, d, o);
    Sim ar("allreduce", Complete(n), d, 1, [](AlgorithmContext&) {});
    for (auto& x : ar.x) x = v.x0;
    std::vector<double> ref(v.x0.begin(), v.x0.end()), w(d, 0.0);
    ThreadPool pool(2);
    for (uint32_t r = 0; r < 8; ++r) {
      const std::vector<float> before = ar.x[0];
      v.sim.round(r, pool, /*perturb=*/true);
      ar.round(r, pool, /*perturb=*/true);
      for (int64_t k = 0; k < d; ++k) {
        w[k] = b * w[k] + (ar.x[0][k] - before[k]);
        ref[k] += w[k];
      }
      for (int i = 0; i < n; ++i)
        for (int64_t k = 0; k < d; ++k)
          ASSERT_NEAR(v.sim.x[i][k], ref[k], 1e-4) << mode << " round " << r << " coord " << k;
    }
  }
}

// With global momentum and one round of changes, a coordinate sent in round t moves in every
// round from t on, by the mean change times 1, b, b^2, ...: after the last round R - 1 it has
// moved by mean * (1 - b^(R - t)) / (1 - b), on every node alike (plain and pipelined).
TEST(MajorityVote, GlobalMomentumKeepsMovingWhatWasSent) {
  for (bool pipeline : {false, true}) {
    const int n = 4;
    const int64_t d = 60;
    const double b = 0.5;
    VoteOptions o = Options("server", 0.05);  // K = 3
    o.pipeline = pipeline;
    o.global_momentum = b;
    Vote v(n, d, o);
    ThreadPool pool(2);
    const std::vector<double> mean = MeanPerturbation(n, d);
    std::vector<int> first(d, -1);
    const uint32_t rounds = 40;
    for (uint32_t r = 0; r < rounds; ++r) {
      const std::vector<float> before = v.sim.x[0];
      v.sim.round(r, pool, /*perturb=*/r == 0);
      for (int i = 1; i < n; ++i) ASSERT_EQ(v.sim.x[i], v.sim.x[0]) << "round " << r;
      for (int64_t k = 0; k < d; ++k)
        if (first[k] < 0 && v.sim.x[0][k] != before[k]) first[k] = static_cast<int>(r);
    }
    for (int64_t k = 0; k < d; ++k) {
      ASSERT_GE(first[k], 0) << "coordinate " << k << " never sent";
      const double factor = (1.0 - std::pow(b, rounds - first[k])) / (1.0 - b);
      EXPECT_NEAR(v.sim.x[0][k], v.x0[k] + mean[k] * factor, 1e-5)
          << "pipeline " << pipeline << ", coordinate " << k << " sent in round " << first[k];
    }
  }
}

// Bytes of an index block of k indices of [0, d) with the raw codec.
uint64_t RawIndexBytes(uint32_t k, int64_t d) {
  std::vector<uint32_t> any(k);
  for (uint32_t i = 0; i < k; ++i) any[i] = i;
  return compress::EncodedIndexBytes(any, static_cast<uint32_t>(d), compress::IndexCodec::kRaw);
}

// Bytes per round, for each option. Votes and masks use the raw index codec here so their
// size is 5 + 4 k bytes (codec id, count, then 4 bytes per index).
TEST(MajorityVote, BytesPerRoundMatchTheFormula) {
  const int n = 5;
  const int64_t d = 200;
  const uint64_t h = 32;
  auto index_bytes = [&](uint32_t k) { return RawIndexBytes(k, d); };
  ThreadPool pool(2);
  for (int64_t reuse : {1, 2}) {
    // Server mode, K = 10, K_v = 20, server 0.
    Vote v(n, d, Options("server", 0.05, 0.1, reuse), {}, compress::IndexCodec::kRaw);
    for (uint32_t r = 0; r < 4; ++r) {
      std::vector<uint64_t> before(n);
      for (int i = 0; i < n; ++i) before[i] = v.sim.transport->counters(i).bytes_sent;
      v.sim.round(r, pool, /*perturb=*/true);
      const bool vote = r % reuse == 0;
      for (int i = 0; i < n; ++i) {
        const uint64_t sent = v.sim.transport->counters(i).bytes_sent - before[i];
        const uint64_t expect = i == 0 ? (n - 1) * ((vote ? h + index_bytes(10) : 0) + h + 4 * 10)
                                       : (vote ? h + index_bytes(20) : 0) + h + 4 * 10;
        EXPECT_EQ(sent, expect) << "reuse " << reuse << " round " << r << " node " << i;
      }
    }
    // The server's received bytes are the workers' uplink.
    uint64_t up = 0;
    for (int i = 1; i < n; ++i) up += v.sim.transport->counters(i).bytes_sent;
    EXPECT_EQ(v.sim.transport->counters(0).bytes_received, up);
  }
  // All-to-all: n - 1 votes, then an all-reduce of K values.
  Vote v(n, d, Options("all_to_all", 0.05, 0.1), {}, compress::IndexCodec::kRaw);
  Sim ar("allreduce", Complete(n), 10, 1, [](AlgorithmContext&) {});
  v.sim.round(0, pool, true);
  ar.round(0, pool, true);
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(v.sim.transport->counters(i).bytes_sent,
              (n - 1) * (h + index_bytes(20)) + ar.transport->counters(i).bytes_sent);
}

VoteOptions Lossy(compress::ValueCodec codec, double mask, int bits = 8) {
  VoteOptions o = Options("server", mask);
  o.value_codec = codec;
  o.value_bits = bits;
  return o;
}

// Momentum correction with factor masking: a change made once keeps entering the accumulator
// through the velocity, m^t of it in round t, until the coordinate is sent; then velocity and
// accumulator are cleared. So a coordinate first sent in round t has moved by exactly the
// mean change times 1 + m + ... + m^t, and never again.
TEST(MajorityVote, MomentumCorrectionSendsTheGeometricSumOnce) {
  const int n = 4;
  const int64_t d = 60;
  const double m = 0.5;
  VoteOptions o = Options("server", 0.05);
  o.momentum = m;
  Vote v(n, d, o);
  const std::vector<double> mean = MeanPerturbation(n, d);
  std::vector<int> first;
  ASSERT_NO_FATAL_FAILURE(RunOneChange(v, n, d, 40, first));
  for (int64_t k = 0; k < d; ++k) {
    const double factor = (1.0 - std::pow(m, first[k] + 1)) / (1.0 - m);
    EXPECT_NEAR(v.sim.x[0][k], v.x0[k] + mean[k] * factor, 1e-5)
        << "coordinate " << k << " sent in round " << first[k];
  }
}

// vote.rescale_memory: the learning rate drops to a quarter at round 6 (and to a sixteenth at
// round 12). One round of changes is made at the start; a coordinate's accumulator is sent
// once, so it moves by the mean change if it was sent before round 6, by a quarter of it if
// first sent in rounds 6-11, by a sixteenth after that. Without the option every coordinate
// moves by the whole mean change (ErrorFeedbackEventuallySendsEverything).
TEST(MajorityVote, RescaledMemoryFollowsTheLearningRate) {
  for (bool pipeline : {false, true}) {
    const int n = 4;
    const int64_t d = 60;
    VoteOptions o = Options("server", 0.05);  // K = 3: 20 rounds to send everything
    o.pipeline = pipeline;
    o.rescale_memory = true;
    auto lr = [](int64_t r) { return r < 6 ? 0.2 : r < 12 ? 0.05 : 0.0125; };
    Vote v(n, d, o, {}, compress::IndexCodec::kAuto, lr);
    const std::vector<double> mean = MeanPerturbation(n, d);
    std::vector<int> first;
    ASSERT_NO_FATAL_FAILURE(RunOneChange(v, n, d, 40, first));
    int late = 0;
    for (int64_t k = 0; k < d; ++k) {
      const double factor = first[k] < 6 ? 1.0 : first[k] < 12 ? 0.25 : 0.0625;
      late += first[k] >= 12;
      EXPECT_NEAR(v.sim.x[0][k], v.x0[k] + mean[k] * factor, 1e-6)
          << "pipeline " << pipeline << ", coordinate " << k << " sent in round " << first[k];
    }
    EXPECT_GT(late, 0) << "pipeline " << pipeline;
  }
}

// Rounded values (f16, bf16, 4-bit quant): every node still applies the same mean, and what
// rounding took is sent later (worker accumulators, server error memory), so after one round
// of updates the model still ends at the exact mean update, to far below the rounding step.
TEST(MajorityVote, RoundedValuesLoseNothing) {
  const std::pair<compress::ValueCodec, int> codecs[] = {{compress::ValueCodec::kF16, 8},
                                                         {compress::ValueCodec::kBF16, 8},
                                                         {compress::ValueCodec::kQuant, 4}};
  for (const auto& [codec, bits] : codecs) {
    const int n = 4;
    const int64_t d = 60;
    Vote v(n, d, Lossy(codec, 0.2, bits));
    ThreadPool pool(2);
    v.sim.round(0, pool, /*perturb=*/true);
    for (uint32_t r = 1; r < 80; ++r) {
      v.sim.round(r, pool);
      for (int i = 1; i < n; ++i) ASSERT_EQ(v.sim.x[i], v.sim.x[0]) << "round " << r;
    }
    ExpectMeanUpdate(v, n, d, 2e-6, std::string(compress::ValueCodecName(codec)));
  }
}

// Rounded values cost the value block of compress::EncodedValueBytes, both directions.
TEST(MajorityVote, RoundedValueBytesMatchTheFormula) {
  const int n = 5;
  const int64_t d = 200;
  ThreadPool pool(2);
  for (auto [codec, bits] :
       {std::pair{compress::ValueCodec::kBF16, 8}, std::pair{compress::ValueCodec::kQuant, 4}}) {
    VoteOptions o = Lossy(codec, 0.05, bits);
    o.mask_reuse = 2;
    Vote v(n, d, o, {}, compress::IndexCodec::kRaw);
    compress::ValueOptions vo;
    vo.codec = codec;
    vo.bits = bits;
    const uint64_t values = 32 + compress::EncodedValueBytes(10, vo);
    v.sim.round(0, pool, true);  // a voting round
    std::vector<uint64_t> before(n);
    for (int i = 0; i < n; ++i) before[i] = v.sim.transport->counters(i).bytes_sent;
    v.sim.round(1, pool, true);  // mask reused: values only
    for (int i = 0; i < n; ++i)
      EXPECT_EQ(v.sim.transport->counters(i).bytes_sent - before[i],
                i == 0 ? (n - 1) * values : values)
          << compress::ValueCodecName(codec) << " node " << i;
  }
}

VoteOptions Pipelined(double mask, double vote = 0.0) {
  VoteOptions o = Options("server", mask, vote);
  o.pipeline = true;
  return o;
}

// vote.pipeline: per round one frame up ([values][vote]) and one down ([mean][next mask]) per
// worker; the first round carries no values (there is no mask yet).
TEST(MajorityVote, PipelinedBytesPerRoundMatchTheFormula) {
  const int n = 5;
  const int64_t d = 200;
  const uint64_t h = 32;
  auto index_bytes = [&](uint32_t k) { return RawIndexBytes(k, d); };
  Vote v(n, d, Pipelined(0.05, 0.1), {}, compress::IndexCodec::kRaw);  // K = 10, K_v = 20
  ThreadPool pool(2);
  for (uint32_t r = 0; r < 4; ++r) {
    std::vector<uint64_t> before(n);
    for (int i = 0; i < n; ++i) before[i] = v.sim.transport->counters(i).bytes_sent;
    v.sim.round(r, pool, /*perturb=*/true);
    const uint64_t values = r == 0 ? 0 : compress::EncodedValueBytes(10, {});
    for (int i = 0; i < n; ++i) {
      const uint64_t sent = v.sim.transport->counters(i).bytes_sent - before[i];
      const uint64_t expect =
          i == 0 ? (n - 1) * (h + values + index_bytes(10)) : h + values + index_bytes(20);
      EXPECT_EQ(sent, expect) << "round " << r << " node " << i;
    }
  }
}

// Pipelined voting: the first round changes nothing, every later one changes the same K
// coordinates on every node; and, with f32 or 4-bit values, what is not sent yet stays in
// the accumulators, so after one round of updates the model ends at the exact mean update.
TEST(MajorityVote, PipelinedVotingKeepsOneMaskAndLosesNothing) {
  for (auto [codec, bits] :
       {std::pair{compress::ValueCodec::kF32, 8}, std::pair{compress::ValueCodec::kQuant, 4}}) {
    const int n = 4;
    const int64_t d = 60;
    VoteOptions o = Pipelined(0.2);  // K = 12
    o.value_codec = codec;
    o.value_bits = bits;
    Vote v(n, d, o);
    ThreadPool pool(2);
    std::vector<float> before = v.x0;
    for (uint32_t r = 0; r < 80; ++r) {
      v.sim.round(r, pool, /*perturb=*/r == 0);
      for (int i = 1; i < n; ++i) ASSERT_EQ(v.sim.x[i], v.sim.x[0]) << "round " << r;
      int changed = 0;
      for (int64_t k = 0; k < d; ++k) changed += v.sim.x[0][k] != before[k];
      if (r == 0) {
        EXPECT_EQ(changed, 0);
      }
      if (r == 1) {
        EXPECT_EQ(changed, 12);
      }
      EXPECT_LE(changed, 12) << "round " << r;
      before = v.sim.x[0];
    }
    ExpectMeanUpdate(v, n, d, 2e-6, std::string(compress::ValueCodecName(codec)));
  }
}

// The pipelined vote is cast on the accumulator plus this round's change (the step that
// will have been added when the mask is used), so a coordinate sent in one round can win
// the next one's mask on its new change alone; voting on the emptied accumulator could not
// (with f32 values it is exactly zero there).
TEST(MajorityVote, PipelinedVoteLooksOneStepAhead) {
  const int n = 4;
  const int64_t d = 40;
  Vote v(n, d, Pipelined(0.5));  // K = 20 of 40, changes every round
  ThreadPool pool(2);
  std::vector<float> before = v.x0;
  std::vector<char> changed_last(d, 0);
  int again = 0;
  for (uint32_t r = 0; r < 30; ++r) {
    v.sim.round(r, pool, /*perturb=*/true);
    for (int64_t k = 0; k < d; ++k) {
      const char changed = v.sim.x[0][k] != before[k];
      again += changed && changed_last[k];
      changed_last[k] = changed;
    }
    before = v.sim.x[0];
  }
  EXPECT_GT(again, 0);
}

TEST(MajorityVote, RejectsBadOptions) {
  VoteOptions pipelined_all = Pipelined(0.1);
  pipelined_all.mode = VoteOptions::Mode::kAllToAll;
  EXPECT_THROW(Vote(4, 10, pipelined_all), ConfigError);
  VoteOptions pipelined_reuse = Pipelined(0.1);
  pipelined_reuse.mask_reuse = 2;
  EXPECT_THROW(Vote(4, 10, pipelined_reuse), ConfigError);
  VoteOptions rounded_all = Lossy(compress::ValueCodec::kBF16, 0.1);
  rounded_all.mode = VoteOptions::Mode::kAllToAll;
  EXPECT_THROW(Vote(4, 10, rounded_all), ConfigError);
  EXPECT_THROW(Vote(4, 10, Lossy(compress::ValueCodec::kQuant, 0.1, 1)), ConfigError);
  VoteOptions full_momentum = Options("server", 0.1);
  full_momentum.momentum = 1.0;
  EXPECT_THROW(Vote(4, 10, full_momentum), ConfigError);
  VoteOptions global_one = Options("server", 0.1);
  global_one.global_momentum = 1.0;
  EXPECT_THROW(Vote(4, 10, global_one), ConfigError);
  VoteOptions two_momenta = Options("server", 0.1);
  two_momenta.global_momentum = 0.5;
  two_momenta.momentum = 0.5;
  EXPECT_THROW(Vote(4, 10, two_momenta), ConfigError);
  VoteOptions no_schedule = Options("server", 0.1);
  no_schedule.rescale_memory = true;  // and no learning_rate to follow
  EXPECT_THROW(Vote(4, 10, no_schedule), ConfigError);
  EXPECT_THROW(Vote(4, 10, Options("server", 0.1, 0.0, 0)), ConfigError);
  VoteOptions far = Options("server", 0.1);
  far.server = 4;
  EXPECT_THROW(Vote(4, 10, far), ConfigError);
  EXPECT_THROW(Vote(4, 10, Options("server", 0.1, 0.0, 1, true), {3, 3}), ConfigError);
}

// Well-formed frames with the wrong contents — a byte short, a byte over, one element more
// than the header's count promises, and for masks one fewer — are protocol errors at the
// receiver, in every exchange of fuzz/vote_scene.h: votes, masks, values and means, f32 or
// 4-bit, plain or pipelined.
TEST(MajorityVote, MalformedFramesAreProtocolErrors) {
  using FrameEdit = std::function<void(comm::FrameHeader&, comm::Bytes&)>;
  const FrameEdit shorter = [](comm::FrameHeader&, comm::Bytes& b) { b.pop_back(); };
  const FrameEdit longer = [](comm::FrameHeader&, comm::Bytes& b) { b.push_back(0); };
  const FrameEdit more = [](comm::FrameHeader& h, comm::Bytes&) {
    h.dimension = std::max(h.dimension, ++h.count);  // (count <= dimension is the framing's)
  };
  const FrameEdit fewer = [](comm::FrameHeader& h, comm::Bytes&) { --h.count; };
  for (const fuzz::VoteCase& c : fuzz::kVoteCases) {
    std::vector<std::pair<FrameEdit, const char*>> edits = {
        {shorter, "short"}, {longer, "long"}, {more, "count + 1"}};
    if (c.mask) edits.push_back({fewer, "count - 1"});
    for (const auto& [edit, what] : edits) {
      SCOPED_TRACE(::testing::Message() << c.what << ": " << what);
      fuzz::VoteScene scene(c);
      const comm::Bytes genuine = scene.take();
      const comm::FrameView view = comm::DecodeFrame(genuine);
      comm::FrameHeader h = view.header;
      comm::Bytes payload(view.payload.begin(), view.payload.end());
      edit(h, payload);
      comm::Bytes frame = comm::EncodeFrame(h, payload);
      EXPECT_THROW(scene.deliver(std::move(frame)), ProtocolError);
    }
  }
}

}  // namespace
}  // namespace murmur::algo
