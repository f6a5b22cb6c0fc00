#include "murmur/compress/error_feedback.h"

#include "murmur/core/check.h"

namespace murmur::compress {

void ErrorFeedback::compress(const Compressor& c, std::span<const float> x, Rng& rng, Bytes& out,
                             std::span<float> sent) {
  MURMUR_ASSERT(x.size() == residual_.size(), "error feedback sized ", residual_.size(), ", got ",
                x.size());
  for (size_t i = 0; i < x.size(); ++i) work_[i] = residual_[i] + x[i];
  const size_t start = out.size();
  c.compress(work_, rng, out);
  // e = v - D(C(v)): start from v and subtract the decoded payload.
  residual_ = work_;
  DecompressAdd(std::span<const uint8_t>(out).subspan(start), -1.0f, residual_);
  if (!sent.empty()) {
    MURMUR_ASSERT(sent.size() == x.size());
    for (size_t i = 0; i < x.size(); ++i) sent[i] = work_[i] - residual_[i];
  }
}

}  // namespace murmur::compress
