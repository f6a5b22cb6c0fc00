// TorchScript models (model.name = torchscript), char_lstm, and the export/import of models.
// The fixtures come from scripts/make_model_fixtures.py (committed).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "error_text.h"
#include "murmur/data/dataset.h"
#include "murmur/data/partition.h"
#include "murmur/train/node_model.h"

namespace murmur::train {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(MURMUR_SOURCE_DIR) + "/tests/fixtures/" + name;
}

data::DataSplits Synthetic(int side, int classes = 10) {
  data::DataOptions o;
  o.name = "synthetic";
  o.synthetic_side = side;
  o.synthetic_classes = classes;
  o.synthetic_train = 256;
  o.synthetic_test = 128;
  o.synthetic_separation = 0.5;
  return data::LoadData(o);
}

ModelOptions Script(const std::string& fixture) {
  ModelOptions o;
  o.name = "torchscript";
  o.path = Fixture(fixture);
  o.include_buffers = false;
  return o;
}

// Token data: sequences of `len` letters whose label is the letter after the last one
// (cyclically), so a sequence model can learn it.
data::Dataset Tokens(int64_t n, int len, int vocab) {
  data::Dataset d;
  d.name = "tokens";
  d.rank = 1;
  d.width = len;
  d.vocab = vocab;
  d.num_classes = vocab;
  d.size = n;
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < len; ++k) d.tokens.push_back(static_cast<uint16_t>((i * 7 + k) % vocab));
    d.labels.push_back(static_cast<uint16_t>((i * 7 + len) % vocab));
  }
  return d;
}

std::vector<int64_t> All(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

// 155 SGD steps of 32 samples at lr 1 bring the training loss below 0.8 of the first steps'.
void ExpectLearns(const ModelOptions& o, const data::Dataset& d) {
  const InputShape shape = InputShapeOf(d);
  ConfigureWorkerThread();
  auto m = MakeNodeModel(o, {}, shape, InitialParameters(o, shape, 1));
  data::NodeLoader loader(d, All(d.size), Rng(1, 0, Stream::kShuffle));
  const double first = m->train_steps(5, 32, 1.0, loader);
  for (int k = 0; k < 30; ++k) m->train_steps(5, 32, 1.0, loader);
  EXPECT_LT(m->train_steps(5, 32, 1.0, loader), first * 0.8) << o.name;
}

// murmur's LeNet-5 written in Python and scripted, started from the built-in cnn's initial
// vector, follows the built-in cnn's training trajectory (same batches, same SGD).
TEST(ScriptModel, LeNetInPythonTrainsLikeTheBuiltInCnn) {
  const data::DataSplits s = Synthetic(28);
  const InputShape shape = InputShapeOf(s.train);
  ModelOptions builtin;
  builtin.name = "cnn";
  const std::vector<float> x0 = InitialParameters(builtin, shape, 3);
  ASSERT_EQ(InitialParameters(Script("lenet5.pt"), shape, 3).size(), x0.size());
  OptimizerOptions opt;
  opt.momentum = 0.9;
  ConfigureWorkerThread();
  auto a = MakeNodeModel(builtin, opt, shape, x0);
  auto b = MakeNodeModel(Script("lenet5.pt"), opt, shape, x0);
  data::NodeLoader la(s.train, All(s.train.size), Rng(5, 0, Stream::kShuffle));
  data::NodeLoader lb(s.train, All(s.train.size), Rng(5, 0, Stream::kShuffle));
  for (int round = 0; round < 5; ++round) {
    const double loss_a = a->train_steps(2, 16, 0.05, la);
    const double loss_b = b->train_steps(2, 16, 0.05, lb);
    EXPECT_NEAR(loss_a, loss_b, 1e-5 * std::abs(loss_a)) << "round " << round;
    double diff = 0.0, norm = 0.0;
    for (size_t k = 0; k < x0.size(); ++k) {
      diff = std::max(diff, static_cast<double>(std::abs(a->params()[k] - b->params()[k])));
      norm = std::max(norm, static_cast<double>(std::abs(a->params()[k])));
    }
    EXPECT_LT(diff, 1e-5 * norm) << "round " << round;
  }
  // And it moved: the comparison is not between two untouched vectors.
  double moved = 0.0;
  for (size_t k = 0; k < x0.size(); ++k) moved += std::abs(b->params()[k] - x0[k]);
  EXPECT_GT(moved, 1e-3);
  const EvalResult ea = a->evaluate(s.test, 0), eb = b->evaluate(s.test, 0);
  EXPECT_NEAR(ea.loss, eb.loss, 1e-5 * ea.loss);
  EXPECT_EQ(ea.accuracy, eb.accuracy);
}

// A TorchScript model starts from the weights in its file.
TEST(ScriptModel, StartsFromTheWeightsInTheFile) {
  const data::DataSplits s = Synthetic(12);
  const InputShape shape = InputShapeOf(s.train);
  const std::vector<float> a = InitialParameters(Script("tiny_mlp.pt"), shape, 1);
  const std::vector<float> b = InitialParameters(Script("tiny_mlp.pt"), shape, 99);
  EXPECT_EQ(a.size(), 144u * 32 + 32 + 32 * 10 + 10);
  EXPECT_EQ(a, b);  // the seed does not matter
}

TEST(ScriptModel, ErrorsNameThePathAndTheShapes) {
  const data::DataSplits s12 = Synthetic(12), s12c5 = Synthetic(12, 5);
  const InputShape shape = InputShapeOf(s12.train);
  ModelOptions o = Script("missing.pt");
  EXPECT_TRUE(test_util::Contains(
      test_util::ErrorText<ConfigError>([&] { InitialParameters(o, shape, 1); }),
      "model.path '" + o.path + "': no such file"));
  const std::string text = (std::filesystem::temp_directory_path() / "murmur_not_a_module.pt");
  std::ofstream(text) << "not a zip archive\n";
  o.path = text;
  EXPECT_TRUE(test_util::Contains(
      test_util::ErrorText<ConfigError>([&] { InitialParameters(o, shape, 1); }),
      "not a TorchScript archive"));
  std::filesystem::remove(text);
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>(
                                      [&] { InitialParameters(Script("no_params.pt"), shape, 1); }),
                                  "the module has no parameters"));
  // 10 logits for a 5-class dataset.
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<ConfigError>([&] {
                                    InitialParameters(Script("tiny_mlp.pt"),
                                                      InputShapeOf(s12c5.train), 1);
                                  }),
                                  "returns [2, 10]; the dataset has 5 classes"));
  // LeNet-5 on 12x12 images: its first linear layer expects 16x4x4 features.
  EXPECT_TRUE(test_util::Contains(
      test_util::ErrorText<ConfigError>([&] { InitialParameters(Script("lenet5.pt"), shape, 1); }),
      "the data gives [B, 1, 12, 12] float32; the module said:"));
  o.path.clear();
  EXPECT_TRUE(test_util::Contains(
      test_util::ErrorText<ConfigError>([&] { InitialParameters(o, shape, 1); }),
      "model.path: model.name"));
}

// Buffers (BatchNorm statistics) stay in the module unless averaged; either way a
// checkpoint restores them, and an exported model carries them.
TEST(ScriptModel, BuffersAreLocalByDefaultAndCheckpointed) {
  const data::DataSplits s = Synthetic(12);
  const InputShape shape = InputShapeOf(s.train);
  ModelOptions local = Script("bn_net.pt"), avg = Script("bn_net.pt");
  avg.include_buffers = true;
  const std::vector<float> x_local = InitialParameters(local, shape, 1);
  const std::vector<float> x_avg = InitialParameters(avg, shape, 1);
  EXPECT_EQ(x_avg.size(), x_local.size() + 8);  // running mean and var of 4 channels
  ConfigureWorkerThread();
  auto m = MakeNodeModel(local, {}, shape, x_local);
  data::NodeLoader loader(s.train, All(s.train.size), Rng(1, 0, Stream::kShuffle));
  m->train_steps(3, 16, 0.1, loader);
  const EvalResult trained = m->evaluate(s.test, 0);
  StateIo out;
  m->checkpoint(out);
  const std::vector<uint8_t> bytes = out.bytes();
  auto fresh = MakeNodeModel(local, {}, shape, x_local);
  EXPECT_NE(fresh->evaluate(s.test, 0).loss, trained.loss);
  StateIo in(bytes, "checkpoint");
  fresh->checkpoint(in);
  EXPECT_EQ(fresh->evaluate(s.test, 0).loss, trained.loss);  // the running statistics too
  // Exported and imported: the same model, statistics included.
  auto other = MakeNodeModel(local, {}, shape, x_local);
  other->import_model(m->export_model(), "export");
  EXPECT_EQ(other->evaluate(s.test, 0).loss, trained.loss);
}

// The built-in models export a state_dict that reads back into the same model.
TEST(ScriptModel, BuiltInStateDictRoundTrip) {
  const data::DataSplits s = Synthetic(12);
  const InputShape shape = InputShapeOf(s.train);
  ModelOptions o;
  o.name = "mlp";
  o.mlp_hidden = 16;
  ConfigureWorkerThread();
  auto m = MakeNodeModel(o, {}, shape, InitialParameters(o, shape, 1));
  data::NodeLoader loader(s.train, All(s.train.size), Rng(1, 0, Stream::kShuffle));
  m->train_steps(3, 16, 0.1, loader);
  auto copy = MakeNodeModel(o, {}, shape, InitialParameters(o, shape, 2));
  copy->import_model(m->export_model(), "export");
  EXPECT_TRUE(std::equal(m->params().begin(), m->params().end(), copy->params().begin()));
  // Another model's state_dict is refused, naming what is missing.
  ModelOptions wider = o;
  wider.mlp_hidden = 17;
  auto w = MakeNodeModel(wider, {}, shape, InitialParameters(wider, shape, 1));
  EXPECT_TRUE(test_util::Contains(
      test_util::ErrorText<DataError>([&] { copy->import_model(w->export_model(), "w.pt"); }),
      "w.pt: 'fc1.weight' has shape [17, 144]"));
  EXPECT_TRUE(test_util::Contains(test_util::ErrorText<DataError>([&] {
                                    copy->import_model(std::vector<char>{'x', 'y'}, "junk.pt");
                                  }),
                                  "junk.pt: cannot be read as a state_dict file"));
}

TEST(CharLstm, HasLeafShakespeareShapeAndLearnsTokens) {
  const data::Dataset d = Tokens(256, 20, 80);
  const InputShape shape = InputShapeOf(d);
  EXPECT_EQ(shape.describe(), "[B, 20] int64 token ids in [0, 80)");
  ModelOptions o;
  o.name = "char_lstm";
  // Embedding 80x8; LSTM layers 4x256x(8+256) and 4x256x(256+256) with two biases each;
  // linear 256 -> 80.
  EXPECT_EQ(InitialParameters(o, shape, 1).size(),
            80u * 8 + (4 * 256 * 264 + 2 * 1024) + (4 * 256 * 512 + 2 * 1024) + 256 * 80 + 80);
  o.lstm_hidden = 32;
  o.lstm_layers = 1;
  ExpectLearns(o, d);
  // Image data is refused with the shapes.
  const data::DataSplits img = Synthetic(12);
  EXPECT_TRUE(test_util::Contains(
      test_util::ErrorText<ConfigError>([&] { InitialParameters(o, InputShapeOf(img.train), 1); }),
      "char_lstm reads token sequences"));
}

// A user's TorchScript sequence model (embedding + GRU) trains on the same token data.
TEST(ScriptModel, SequenceModelTrainsOnTokens) {
  const data::Dataset d = Tokens(256, 20, 80);
  const InputShape shape = InputShapeOf(d);
  ExpectLearns(Script("char_gru.pt"), d);
  // Built-in image models refuse token inputs with the shapes.
  ModelOptions mlp;
  mlp.name = "mlp";
  EXPECT_TRUE(test_util::Contains(
      test_util::ErrorText<ConfigError>([&] { InitialParameters(mlp, shape, 1); }),
      "model.name 'mlp': the module does not accept the dataset's input: the data "
      "gives [B, 20] int64 token ids in [0, 80)"));
}

}  // namespace
}  // namespace murmur::train
