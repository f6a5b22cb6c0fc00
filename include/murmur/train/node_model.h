// One node's model and optimiser, behind a torch-free interface.
//
// All trainable parameters (and, with include_buffers, BatchNorm running statistics) live in
// one contiguous float buffer: the LibTorch parameter tensors are views into it, so
// algorithms read and write the model through params() without seeing torch. The first
// trainable() entries are parameters; the rest are buffers, which are averaged by the
// algorithms but never touched by the optimiser. SGD (momentum, Nesterov, weight decay)
// runs directly on the flat buffer, so its state is a flat buffer too.
//
// A NodeModel is used by one thread at a time; different NodeModels may train concurrently
// (call ConfigureWorkerThread() on each thread first).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "murmur/core/registry.h"
#include "murmur/core/state_io.h"
#include "murmur/data/dataset.h"
#include "murmur/data/partition.h"

namespace murmur::train {

// What a model receives: batches of [B, channels, height, width] floats (rank 3), or of
// [B, width] floats (rank 1), or of [B, width] int64 token ids in [0, vocab) (vocab > 0).
struct InputShape {
  int channels = 1, height = 28, width = 28, classes = 10;
  int rank = 3;
  int vocab = 0;
  // "[B, 1, 28, 28] float32", for error messages.
  std::string describe() const;
};
InputShape InputShapeOf(const data::Dataset& d);

struct ModelOptions {
  // logreg, mlp, cnn, lenet_gn, resnet20, vgg11, vgg11_bn, char_lstm, torchscript (see
  // ModelRegistry()).
  std::string name = "cnn";
  // torchscript: the module file (torch.jit.script(m).save(path) or torch.jit.trace).
  std::string path;
  // Put BatchNorm running statistics into the flat buffer so algorithms average them too.
  // Off: each node keeps its own statistics (and the averaged model uses node 0's).
  bool include_buffers = true;
  // Width of the two hidden layers of `mlp`.
  int mlp_hidden = 200;
  // char_lstm: embedding width, LSTM hidden width and layers.
  int embedding_dim = 8;
  int lstm_hidden = 256;
  int lstm_layers = 2;
  // "cpu", or "cuda" / "cuda:N" where LibTorch was built with CUDA.
  std::string device = "cpu";
};

struct OptimizerOptions {
  double momentum = 0.0;      // heavy-ball momentum; 0 = plain SGD
  bool nesterov = false;      // Nesterov momentum (needs momentum > 0)
  double weight_decay = 0.0;  // L2 penalty added to the gradient
  // Rebuild the momentum buffer every round from the model's move (local steps and
  // averaging): quasi-global momentum, see quasi_global.h. Done by the runner; needs
  // momentum > 0.
  bool quasi_global = false;
};

struct EvalResult {
  double loss = 0.0;
  double accuracy = 0.0;
  int64_t samples = 0;
};

class NodeModel {
 public:
  virtual ~NodeModel() = default;
  // The flat model vector: [trainable parameters | buffers (if included)].
  virtual std::span<float> params() = 0;
  virtual int64_t trainable() const = 0;
  // Length of every tensor in params(), in order (parameters, then included buffers): the
  // layers of layer-wise algorithms.
  virtual std::vector<int64_t> segments() const = 0;
  // Momentum buffer (empty without momentum), one value per trainable parameter.
  virtual std::span<float> optimizer_state() = 0;
  // Replaces the momentum buffer (the size of optimizer_state()); use this rather than
  // writing into optimizer_state(), which on a GPU is only the host copy.
  virtual void set_optimizer_state(std::span<const float> state) = 0;
  // `steps` SGD steps of `batch` samples from `loader` at learning rate `lr`; returns the
  // mean training loss.
  virtual double train_steps(int steps, int batch, double lr, data::NodeLoader& loader) = 0;
  // Loss and accuracy on the first `max_samples` samples of `data` (<= 0: all).
  virtual EvalResult evaluate(const data::Dataset& data, int64_t max_samples) = 0;
  // Copies state that is not in params() (BatchNorm statistics without include_buffers).
  virtual void copy_local_state_from(NodeModel& other) = 0;
  // Saves or loads (io.loading()) the parameters, the optimizer state and the state outside
  // params() (BatchNorm statistics without include_buffers), for checkpoints.
  virtual void checkpoint(StateIo& io) = 0;
  // The model as a file PyTorch loads (see ExportedModelFormat): parameters and buffers.
  virtual std::vector<char> export_model() = 0;
  // Reads such a file (parameters and every buffer); `what` names it in errors.
  virtual void import_model(const std::vector<char>& bytes, const std::string& what) = 0;
};

// What export_model() writes for a model: "torchscript" (a TorchScript archive:
// torch.jit.load(path)) for TorchScript models, "state_dict" (torch.load(path) gives a dict of
// tensors for the model's load_state_dict) for the built-in ones.
std::string ExportedModelFormat(const ModelOptions& options);

// The network of a model name (a torch module, defined in src/train/models.h; this header
// stays free of torch).
struct Net;
using NetBuilder = std::function<std::shared_ptr<Net>(const ModelOptions&, const InputShape&)>;
const Registry<NetBuilder>& ModelRegistry();

// Deterministic initial model vector x0 for (options, shape, seed); every node starts here.
// A TorchScript model starts from the weights saved in its file (the seed is not used); its
// input and output are checked against `shape` here (ConfigError naming model.path).
std::vector<float> InitialParameters(const ModelOptions& options, const InputShape& shape,
                                     uint64_t seed);
// A node model whose params() equal `init` (which must have the right length).
std::unique_ptr<NodeModel> MakeNodeModel(const ModelOptions& options,
                                         const OptimizerOptions& optimizer, const InputShape& shape,
                                         std::span<const float> init);

// Pins torch's intra-op parallelism of the calling thread to one thread (node-level
// parallelism replaces it). Call once on every thread that trains or evaluates.
void ConfigureWorkerThread();
// Whether this LibTorch build can use CUDA.
bool CudaAvailable();

}  // namespace murmur::train
