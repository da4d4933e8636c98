// AVX-512F level of the distance kernels (see strata_distance.h for contracts).
// Compiled with a function-level target attribute, never called unless
// distance.c found avx512f at run time.
//
// Pair kernels: four 16-float accumulators (64 floats per step) so independent
// FMAs overlap their latency; a masked load covers the last dim % 16 floats.
// Batch kernels: four rows at a time, two accumulators per row (8 chains), so
// every query load feeds four rows. No software prefetch (distance_internal.h).
#include "distance_internal.h"

#if STRATA_HAVE_X86_KERNELS
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f")
#endif

#define INLINE static inline __attribute__((always_inline))

enum op { OP_DOT, OP_L2SQ, OP_L1 };

// Folds one vector of x and y into acc. Zero lanes (from masked loads)
// contribute exactly 0 for every op.
INLINE __m512 accumulate(enum op op, __m512 acc, __m512 x, __m512 y) {
    switch (op) {
    case OP_DOT:
        return _mm512_fmadd_ps(x, y, acc);
    case OP_L2SQ: {
        __m512 d = _mm512_sub_ps(x, y);
        return _mm512_fmadd_ps(d, d, acc);
    }
    case OP_L1:
    default:
        return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(x, y)));
    }
}

// Mask of the low `rem` lanes, rem in 1...15.
INLINE __mmask16 tail_mask(size_t rem) { return (__mmask16)((1u << rem) - 1u); }

INLINE float pair(enum op op, const float *a, const float *b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = accumulate(op, s0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s1 = accumulate(op, s1, _mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        s2 = accumulate(op, s2, _mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
        s3 = accumulate(op, s3, _mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
    }
    for (; i + 16 <= n; i += 16) s0 = accumulate(op, s0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        s1 = accumulate(op, s1, _mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

// Accumulators of four rows.
typedef struct {
    __m512 r0, r1, r2, r3;
} rows4;

// Folds 16 floats at offset i of rows x0...x3 against the matching query floats.
INLINE rows4 step4(enum op op, rows4 acc, const float *x0, const float *x1, const float *x2, const float *x3,
                   size_t i, __m512 qv) {
    acc.r0 = accumulate(op, acc.r0, _mm512_loadu_ps(x0 + i), qv);
    acc.r1 = accumulate(op, acc.r1, _mm512_loadu_ps(x1 + i), qv);
    acc.r2 = accumulate(op, acc.r2, _mm512_loadu_ps(x2 + i), qv);
    acc.r3 = accumulate(op, acc.r3, _mm512_loadu_ps(x3 + i), qv);
    return acc;
}

// The same for the last dim - i < 16 floats, with masked (non-faulting) loads.
INLINE rows4 step4_masked(enum op op, rows4 acc, const float *x0, const float *x1, const float *x2,
                          const float *x3, size_t i, __mmask16 m, __m512 qv) {
    acc.r0 = accumulate(op, acc.r0, _mm512_maskz_loadu_ps(m, x0 + i), qv);
    acc.r1 = accumulate(op, acc.r1, _mm512_maskz_loadu_ps(m, x1 + i), qv);
    acc.r2 = accumulate(op, acc.r2, _mm512_maskz_loadu_ps(m, x2 + i), qv);
    acc.r3 = accumulate(op, acc.r3, _mm512_maskz_loadu_ps(m, x3 + i), qv);
    return acc;
}

// Four rows at a time; each row advances 64 floats (four cache lines) per
// iteration into two accumulators (a: even 16-float columns, b: odd). Measured
// out of cache, advancing each row by four lines per iteration streams ~5%
// faster than by two (fewer, longer runs of consecutive misses per row).
INLINE void batch(enum op op, const float *q, const float *base, size_t count, size_t dim, float *out) {
    size_t r = 0;
    for (; r + 4 <= count; r += 4) {
        const float *x0 = base + r * dim, *x1 = x0 + dim, *x2 = x1 + dim, *x3 = x2 + dim;
        const __m512 zero = _mm512_setzero_ps();
        rows4 a = {zero, zero, zero, zero}, b = {zero, zero, zero, zero};
        size_t i = 0;
        for (; i + 64 <= dim; i += 64) {
            a = step4(op, a, x0, x1, x2, x3, i, _mm512_loadu_ps(q + i));
            b = step4(op, b, x0, x1, x2, x3, i + 16, _mm512_loadu_ps(q + i + 16));
            a = step4(op, a, x0, x1, x2, x3, i + 32, _mm512_loadu_ps(q + i + 32));
            b = step4(op, b, x0, x1, x2, x3, i + 48, _mm512_loadu_ps(q + i + 48));
        }
        for (; i + 16 <= dim; i += 16) a = step4(op, a, x0, x1, x2, x3, i, _mm512_loadu_ps(q + i));
        if (i < dim) {
            __mmask16 m = tail_mask(dim - i);
            b = step4_masked(op, b, x0, x1, x2, x3, i, m, _mm512_maskz_loadu_ps(m, q + i));
        }
        out[r] = _mm512_reduce_add_ps(_mm512_add_ps(a.r0, b.r0));
        out[r + 1] = _mm512_reduce_add_ps(_mm512_add_ps(a.r1, b.r1));
        out[r + 2] = _mm512_reduce_add_ps(_mm512_add_ps(a.r2, b.r2));
        out[r + 3] = _mm512_reduce_add_ps(_mm512_add_ps(a.r3, b.r3));
    }
    for (; r < count; r++) out[r] = pair(op, q, base + r * dim, dim);
}

static float dot_avx512(const float *a, const float *b, size_t n) { return pair(OP_DOT, a, b, n); }
static float l2sq_avx512(const float *a, const float *b, size_t n) { return pair(OP_L2SQ, a, b, n); }
static float l1_avx512(const float *a, const float *b, size_t n) { return pair(OP_L1, a, b, n); }

static void dot_batch_avx512(const float *q, const float *base, size_t count, size_t dim, float *out) {
    batch(OP_DOT, q, base, count, dim, out);
}
static void l2sq_batch_avx512(const float *q, const float *base, size_t count, size_t dim, float *out) {
    batch(OP_L2SQ, q, base, count, dim, out);
}
static void l1_batch_avx512(const float *q, const float *base, size_t count, size_t dim, float *out) {
    batch(OP_L1, q, base, count, dim, out);
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

const strata_distance_kernels strata_distance_kernels_avx512 = {
    .isa = STRATA_ISA_AVX512,
    .name = "avx512",
    .dot = dot_avx512,
    .l2sq = l2sq_avx512,
    .l1 = l1_avx512,
    .dot_batch = dot_batch_avx512,
    .l2sq_batch = l2sq_batch_avx512,
    .l1_batch = l1_batch_avx512,
};
#endif
