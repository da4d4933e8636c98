// Sparse search helpers (see strata_sparse.h).
#include "strata_sparse.h"

size_t strata_first_candidate_f32(const float *scores, size_t n, float threshold) {
    size_t i = 0;
    // Branch-free blocks of 16 (the compiler vectorises the inner loop), then
    // the exact position inside the first block with a candidate.
    for (; i + 16 <= n; i += 16) {
        int hit = 0;
        for (int k = 0; k < 16; k++) hit |= (scores[i + k] > threshold) & (scores[i + k] != 0.0f);
        if (hit) break;
    }
    for (; i < n; i++) {
        if (scores[i] > threshold && scores[i] != 0.0f) return i;
    }
    return n;
}
