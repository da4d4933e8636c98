// Quantized-code kernels: the portable level, the dispatch, the row-gathering
// forms and the portable code-to-code helpers. The AVX2 and AVX-512 levels live
// in quantized_avx2.c and quantized_avx512.c.
//
// The portable level is plain C: integer sums may be reassociated, so the
// compiler vectorises these loops at whatever the baseline ISA allows.
#include "strata_quantized.h"
#include "quantized_internal.h"

#include "quantized_nearest.h"
#include "quantized_paired.h"

#include <stdatomic.h>

static int32_t dot_u8i8_portable(const uint8_t *u, const int8_t *s, size_t n) {
    int32_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += (int32_t)u[i] * (int32_t)s[i];
    return sum;
}

static float dot_f32u8_portable(const float *q, const uint8_t *u, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += q[i] * (float)u[i];
        s1 += q[i + 1] * (float)u[i + 1];
        s2 += q[i + 2] * (float)u[i + 2];
        s3 += q[i + 3] * (float)u[i + 3];
    }
    for (; i < n; i++) s0 += q[i] * (float)u[i];
    return (s0 + s1) + (s2 + s3);
}

static uint32_t l1_u8_portable(const uint8_t *a, const uint8_t *b, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += a[i] > b[i] ? (uint32_t)(a[i] - b[i]) : (uint32_t)(b[i] - a[i]);
    return sum;
}

static uint64_t hamming_portable(const uint64_t *a, const uint64_t *b, size_t words) {
    uint64_t sum = 0;
    for (size_t w = 0; w < words; w++) sum += (uint64_t)__builtin_popcountll(a[w] ^ b[w]);
    return sum;
}

static int64_t bitplane_dot_portable(const uint64_t *q, size_t qp, const uint64_t *x, size_t xp, size_t words) {
    int64_t total = 0;
    for (size_t j = 0; j < qp; j++) {
        int64_t plane = 0;
        for (size_t b = 0; b < xp; b++) {
            for (size_t w = 0; w < words; w++) plane += __builtin_popcountll(q[j * words + w] & x[b * words + w]);
        }
        int64_t weight = (int64_t)1 << j;
        total += (j + 1 == qp) ? -weight * plane : weight * plane;
    }
    return total;
}

static float pq_lookup_portable(const float *table, const uint8_t *codes, size_t m) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= m; i += 4) {
        s0 += table[i * 256 + codes[i]];
        s1 += table[(i + 1) * 256 + codes[i + 1]];
        s2 += table[(i + 2) * 256 + codes[i + 2]];
        s3 += table[(i + 3) * 256 + codes[i + 3]];
    }
    for (; i < m; i++) s0 += table[i * 256 + codes[i]];
    return (s0 + s1) + (s2 + s3);
}

STRATA_DEFINE_NEAREST256(nearest256_portable)
STRATA_DEFINE_PAIRED_BITPLANE_DOT(paired_bitplane_dot_portable, __builtin_popcountll)

static const strata_quantized_kernels quantized_portable = {
    .isa = STRATA_ISA_PORTABLE,
    .name = "portable",
    .dot_u8i8 = dot_u8i8_portable,
    .dot_f32u8 = dot_f32u8_portable,
    .l1_u8 = l1_u8_portable,
    .hamming = hamming_portable,
    .bitplane_dot = bitplane_dot_portable,
    .paired_bitplane_dot = paired_bitplane_dot_portable,
    .pq_lookup = pq_lookup_portable,
    .nearest256 = nearest256_portable,
};

// MARK: - Dispatch

static int cpu_supports_quantized(strata_isa isa) {
    switch (isa) {
    case STRATA_ISA_PORTABLE:
        return 1;
#if STRATA_HAVE_X86_KERNELS
    case STRATA_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("popcnt");
    case STRATA_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
               __builtin_cpu_supports("avx512vpopcntdq");
#endif
    default:
        return 0;
    }
}

const strata_quantized_kernels *strata_quantized_kernels_for(strata_isa isa) {
    if (!cpu_supports_quantized(isa)) return NULL;
    switch (isa) {
    case STRATA_ISA_PORTABLE:
        return &quantized_portable;
#if STRATA_HAVE_X86_KERNELS
    case STRATA_ISA_AVX2:
        return &strata_quantized_kernels_avx2;
    case STRATA_ISA_AVX512:
        return &strata_quantized_kernels_avx512;
#endif
    default:
        return NULL;
    }
}

static const strata_quantized_kernels *resolve_quantized(void) {
    // Follow the distance kernels' level (and so STRATA_DISTANCE_ISA), stepping
    // down while this file's extra requirements are not met.
    int level = (int)strata_distance_selected()->isa;
    for (; level >= 0; level--) {
        const strata_quantized_kernels *k = strata_quantized_kernels_for((strata_isa)level);
        if (k != NULL) return k;
    }
    return &quantized_portable;
}

// Same publication scheme as distance.c: racing first calls compute the same table.
static _Atomic(const strata_quantized_kernels *) selected_quantized = NULL;

const strata_quantized_kernels *strata_quantized_selected(void) {
    const strata_quantized_kernels *k = atomic_load_explicit(&selected_quantized, memory_order_acquire);
    if (__builtin_expect(k == NULL, 0)) {
        k = resolve_quantized();
        atomic_store_explicit(&selected_quantized, k, memory_order_release);
    }
    return k;
}

// MARK: - Row-gathering forms

// How many rows ahead to prefetch. Neighbour lists point anywhere in the code
// array, so the hardware prefetcher cannot guess them; a short look-ahead hides
// most of a DRAM miss behind the scoring of the rows in between.
#define LOOKAHEAD 4

static inline void prefetch_row(const uint8_t *row, size_t bytes) {
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(row + off, 0, 3);
}

#define ROWS_LOOP(body)                                                                         \
    do {                                                                                        \
        size_t ahead = count < LOOKAHEAD ? count : LOOKAHEAD;                                   \
        for (size_t k = 0; k < ahead; k++) prefetch_row(base + (size_t)rows[k] * stride, stride); \
        for (size_t k = 0; k < count; k++) {                                                    \
            if (k + LOOKAHEAD < count) prefetch_row(base + (size_t)rows[k + LOOKAHEAD] * stride, stride); \
            const uint8_t *row = base + (size_t)rows[k] * stride;                               \
            body;                                                                               \
        }                                                                                       \
    } while (0)

void strata_dot_u8i8_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                          const int8_t *query, size_t n, int32_t *out) {
    const strata_quantized_kernels *kq = strata_quantized_selected();
    ROWS_LOOP(out[k] = kq->dot_u8i8(row, query, n));
}

void strata_dot_f32u8_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                           const float *query, size_t n, float *out) {
    const strata_quantized_kernels *kq = strata_quantized_selected();
    ROWS_LOOP(out[k] = kq->dot_f32u8(query, row, n));
}

void strata_l1_u8_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                       const uint8_t *query, size_t n, uint32_t *out) {
    const strata_quantized_kernels *kq = strata_quantized_selected();
    ROWS_LOOP(out[k] = kq->l1_u8(query, row, n));
}

void strata_hamming_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                         const uint64_t *query, size_t words, uint64_t *out) {
    const strata_quantized_kernels *kq = strata_quantized_selected();
    ROWS_LOOP(out[k] = kq->hamming(query, (const uint64_t *)(const void *)row, words));
}

void strata_bitplane_dot_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                              const uint64_t *query, size_t query_planes, size_t code_planes, size_t words,
                              int64_t *out) {
    const strata_quantized_kernels *kq = strata_quantized_selected();
    ROWS_LOOP(out[k] = kq->bitplane_dot(query, query_planes, (const uint64_t *)(const void *)row, code_planes, words));
}

void strata_paired_bitplane_dot_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                                     const uint64_t *query, size_t query_planes, size_t words, int64_t *out) {
    const strata_quantized_kernels *kq = strata_quantized_selected();
    ROWS_LOOP(out[k] = kq->paired_bitplane_dot(query, query_planes, (const uint64_t *)(const void *)row, words));
}

void strata_pq_lookup_rows(const uint8_t *base, size_t stride, const uint32_t *rows, size_t count,
                           const float *table, size_t subspaces, float *out) {
    const strata_quantized_kernels *kq = strata_quantized_selected();
    ROWS_LOOP(out[k] = kq->pq_lookup(table, row, subspaces));
}

// MARK: - Code-to-code helpers

uint32_t strata_dot_u8u8(const uint8_t *a, const uint8_t *b, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += (uint32_t)a[i] * (uint32_t)b[i];
    return sum;
}

uint32_t strata_l2sq_u8(const uint8_t *a, const uint8_t *b, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t d = (int32_t)a[i] - (int32_t)b[i];
        sum += (uint32_t)(d * d);
    }
    return sum;
}

uint32_t strata_sum_u8(const uint8_t *a, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += a[i];
    return sum;
}

uint64_t strata_planes_and_popcount(const uint64_t *x, size_t x_planes, const uint64_t *y, size_t y_planes,
                                    size_t words) {
    uint64_t sum = 0;
    for (size_t a = 0; a < x_planes; a++)
        for (size_t b = 0; b < y_planes; b++)
            for (size_t w = 0; w < words; w++) sum += (uint64_t)__builtin_popcountll(x[a * words + w] & y[b * words + w]);
    return sum;
}

uint64_t strata_popcount(const uint64_t *x, size_t words) {
    uint64_t sum = 0;
    for (size_t w = 0; w < words; w++) sum += (uint64_t)__builtin_popcountll(x[w]);
    return sum;
}
