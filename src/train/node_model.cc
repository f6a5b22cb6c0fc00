#include <ATen/Parallel.h>

#include <mutex>
#include <sstream>

#include "models.h"

namespace murmur::train {

std::string InputShape::describe() const {
  std::string s = "[B, ";
  if (rank == 1)
    s += std::to_string(width);
  else
    s += std::to_string(channels) + ", " + std::to_string(height) + ", " + std::to_string(width);
  return s + (vocab > 0 ? "] int64 token ids in [0, " + std::to_string(vocab) + ")" : "] float32");
}

InputShape InputShapeOf(const data::Dataset& d) {
  return {d.channels, d.height, d.width, d.num_classes, d.rank, d.vocab};
}

std::string ExportedModelFormat(const ModelOptions& options) {
  return options.name == "torchscript" ? "torchscript" : "state_dict";
}

namespace {

// Input and target tensors of samples `idx` of `d`, in buffers reused from call to call.
struct BatchBuffers {
  std::vector<float> x;
  std::vector<int64_t> tokens, y;
  std::pair<torch::Tensor, torch::Tensor> fill(const data::Dataset& d,
                                               std::span<const int64_t> idx) {
    const auto n = static_cast<int64_t>(idx.size());
    std::vector<int64_t> sizes{n};
    for (int64_t k : d.sample_shape()) sizes.push_back(k);
    y.resize(idx.size());
    torch::Tensor input;
    if (d.vocab > 0) {
      tokens.resize(idx.size() * d.sample_dim());
      d.gather_tokens(idx, tokens.data(), y.data());
      input = torch::from_blob(tokens.data(), sizes, torch::kLong);
    } else {
      x.resize(idx.size() * d.sample_dim());
      d.gather(idx, x.data(), y.data());
      input = torch::from_blob(x.data(), sizes);
    }
    return {input, torch::from_blob(y.data(), {n}, torch::kLong)};
  }
};

torch::Device ParseDevice(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  MURMUR_CHECK(ConfigError, name.rfind("cuda", 0) == 0, "train.device: unknown device '", name,
               "'; allowed: cpu, cuda, cuda:N");
  MURMUR_CHECK(ConfigError, torch::cuda::is_available(), "train.device: '", name,
               "' requested but this LibTorch build has no usable CUDA device");
  return torch::Device(name);
}

// Tensors of the network that go into the flat vector, in a fixed order.
struct Slots {
  std::vector<torch::Tensor> params, buffers;
};
Slots CollectSlots(Net& net, bool include_buffers) {
  Slots s;
  for (auto& p : net.parameters()) s.params.push_back(p);
  if (include_buffers)
    for (auto& b : net.buffers())
      if (b.scalar_type() == torch::kFloat) s.buffers.push_back(b);
  return s;
}

std::mutex g_init_mu;  // torch::manual_seed touches the global generator

class TorchNodeModel final : public NodeModel {
 public:
  TorchNodeModel(const ModelOptions& o, const OptimizerOptions& opt, const InputShape& shape,
                 std::span<const float> init)
      : options_(o), opt_(opt), shape_(shape), device_(ParseDevice(o.device)) {
    MURMUR_CHECK(ConfigError, !opt.nesterov || opt.momentum > 0.0,
                 "train.nesterov: needs train.momentum > 0");
    MURMUR_CHECK(ConfigError, opt.momentum >= 0.0 && opt.momentum < 1.0,
                 "train.momentum: must be in [0, 1), got ", opt.momentum);
    MURMUR_CHECK(ConfigError, opt.weight_decay >= 0.0, "train.weight_decay: must be >= 0");
    MURMUR_CHECK(ConfigError, !opt.quasi_global || opt.momentum > 0.0,
                 "train.quasi_global_momentum: needs train.momentum > 0");
    net_ = BuildNet(o, shape);
    net_->to(device_);
    Slots slots = CollectSlots(*net_, o.include_buffers);
    int64_t d = 0;
    for (auto& p : slots.params) d += p.numel();
    trainable_ = d;
    for (auto& b : slots.buffers) d += b.numel();
    MURMUR_CHECK(ConfigError, static_cast<int64_t>(init.size()) == d, "initial model has ",
                 init.size(), " values, model '", o.name, "' needs ", d);
    host_ = std::vector<float>(init.begin(), init.end());
    auto fopts = torch::TensorOptions().dtype(torch::kFloat).device(device_);
    flat_ =
        device_.is_cpu() ? torch::from_blob(host_.data(), {d}, fopts) : torch::empty({d}, fopts);
    grad_ = torch::zeros({trainable_}, fopts);
    int64_t off = 0;
    torch::NoGradGuard no_grad;
    for (auto& p : slots.params) {
      torch::Tensor view = flat_.narrow(0, off, p.numel()).view(p.sizes());
      p.set_data(view);
      grad_views_.push_back(grad_.narrow(0, off, p.numel()).view(p.sizes()));
      p.mutable_grad() = grad_views_.back();
      params_.push_back(p);
      segments_.push_back(p.numel());
      off += p.numel();
    }
    for (auto& b : slots.buffers) {
      b.set_data(flat_.narrow(0, off, b.numel()).view(b.sizes()));
      segments_.push_back(b.numel());
      off += b.numel();
    }
    to_device();
    if (opt_.momentum > 0.0) momentum_.assign(trainable_, 0.0f);
  }

  std::span<float> params() override { return host_; }
  int64_t trainable() const override { return trainable_; }
  std::vector<int64_t> segments() const override { return segments_; }
  std::span<float> optimizer_state() override {
    momentum_to_host();
    return momentum_;
  }
  void set_optimizer_state(std::span<const float> state) override {
    MURMUR_ASSERT(state.size() == momentum_.size(), "momentum buffer of ", state.size(),
                  " values, the model has ", momentum_.size());
    std::copy(state.begin(), state.end(), momentum_.begin());
    momentum_to_device();
  }

  double train_steps(int steps, int batch, double lr, data::NodeLoader& loader) override {
    net_->train();
    to_device();
    double loss_sum = 0.0;
    for (int s = 0; s < steps; ++s) {
      auto [x, y] = batch_.fill(loader.data(), loader.next_indices(batch));
      if (!device_.is_cpu()) {
        x = x.to(device_);
        y = y.to(device_);
      }
      grad_.zero_();
      torch::Tensor loss = torch::nn::functional::cross_entropy(net_->forward(x), y);
      loss.backward();
      // Autograd accumulates into the flat gradient views; a tensor it replaced instead
      // (layout mismatch) is copied back.
      for (size_t k = 0; k < params_.size(); ++k) {
        torch::Tensor& g = params_[k].mutable_grad();
        if (!g.defined()) {
          grad_views_[k].zero_();
        } else if (g.data_ptr() != grad_views_[k].data_ptr()) {
          torch::NoGradGuard ng;
          grad_views_[k].copy_(g);
        }
        g = grad_views_[k];
      }
      sgd_update(lr);
      loss_sum += loss.item<double>();
    }
    to_host();
    return steps > 0 ? loss_sum / steps : 0.0;
  }

  EvalResult evaluate(const data::Dataset& data, int64_t max_samples) override {
    torch::NoGradGuard no_grad;
    net_->eval();
    to_device();
    const int64_t n = max_samples > 0 ? std::min(max_samples, data.size) : data.size;
    // Evaluation batches of 64: large enough to amortise the per-batch overhead, small enough
    // that the activations of a conv net stay a few MB per thread. The input buffers are local,
    // so a node keeps nothing of the evaluation between rounds (a node's resident state is its
    // parameters, optimizer and training batch).
    const int64_t kBatch = std::max<int64_t>(1, std::min<int64_t>(64, n));
    BatchBuffers buffers;
    std::vector<int64_t> idx(kBatch);
    double loss_sum = 0.0;
    int64_t correct = 0;
    for (int64_t start = 0; start < n; start += kBatch) {
      const int64_t b = std::min(kBatch, n - start);
      for (int64_t i = 0; i < b; ++i) idx[i] = start + i;
      auto [x, y] = buffers.fill(data, std::span<const int64_t>(idx.data(), b));
      x = x.to(device_);
      y = y.to(device_);
      torch::Tensor out = net_->forward(x);
      loss_sum +=
          torch::nn::functional::cross_entropy(
              out, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
              .item<double>();
      correct += out.argmax(1).eq(y).sum().item<int64_t>();
    }
    EvalResult r;
    r.samples = n;
    r.loss = n > 0 ? loss_sum / n : 0.0;
    r.accuracy = n > 0 ? static_cast<double>(correct) / n : 0.0;
    return r;
  }

  void checkpoint(StateIo& io) override {
    io.fixed(std::span<float>(host_), "the model");
    torch::NoGradGuard ng;
    if (!io.loading()) momentum_to_host();
    io.fixed(std::span<float>(momentum_), "the momentum buffer");
    if (io.loading()) {
      momentum_to_device();
      to_device();
    }
    if (options_.include_buffers) return;
    for (torch::Tensor& b : net_->buffers()) {  // any dtype: raw bytes
      torch::Tensor c = b.detach().to(torch::kCPU).contiguous();
      std::span<uint8_t> raw(static_cast<uint8_t*>(c.data_ptr()), c.nbytes());
      io.fixed(raw, "a BatchNorm buffer");
      if (io.loading()) b.copy_(c);
    }
  }

  std::vector<char> export_model() override {
    torch::NoGradGuard ng;
    to_device();
    if (torch::jit::Module* m = net_->script()) {
      // The module computes with this node's flat buffer: saving it saves the model.
      std::ostringstream out;
      m->save(out);
      const std::string bytes = out.str();
      return std::vector<char>(bytes.begin(), bytes.end());
    }
    c10::Dict<std::string, torch::Tensor> dict;
    for (const auto& p : net_->named_parameters()) dict.insert(p.key(), p.value().cpu().clone());
    for (const auto& b : net_->named_buffers()) dict.insert(b.key(), b.value().cpu().clone());
    return torch::pickle_save(dict);
  }

  void import_model(const std::vector<char>& bytes, const std::string& what) override {
    torch::NoGradGuard ng;
    std::vector<std::pair<std::string, torch::Tensor>> mine, theirs;
    for (const auto& p : net_->named_parameters()) mine.emplace_back(p.key(), p.value());
    for (const auto& b : net_->named_buffers()) mine.emplace_back(b.key(), b.value());
    try {
      if (net_->script()) {  // positionally, as LoadScriptNet registered them
        std::istringstream in(std::string(bytes.begin(), bytes.end()));
        torch::jit::Module m = torch::jit::load(in, torch::kCPU);
        for (const auto& p : m.named_parameters(true)) theirs.emplace_back(p.name, p.value);
        for (const auto& b : m.named_buffers(true)) theirs.emplace_back(b.name, b.value);
        MURMUR_CHECK(DataError, theirs.size() == mine.size(), what, ": holds ", theirs.size(),
                     " parameters and buffers; the model of model.path has ", mine.size());
      } else {
        const c10::IValue v = torch::pickle_load(bytes);
        MURMUR_CHECK(DataError, v.isGenericDict(), what,
                     ": not a state_dict (a dict of tensors written by murmur or torch.save)");
        const c10::impl::GenericDict dict = v.toGenericDict();
        MURMUR_CHECK(DataError, dict.size() == mine.size(), what, ": holds ", dict.size(),
                     " tensors; a state_dict of model '", options_.name, "' has ", mine.size());
        for (const auto& [name, t] : mine) {
          const auto it = dict.find(name);
          MURMUR_CHECK(DataError, it != dict.end() && it->value().isTensor(), what,
                       ": has no tensor '", name, "' (a state_dict of model '", options_.name,
                       "' is expected)");
          theirs.emplace_back(name, it->value().toTensor());
        }
      }
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      MURMUR_FAIL(DataError, what, ": cannot be read as a ", ExportedModelFormat(options_),
                  " file: ", TorchErrorText(e));
    }
    for (size_t k = 0; k < mine.size(); ++k) {
      MURMUR_CHECK(DataError, theirs[k].second.sizes() == mine[k].second.sizes(), what, ": '",
                   theirs[k].first, "' has shape ", theirs[k].second.sizes(), ", the model's '",
                   mine[k].first, "' ", mine[k].second.sizes());
      mine[k].second.copy_(theirs[k].second);
    }
    to_host();
  }

  void copy_local_state_from(NodeModel& other) override {
    auto& o = dynamic_cast<TorchNodeModel&>(other);
    if (options_.include_buffers) return;
    torch::NoGradGuard no_grad;
    auto mine = net_->buffers(), theirs = o.net_->buffers();
    for (size_t i = 0; i < mine.size(); ++i) mine[i].copy_(theirs[i]);
  }

 private:
  void sgd_update(double lr) {
    float* x = device_.is_cpu() ? host_.data() : nullptr;
    if (!device_.is_cpu()) {  // small models on GPU: do the update with torch ops
      torch::NoGradGuard ng;
      torch::Tensor xs = flat_.narrow(0, 0, trainable_);
      torch::Tensor g = grad_.clone();
      if (opt_.weight_decay > 0) g.add_(xs, opt_.weight_decay);
      if (opt_.momentum > 0) {
        if (!mom_dev_.defined()) mom_dev_ = torch::zeros_like(g);
        mom_dev_.mul_(opt_.momentum).add_(g);
        g = opt_.nesterov ? g.add(mom_dev_, opt_.momentum) : mom_dev_;
      }
      xs.add_(g, -lr);
      return;
    }
    const float* g = grad_.data_ptr<float>();
    const float flr = static_cast<float>(lr), wd = static_cast<float>(opt_.weight_decay);
    const float m = static_cast<float>(opt_.momentum);
    const int64_t n = trainable_;
    if (m == 0.0f) {
      for (int64_t i = 0; i < n; ++i) x[i] -= flr * (g[i] + wd * x[i]);
      return;
    }
    float* buf = momentum_.data();
    if (opt_.nesterov) {
      for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * x[i];
        buf[i] = m * buf[i] + gi;
        x[i] -= flr * (gi + m * buf[i]);
      }
    } else {
      for (int64_t i = 0; i < n; ++i) {
        buf[i] = m * buf[i] + (g[i] + wd * x[i]);
        x[i] -= flr * buf[i];
      }
    }
  }
  // On a GPU the momentum buffer lives in mom_dev_ while training; momentum_ is its host
  // copy, brought up to date or sent back by these two.
  void momentum_to_host() {
    if (device_.is_cpu() || !mom_dev_.defined()) return;
    torch::NoGradGuard ng;
    torch::from_blob(momentum_.data(), {trainable_}).copy_(mom_dev_.cpu());
  }
  void momentum_to_device() {
    if (device_.is_cpu() || momentum_.empty()) return;
    torch::NoGradGuard ng;
    mom_dev_ = torch::from_blob(momentum_.data(), {trainable_}).to(device_);
  }
  void to_device() {
    if (device_.is_cpu()) return;
    torch::NoGradGuard ng;
    flat_.copy_(torch::from_blob(host_.data(), {static_cast<int64_t>(host_.size())}));
  }
  void to_host() {
    if (device_.is_cpu()) return;
    torch::NoGradGuard ng;
    torch::from_blob(host_.data(), {static_cast<int64_t>(host_.size())}).copy_(flat_.cpu());
  }

  ModelOptions options_;
  OptimizerOptions opt_;
  InputShape shape_;
  torch::Device device_;
  std::shared_ptr<Net> net_;
  std::vector<float> host_, momentum_;
  BatchBuffers batch_;
  torch::Tensor flat_, grad_, mom_dev_;
  std::vector<torch::Tensor> params_, grad_views_;
  int64_t trainable_ = 0;
  std::vector<int64_t> segments_;
};

}  // namespace

std::vector<float> InitialParameters(const ModelOptions& options, const InputShape& shape,
                                     uint64_t seed) {
  std::lock_guard<std::mutex> lock(g_init_mu);
  torch::manual_seed(seed);
  ModelOptions cpu = options;
  cpu.device = "cpu";
  auto net = BuildNet(cpu, shape);
  CheckNet(*net, cpu, shape);
  Slots slots = CollectSlots(*net, options.include_buffers);
  std::vector<float> out;
  for (auto* group : {&slots.params, &slots.buffers})
    for (auto& t : *group) {
      torch::Tensor c = t.detach().contiguous();
      out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    }
  return out;
}

std::unique_ptr<NodeModel> MakeNodeModel(const ModelOptions& options,
                                         const OptimizerOptions& optimizer, const InputShape& shape,
                                         std::span<const float> init) {
  return std::make_unique<TorchNodeModel>(options, optimizer, shape, init);
}

void ConfigureWorkerThread() { at::set_num_threads(1); }

bool CudaAvailable() { return torch::cuda::is_available(); }

}  // namespace murmur::train
