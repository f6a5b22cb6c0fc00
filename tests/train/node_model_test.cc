#include "murmur/train/node_model.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include "error_text.h"
#include "murmur/data/dataset.h"
#include "murmur/data/partition.h"
#include "murmur/train/blas.h"
#include "murmur/train/quasi_global.h"

namespace murmur::train {
namespace {

data::DataSplits Synthetic(int side = 12, int64_t n = 512) {
  data::DataOptions o;
  o.name = "synthetic";
  o.synthetic_side = side;
  o.synthetic_train = n;
  o.synthetic_test = 256;
  o.synthetic_separation = 0.5;
  return data::LoadData(o);
}

InputShape ShapeOf(const data::Dataset& d) {
  return {d.channels, d.height, d.width, d.num_classes};
}

// The BLAS LibTorch runs on is named (a file that exists), and an OpenBLAS runs with one
// thread: murmur's own threads already train one node each.
TEST(Blas, NamedAndSingleThreaded) {
  const BlasInfo b = ConfigureBlas();
  ASSERT_FALSE(b.library.empty());
  EXPECT_TRUE(std::filesystem::exists(b.library)) << b.library;
  using GetThreads = int (*)();
  if (auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) {
    EXPECT_FALSE(b.config.empty());
    EXPECT_EQ(get(), 1) << b.config;
  }
}

TEST(NodeModel, ParameterCounts) {
  ModelOptions o;
  o.name = "cnn";
  EXPECT_EQ(InitialParameters(o, {1, 28, 28, 10}, 1).size(), 61706u);
  o.name = "logreg";
  EXPECT_EQ(InitialParameters(o, {1, 28, 28, 10}, 1).size(), 7850u);
  o.name = "resnet20";
  o.include_buffers = false;
  const size_t resnet = InitialParameters(o, {3, 32, 32, 10}, 1).size();
  EXPECT_EQ(resnet, 269722u);  // He et al.: 0.27M
  o.include_buffers = true;    // + running mean and var of 19 BatchNorm layers
  EXPECT_EQ(InitialParameters(o, {3, 32, 32, 10}, 1).size(),
            resnet + 2 * (16 * 7 + 32 * 6 + 64 * 6));
  o.name = "vgg11";
  EXPECT_EQ(InitialParameters(o, {3, 32, 32, 10}, 1).size(), 9225610u);
  o.name = "lenet_gn";  // issue #9: 89,834 on CIFAR-10
  EXPECT_EQ(InitialParameters(o, {3, 32, 32, 10}, 1).size(), 89834u);
}

TEST(NodeModel, InitIsDeterministicPerSeed) {
  ModelOptions o;
  o.name = "mlp";
  o.mlp_hidden = 8;
  EXPECT_EQ(InitialParameters(o, {1, 4, 4, 3}, 7), InitialParameters(o, {1, 4, 4, 3}, 7));
  EXPECT_NE(InitialParameters(o, {1, 4, 4, 3}, 7), InitialParameters(o, {1, 4, 4, 3}, 8));
}

TEST(NodeModel, FlatBufferIsTheModel) {
  ConfigureWorkerThread();
  auto s = Synthetic();
  ModelOptions o;
  o.name = "logreg";
  auto x0 = InitialParameters(o, ShapeOf(s.train), 1);
  auto m = MakeNodeModel(o, {}, ShapeOf(s.train), x0);
  ASSERT_EQ(m->params().size(), x0.size());
  EXPECT_TRUE(std::equal(x0.begin(), x0.end(), m->params().begin()));
  // Writing zeros through the span makes every logit 0: loss ln(10), chance accuracy.
  std::fill(m->params().begin(), m->params().end(), 0.0f);
  EvalResult r = m->evaluate(s.test, 0);
  EXPECT_NEAR(r.loss, std::log(10.0), 1e-5);
  EXPECT_EQ(r.samples, 256);
}

// One SGD step at lr 0.5 of logistic regression from zero weights on sample 5 of a 2x2
// synthetic set, with the momentum buffer set to `buffer` first (empty: none). With zero
// weights the softmax is uniform: dL/db_c = 1/10 - [c == y], dL/dW_c = that * x. Returns the
// gradient, and the model and buffer after the step (layout: W (10 x 4), then b (10)).
struct LogregStep {
  std::vector<float> grad, params, buffer;
};
LogregStep OneLogregStep(double momentum, std::span<const float> buffer) {
  ConfigureWorkerThread();
  auto s = Synthetic(2, 64);
  ModelOptions o;
  o.name = "logreg";
  const InputShape shape = ShapeOf(s.train);
  std::vector<float> zeros(InitialParameters(o, shape, 1).size(), 0.0f);
  OptimizerOptions opt;
  opt.momentum = momentum;
  auto m = MakeNodeModel(o, opt, shape, zeros);
  if (!buffer.empty()) m->set_optimizer_state(buffer);
  data::NodeLoader loader(s.train, {5}, Rng(1));
  m->train_steps(1, 1, 0.5, loader);
  const int y = s.train.labels[5];
  std::vector<float> x(4);
  int64_t label;
  const int64_t idx = 5;
  s.train.gather(std::span<const int64_t>(&idx, 1), x.data(), &label);
  LogregStep r;
  r.grad.resize(50);
  for (int c = 0; c < 10; ++c) {
    const float g = 0.1f - (c == y ? 1.0f : 0.0f);
    r.grad[40 + c] = g;
    for (int k = 0; k < 4; ++k) r.grad[c * 4 + k] = g * x[k];
  }
  r.params.assign(m->params().begin(), m->params().end());
  r.buffer.assign(m->optimizer_state().begin(), m->optimizer_state().end());
  return r;
}

TEST(NodeModel, SgdStepMatchesClosedFormOnLogisticRegression) {
  const LogregStep r = OneLogregStep(0.0, {});
  ASSERT_EQ(r.params.size(), 50u);
  for (size_t k = 0; k < 50; ++k) EXPECT_NEAR(r.params[k], -0.5f * r.grad[k], 1e-5) << k;
}

// A buffer set from outside is the one the next step builds on: with momentum 0.5 the step
// moves x by -lr * (0.5 * v + g).
TEST(NodeModel, SetOptimizerStateIsUsedByTheNextStep) {
  std::vector<float> v(50);
  for (size_t k = 0; k < v.size(); ++k) v[k] = 0.01f * static_cast<float>(k) - 0.2f;
  const LogregStep r = OneLogregStep(0.5, v);
  ASSERT_EQ(r.buffer.size(), 50u);
  for (size_t k = 0; k < 50; ++k) {
    EXPECT_NEAR(r.buffer[k], 0.5f * v[k] + r.grad[k], 1e-5) << k;
    EXPECT_NEAR(r.params[k], -0.5f * (0.5f * v[k] + r.grad[k]), 1e-5) << k;
  }
}

// The quasi-global buffer after a round: m = mu m + (1 - mu) (x_before - x_after) / (lr H),
// over the trainable part only (x may be longer than the buffer); lr H = 0 keeps m.
TEST(QuasiGlobalMomentum, BufferFollowsTheRoundsMoveIncludingAveraging) {
  QuasiGlobalMomentum q(0.75);
  const std::vector<float> m0{1.0f, -2.0f};
  q.begin_round(std::vector<float>{0.5f, 1.0f, 7.0f}, m0);
  // The local steps change the optimizer's own buffer; only the move of x counts.
  std::span<const float> m = q.end_round(std::vector<float>{0.1f, 1.6f, 9.0f}, 0.1, 2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_NEAR(m[0], 0.75f * 1.0f + 0.25f * (0.4f / 0.2f), 1e-6);    // 1.25
  EXPECT_NEAR(m[1], 0.75f * -2.0f + 0.25f * (-0.6f / 0.2f), 1e-6);  // -2.25
  // The next round starts from the buffer the optimizer now holds.
  const std::vector<float> m1(m.begin(), m.end());
  q.begin_round(std::vector<float>{0.1f, 1.6f, 9.0f}, m1);
  m = q.end_round(std::vector<float>{0.1f, 1.6f, 9.0f}, 0.05, 1);  // no move: m decays
  EXPECT_NEAR(m[0], 0.75f * 1.25f, 1e-6);
  EXPECT_NEAR(m[1], 0.75f * -2.25f, 1e-6);
  q.begin_round(std::vector<float>{0.0f, 0.0f, 0.0f}, m1);
  m = q.end_round(std::vector<float>{5.0f, 5.0f, 5.0f}, 0.0, 1);  // lr 0: no direction
  EXPECT_EQ(std::vector<float>(m.begin(), m.end()), m1);
}

TEST(NodeModel, MomentumStateAndTrainingReducesLoss) {
  ConfigureWorkerThread();
  auto s = Synthetic();
  ModelOptions o;
  o.name = "cnn";
  OptimizerOptions opt;
  opt.momentum = 0.9;
  opt.nesterov = true;
  opt.weight_decay = 1e-4;
  auto x0 = InitialParameters(o, ShapeOf(s.train), 3);
  auto m = MakeNodeModel(o, opt, ShapeOf(s.train), x0);
  std::vector<int64_t> all(512);
  std::iota(all.begin(), all.end(), 0);
  data::NodeLoader loader(s.train, all, Rng(2));
  const double before = m->evaluate(s.test, 0).loss;
  m->train_steps(60, 32, 0.02, loader);
  EXPECT_LT(m->evaluate(s.test, 0).loss, before);
  EXPECT_EQ(m->optimizer_state().size(), x0.size());
  EXPECT_TRUE(std::any_of(m->optimizer_state().begin(), m->optimizer_state().end(),
                          [](float v) { return v != 0.0f; }));
}

TEST(NodeModel, BatchNormBuffersLiveInTheFlatBufferWhenIncluded) {
  ConfigureWorkerThread();
  auto s = Synthetic(12, 64);
  ModelOptions o;
  o.name = "resnet20";
  auto x0 = InitialParameters(o, ShapeOf(s.train), 1);
  auto m = MakeNodeModel(o, {}, ShapeOf(s.train), x0);
  std::vector<int64_t> all(64);
  std::iota(all.begin(), all.end(), 0);
  data::NodeLoader loader(s.train, all, Rng(2));
  m->train_steps(1, 8, 0.0, loader);  // lr 0: only BatchNorm statistics move
  auto p = m->params();
  const int64_t t = m->trainable();
  EXPECT_TRUE(std::equal(p.begin(), p.begin() + t, x0.begin()));
  EXPECT_FALSE(std::equal(p.begin() + t, p.end(), x0.begin() + t));
}

// A checkpoint of a model and its loader, restored into fresh ones, continues training exactly
// as the originals do: parameters, momentum, BatchNorm statistics kept outside the flat buffer
// (include_buffers = false) and the loader's epoch position all come back.
TEST(NodeModel, CheckpointRestoresTrainingExactly) {
  ConfigureWorkerThread();
  auto s = Synthetic(12, 40);
  ModelOptions o;
  o.name = "resnet20";
  o.include_buffers = false;
  OptimizerOptions opt;
  opt.momentum = 0.9;
  auto x0 = InitialParameters(o, ShapeOf(s.train), 1);
  std::vector<int64_t> all(40);
  std::iota(all.begin(), all.end(), 0);
  auto a = MakeNodeModel(o, opt, ShapeOf(s.train), x0);
  data::NodeLoader la(s.train, all, Rng(2));
  a->train_steps(3, 16, 0.05, la);  // mid-epoch: 48 of 40 samples
  StateIo save;
  a->checkpoint(save);
  la.checkpoint(save);

  auto b = MakeNodeModel(o, opt, ShapeOf(s.train), x0);
  data::NodeLoader lb(s.train, all, Rng(99));
  StateIo load(save.bytes(), "test");
  b->checkpoint(load);
  lb.checkpoint(load);
  load.expect_end();
  EXPECT_EQ(lb.epoch(), 1);
  const double loss_a = a->train_steps(2, 16, 0.05, la);
  const double loss_b = b->train_steps(2, 16, 0.05, lb);
  EXPECT_EQ(loss_a, loss_b);
  EXPECT_TRUE(std::equal(a->params().begin(), a->params().end(), b->params().begin()));
  // Evaluation uses the BatchNorm running statistics, which live outside params() here.
  EXPECT_EQ(a->evaluate(s.test, 64).loss, b->evaluate(s.test, 64).loss);

  // Another model's state does not load.
  ModelOptions other = o;
  other.name = "cnn";
  auto c =
      MakeNodeModel(other, opt, ShapeOf(s.train), InitialParameters(other, ShapeOf(s.train), 1));
  StateIo wrong(save.bytes(), "node 4");
  EXPECT_THROW(c->checkpoint(wrong), IoError);
}

TEST(NodeModel, ModelsRunOnSmallInputs) {
  ConfigureWorkerThread();
  auto s = Synthetic(12, 32);
  for (const char* name : {"logreg", "mlp", "cnn", "lenet_gn", "resnet20", "vgg11", "vgg11_bn"}) {
    ModelOptions o;
    o.name = name;
    auto x0 = InitialParameters(o, ShapeOf(s.train), 1);
    auto m = MakeNodeModel(o, {}, ShapeOf(s.train), x0);
    std::vector<int64_t> all(32);
    std::iota(all.begin(), all.end(), 0);
    data::NodeLoader loader(s.train, all, Rng(2));
    EXPECT_TRUE(std::isfinite(m->train_steps(1, 4, 0.01, loader))) << name;
  }
}

TEST(NodeModel, ConfigErrors) {
  ModelOptions o;
  o.name = "transformer";
  EXPECT_THROW(InitialParameters(o, {1, 28, 28, 10}, 1), ConfigError);
  o.name = "cnn";
  EXPECT_THROW(InitialParameters(o, {1, 8, 8, 10}, 1), ConfigError);  // too small for LeNet
  auto x0 = InitialParameters(o, {1, 28, 28, 10}, 1);
  OptimizerOptions opt;
  opt.nesterov = true;
  EXPECT_THROW(MakeNodeModel(o, opt, {1, 28, 28, 10}, x0), ConfigError);
  opt.nesterov = false;
  opt.quasi_global = true;
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([&] {
                                    MakeNodeModel(o, opt, {1, 28, 28, 10}, x0);
                                  }),
                                  "train.quasi_global_momentum: needs train.momentum > 0"));
  EXPECT_THROW(MakeNodeModel(o, {}, {1, 28, 28, 10}, std::vector<float>(5)), ConfigError);
  o.device = "tpu";
  EXPECT_THROW(MakeNodeModel(o, {}, {1, 28, 28, 10}, x0), ConfigError);
  if (!CudaAvailable()) {
    o.device = "cuda";
    EXPECT_THROW(MakeNodeModel(o, {}, {1, 28, 28, 10}, x0), ConfigError);
  }
}

}  // namespace
}  // namespace murmur::train
