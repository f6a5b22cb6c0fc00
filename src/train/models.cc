// Model zoo.
//  - logreg: one linear layer.
//  - mlp: two hidden ReLU layers of width model.mlp_hidden.
//  - cnn: LeNet-5 (LeCun et al. 1998): conv5x5(6, pad 2) - pool - conv5x5(16) - pool -
//    120 - 84 - classes, ReLU activations. 61,706 parameters on 28x28x1.
//  - lenet_gn: the LeNet with GroupNorm of decentralizepy's CIFAR-10 tutorial and the JWINS
//    paper: 3 x (conv5x5 'same' 32/32/64 channels + GroupNorm(2) + ReLU + maxpool 2), then
//    one linear layer: 89,834 parameters on 32x32x3.
//  - resnet20: the CIFAR ResNet of He et al. 2016 (3 stages x 3 basic blocks, 16/32/64
//    channels, BatchNorm, parameter-free option-A shortcuts): 0.27 M parameters.
//  - vgg11 / vgg11_bn: VGG-11 (Simonyan & Zisserman 2015) convolution stack 64-M-128-M-
//    256-256-M-512-512-M-512-512-M with a single linear classifier, as used for CIFAR-10
//    in the RelaySGD paper; max-pools that would shrink the map below 1x1 are skipped, and
//    the features are globally average-pooled, so small inputs work too. No dropout, so
//    training is deterministic.
//  - char_lstm: the next-character model of LEAF's Shakespeare baseline (also decentralizepy's):
//    embedding (model.embedding_dim, 8) - LSTM (model.lstm_layers = 2 layers of
//    model.lstm_hidden = 256) - linear to the classes, read at the last position. 0.82 M
//    parameters for LEAF's 80 letters.
//  - torchscript: a user's module from model.path (script_model.cc).
#include "models.h"

namespace murmur::train {
namespace {

namespace nn = torch::nn;

struct LogReg : Net {
  nn::Linear fc{nullptr};
  LogReg(const InputShape& s) {
    fc = register_module("fc", nn::Linear(int64_t{s.channels} * s.height * s.width, s.classes));
  }
  torch::Tensor forward(torch::Tensor x) override { return fc(x.flatten(1)); }
};

struct Mlp : Net {
  nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
  Mlp(const InputShape& s, int hidden) {
    fc1 = register_module("fc1", nn::Linear(int64_t{s.channels} * s.height * s.width, hidden));
    fc2 = register_module("fc2", nn::Linear(hidden, hidden));
    fc3 = register_module("fc3", nn::Linear(hidden, s.classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::relu(fc1(x.flatten(1)));
    return fc3(torch::relu(fc2(x)));
  }
};

struct LeNet : Net {
  nn::Conv2d c1{nullptr}, c2{nullptr};
  nn::Linear f1{nullptr}, f2{nullptr}, f3{nullptr};
  LeNet(const InputShape& s) {
    MURMUR_CHECK(ConfigError, s.height >= 12 && s.width >= 12,
                 "model.name: cnn needs inputs of at least 12x12, got ", s.height, "x", s.width);
    c1 = register_module("c1", nn::Conv2d(nn::Conv2dOptions(s.channels, 6, 5).padding(2)));
    c2 = register_module("c2", nn::Conv2d(nn::Conv2dOptions(6, 16, 5)));
    const int64_t h = (s.height / 2 - 4) / 2, w = (s.width / 2 - 4) / 2;
    f1 = register_module("f1", nn::Linear(16 * h * w, 120));
    f2 = register_module("f2", nn::Linear(120, 84));
    f3 = register_module("f3", nn::Linear(84, s.classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::max_pool2d(torch::relu(c1(x)), 2);
    x = torch::max_pool2d(torch::relu(c2(x)), 2);
    x = torch::relu(f1(x.flatten(1)));
    return f3(torch::relu(f2(x)));
  }
};

struct LeNetGN : Net {
  nn::Conv2d c1{nullptr}, c2{nullptr}, c3{nullptr};
  nn::GroupNorm g1{nullptr}, g2{nullptr}, g3{nullptr};
  nn::Linear fc{nullptr};
  LeNetGN(const InputShape& s) {
    MURMUR_CHECK(ConfigError, s.height >= 8 && s.width >= 8,
                 "model.name: lenet_gn needs inputs of at least 8x8, got ", s.height, "x", s.width);
    c1 = register_module("c1", nn::Conv2d(nn::Conv2dOptions(s.channels, 32, 5).padding(2)));
    g1 = register_module("g1", nn::GroupNorm(2, 32));
    c2 = register_module("c2", nn::Conv2d(nn::Conv2dOptions(32, 32, 5).padding(2)));
    g2 = register_module("g2", nn::GroupNorm(2, 32));
    c3 = register_module("c3", nn::Conv2d(nn::Conv2dOptions(32, 64, 5).padding(2)));
    g3 = register_module("g3", nn::GroupNorm(2, 64));
    fc = register_module("fc", nn::Linear(64 * (s.height / 8) * (s.width / 8), s.classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::max_pool2d(torch::relu(g1(c1(x))), 2);
    x = torch::max_pool2d(torch::relu(g2(c2(x))), 2);
    x = torch::max_pool2d(torch::relu(g3(c3(x))), 2);
    return fc(x.flatten(1));
  }
};

struct BasicBlock : nn::Module {
  nn::Conv2d c1{nullptr}, c2{nullptr};
  nn::BatchNorm2d b1{nullptr}, b2{nullptr};
  int64_t stride, in_planes, planes;
  BasicBlock(int64_t in, int64_t out, int64_t s) : stride(s), in_planes(in), planes(out) {
    c1 = register_module(
        "c1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(s).padding(1).bias(false)));
    b1 = register_module("b1", nn::BatchNorm2d(out));
    c2 = register_module("c2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    b2 = register_module("b2", nn::BatchNorm2d(out));
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor y = torch::relu(b1(c1(x)));
    y = b2(c2(y));
    torch::Tensor shortcut = x;
    if (stride != 1 || in_planes != planes) {  // option A: subsample and zero-pad channels
      using torch::indexing::Slice;
      shortcut =
          x.index({Slice(), Slice(), Slice(torch::indexing::None, torch::indexing::None, stride),
                   Slice(torch::indexing::None, torch::indexing::None, stride)});
      const int64_t pad = planes - in_planes;
      shortcut = torch::constant_pad_nd(shortcut, {0, 0, 0, 0, pad / 2, pad - pad / 2});
    }
    return torch::relu(y + shortcut);
  }
};

struct ResNet20 : Net {
  nn::Conv2d c1{nullptr};
  nn::BatchNorm2d b1{nullptr};
  std::vector<std::shared_ptr<BasicBlock>> blocks;
  nn::Linear fc{nullptr};
  ResNet20(const InputShape& s) {
    c1 = register_module("c1",
                         nn::Conv2d(nn::Conv2dOptions(s.channels, 16, 3).padding(1).bias(false)));
    b1 = register_module("b1", nn::BatchNorm2d(16));
    int64_t in = 16;
    for (int stage = 0; stage < 3; ++stage) {
      const int64_t planes = 16 << stage;
      for (int b = 0; b < 3; ++b) {
        const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
        // "s<stage>b<block>", built by appending: GCC 12 warns (-Wrestrict, a false positive)
        // on "s" + std::to_string(...).
        std::string name = "s";
        name.append(std::to_string(stage)).append("b").append(std::to_string(b));
        blocks.push_back(register_module(name, std::make_shared<BasicBlock>(in, planes, stride)));
        in = planes;
      }
    }
    fc = register_module("fc", nn::Linear(64, s.classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::relu(b1(c1(x)));
    for (auto& b : blocks) x = b->forward(x);
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return fc(x);
  }
};

struct Vgg11 : Net {
  nn::Sequential features;
  nn::Linear fc{nullptr};
  Vgg11(const InputShape& s, bool bn) {
    const int cfg[] = {64, -1, 128, -1, 256, 256, -1, 512, 512, -1, 512, 512, -1};
    int64_t in = s.channels;
    int h = s.height, w = s.width;
    for (int c : cfg) {
      if (c < 0) {
        if (h >= 2 && w >= 2) {
          features->push_back(nn::MaxPool2d(2));
          h /= 2;
          w /= 2;
        }
        continue;
      }
      features->push_back(nn::Conv2d(nn::Conv2dOptions(in, c, 3).padding(1)));
      if (bn) features->push_back(nn::BatchNorm2d(c));
      features->push_back(nn::ReLU());
      in = c;
    }
    register_module("features", features);
    fc = register_module("fc", nn::Linear(512, s.classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = features->forward(x);
    return fc(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
  }
};

struct CharLstm : Net {
  nn::Embedding embedding{nullptr};
  nn::LSTM lstm{nullptr};
  nn::Linear fc{nullptr};
  CharLstm(const ModelOptions& o, const InputShape& s) {
    MURMUR_CHECK(ConfigError, s.vocab > 0,
                 "model.name: char_lstm reads token sequences (data.name = leaf with data.task = "
                 "shakespeare, or npy with integer x); the dataset gives ",
                 s.describe());
    MURMUR_CHECK(ConfigError, o.embedding_dim >= 1 && o.lstm_hidden >= 1 && o.lstm_layers >= 1,
                 "model.embedding_dim, model.lstm_hidden, model.lstm_layers: must be >= 1");
    embedding = register_module("embedding", nn::Embedding(s.vocab, o.embedding_dim));
    lstm = register_module("lstm", nn::LSTM(nn::LSTMOptions(o.embedding_dim, o.lstm_hidden)
                                                .num_layers(o.lstm_layers)
                                                .batch_first(true)));
    fc = register_module("fc", nn::Linear(o.lstm_hidden, s.classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    torch::Tensor h = std::get<0>(lstm->forward(embedding(x)));
    return fc(h.select(1, -1));
  }
};

}  // namespace

const Registry<NetBuilder>& ModelRegistry() {
  static const Registry<NetBuilder> registry = [] {
    Registry<NetBuilder> r("model");
    r.add("logreg", "logistic regression (one linear layer)",
          [](const ModelOptions&, const InputShape& s) { return std::make_shared<LogReg>(s); });
    r.add("mlp", "multi-layer perceptron, two hidden ReLU layers (model.mlp_hidden)",
          [](const ModelOptions& o, const InputShape& s) {
            MURMUR_CHECK(ConfigError, o.mlp_hidden >= 1, "model.mlp_hidden: must be >= 1");
            return std::make_shared<Mlp>(s, o.mlp_hidden);
          });
    r.add("cnn", "LeNet-5 style CNN: 2 conv + 3 linear layers (61.7k params on 28x28)",
          [](const ModelOptions&, const InputShape& s) { return std::make_shared<LeNet>(s); });
    r.add("lenet_gn",
          "LeNet with GroupNorm (decentralizepy / JWINS): 3 conv + GN + pool, 1 linear "
          "(89.8k params on 32x32x3)",
          [](const ModelOptions&, const InputShape& s) { return std::make_shared<LeNetGN>(s); });
    r.add("resnet20", "ResNet-20 for CIFAR with BatchNorm (0.27M params)",
          [](const ModelOptions&, const InputShape& s) { return std::make_shared<ResNet20>(s); });
    r.add(
        "vgg11", "VGG-11 without BatchNorm, single linear classifier",
        [](const ModelOptions&, const InputShape& s) { return std::make_shared<Vgg11>(s, false); });
    r.add("vgg11_bn", "VGG-11 with BatchNorm", [](const ModelOptions&, const InputShape& s) {
      return std::make_shared<Vgg11>(s, true);
    });
    r.add("char_lstm",
          "character LSTM of LEAF's Shakespeare task: embedding 8, 2 x LSTM 256, linear "
          "(model.embedding_dim, lstm_hidden, lstm_layers)",
          [](const ModelOptions& o, const InputShape& s) {
            return std::make_shared<CharLstm>(o, s);
          });
    r.add("torchscript",
          "your own torch.nn.Module saved with torch.jit.script(m).save(path) or "
          "torch.jit.trace, from model.path; forward(x) -> logits",
          [](const ModelOptions& o, const InputShape&) { return LoadScriptNet(o); });
    return r;
  }();
  return registry;
}

std::shared_ptr<Net> BuildNet(const ModelOptions& o, const InputShape& s) {
  return ModelRegistry().get(o.name, "model.name").value(o, s);
}

}  // namespace murmur::train
