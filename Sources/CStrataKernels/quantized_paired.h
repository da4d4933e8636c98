// Private to CStrataKernels: the body of the 1.5-bit (paired upper plane)
// bit-plane kernel, included by each level's file inside its target pragma so
// that the popcounts compile to that level's instruction.
//
// For each 64-dimension word w of the lower plane X, the 32 upper bits of its
// pairs (half of upper word w/2) are spread to 64 (each bit twice: dimensions
// 2j and 2j+1) and ANDed with X, giving Z = X AND Y; then every query plane j
// adds popcount(q_j & X) + popcount(q_j & Z), weighted as in bitplane_dot.
#ifndef STRATA_QUANTIZED_PAIRED_H
#define STRATA_QUANTIZED_PAIRED_H
#include <stddef.h>
#include <stdint.h>

/// Bit j of the low 32 bits of y to bits 2j and 2j+1.
static inline uint64_t strata_spread_pairs(uint64_t y) {
    y &= 0xFFFFFFFFull;
    y = (y | (y << 16)) & 0x0000FFFF0000FFFFull;
    y = (y | (y << 8)) & 0x00FF00FF00FF00FFull;
    y = (y | (y << 4)) & 0x0F0F0F0F0F0F0F0Full;
    y = (y | (y << 2)) & 0x3333333333333333ull;
    y = (y | (y << 1)) & 0x5555555555555555ull;
    return y | (y << 1);
}

// The plane count is a compile-time constant in the dispatched cases (8 or 4
// for an asymmetric query, 2 for a symmetric one), so the plane loop unrolls and
// the accumulators stay in registers; other counts take the same body unspecialised.
#define STRATA_DEFINE_PAIRED_BITPLANE_DOT(fn_name, popcount64)                                       \
    static inline __attribute__((always_inline)) int64_t fn_name##_fixed(                             \
        const uint64_t *q, const size_t qp, const uint64_t *code, size_t words) {                     \
        const uint64_t *upper = code + words;                                                         \
        uint64_t acc[8] = {0};                                                                        \
        for (size_t w = 0; w < words; w++) {                                                          \
            const uint64_t x = code[w];                                                               \
            const uint64_t z = x & strata_spread_pairs(upper[w >> 1] >> (32 * (w & 1)));              \
            for (size_t j = 0; j < qp; j++) {                                                         \
                const uint64_t qw = q[j * words + w];                                                 \
                acc[j] += (uint64_t)popcount64(qw & x) + (uint64_t)popcount64(qw & z);                \
            }                                                                                         \
        }                                                                                             \
        int64_t total = 0;                                                                            \
        for (size_t j = 0; j + 1 < qp; j++) total += (int64_t)(acc[j] << j);                          \
        return total - (int64_t)(acc[qp - 1] << (qp - 1));                                            \
    }                                                                                                 \
    static int64_t fn_name(const uint64_t *q, size_t qp, const uint64_t *code, size_t words) {        \
        if (qp == 8) return fn_name##_fixed(q, 8, code, words);                                       \
        if (qp == 4) return fn_name##_fixed(q, 4, code, words);                                       \
        if (qp == 2) return fn_name##_fixed(q, 2, code, words);                                       \
        return fn_name##_fixed(q, qp, code, words);                                                   \
    }

#endif
