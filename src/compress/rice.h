// The Golomb–Rice index block (internal; codecs.cc writes its header and checks it).
//
// A sorted index set idx[0..k) is coded as the gaps v_j = idx[j] - idx[j - 1] - 1 (idx[-1] =
// -1), each split into a quotient q_j = v_j >> b and a remainder r_j = v_j & (2^b - 1). The
// block holds the k remainders first, b bits each, then the k quotients in unary (q_j zero
// bits, then a one), LSB-first in little-endian bytes, padded with zero bits to a byte. The
// size is that of classic interleaved Rice codes (k (b + 1) + sum q bits), but both halves
// can be read without a serial dependency between codes: the remainders sit at fixed bit
// offsets j b, and the quotient sums follow from the positions of the ones, which a table
// lookup per byte finds eight bits at a time. Decoding is then a prefix sum:
//     idx[j] = (Q_j << b) + R_j + j,   Q_j = q_0 + ... + q_j,   R_j = r_0 + ... + r_j.
// Each function has a baseline version and an AVX2 one, chosen at run time; both give the
// same bytes and values (tests compare them).
#pragma once

#include <cstddef>
#include <cstdint>

namespace murmur::compress::rice {

// Writes the block for parameter b (0..31) of the k sorted indices into dst, which must hold
// its exact size plus 8 bytes, all zero.
void Encode(const uint32_t* idx, size_t k, int b, uint8_t* dst);

// First decoding pass. Scans the block's bytes p[0, bytes) from bit `start` (= k b; bits
// below it are ignored) for one bits, in order, and for the c-th one at bit position pos
// writes out[c] = pos - start - c (its quotient sum Q_c, modulo 2^32). Stops after the byte
// in which the count reaches k or at the end of the block. out must have room for k + 8
// values. Returns the ones found (up to k + 7) and sets end_byte to the bytes scanned.
size_t Quotients(const uint8_t* p, size_t bytes, uint64_t start, size_t k, uint32_t* out,
                 size_t& end_byte);

// Second pass: reads the k remainders of b bits from p (the block holds at least k b bits)
// and turns out[j] = Q_j into idx[j] = (Q_j << b) + R_j + j, modulo 2^32. Returns the exact
// sum of the remainders, so that the caller can check the last index without overflow.
uint64_t AddRemainders(const uint8_t* p, int b, size_t k, uint32_t* out);

}  // namespace murmur::compress::rice
