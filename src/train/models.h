// Network definitions (internal to the train module).
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <string>

#include "murmur/train/node_model.h"

namespace murmur::train {

struct Net : torch::nn::Module {
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  // The TorchScript module this net wraps (model.name = torchscript), else nullptr.
  virtual torch::jit::Module* script() { return nullptr; }
};

// What a LibTorch error says, without the C++ backtrace or the TorchScript call stack: the
// interpreter's last "RuntimeError: ..." line, or else the first line.
std::string TorchErrorText(const std::exception& e);

// model.name = torchscript: the module of model.path; its parameters and buffers are
// registered on the returned Net (same tensors), so views into a flat buffer reach the module.
std::shared_ptr<Net> LoadScriptNet(const ModelOptions& options);
// Runs a batch of two zero samples through `net` (eval mode, no gradients) and checks that it
// gives [2, classes] float logits; ConfigError naming model.path (or model.name) and the
// shapes otherwise.
void CheckNet(Net& net, const ModelOptions& options, const InputShape& shape);

// Builds the named network for the input shape; throws ConfigError for unknown names or
// inputs the network cannot take.
std::shared_ptr<Net> BuildNet(const ModelOptions& options, const InputShape& shape);

}  // namespace murmur::train
