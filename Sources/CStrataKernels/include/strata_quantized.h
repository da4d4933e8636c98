#ifndef STRATA_QUANTIZED_H
#define STRATA_QUANTIZED_H
// Kernels over quantized vector codes (int8 scalar codes, bit planes, product
// quantization codes), with the same run-time dispatch as strata_distance.h.
//
// Levels: portable (plain C), avx2 (AVX2 + FMA + POPCNT) and avx512 (AVX-512
// F/BW/VL + VNNI + VPOPCNTDQ: Ice Lake, Zen 4 and later). The level in use is the
// distance kernels' level (strata_distance_selected, which honours
// STRATA_DISTANCE_ISA), lowered to avx2 when that level is avx512 but the CPU
// lacks one of the extra AVX-512 extensions this file needs.
//
// Contracts shared by all kernels:
//   * Lengths are any value >= 0; tails are handled (masked loads or scalar
//     loops), and a length of 0 gives 0.
//   * Pointers need only the alignment of their element type.
//   * Integer results are exact. Float results are sums in an unspecified order.
//   * Pure functions: no allocation, no shared mutable state, any thread.
#include <stddef.h>
#include <stdint.h>
#include "strata_distance.h"

#if defined(__clang__)
#pragma clang assume_nonnull begin
#endif

/// One implementation level of every quantized kernel. Tables are immutable statics.
typedef struct strata_quantized_kernels {
    strata_isa isa;
    /// "portable", "avx2" or "avx512".
    const char *name;
    /// Σ u[i]·s[i], u unsigned and s signed bytes. Exact for n <= 65536.
    int32_t (*dot_u8i8)(const uint8_t *u, const int8_t *s, size_t n);
    /// Σ q[i]·u[i], float query against unsigned bytes.
    float (*dot_f32u8)(const float *q, const uint8_t *u, size_t n);
    /// Σ |a[i] − b[i]| over unsigned bytes. Exact for n < 2^24.
    uint32_t (*l1_u8)(const uint8_t *a, const uint8_t *b, size_t n);
    /// Σ popcount(a[w] XOR b[w]) over `words` 64-bit words.
    uint64_t (*hamming)(const uint64_t *a, const uint64_t *b, size_t words);
    /// Bit-plane dot product of small signed integers with thermometer codes:
    ///   Σ_j Σ_b weight(j) · popcount(query[j·words + w] AND code[b·words + w]),
    /// summed over w in 0..<words, where plane j of the query holds bit j of
    /// two's-complement integers of `query_planes` bits: weight(j) = 2^j, except
    /// the top plane j = query_planes − 1 whose weight is −2^j. So the result is
    /// Σ_i v[i]·t[i], v[i] the query integer of dimension i and t[i] the number of
    /// code planes with bit i set. query_planes in 1...8, code_planes >= 1.
    int64_t (*bitplane_dot)(const uint64_t *query, size_t query_planes, const uint64_t *code,
                            size_t code_planes, size_t words);
    /// `bitplane_dot` against a 1.5-bit code: `code` holds the lower plane X
    /// (`words` words), then the paired upper plane Y (⌈words/2⌉ words; bit j covers
    /// dimensions 2j and 2j+1). The second plane is rebuilt per word as
    /// Z[i] = X[i] AND Y[⌊i/2⌋], so the result is Σ_i v[i]·(X[i] + Z[i]).
    int64_t (*paired_bitplane_dot)(const uint64_t *query, size_t query_planes, const uint64_t *code,
                                   size_t words);
    /// Σ_m table[m·256 + codes[m]] over m in 0..<subspaces (product quantization
    /// asymmetric distance with a per-query lookup table).
    float (*pq_lookup)(const float *table, const uint8_t *codes, size_t subspaces);
    /// Index of the centroid nearest to x (squared L2) among 256 centroids of
    /// `dim` floats stored transposed: transposed[j·256 + c] is coordinate j of
    /// centroid c, norms[c] its squared norm (+inf marks an unused slot, never
    /// chosen). Writes norms[c] − 2·x·c of the winner to *best_score (= ‖x − c‖² −
    /// ‖x‖²). Ties go to the lowest index. For k-means training and encoding.
    uint32_t (*nearest256)(const float *x, size_t dim, const float *transposed, const float *norms,
                           float *best_score);
} strata_quantized_kernels;

/// The table for `isa`, or NULL when this build or this CPU cannot run it.
const strata_quantized_kernels *_Nullable strata_quantized_kernels_for(strata_isa isa);

/// The table in use (see the top of this file). Chosen once; thread-safe.
const strata_quantized_kernels *strata_quantized_selected(void);

// Row-gathering forms of the selected kernels, for scoring the neighbours of a
// graph node: row k of the output scores the code at base + rows[k]·stride.
// They prefetch the codes of a few rows ahead, since neighbours are scattered.

void strata_dot_u8i8_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                          const int8_t *query, size_t n, int32_t *out);
void strata_dot_f32u8_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                           const float *query, size_t n, float *out);
void strata_l1_u8_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                       const uint8_t *query, size_t n, uint32_t *out);
void strata_hamming_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                         const uint64_t *query, size_t words, uint64_t *out);
void strata_bitplane_dot_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                              const uint64_t *query, size_t query_planes, size_t code_planes, size_t words,
                              int64_t *out);
/// `paired_bitplane_dot` for `count` rows at base + rows[k]·stride, into out[k].
void strata_paired_bitplane_dot_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                                     const uint64_t *query, size_t query_planes, size_t words, int64_t *out);
void strata_pq_lookup_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                           const float *table, size_t subspaces, float *out);

// Portable helpers for code-to-code comparisons (graph construction); not
// dispatched, since they are off the query path.

/// Σ a[i]·b[i] over unsigned bytes (exact for n <= 66051).
uint32_t strata_dot_u8u8(const uint8_t *a, const uint8_t *b, size_t n);
/// Σ (a[i] − b[i])² over unsigned bytes (exact for n <= 66051).
uint32_t strata_l2sq_u8(const uint8_t *a, const uint8_t *b, size_t n);
/// Σ a[i] over unsigned bytes.
uint32_t strata_sum_u8(const uint8_t *a, size_t n);
/// Σ_a Σ_b popcount(x[a·words + w] AND y[b·words + w]) (all weights 1).
uint64_t strata_planes_and_popcount(const uint64_t *x, size_t x_planes, const uint64_t *y, size_t y_planes,
                                    size_t words);
/// Σ popcount(x[w]) over `words` words.
uint64_t strata_popcount(const uint64_t *x, size_t words);

#if defined(__clang__)
#pragma clang assume_nonnull end
#endif

#endif
