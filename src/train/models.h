// Network definitions (internal to the train module).
#pragma once

#include <torch/torch.h>

#include <string>

#include "murmur/train/node_model.h"

namespace murmur::train {

struct Net : torch::nn::Module {
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

// Builds the named network for the input shape; throws ConfigError for unknown names or
// inputs the network cannot take.
std::shared_ptr<Net> BuildNet(const ModelOptions& options, const InputShape& shape);

}  // namespace murmur::train
