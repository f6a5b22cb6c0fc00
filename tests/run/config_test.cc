#include "murmur/run/config.h"

#include <gtest/gtest.h>

#include <cmath>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "error_text.h"
#include "murmur/algo/majority_vote.h"
#include "murmur/algo/relaysum.h"
#include "murmur/core/check.h"
#include "murmur/run/options.h"
#include "murmur/run/report.h"

namespace murmur::run {
namespace {

std::string ErrorOf(const std::string& toml) {
  return test_util::ErrorText<ConfigError>([&] { Config::FromString(toml, "test.toml"); });
}

TEST(Config, DefaultsAndOverrides) {
  Config c = Config::FromString("[run]\nnodes = 4\n[train]\nlr = 1\n", "t.toml");
  EXPECT_EQ(c.get_int("run.nodes"), 4);
  EXPECT_DOUBLE_EQ(c.get_double("train.lr"), 1.0);  // int accepted for a float key
  EXPECT_EQ(c.get_string("algorithm.name"), "dpsgd");
  c.set("train.lr=0.25");
  c.set("topology.name=torus");
  c.set("train.lr_decay_rounds=[10, 20]");
  c.set("model.include_buffers=false");
  EXPECT_DOUBLE_EQ(c.get_double("train.lr"), 0.25);
  EXPECT_EQ(c.get_string("topology.name"), "torus");
  EXPECT_EQ(c.get_int_list("train.lr_decay_rounds"), (std::vector<int64_t>{10, 20}));
  EXPECT_FALSE(c.get_bool("model.include_buffers"));
}

TEST(Config, ResolvedTomlRoundTrips) {
  Config c;
  c.set("data.path=/tmp/some \"quoted\" dir");
  c.set("train.lr_decay_rounds=5,6");
  c.set("partition.alpha=0.1");
  const Config back = Config::FromString(c.to_toml(), "resolved.toml");
  EXPECT_TRUE(back == c) << c.to_toml();
}

// Table-driven malformed configs: each error names the key and what is allowed.
TEST(Config, MalformedConfigsNameTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[train]\nlrr = 0.1", "unknown key 'train.lrr'; did you mean 'train.lr'?"},
      {"[trian]\nlr = 0.1", "unknown key 'trian.lr'; did you mean 'train.lr'?"},
      {"nodes = 3", "key 'nodes' must sit in a section"},
      {"[run]\nnodes = \"many\"", "run.nodes: expected an integer, got a string"},
      {"[run]\nnodes = 2.5", "run.nodes: expected an integer, got a floating-point number"},
      {"[run]\nnodes = 0", "run.nodes: must be in [1, "},
      {"[train]\nlr = -0.1", "train.lr: must be in [0, inf), got -0.1"},
      // The schema's range and the check agree: inf is refused where the range is open...
      {"[network]\nlatency_ms = inf", "network.latency_ms: must be finite, got inf"},
      {"[train]\nlr = inf", "train.lr: must be finite, got inf"},
      {"[train]\nlr = nan", "train.lr: must not be NaN"},
      {"[train]\nnesterov = 1", "train.nesterov: expected a boolean (true/false), got an integer"},
      {"[train]\nlr_decay_rounds = [1, \"x\"]",
       "train.lr_decay_rounds: expected a list of integers"},
      {"[algorithm]\nname = \"chocolate\"",
       "algorithm.name: unknown value 'chocolate'; allowed: adpsgd, allreduce, async_push_sum, "
       "beer, choco, "
       "clipped_gossip, "
       "d2, dpsgd, epidemic, exact_diffusion, gradient_tracking, jwins, local, majority_vote, "
       "relaysum, "
       "scsp, sgp, sparse_push"},
      {"[topology]\nname = \"hypercube\"",
       "topology.name: unknown value 'hypercube'; allowed: binary_tree, chain, complete"},
      {"[topology]\nweights = \"best\"",
       "topology.weights: unknown value 'best'; allowed: auto, metropolis_hastings"},
      {"[partition]\nname = \"skewed\"",
       "partition.name: unknown value 'skewed'; allowed: dirichlet, iid, natural, shards"},
      {"[model]\nname = \"gpt\"",
       "model.name: unknown value 'gpt'; allowed: char_lstm, cnn, lenet_gn, logreg"},
      {"[data]\nname = \"imagenet\"", "data.name: unknown value 'imagenet'; allowed: cifar10"},
      {"[compression]\nname = \"top_k\"",
       "compression.name: unknown value 'top_k'; allowed: none, bf16, fp16, identity"},
      {"[compression]\nratio = 2", "compression.ratio: must be in [1e-09, 1], got 2"},
      {"[compression]\nindex_codec = \"zip\"",
       "compression.index_codec: unknown value 'zip'; allowed: auto, raw"},
      {"[compression]\nbits = 17", "compression.bits: must be in [1, 16], got 17"},
      {"[run]\nseed = -1", "run.seed: must be in [0, "},
      {"[output]\neval_every = -5", "output.eval_every: must be in [0, "},
      {"[run\nnodes = 3", "test.toml:1:"},
      {"[run]\n[run.sub]\nx = 1", "unknown section 'run.sub'"},
  };
  for (const auto& [toml, message] : cases) {
    const std::string err = ErrorOf(toml);
    EXPECT_NE(err.find(message), std::string::npos) << toml << "\n=> " << err;
    if (err.find("TOML syntax") == std::string::npos) {
      EXPECT_NE(err.find("test.toml"), std::string::npos) << err;
    }
  }
}

// ... and allowed where it means something: Dirichlet(inf) is equal shares.
TEST(Config, InfinityOnlyWhereTheSchemaAllowsIt) {
  Config c;
  c.set("partition.alpha=inf");
  EXPECT_TRUE(std::isinf(c.get_double("partition.alpha")));
  const std::string doc = SchemaMarkdown();
  EXPECT_NE(doc.find("| `partition.alpha` | float | `0.5` | [1e-06, inf] |"), std::string::npos);
  EXPECT_NE(doc.find("| `network.latency_ms` | float | `1.0` | [0, inf) |"), std::string::npos);
}

// A config path must be a readable regular file: a directory is not an empty config.
TEST(Config, ADirectoryIsNotAConfig) {
  const std::string dir = MURMUR_SOURCE_DIR "/configs";
  std::string err;
  try {
    Config::FromFile(dir);
  } catch (const IoError& e) {
    err = e.what();
  }
  EXPECT_NE(err.find(dir + ": the config file is a directory; give a TOML file"), std::string::npos)
      << err;
}

TEST(Config, BadSetArguments) {
  Config c;
  EXPECT_THROW(c.set("train.lr"), ConfigError);
  EXPECT_THROW(c.set("=3"), ConfigError);
  EXPECT_THROW(c.set("run.nodes=ten"), ConfigError);
  EXPECT_THROW(c.set("run.nodes=10x"), ConfigError);
  EXPECT_THROW(c.set("train.nesterov=yes"), ConfigError);
  EXPECT_THROW(c.set("train.lr=0.1.2"), ConfigError);
  EXPECT_THROW(c.set("no.such=1"), ConfigError);
  EXPECT_EQ(c.get_int("run.nodes"), 16);  // failed sets change nothing
}

// Majority vote's momentum correction (or global momentum) and the optimizer's momentum
// would both apply momentum.
TEST(Config, VoteMomentumNeedsPlainSgd) {
  for (const char* key : {"vote.momentum", "vote.global_momentum"}) {
    Config c;
    c.set("algorithm.name=majority_vote");
    c.set(std::string(key) + "=0.9");
    c.set("train.momentum=0.9");
    const std::string w = test_util::ErrorText<ConfigError>([&] { AlgorithmContextFrom(c, {}); });
    EXPECT_TRUE(test_util::Contains(w, "train.momentum = 0"));
    EXPECT_TRUE(test_util::Contains(w, key));
    c.set("train.momentum=0");
    const auto o = AlgorithmContextFrom(c, {}).options_or_default<algo::VoteOptions>();
    EXPECT_DOUBLE_EQ(std::string(key) == "vote.momentum" ? o.momentum : o.global_momentum, 0.9);
  }
}

// An algorithm's own keys come from its registry entry into the one schema: checked on load
// like every key (names of enumerated options included), documented, and parsed into the
// algorithm's options struct.
TEST(Config, AlgorithmsBringTheirOwnKeys) {
  for (const char* key : {"relaysum.variant", "relaysum.normalize", "relaysum.spanning_tree",
                          "vote.mode", "vote.value_codec", "jwins.share_counts"}) {
    ASSERT_NE(FindKey(key), nullptr) << key;
    Config c;
    const std::string e =
        test_util::ErrorText<ConfigError>([&] { c.set(std::string(key) + "=\"sideways\""); });
    EXPECT_TRUE(test_util::Contains(e, key)) << e;
    EXPECT_TRUE(test_util::Contains(e, "sideways")) << e;
  }
  EXPECT_TRUE(test_util::Contains(SchemaMarkdown(), "vote.pipeline"));
  Config c;
  c.set("algorithm.name=relaysum");
  c.set("relaysum.variant=mix");
  c.set("relaysum.spanning_tree=bfs");
  const auto o = AlgorithmContextFrom(c, {}).options_or_default<algo::RelayOptions>();
  EXPECT_EQ(o.variant, algo::RelayOptions::Variant::kMix);
  EXPECT_EQ(o.spanning_tree, algo::RelayOptions::Tree::kBfs);
  // Another algorithm's options are not parsed (nor handed to it).
  c.set("algorithm.name=dpsgd");
  EXPECT_FALSE(AlgorithmContextFrom(c, {}).options.has_value());
}

TEST(Config, DocsAreInSyncWithSchema) {
  std::ifstream in(std::string(MURMUR_SOURCE_DIR) + "/docs/config.md");
  ASSERT_TRUE(in.good()) << "docs/config.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), SchemaMarkdown())
      << "docs/config.md is stale: regenerate with `build/murmur doc-config > docs/config.md`";
}

TEST(Config, ShippedConfigsLoad) {
  int configs = 0, sweeps = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(std::string(MURMUR_SOURCE_DIR) + "/configs")) {
    const std::string path = e.path().string();
    if (e.path().extension() != ".toml") continue;
    if (path.size() > 11 && path.substr(path.size() - 11) == ".sweep.toml") {
      // Every point of a shipped sweep is a valid config.
      SweepOptions o;
      o.dry_run = true;
      EXPECT_GT(RunSweep(path, o).points, 0) << path;
      ++sweeps;
    } else {
      EXPECT_NO_THROW(Config::FromFile(path)) << path;
      ++configs;
    }
  }
  EXPECT_GE(configs, 20);
  EXPECT_GE(sweeps, 5);
  EXPECT_THROW(Config::FromFile("/nonexistent.toml"), IoError);
}

}  // namespace
}  // namespace murmur::run
