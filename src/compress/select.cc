// Which coordinates a sparsifier keeps: exact top-k by magnitude (sampled threshold, one
// filtering pass, exact selection; radix select for small inputs) and random-k's seeded index
// sets, which sender and receiver both regenerate.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "internal.h"
#include "kernels.h"
#include "murmur/compress/compressor.h"

namespace murmur::compress {

using detail::Scratch;

namespace {

// Magnitude key of a float: its bits without the sign (monotone in |x|; NaNs sort highest).
inline uint32_t Key(const uint32_t* bits, size_t i) { return bits[i] & 0x7fffffffu; }

// Writes to dst, in order, the members q < count whose key(q) is above kth and the first
// `ties` whose key equals it (ties to the lower index); returns how many. Branch-free (which
// members stay is a coin flip for the branch predictor): every member is written and only
// the kept ones advance, so dst needs one spare slot.
template <typename IndexAt, typename KeyAt>
size_t KeepAboveAndFirstTies(size_t count, IndexAt index, KeyAt key, uint32_t kth, size_t ties,
                             uint32_t* dst) {
  size_t kept = 0;
  for (size_t q = 0; q < count; ++q) {
    const uint32_t kq = key(q);
    const bool tie = kq == kth && ties > 0;
    ties -= tie;
    dst[kept] = index(q);
    kept += (kq > kth) | tie;
  }
  return kept;
}

// Exact top-k by radix select: histogram of the top 11 key bits, then the boundary bucket's
// members compete. Two full passes; used for small inputs and when the sampled threshold
// fails.
void TopKRadix(std::span<const float> x, uint32_t k, uint32_t offset, std::vector<uint32_t>& out) {
  const size_t n = x.size();
  const uint32_t* bits = reinterpret_cast<const uint32_t*>(x.data());
  constexpr int kBuckets = 2048;
  std::vector<uint32_t> hist(4 * kBuckets, 0);  // four tables keep the increments independent
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++hist[Key(bits, i) >> 20];
    ++hist[kBuckets + (Key(bits, i + 1) >> 20)];
    ++hist[2 * kBuckets + (Key(bits, i + 2) >> 20)];
    ++hist[3 * kBuckets + (Key(bits, i + 3) >> 20)];
  }
  for (; i < n; ++i) ++hist[Key(bits, i) >> 20];
  uint32_t boundary = kBuckets - 1;
  uint64_t above = 0, in_bucket = 0;
  for (;; --boundary) {
    in_bucket = uint64_t{hist[boundary]} + hist[kBuckets + boundary] +
                hist[2 * kBuckets + boundary] + hist[3 * kBuckets + boundary];
    if (above + in_bucket >= k) break;
    above += in_bucket;
  }
  // One branch-free pass (which side of the boundary a coordinate falls is a coin flip for
  // the predictor at large k): every index is written to both lists and kept where it
  // belongs; each list has one spare slot for the last write and, later, a sentinel.
  std::vector<uint32_t>& high = Scratch<uint32_t, 12>();  // above the bucket, in order
  std::vector<uint32_t>& cidx = Scratch<uint32_t, 13>();  // the bucket's members, in order
  std::vector<uint32_t>& ckey = Scratch<uint32_t, 14>();  // and their keys
  high.resize(above + 1);
  cidx.resize(in_bucket + 1);
  ckey.resize(in_bucket + 1);
  size_t h = 0, m = 0;
  for (uint32_t j = 0; j < n; ++j) {
    const uint32_t key = Key(bits, j);
    const uint32_t b = key >> 20;
    high[h] = j;
    cidx[m] = j;
    ckey[m] = key;
    h += b > boundary;
    m += b == boundary;
  }
  MURMUR_ASSERT(h == above && m == in_bucket);
  // The need-th largest key in the bucket; members above it, then the first ones equal to it
  // (ties to the lower index), in index order.
  const size_t need = k - above;
  std::vector<uint32_t>& sel = Scratch<uint32_t, 15>();
  sel.assign(ckey.begin(), ckey.begin() + in_bucket);
  std::nth_element(sel.begin(), sel.begin() + (need - 1), sel.end(), std::greater<>());
  const uint32_t kth = sel[need - 1];
  size_t greater = 0;
  for (size_t q = 0; q < in_bucket; ++q) greater += ckey[q] > kth;
  std::vector<uint32_t>& low = Scratch<uint32_t, 16>();
  low.resize(in_bucket + 1);
  const size_t l = KeepAboveAndFirstTies(
      in_bucket, [&](size_t q) { return cidx[q]; }, [&](size_t q) { return ckey[q]; }, kth,
      need - greater, low.data());
  MURMUR_ASSERT(l == need);
  // Merge the two ordered lists; UINT32_MAX sentinels end each.
  high[above] = UINT32_MAX;
  low[need] = UINT32_MAX;
  const size_t base = out.size();
  out.resize(base + k);
  size_t a = 0, c = 0;
  for (size_t q = 0; q < k; ++q) {
    const uint32_t hv = high[a], lv = low[c];
    const bool take_high = hv < lv;
    out[base + q] = offset + (take_high ? hv : lv);
    a += take_high;
    c += !take_high;
  }
}

}  // namespace

// Top-k by a sampled threshold: estimate a magnitude slightly below the k-th largest from a
// strided sample, collect every coordinate at or above it in one filtering pass (in index
// order), then select exactly among those candidates. When the estimate was too high (fewer
// than k candidates) the exact radix select runs instead, so the result is always exact.
void TopKIndices(std::span<const float> x, uint32_t k, uint32_t offset,
                 std::vector<uint32_t>& out) {
  const size_t n = x.size();
  if (k == 0) return;
  if (k >= n) {
    for (uint32_t i = 0; i < n; ++i) out.push_back(offset + i);
    return;
  }
  // Selecting among the ~1.1 k candidates grows faster than the radix passes: measured on
  // Gaussian input, radix wins from k/n = 0.2 at n = 9e4 (168 vs 347 us; sampled is faster
  // at 0.15, 92 vs 155 us) and from k/n = 0.08 at n = 1e6 (1.55 vs 1.99 ms; sampled at 0.05,
  // 1.30 vs 1.49 ms).
  const double share = static_cast<double>(k) / static_cast<double>(n);
  if (n < 32768 || share > 0.16 || (share > 0.06 && n > (size_t{1} << 18)))
    return TopKRadix(x, k, offset, out);
  const uint32_t* bits = reinterpret_cast<const uint32_t*>(x.data());
  // Sample rank with margin: about k*m/n sample points lie above the true threshold. The
  // sample is kept small next to n so selecting in it stays cheap.
  const size_t m = std::clamp<size_t>(n / 64, 512, 8192);
  std::vector<uint32_t>& sample = Scratch<uint32_t, 9>();
  sample.resize(m);
  const size_t stride = n / m;
  for (size_t s = 0; s < m; ++s) sample[s] = Key(bits, s * stride);
  // The number of sample points at or above the true k-th largest is about Poisson(expect);
  // rank sits 3 standard deviations above it (a miss, P ~ 1e-3 on i.i.d. input, costs the
  // radix select), so ~(1 + 3 / sqrt(expect)) k candidates pass the filter.
  const double expect = static_cast<double>(k) * m / static_cast<double>(n);
  const size_t rank =
      std::min<size_t>(m - 1, static_cast<size_t>(expect + 3 * std::sqrt(expect) + 4));
  std::nth_element(sample.begin(), sample.begin() + rank, sample.end(), std::greater<>());
  const uint32_t t = sample[rank];
  // Filter pass: indices of keys >= t, in order. About rank / m of the values pass; more than
  // twice that (a sample far from the distribution) falls back to the radix select.
  std::vector<uint32_t>& cand = Scratch<uint32_t, 10>();
  const size_t cap = std::min(n, 2 * (rank + 1) * n / m + 1024);
  if (cand.size() < cap + 64) cand.resize(cap + 64);
  const size_t found =
      kernels::FilterKeysAtLeast(bits, n, t, cand.data(), cap, static_cast<double>(rank + 1) / m);
  if (found == SIZE_MAX) return TopKRadix(x, k, offset, out);
  cand.resize(found);
  if (cand.size() < k) return TopKRadix(x, k, offset, out);
  // The k-th largest key among the candidates, then an in-order pass with ties to the front.
  std::vector<uint32_t>& keys = Scratch<uint32_t, 11>();
  keys.resize(cand.size());
  for (size_t c = 0; c < cand.size(); ++c) keys[c] = Key(bits, cand[c]);
  std::nth_element(keys.begin(), keys.begin() + (k - 1), keys.end(), std::greater<>());
  const uint32_t kth = keys[k - 1];
  size_t above = 0;  // nth_element left the k largest in front
  for (size_t c = 0; c < k; ++c) above += keys[c] > kth;
  const size_t start = out.size();
  out.resize(start + k + 1);  // one spare slot for the last candidate's write
  const size_t kept = KeepAboveAndFirstTies(
      cand.size(), [&](size_t q) { return offset + cand[q]; },
      [&](size_t q) { return Key(bits, cand[q]); }, kth, k - above, out.data() + start);
  MURMUR_ASSERT(kept == k);
  out.resize(start + k);
}

void SeededIndices(uint64_t seed, uint32_t n, uint32_t k, std::vector<uint32_t>& out) {
  MURMUR_CHECK(ProtocolError, k <= n, "random-k of ", k, " from ", n);
  out.resize(k);
  if (k == 0) return;
  Rng rng(seed);
  // Mark k (or, when k > n/2, the n-k excluded) distinct positions in a bitmap, then read it
  // in order: O(k) draws plus an O(n/64) scan, and sorted for free.
  const bool invert = k > n / 2;
  const uint32_t draws = invert ? n - k : k;
  std::vector<uint64_t>& bitmap = Scratch<uint64_t, 6>();
  bitmap.assign((static_cast<size_t>(n) + 63) / 64, 0);
  for (uint32_t d = 0; d < draws;) {
    const uint32_t i = static_cast<uint32_t>(rng.uniform_int(n));
    uint64_t& w = bitmap[i >> 6];
    const uint64_t m = uint64_t{1} << (i & 63);
    if (!(w & m)) {
      w |= m;
      ++d;
    }
  }
  uint32_t j = 0;
  for (size_t wi = 0; wi < bitmap.size(); ++wi) {
    uint64_t w = invert ? ~bitmap[wi] : bitmap[wi];
    if (invert && wi + 1 == bitmap.size() && (n & 63)) w &= (uint64_t{1} << (n & 63)) - 1;
    while (w) {
      out[j++] = static_cast<uint32_t>(wi * 64 + __builtin_ctzll(w));
      w &= w - 1;
    }
  }
  MURMUR_ASSERT(j == k);
}

uint32_t KeepCount(double ratio, uint32_t len) {
  if (len == 0) return 0;
  const double k = std::ceil(ratio * static_cast<double>(len));
  return static_cast<uint32_t>(std::clamp(k, 1.0, static_cast<double>(len)));
}

}  // namespace murmur::compress
