// Private to CStrataKernels: the body of the nearest-of-256-centroids kernel,
// included by each level's file inside its target pragma so that one source
// compiles to SSE2, AVX2 or AVX-512 code (clang lowers the 16-float vector
// type to whatever registers the function's target has).
//
// Centroids are transposed (transposed[j·256 + c] is coordinate j of centroid
// c), so every step works on 16 centroids at once; score[c] = norms[c] −
// 2·Σ_j x[j]·transposed[j·256 + c], which orders centroids as ‖x − c‖² does.
// Unused centroid slots carry norms[c] = +inf and are never chosen. Ties go to
// the lowest index.
#ifndef STRATA_QUANTIZED_NEAREST_H
#define STRATA_QUANTIZED_NEAREST_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef float strata_v16f __attribute__((vector_size(64)));

#define STRATA_DEFINE_NEAREST256(fn_name)                                                        \
    static uint32_t fn_name(const float *x, size_t dim, const float *transposed, const float *norms, \
                            float *best_score) {                                                 \
        strata_v16f acc[16];                                                                     \
        for (int v = 0; v < 16; v++) memcpy(&acc[v], norms + 16 * v, sizeof(strata_v16f));       \
        for (size_t j = 0; j < dim; j++) {                                                       \
            const float xj = -2.0f * x[j];                                                       \
            const float *row = transposed + j * 256;                                             \
            for (int v = 0; v < 16; v++) {                                                       \
                strata_v16f c;                                                                   \
                memcpy(&c, row + 16 * v, sizeof c);                                              \
                acc[v] += c * xj;                                                                \
            }                                                                                    \
        }                                                                                        \
        strata_v16f m = acc[0];                                                                  \
        for (int v = 1; v < 16; v++) m = __builtin_elementwise_min(m, acc[v]);                          \
        float best = m[0];                                                                       \
        for (int l = 1; l < 16; l++) best = m[l] < best ? m[l] : best;                           \
        uint32_t index = 0;                                                                      \
        for (int v = 0; v < 16; v++) {                                                           \
            for (int l = 0; l < 16; l++) {                                                       \
                if (acc[v][l] == best) {                                                         \
                    index = (uint32_t)(16 * v + l);                                              \
                    goto found;                                                                  \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    found:                                                                                       \
        *best_score = best;                                                                      \
        return index;                                                                            \
    }

#endif
