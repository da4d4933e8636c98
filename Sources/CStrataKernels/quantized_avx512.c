// AVX-512 level of the quantized kernels (see strata_quantized.h for contracts).
// Compiled with a function-level target attribute, never called unless
// quantized.c found avx512f/bw/vl, avx512vnni and avx512vpopcntdq at run time.
//
// int8: vpdpbusd multiplies 64 unsigned by 64 signed bytes and adds groups of
// four into 16 int32 lanes without intermediate saturation. Bits: vpopcntq on 8
// words at a time. Tails use zero-masked loads, which neither touch nor fault on
// the masked-off bytes and contribute 0 to every sum.
#include "quantized_internal.h"

#if STRATA_HAVE_X86_KERNELS
#include <immintrin.h>
#include "quantized_nearest.h"
#include "quantized_paired.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")
#endif

// Mask of the low `rem` bytes, rem in 1...63.
static inline __mmask64 byte_mask(size_t rem) { return (__mmask64)((1ull << rem) - 1ull); }

static int32_t dot_u8i8_avx512(const uint8_t *u, const int8_t *s, size_t n) {
    __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(u + i), _mm512_loadu_si512(s + i));
        a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(u + i + 64), _mm512_loadu_si512(s + i + 64));
    }
    for (; i + 64 <= n; i += 64) a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(u + i), _mm512_loadu_si512(s + i));
    if (i < n) {
        __mmask64 m = byte_mask(n - i);
        a1 = _mm512_dpbusd_epi32(a1, _mm512_maskz_loadu_epi8(m, u + i), _mm512_maskz_loadu_epi8(m, s + i));
    }
    return _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
}

static float dot_f32u8_avx512(const float *q, const uint8_t *u, size_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 x0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(u + i))));
        __m512 x1 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(u + i + 16))));
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), x0, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), x1, a1);
    }
    for (; i < n; i += 16) {
        size_t rem = n - i < 16 ? n - i : 16;
        __mmask16 m = (__mmask16)((1u << rem) - 1u);
        __m512 x = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, u + i)));
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), x, a0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

static uint32_t l1_u8_avx512(const uint8_t *a, const uint8_t *b, size_t n) {
    __m512i acc = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i)));
    }
    if (i < n) {
        __mmask64 m = byte_mask(n - i);
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_maskz_loadu_epi8(m, a + i), _mm512_maskz_loadu_epi8(m, b + i)));
    }
    return (uint32_t)_mm512_reduce_add_epi64(acc);
}

static uint64_t hamming_avx512(const uint64_t *a, const uint64_t *b, size_t words) {
    __m512i acc = _mm512_setzero_si512();
    size_t w = 0;
    for (; w + 8 <= words; w += 8) {
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(a + w), _mm512_loadu_si512(b + w))));
    }
    if (w < words) {
        __mmask8 m = (__mmask8)((1u << (words - w)) - 1u);
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_maskz_loadu_epi64(m, a + w),
                                                                         _mm512_maskz_loadu_epi64(m, b + w))));
    }
    return (uint64_t)_mm512_reduce_add_epi64(acc);
}

// Query plane j's popcounts against every code plane accumulate in acc[j];
// the weights are applied once at the end, so the inner step is and + popcnt +
// add. QP and XP are compile-time constants in the common cases (8 query planes
// for the asymmetric query, 2 for the symmetric 2-bit one; 1 or 2 code planes),
// so the loops unroll and the accumulators stay in registers.
#define INLINE static inline __attribute__((always_inline))

INLINE int64_t bitplane_dot_fixed(const uint64_t *q, const size_t QP, const uint64_t *x, const size_t XP,
                                  size_t words) {
    __m512i acc[8];
    for (size_t j = 0; j < QP; j++) acc[j] = _mm512_setzero_si512();
    for (size_t w = 0; w < words; w += 8) {
        __mmask8 m = words - w >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (words - w)) - 1u);
        __m512i xv[2];
        for (size_t b = 0; b < XP; b++) xv[b] = _mm512_maskz_loadu_epi64(m, x + b * words + w);
        for (size_t j = 0; j < QP; j++) {
            __m512i qv = _mm512_maskz_loadu_epi64(m, q + j * words + w);
            for (size_t b = 0; b < XP; b++) acc[j] = _mm512_add_epi64(acc[j], _mm512_popcnt_epi64(_mm512_and_si512(qv, xv[b])));
        }
    }
    __m512i total = _mm512_setzero_si512();
    for (size_t j = 0; j + 1 < QP; j++) total = _mm512_add_epi64(total, _mm512_slli_epi64(acc[j], (unsigned)j));
    total = _mm512_sub_epi64(total, _mm512_slli_epi64(acc[QP - 1], (unsigned)(QP - 1)));
    return (int64_t)_mm512_reduce_add_epi64(total);
}

static int64_t bitplane_dot_avx512(const uint64_t *q, size_t qp, const uint64_t *x, size_t xp, size_t words) {
    if (qp == 8 && xp == 1) return bitplane_dot_fixed(q, 8, x, 1, words);
    if (qp == 8 && xp == 2) return bitplane_dot_fixed(q, 8, x, 2, words);
    if (qp == 2 && xp == 2) return bitplane_dot_fixed(q, 2, x, 2, words);
    // A 4-bit asymmetric query (scalar4bits).
    if (qp == 4 && xp == 1) return bitplane_dot_fixed(q, 4, x, 1, words);
    if (qp == 4 && xp == 2) return bitplane_dot_fixed(q, 4, x, 2, words);
    // Other shapes: one query plane at a time through the same kernel.
    int64_t total = 0;
    for (size_t j = 0; j < qp; j++) {
        int64_t plane = 0;
        for (size_t b = 0; b < xp; b++) plane -= bitplane_dot_fixed(q + j * words, 1, x + b * words, 1, words);
        // A one-plane query is weighted −1, so plane = +Σ popcounts here.
        int64_t weight = (int64_t)1 << j;
        total += (j + 1 == qp) ? -weight * plane : weight * plane;
    }
    return total;
}

static float pq_lookup_avx512(const float *table, const uint8_t *codes, size_t m) {
    // Scalar loads in four chains. A vgatherdps form (16 sub-spaces per gather)
    // measured slower on the AMD EPYC development machine: 57 vs 51 ns at 384-d
    // x8 and 181 vs 127 ns at 1024-d x8, in cache.
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

STRATA_DEFINE_NEAREST256(nearest256_avx512)
STRATA_DEFINE_PAIRED_BITPLANE_DOT(paired_bitplane_dot_avx512, _mm_popcnt_u64)

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

const strata_quantized_kernels strata_quantized_kernels_avx512 = {
    .isa = STRATA_ISA_AVX512,
    .name = "avx512",
    .dot_u8i8 = dot_u8i8_avx512,
    .dot_f32u8 = dot_f32u8_avx512,
    .l1_u8 = l1_u8_avx512,
    .hamming = hamming_avx512,
    .bitplane_dot = bitplane_dot_avx512,
    .pq_lookup = pq_lookup_avx512,
    .nearest256 = nearest256_avx512,
    .paired_bitplane_dot = paired_bitplane_dot_avx512,
};
#endif
