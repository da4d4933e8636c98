#ifndef STRATA_GATHER_H
#define STRATA_GATHER_H
// Distances from one query to scattered rows of a row-major matrix (graph
// search scores the ~32 neighbours of a node at a time), with software prefetch
// of the next rows while the current one is scored.
#include <stddef.h>
#include <stdint.h>

#if defined(__clang__)
#pragma clang assume_nonnull begin
#endif

/// What `strata_gather_distances_f32` computes; every kind is a distance
/// (lower is better) so graph search can compare any metric the same way.
typedef enum strata_gather_kind {
    STRATA_GATHER_NEG_DOT = 0, // -(q · row)       (Dot, and Cosine on normalised vectors)
    STRATA_GATHER_L2SQ = 1,    // Σ (q - row)²     (Euclid, squared)
    STRATA_GATHER_L1 = 2,      // Σ |q - row|      (Manhattan)
    // -(q · row) / (|q| |row|), 0 when either norm is 0: Cosine over rows that
    // are not normalised (the uint8 datatype). Only the compact kernels
    // (strata_compact.h) accept it.
    STRATA_GATHER_NEG_COSINE = 3,
} strata_gather_kind;

/// out[i] = distance(query, base + rows[i] * dim) for i in 0..<count, with the
/// selected instruction-set level (strata_distance_selected). Every rows[i] must
/// address a row inside `base`; `out` must not overlap the inputs.
void strata_gather_distances_f32(strata_gather_kind kind, const float *query, const float *base, size_t dim,
                                 const uint32_t *rows, size_t count, float *out);

/// Hints the CPU to start loading the `bytes` (≤ 4 KiB are touched) at `address`.
static inline void strata_prefetch(const void *address, size_t bytes) {
    const char *p = (const char *)address;
    for (size_t offset = 0; offset < bytes && offset < 4096; offset += 64) __builtin_prefetch(p + offset, 0, 3);
}

#if defined(__clang__)
#pragma clang assume_nonnull end
#endif

#endif
