#ifndef STRATA_COMPACT_H
#define STRATA_COMPACT_H
// Kernels over compact vector rows: IEEE 754 binary16 (`float16` datatype) and
// unsigned bytes (`uint8` datatype). The query stays f32; each row element is
// widened to f32 and the sums are f32, as Qdrant does for these datatypes.
//
// Contracts (as strata_distance.h): any dim >= 0, rows need only element
// alignment, inputs are never retained, no shared mutable state, thread-safe.
// The level (portable or AVX2+FMA+F16C) is chosen once at first use: AVX2 when
// strata_distance_selected() picked avx2 or avx512 and the CPU has F16C.
#include <stddef.h>
#include <stdint.h>

#include "strata_gather.h"

#if defined(__clang__)
#pragma clang assume_nonnull begin
#endif

/// out[i] = distance(query, row rows[i]) for i in 0..<count, where row r is the
/// `dim` binary16 values at base + r * dim (bit patterns, little-endian as in
/// memory). The kinds are those of strata_gather_distances_f32, plus
/// STRATA_GATHER_NEG_COSINE. Prefetches ahead as the f32 form does.
void strata_gather_distances_f16(strata_gather_kind kind, const float *query, const uint16_t *base, size_t dim,
                                 const uint32_t *rows, size_t count, float *out);

/// The same over rows of `dim` bytes (each byte widened to 0...255).
void strata_gather_distances_u8(strata_gather_kind kind, const float *query, const uint8_t *base, size_t dim,
                                const uint32_t *rows, size_t count, float *out);

/// out[i] = the binary16 value in[i] as f32 (exact), i in 0..<n.
void strata_f16_to_f32(const uint16_t *in, float *out, size_t n);

/// out[i] = in[i] rounded to binary16, to nearest, ties to even; overflow gives
/// ±infinity, NaN stays NaN. i in 0..<n.
void strata_f32_to_f16(const float *in, uint16_t *out, size_t n);

/// out[i] = (float)in[i], i in 0..<n.
void strata_u8_to_f32(const uint8_t *in, float *out, size_t n);

#if defined(__clang__)
#pragma clang assume_nonnull end
#endif

#endif
