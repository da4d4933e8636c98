// Scattered-row distances for graph search (see strata_gather.h).
#include "strata_gather.h"
#include "strata_distance.h"

void strata_gather_distances_f32(strata_gather_kind kind, const float *query, const float *base, size_t dim,
                                 const uint32_t *rows, size_t count, float *out) {
    const strata_distance_kernels *k = strata_distance_selected();
    strata_pair_fn fn = kind == STRATA_GATHER_NEG_DOT ? k->dot : kind == STRATA_GATHER_L2SQ ? k->l2sq : k->l1;
    const size_t row_bytes = dim * sizeof(float);
    // Prefetch two rows ahead: a row of 384 floats is 24 cache lines, which the
    // hardware prefetcher does not fetch for a scattered access pattern.
    if (count > 0) strata_prefetch(base + (size_t)rows[0] * dim, row_bytes);
    if (count > 1) strata_prefetch(base + (size_t)rows[1] * dim, row_bytes);
    for (size_t i = 0; i < count; i++) {
        if (i + 2 < count) strata_prefetch(base + (size_t)rows[i + 2] * dim, row_bytes);
        float d = fn(query, base + (size_t)rows[i] * dim, dim);
        out[i] = kind == STRATA_GATHER_NEG_DOT ? -d : d;
    }
}
