// TorchScript models (model.name = torchscript). The module is loaded from model.path for every
// node; each of its parameters and buffers is registered, under a positional name, on a Net
// that wraps it. The registered tensors are the module's own (one TensorImpl), so when a node
// model points a parameter's data at its flat buffer (set_data), the module computes with the
// flat buffer too: algorithms, compressors, checkpoints and MPI see a TorchScript model
// exactly as a built-in one.
#include <filesystem>
#include <sstream>

#include <torch/csrc/jit/runtime/graph_executor.h>

#include "models.h"

namespace murmur::train {

std::string TorchErrorText(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string s = c10 ? c10->what_without_backtrace() : e.what();
  const size_t err = s.rfind("Error: ");
  if (err != std::string::npos && s.find("Traceback") != std::string::npos) {
    const size_t start = s.rfind('\n', err);
    s = s.substr(start == std::string::npos ? 0 : start + 1);
  }
  const size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

namespace {

std::string Shape(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t k = 0; k < t.dim(); ++k) s += (k ? ", " : "") + std::to_string(t.size(k));
  return s + "]";
}

// "p3": built by appending (GCC 12 warns, -Wrestrict, on "p" + std::to_string(...)).
std::string Name(char prefix, int k) {
  std::string s(1, prefix);
  return s.append(std::to_string(k));
}

struct ScriptNet : Net {
  torch::jit::Module module;
  explicit ScriptNet(torch::jit::Module m, const std::string& path) : module(std::move(m)) {
    int k = 0;
    for (const auto& p : module.named_parameters(/*recurse=*/true)) {
      MURMUR_CHECK(ConfigError, p.value.scalar_type() == torch::kFloat, "model.path '", path,
                   "': parameter ", p.name, " is ", p.value.scalar_type(),
                   "; murmur trains float32 models (call .float() before saving)");
      register_parameter(Name('p', k++), p.value, p.value.requires_grad());
    }
    MURMUR_CHECK(ConfigError, k > 0, "model.path '", path,
                 "': the module has no parameters; there is nothing to train");
    k = 0;
    for (const auto& b : module.named_buffers(/*recurse=*/true))
      register_buffer(Name('b', k++), b.value);
  }
  torch::Tensor forward(torch::Tensor x) override {
    // The graph executor's optimisations (profiling runs, autodiff subgraphs) cost LeNet-5
    // 30% of its round time on the CPU; unoptimised, the module runs its ops as written, with
    // LibTorch's autograd, as fast as the built-in models (BENCHMARKS.md).
    torch::jit::GraphOptimizerEnabledGuard plain(false);
    const c10::IValue out = module.forward({x});
    MURMUR_CHECK(ConfigError, out.isTensor(), "model.name = torchscript: forward(x) returned ",
                 out.tagKind(), ", not a tensor of logits");
    return out.toTensor();
  }
  void train(bool on) override {
    torch::nn::Module::train(on);
    module.train(on);
  }
  torch::jit::Module* script() override { return &module; }
};

}  // namespace

std::shared_ptr<Net> LoadScriptNet(const ModelOptions& o) {
  MURMUR_CHECK(ConfigError, !o.path.empty(),
               "model.path: model.name = torchscript needs the module file (saved with "
               "torch.jit.script(model).save(path))");
  MURMUR_CHECK(ConfigError, std::filesystem::is_regular_file(o.path), "model.path '", o.path,
               "': no such file");
  torch::jit::Module m;
  try {
    m = torch::jit::load(o.path, torch::kCPU);
  } catch (const std::exception& e) {
    MURMUR_FAIL(ConfigError, "model.path '", o.path,
                "': not a TorchScript archive (save the model with torch.jit.script(model)"
                ".save(path) or torch.jit.trace(model, example).save(path)): ",
                TorchErrorText(e));
  }
  return std::make_shared<ScriptNet>(std::move(m), o.path);
}

void CheckNet(Net& net, const ModelOptions& o, const InputShape& s) {
  const std::string who =
      o.name == "torchscript" ? "model.path '" + o.path + "'" : "model.name '" + o.name + "'";
  torch::NoGradGuard no_grad;
  const bool was_training = net.is_training();
  net.eval();  // BatchNorm must not learn from the probe
  std::vector<int64_t> sizes{2};
  if (s.rank == 1) {
    sizes.push_back(s.width);
  } else {
    sizes.insert(sizes.end(), {s.channels, s.height, s.width});
  }
  const torch::Tensor x = s.vocab > 0 ? torch::zeros(sizes, torch::kLong) : torch::zeros(sizes);
  torch::Tensor out;
  try {
    out = net.forward(x);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    MURMUR_FAIL(ConfigError, who,
                ": the module does not accept the dataset's input: the data "
                "gives ",
                s.describe(), "; the module said: ", TorchErrorText(e));
  }
  net.train(was_training);
  MURMUR_CHECK(ConfigError, out.dim() == 2 && out.size(0) == 2 && out.size(1) == s.classes, who,
               ": for a batch of 2 samples (", s.describe(), ") the module returns ", Shape(out),
               "; the dataset has ", s.classes, " classes, so it must return logits of [2, ",
               s.classes, "]");
  MURMUR_CHECK(ConfigError, out.scalar_type() == torch::kFloat, who, ": the module returns ",
               out.scalar_type(), " logits; float32 expected");
}

}  // namespace murmur::train
