#include "plugins.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "murmur/algo/algorithm.h"
#include "murmur/comm/frame.h"
#include "murmur/core/check.h"
#include "murmur/core/coding.h"

namespace py = pybind11;

namespace murmur::python {
namespace {

constexpr const char* kName = "python";

// The objects of the run in progress (PluginScope); touched with the GIL held only.
struct Current {
  bool active = false;
  py::object algorithm, compressor;
};
Current& Now() {
  static Current* c = new Current();  // never destroyed: no Python calls at exit
  return *c;
}

// "ValueError: bad shape", from the Python error being handled.
std::string Describe(const py::error_already_set& e) { return e.what(); }

// A NumPy array over murmur's buffer: no copy; valid during the call it is passed to.
py::array View(float* data, size_t n, bool writeable) {
  py::array_t<float> a({static_cast<py::ssize_t>(n)}, {static_cast<py::ssize_t>(sizeof(float))},
                       data, py::capsule(data, [](void*) {}));
  if (!writeable) a.attr("flags").attr("writeable") = false;
  return a;
}

// ---- messages: a kControl frame's payload ----------------------------------------------------
// tag u8: 0 = bytes (the rest of the payload); 1 = a NumPy array: dtype (u8 length, then
// numpy's dtype.str, e.g. "<f4"), ndim u8, each dimension u64, then the data in C order.
enum : uint8_t { kBytesTag = 0, kArrayTag = 1 };

Bytes EncodeMessage(py::handle msg, const std::string& where) {
  Bytes out;
  if (py::isinstance<py::bytes>(msg) || py::isinstance<py::bytearray>(msg) ||
      py::isinstance<py::memoryview>(msg)) {
    const py::object b = py::isinstance<py::bytes>(msg)
                             ? py::reinterpret_borrow<py::object>(msg)
                             : py::module_::import("builtins").attr("bytes")(msg);
    const std::string s = b.cast<std::string>();
    out.reserve(1 + s.size());
    out.push_back(kBytesTag);
    out.insert(out.end(), s.begin(), s.end());
    return out;
  }
  if (!py::isinstance<py::array>(msg))
    MURMUR_FAIL(Error, where, ": a message is bytes or a NumPy array, got ",
                std::string(py::str(py::type::of(msg).attr("__name__"))));
  const py::array a = py::array::ensure(msg, py::array::c_style);
  const std::string dtype = py::str(a.dtype().attr("str"));
  MURMUR_CHECK(Error, a.dtype().kind() != 'O' && dtype.size() < 256 && a.ndim() < 256, where,
               ": an array message needs a plain dtype (got ", dtype, ", ", a.ndim(), " dims)");
  out.reserve(4 + dtype.size() + 8 * a.ndim() + a.nbytes());
  out.push_back(kArrayTag);
  out.push_back(static_cast<uint8_t>(dtype.size()));
  out.insert(out.end(), dtype.begin(), dtype.end());
  out.push_back(static_cast<uint8_t>(a.ndim()));
  for (py::ssize_t d = 0; d < a.ndim(); ++d) PutU64(out, static_cast<uint64_t>(a.shape(d)));
  const auto* p = static_cast<const uint8_t*>(a.data());
  out.insert(out.end(), p, p + a.nbytes());
  return out;
}

py::object DecodeMessage(std::span<const uint8_t> payload, const std::string& where) {
  ByteReader in(payload, "python message");
  const uint8_t tag = in.u8();
  if (tag == kBytesTag) {
    const auto rest = in.take(in.remaining());
    return py::bytes(reinterpret_cast<const char*>(rest.data()), rest.size());
  }
  MURMUR_CHECK(ProtocolError, tag == kArrayTag, where, ": unknown message tag ", int{tag});
  const auto name = in.take(in.u8());
  py::dtype dtype;
  try {
    dtype = py::dtype(std::string(reinterpret_cast<const char*>(name.data()), name.size()));
  } catch (const py::error_already_set& e) {
    MURMUR_FAIL(ProtocolError, where, ": bad dtype in a message: ", Describe(e));
  }
  MURMUR_CHECK(ProtocolError, dtype.kind() != 'O', where, ": object arrays are not messages");
  const uint8_t ndim = in.u8();
  std::vector<py::ssize_t> shape(ndim);
  uint64_t count = 1;
  for (auto& d : shape) {
    const uint64_t v = in.u64();
    MURMUR_CHECK(ProtocolError, v <= payload.size() && (v == 0 || count <= payload.size() / v),
                 where, ": array dimensions exceed the message");
    count *= v;
    d = static_cast<py::ssize_t>(v);
  }
  const auto data = in.take(in.remaining());
  MURMUR_CHECK(ProtocolError, count * static_cast<uint64_t>(dtype.itemsize()) == data.size(), where,
               ": ", data.size(), " data bytes for ", count, " values of ", dtype.itemsize());
  return py::array(dtype, shape, data.data());  // a copy the receiver owns
}

// ---- the context Python algorithms see ---------------------------------------------------------
struct Context {
  const algo::AlgorithmContext* ctx = nullptr;
  int phase = 0;
  py::list state;  // a dict per node

  const graph::Graph& at(int64_t round) const {
    MURMUR_CHECK(Error, round >= 0, "ctx: round ", round, " < 0");
    return ctx->topology->at(static_cast<uint64_t>(round));
  }
  int node(int i) const {
    MURMUR_CHECK(Error, i >= 0 && i < ctx->nodes, "ctx: node ", i, " outside [0, ", ctx->nodes,
                 ")");
    return i;
  }
};

// ---- the algorithm -----------------------------------------------------------------------------
class PyAlgorithm final : public algo::Algorithm {
 public:
  PyAlgorithm(const algo::AlgorithmContext& ctx, py::object obj) : ctx_(ctx) {
    py::gil_scoped_acquire gil;
    obj_ = std::move(obj);
    context_ = std::make_unique<Context>();  // its Python list needs the GIL
    context_->ctx = &ctx_;
    for (int i = 0; i < ctx_.nodes; ++i) context_->state.append(py::dict());
    context_obj_ = py::cast(context_.get(), py::return_value_policy::reference);
    const py::object p = py::getattr(obj_, "phases", py::int_(1));
    MURMUR_CHECK(ConfigError, py::isinstance<py::int_>(p), "murmur.Algorithm.phases: an int");
    phases_ = p.cast<int>();
    MURMUR_CHECK(ConfigError, phases_ >= 1 && phases_ <= 200,
                 "murmur.Algorithm.phases: 1 to 200, got ", phases_);
    class_name_ = py::str(py::type::of(obj_).attr("__name__"));
  }
  ~PyAlgorithm() override {
    py::gil_scoped_acquire gil;
    context_obj_ = py::object();
    context_.reset();
    obj_ = py::object();
  }
  std::string_view name() const override { return kName; }
  int phases() const override { return phases_; }

  void send(int phase, uint32_t round, int node, std::span<float> x) override {
    const graph::Graph& g = ctx_.topology->at(round);
    const std::vector<int>& out = g.out[node];
    std::vector<std::pair<int, Bytes>> messages;  // (receiver, payload)
    {
      py::gil_scoped_acquire gil;
      context_->phase = phase;
      const std::string where = Where("send", round, node);
      py::object r;
      try {
        r = obj_.attr("send")(context_obj_, round, node, View(x.data(), x.size(), true));
      } catch (py::error_already_set& e) {
        MURMUR_FAIL(Error, where, " raised ", Describe(e));
      }
      if (r.is_none()) return;
      if (py::isinstance<py::dict>(r)) {
        for (auto [k, v] : r.cast<py::dict>()) {
          MURMUR_CHECK(Error, py::isinstance<py::int_>(k), where,
                       ": the keys of its dict are node ids");
          const int to = k.cast<int>();
          MURMUR_CHECK(Error, std::binary_search(out.begin(), out.end(), to), where,
                       " returned a message for node ", to, ", which is not an out-peer (",
                       Peers(out), ")");
          messages.emplace_back(to, EncodeMessage(v, where));
        }
      } else {
        Bytes one = EncodeMessage(r, where);
        for (int to : out) messages.emplace_back(to, one);
      }
    }
    comm::FrameHeader h;
    h.codec = static_cast<uint8_t>(comm::Codec::kControl);
    h.phase = static_cast<uint8_t>(phase);
    h.round = round;
    h.sender = static_cast<uint32_t>(node);
    h.dimension = static_cast<uint32_t>(ctx_.dim);
    for (const auto& [to, payload] : messages) {
      h.receiver = static_cast<uint32_t>(to);
      ctx_.transport->send(comm::EncodeFrame(h, payload));
    }
  }

  void receive(int phase, uint32_t round, int node, std::span<float> x) override {
    const graph::Graph& g = ctx_.topology->at(round);
    std::vector<std::pair<int, Bytes>> frames;
    for (int from : g.in[node])
      if (auto f = ctx_.transport->receive(node, from, round, static_cast<uint8_t>(phase)))
        frames.emplace_back(from, std::move(*f));
    py::gil_scoped_acquire gil;
    context_->phase = phase;
    const std::string where = Where("receive", round, node);
    py::dict inbox;  // sender-id order
    for (const auto& [from, bytes] : frames) {
      const comm::FrameView f = comm::DecodeFrame(bytes);
      MURMUR_CHECK(ProtocolError,
                   f.header.codec == static_cast<uint8_t>(comm::Codec::kControl) &&
                       f.header.sender == static_cast<uint32_t>(from) && f.header.round == round,
                   where, ": a frame from node ", from, " that is not its message of this round");
      inbox[py::int_(from)] = DecodeMessage(f.payload, where);
    }
    try {
      obj_.attr("receive")(context_obj_, round, node, View(x.data(), x.size(), true), inbox);
    } catch (py::error_already_set& e) {
      MURMUR_FAIL(Error, where, " raised ", Describe(e));
    }
  }

  // ctx.state[node], pickled.
  void checkpoint(int node, StateIo& io) override {
    py::gil_scoped_acquire gil;
    const py::module_ pickle = py::module_::import("pickle");
    std::vector<uint8_t> bytes;
    if (!io.loading()) {
      std::string s;
      try {
        s = pickle.attr("dumps")(context_->state[node]).cast<std::string>();
      } catch (py::error_already_set& e) {
        MURMUR_FAIL(Error, class_name_, ": ctx.state[", node, "] cannot be pickled for a ",
                    "checkpoint: ", Describe(e));
      }
      bytes.assign(s.begin(), s.end());
    }
    io.vector(bytes);
    if (io.loading())
      context_->state[node] = pickle.attr("loads")(
          py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }

 private:
  std::string Where(const char* method, uint32_t round, int node) const {
    return detail::Concat(class_name_, ".", method, " (round ", round, ", node ", node, ")");
  }
  static std::string Peers(const std::vector<int>& out) {
    std::string s = "out-peers:";
    for (int j : out) s += " " + std::to_string(j);
    return s;
  }

  algo::AlgorithmContext ctx_;
  py::object obj_;
  std::unique_ptr<Context> context_;
  py::object context_obj_;
  int phases_ = 1;
  std::string class_name_;
};

// ---- the compressor ----------------------------------------------------------------------------
// What a Python compressor's compress(x, ctx) gets besides x.
struct CompressContext {
  const compress::CompressorOptions* options = nullptr;
  Rng* rng = nullptr;
  uint32_t n = 0;
};

class PyCompressor final : public compress::Compressor {
 public:
  PyCompressor(const compress::CompressorOptions& o, py::object obj) : options_(o) {
    py::gil_scoped_acquire gil;
    obj_ = std::move(obj);
    class_name_ = py::str(py::type::of(obj_).attr("__name__"));
  }
  ~PyCompressor() override {
    py::gil_scoped_acquire gil;
    obj_ = py::object();
  }
  std::string_view name() const override { return kName; }
  void compress(std::span<const float> x, Rng& rng, Bytes& out) const override {
    std::string body;
    {
      py::gil_scoped_acquire gil;
      CompressContext c{&options_, &rng, static_cast<uint32_t>(x.size())};
      try {
        const py::object r =
            obj_.attr("compress")(View(const_cast<float*>(x.data()), x.size(), false),
                                  py::cast(&c, py::return_value_policy::reference));
        MURMUR_CHECK(Error, py::isinstance<py::bytes>(r), class_name_,
                     ".compress: returns bytes, got ",
                     std::string(py::str(py::type::of(r).attr("__name__"))));
        body = r.cast<std::string>();
      } catch (py::error_already_set& e) {
        MURMUR_FAIL(Error, class_name_, ".compress raised ", Describe(e));
      }
    }
    compress::EncodeExternalPayload(kName, static_cast<uint32_t>(x.size()),
                                    {reinterpret_cast<const uint8_t*>(body.data()), body.size()},
                                    out);
  }

 private:
  compress::CompressorOptions options_;
  py::object obj_;
  std::string class_name_;
};

// The decoder of the "python" payloads: the current compressor's decompress(data, n), which
// returns n values, or (indices, values).
bool DecodePython(std::span<const uint8_t> body, uint32_t n, std::vector<uint32_t>& idx,
                  std::vector<float>& vals) {
  py::gil_scoped_acquire gil;
  const py::object& c = Now().compressor;
  MURMUR_CHECK(ProtocolError, c && !c.is_none(), "payload: written by a Python compressor, and ",
               "this run has none (murmur.run(compressor=...))");
  const std::string name = py::str(py::type::of(c).attr("__name__"));
  try {
    const py::object r =
        c.attr("decompress")(py::bytes(reinterpret_cast<const char*>(body.data()), body.size()), n);
    auto floats = [](py::handle h, std::vector<float>& v) {
      const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(h);
      MURMUR_CHECK(Error, a && a.ndim() == 1, "values: a 1-D array of numbers");
      v.assign(a.data(), a.data() + a.size());
    };
    if (py::isinstance<py::tuple>(r) && py::len(r) == 2) {
      const py::tuple t = r.cast<py::tuple>();
      const auto i = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(t[0]);
      MURMUR_CHECK(Error, i && i.ndim() == 1, "indices: a 1-D array of integers");
      idx.clear();
      for (py::ssize_t k = 0; k < i.size(); ++k) {
        const int64_t v = i.data()[k];
        MURMUR_CHECK(ProtocolError, v >= 0 && v < n, name, ".decompress: index ", v,
                     " for dimension ", n);
        idx.push_back(static_cast<uint32_t>(v));
      }
      floats(t[1], vals);
      return false;
    }
    floats(r, vals);
    return true;
  } catch (py::error_already_set& e) {
    MURMUR_FAIL(ProtocolError, name, ".decompress raised ", Describe(e));
  } catch (const ProtocolError&) {
    throw;
  } catch (const Error& e) {
    MURMUR_FAIL(ProtocolError, name, ".decompress returned junk: ", e.message());
  }
}

// The current scope's object of one kind, for a registry factory; ConfigError when the run
// names "python" but passed none.
py::object Take(py::object Current::*member, const char* key, const char* argument) {
  py::gil_scoped_acquire gil;
  py::object o = Now().*member;
  MURMUR_CHECK(ConfigError, o && !o.is_none(), key, " = \"python\" needs murmur.run(", argument,
               "=...) from Python");
  return o;
}

}  // namespace

PluginScope::PluginScope(py::object algorithm, py::object compressor) {
  Current& c = Now();
  MURMUR_CHECK(Error, !c.active, "murmur.run: another run with a Python algorithm or compressor ",
               "is in progress in this process");
  c.active = true;
  c.algorithm = std::move(algorithm);
  c.compressor = std::move(compressor);
}

PluginScope::~PluginScope() {
  Current& c = Now();
  c.algorithm = py::object();
  c.compressor = py::object();
  c.active = false;
}

void RegisterPlugins(py::module_& m) {
  algo::AlgorithmPlugin p;
  p.make = [](const algo::AlgorithmContext& ctx) -> std::unique_ptr<algo::Algorithm> {
    return std::make_unique<PyAlgorithm>(ctx,
                                         Take(&Current::algorithm, "algorithm.name", "algorithm"));
  };
  p.traits.directed_graphs = true;  // its weights are its own business
  algo::RegisterAlgorithm(
      kName, "an algorithm written in Python (murmur.Algorithm; murmur.run(algorithm=...))", p);
  compress::RegisterCompressor(
      kName, "a compressor written in Python (murmur.Compressor; murmur.run(compressor=...))",
      [](const compress::CompressorOptions& o) -> std::unique_ptr<compress::Compressor> {
        return std::make_unique<PyCompressor>(
            o, Take(&Current::compressor, "compression.name", "compressor"));
      });
  compress::RegisterPayloadDecoder(kName, DecodePython);

  py::class_<Context>(m, "Context", "What a murmur.Algorithm's send and receive are given.")
      .def_property_readonly(
          "nodes", [](const Context& c) { return c.ctx->nodes; }, "Number of nodes.")
      .def_property_readonly(
          "dim", [](const Context& c) { return c.ctx->dim; },
          "Length of every node's parameter vector x.")
      .def_property_readonly(
          "seed", [](const Context& c) { return c.ctx->seed; }, "run.seed.")
      .def_property_readonly(
          "rounds", [](const Context& c) { return c.ctx->rounds; },
          "Rounds of the run (run.final_gossip_rounds included).")
      .def_property_readonly(
          "phase", [](const Context& c) { return c.phase; },
          "The communication phase of this call (0 .. phases-1).")
      .def_property_readonly(
          "hosted",
          [](const Context& c) {
            if (!c.ctx->hosted.empty()) return c.ctx->hosted;
            std::vector<int> all(c.ctx->nodes);
            for (int i = 0; i < c.ctx->nodes; ++i) all[i] = i;
            return all;
          },
          "The nodes this process runs (all of them, except under mpirun).")
      .def_property_readonly(
          "state", [](const Context& c) { return c.state; },
          "Per-node scratch: ctx.state[node] is a dict kept between rounds "
          "(and pickled into checkpoints).")
      .def(
          "out_peers",
          [](const Context& c, int64_t round, int node) { return c.at(round).out[c.node(node)]; },
          py::arg("round"), py::arg("node"), "The nodes `node` sends to in `round`.")
      .def(
          "in_peers",
          [](const Context& c, int64_t round, int node) { return c.at(round).in[c.node(node)]; },
          py::arg("round"), py::arg("node"), "The nodes `node` receives from in `round`.")
      .def(
          "weights",
          [](const Context& c, int64_t round, int node) {
            const graph::Graph& g = c.at(round);
            const int i = c.node(node);
            py::dict w;
            w[py::int_(i)] = g.w_self[i];
            for (size_t k = 0; k < g.in[i].size(); ++k) w[py::int_(g.in[i][k])] = g.w_in[i][k];
            return w;
          },
          py::arg("round"), py::arg("node"),
          "Mixing weights of `node` in `round`: {node: w_self, in-peer: w, ...} "
          "(topology.weights).")
      .def(
          "lr",
          [](const Context& c, int64_t round) {
            return c.ctx->learning_rate ? c.ctx->learning_rate(round) : 0.0;
          },
          py::arg("round"), "The learning rate of `round` (train.*).");

  py::class_<CompressContext>(m, "CompressContext",
                              "What a murmur.Compressor's compress is given besides x.")
      .def_property_readonly(
          "ratio", [](const CompressContext& c) { return c.options->ratio; }, "compression.ratio.")
      .def_property_readonly(
          "levels", [](const CompressContext& c) { return c.options->levels; },
          "compression.levels.")
      .def_property_readonly(
          "bits", [](const CompressContext& c) { return c.options->bits; }, "compression.bits.")
      .def_property_readonly(
          "threshold", [](const CompressContext& c) { return c.options->threshold; },
          "compression.threshold.")
      .def_property_readonly(
          "segments",
          [](const CompressContext& c) {
            std::vector<uint32_t> s = c.options->segments;
            if (s.empty() && c.options->chunk > 0)
              for (uint32_t at = 0; at < c.n; at += c.options->chunk)
                s.push_back(std::min(c.options->chunk, c.n - at));
            if (s.empty()) s.push_back(c.n);
            return s;
          },
          "Lengths of the segments x is cut into (one per tensor of the model, as the built-in "
          "compressors use them).")
      .def(
          "seed", [](CompressContext& c) { return c.rng->next(); },
          "A fresh 64-bit seed from the node's deterministic random stream (for stochastic "
          "compressors: numpy.random.default_rng(ctx.seed())).");
}

}  // namespace murmur::python
