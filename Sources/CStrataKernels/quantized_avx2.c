// AVX2 level of the quantized kernels (see strata_quantized.h for contracts).
// Compiled with a function-level target attribute, never called unless
// quantized.c found avx2, fma and popcnt at run time.
//
// Bytes are widened to 16-bit lanes and multiplied with vpmaddwd, which is
// exact (vpmaddubsw would saturate: 255·127·2 > 32767). Bit kernels use the
// scalar 64-bit popcnt with independent accumulators; tails are scalar.
#include "quantized_internal.h"

#if STRATA_HAVE_X86_KERNELS
#include <immintrin.h>
#include "quantized_nearest.h"
#include "quantized_paired.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,popcnt"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,popcnt")
#endif

static inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static int32_t dot_u8i8_avx2(const uint8_t *u, const int8_t *s, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i u0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(u + i)));
        __m256i s0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(s + i)));
        __m256i u1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(u + i + 16)));
        __m256i s1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(s + i + 16)));
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(u0, s0));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(u1, s1));
    }
    for (; i + 16 <= n; i += 16) {
        __m256i u0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(u + i)));
        __m256i s0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(s + i)));
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(u0, s0));
    }
    int32_t sum = hsum_epi32(_mm256_add_epi32(a0, a1));
    for (; i < n; i++) sum += (int32_t)u[i] * (int32_t)s[i];
    return sum;
}

static float dot_f32u8_avx2(const float *q, const uint8_t *u, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 x0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(u + i))));
        __m256 x1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(u + i + 8))));
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), x0, a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), x1, a1);
    }
    float sum = hsum_ps(_mm256_add_ps(a0, a1));
    for (; i < n; i++) sum += q[i] * (float)u[i];
    return sum;
}

static uint32_t l1_u8_avx2(const uint8_t *a, const uint8_t *b, size_t n) {
    __m256i acc = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(a + i));
        __m256i y = _mm256_loadu_si256((const __m256i *)(b + i));
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(x, y));
    }
    uint64_t sum = (uint64_t)_mm256_extract_epi64(acc, 0) + (uint64_t)_mm256_extract_epi64(acc, 1) +
                   (uint64_t)_mm256_extract_epi64(acc, 2) + (uint64_t)_mm256_extract_epi64(acc, 3);
    for (; i < n; i++) sum += a[i] > b[i] ? (uint32_t)(a[i] - b[i]) : (uint32_t)(b[i] - a[i]);
    return (uint32_t)sum;
}

static uint64_t hamming_avx2(const uint64_t *a, const uint64_t *b, size_t words) {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t w = 0;
    for (; w + 4 <= words; w += 4) {
        s0 += (uint64_t)_mm_popcnt_u64(a[w] ^ b[w]);
        s1 += (uint64_t)_mm_popcnt_u64(a[w + 1] ^ b[w + 1]);
        s2 += (uint64_t)_mm_popcnt_u64(a[w + 2] ^ b[w + 2]);
        s3 += (uint64_t)_mm_popcnt_u64(a[w + 3] ^ b[w + 3]);
    }
    for (; w < words; w++) s0 += (uint64_t)_mm_popcnt_u64(a[w] ^ b[w]);
    return (s0 + s1) + (s2 + s3);
}

// QP and XP are compile-time constants in the common shapes (see
// quantized_avx512.c), so the plane loops unroll into independent popcnt chains.
static inline __attribute__((always_inline)) int64_t bitplane_dot_fixed(const uint64_t *q, const size_t QP,
                                                                       const uint64_t *x, const size_t XP,
                                                                       size_t words) {
    uint64_t acc[8] = {0};
    for (size_t w = 0; w < words; w++) {
        uint64_t xw[2];
        for (size_t b = 0; b < XP; b++) xw[b] = x[b * words + w];
        for (size_t j = 0; j < QP; j++) {
            const uint64_t qw = q[j * words + w];
            for (size_t b = 0; b < XP; b++) acc[j] += (uint64_t)_mm_popcnt_u64(qw & xw[b]);
        }
    }
    int64_t total = 0;
    for (size_t j = 0; j + 1 < QP; j++) total += (int64_t)(acc[j] << j);
    return total - (int64_t)(acc[QP - 1] << (QP - 1));
}

static int64_t bitplane_dot_avx2(const uint64_t *q, size_t qp, const uint64_t *x, size_t xp, size_t words) {
    if (qp == 8 && xp == 1) return bitplane_dot_fixed(q, 8, x, 1, words);
    if (qp == 8 && xp == 2) return bitplane_dot_fixed(q, 8, x, 2, words);
    if (qp == 2 && xp == 2) return bitplane_dot_fixed(q, 2, x, 2, words);
    // A 4-bit asymmetric query (scalar4bits).
    if (qp == 4 && xp == 1) return bitplane_dot_fixed(q, 4, x, 1, words);
    if (qp == 4 && xp == 2) return bitplane_dot_fixed(q, 4, x, 2, words);
    int64_t total = 0;
    for (size_t j = 0; j < qp; j++) {
        int64_t plane = 0;
        for (size_t b = 0; b < xp; b++) plane -= bitplane_dot_fixed(q + j * words, 1, x + b * words, 1, words);
        int64_t weight = (int64_t)1 << j;
        total += (j + 1 == qp) ? -weight * plane : weight * plane;
    }
    return total;
}

static float pq_lookup_avx2(const float *table, const uint8_t *codes, size_t m) {
    // Four independent scalar load+add chains: measured faster than vgatherdps
    // on this machine's AVX-512 core (see quantized_avx512.c).
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

STRATA_DEFINE_NEAREST256(nearest256_avx2)
STRATA_DEFINE_PAIRED_BITPLANE_DOT(paired_bitplane_dot_avx2, _mm_popcnt_u64)

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

const strata_quantized_kernels strata_quantized_kernels_avx2 = {
    .isa = STRATA_ISA_AVX2,
    .name = "avx2",
    .dot_u8i8 = dot_u8i8_avx2,
    .dot_f32u8 = dot_f32u8_avx2,
    .l1_u8 = l1_u8_avx2,
    .hamming = hamming_avx2,
    .bitplane_dot = bitplane_dot_avx2,
    .pq_lookup = pq_lookup_avx2,
    .nearest256 = nearest256_avx2,
    .paired_bitplane_dot = paired_bitplane_dot_avx2,
};
#endif
