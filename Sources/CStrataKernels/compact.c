// Compact-row kernels (see strata_compact.h): f32 query against binary16 or
// byte rows, and the element conversions. Two levels, chosen once at first use:
//
//   * portable: C vector extensions (4 lanes: SSE2 on baseline x86-64, NEON on
//     arm64). binary16 is decoded with integer bit manipulation (exact, no
//     hardware half support needed); encoding is a scalar bit-exact rounding.
//   * avx2: AVX2+FMA+F16C through per-function target attributes (no -march
//     flags): vcvtph2ps decodes 8 halves, vcvtps2ph encodes, vpmovzxbd +
//     vcvtdq2ps widens bytes. Used when strata_distance_selected() chose avx2 or
//     avx512 (so STRATA_DISTANCE_ISA=portable forces portable here too) and the
//     CPU has F16C.
//
// Both levels widen each row element to f32 exactly and sum in f32 with several
// accumulators, so they differ only in summation order (relative error
// ~ dim * FLT_EPSILON, as strata_distance.h). No kernel reads past the end of a
// row: vector tails go through a zero-padded stack copy or masked loads.
#include "strata_compact.h"
#include "strata_distance.h"
#include "distance_internal.h"

#include <stdatomic.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
#define COMPACT_SQRT(x) __builtin_elementwise_sqrt(x)
#else
#define COMPACT_SQRT(x) __builtin_sqrt(x)
#endif

/// Per-row accumulation. OP_COS sums q·row and |row|² in the same pass.
enum op { OP_DOT, OP_L2SQ, OP_L1, OP_COS };
/// Row element type.
enum elem { ELEM_F16, ELEM_U8 };

/// One row's sums: `value` is the dot / squared L2 / L1 sum; `norm` is |row|²
/// (OP_COS only, else 0).
typedef struct {
    float value;
    float norm;
} row_sums;

/// -(q·row) / sqrt(|q|² |row|²), and 0 when either squared norm is 0. The
/// product of the norms is formed in double so it cannot overflow f32.
INLINE float neg_cosine(float dot, float query_norm, float row_norm) {
    if (query_norm == 0 || row_norm == 0) return 0;
    return (float)(-(double)dot / COMPACT_SQRT((double)query_norm * (double)row_norm));
}

// MARK: - Scalar conversions (portable, exact)

INLINE uint32_t float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

INLINE float bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/// binary16 -> binary32, exact. Normal: rebias the exponent (+112). Inf/NaN:
/// exponent 31 -> 255, payload kept, and a signalling NaN is made quiet (as
/// vcvtph2ps does, so both levels give the same bits). Subnormal/zero: build
/// 2^-14 * (1 + m/1024) and subtract 2^-14, which is exact and gives m * 2^-24
/// (and +0 for m == 0).
INLINE float half_to_float(uint16_t h) {
    uint32_t o = (uint32_t)(h & 0x7fff) << 13;
    const uint32_t exp = o & 0x0f800000u;
    o += (uint32_t)(127 - 15) << 23;
    if (exp == 0x0f800000u) {
        o += (uint32_t)(128 - 16) << 23;
        if (h & 0x3ff) o |= 0x400000u; // quiet bit
    } else if (exp == 0) {
        o += 1u << 23;
        o = float_bits(bits_float(o) - bits_float(113u << 23));
    }
    return bits_float(o | (uint32_t)(h & 0x8000) << 16);
}

/// binary32 -> binary16, round to nearest, ties to even. |x| >= 65520 (the
/// midpoint between 65504 and 2^16) gives infinity; NaN gives a quiet NaN that
/// keeps the top payload bits (as vcvtps2ph does).
INLINE uint16_t float_to_half(float f) {
    uint32_t x = float_bits(f);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    x &= 0x7fffffffu;
    if (x >= 0x7f800000u) return (uint16_t)(sign | (x > 0x7f800000u ? 0x7e00 | ((x >> 13) & 0x3ff) : 0x7c00));
    if (x >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);
    if (x >= 0x38800000u) {
        // Normal half (|x| >= 2^-14): rebias, round on the 13 dropped bits. A
        // carry out of the mantissa correctly bumps the exponent; it cannot
        // reach infinity because x < 65520.
        uint32_t h = (x >> 13) - ((uint32_t)(127 - 15) << 10);
        const uint32_t rest = x & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    // Subnormal half: the value is m * 2^(e-150) with m the 24-bit significand,
    // i.e. m * 2^(e-126) units of 2^-24; shift right by 126 - e (>= 14) with
    // round to nearest even. Below 2^-25 everything rounds to 0 (2^-25 itself is
    // a tie and goes to the even 0). A round-up to 0x400 is the smallest normal.
    if (x < 0x33000000u) return sign;
    const uint32_t e = x >> 23;
    const uint32_t m = (x & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e; // 14...24
    uint32_t h = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

// MARK: - Portable level

typedef float v4f __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef uint16_t v4h __attribute__((vector_size(8)));
typedef uint8_t v4b __attribute__((vector_size(4)));

INLINE v4f load4(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

INLINE float hsum4(v4f v) { return (v[0] + v[1]) + (v[2] + v[3]); }

INLINE v4f abs4(v4f v) { return (v4f)((v4u)v & 0x7fffffffu); }

/// Four halves -> four floats: half_to_float with lane masks instead of branches.
INLINE v4f half4_to_float(const uint16_t *p) {
    v4h raw;
    memcpy(&raw, p, sizeof raw);
    const v4u h = __builtin_convertvector(raw, v4u);
    v4u o = (h & 0x7fffu) << 13;
    const v4u exp = o & 0x0f800000u;
    const v4u is_special = (v4u)(exp == 0x0f800000u), is_small = (v4u)(exp == 0);
    const v4u is_nan = is_special & (v4u)((h & 0x3ffu) != 0);
    o += (uint32_t)(127 - 15) << 23;
    o += is_special & ((uint32_t)(128 - 16) << 23);
    o |= is_nan & 0x400000u;
    o += is_small & (1u << 23);
    const v4u adjusted = (v4u)((v4f)o - bits_float(113u << 23));
    o = (adjusted & is_small) | (o & ~is_small);
    return (v4f)(o | (h & 0x8000u) << 16);
}

INLINE v4f byte4_to_float(const uint8_t *p) {
    v4b raw;
    memcpy(&raw, p, sizeof raw);
    return __builtin_convertvector(raw, v4f);
}

INLINE v4f row4(enum elem t, const void *row, size_t i) {
    return t == ELEM_F16 ? half4_to_float((const uint16_t *)row + i) : byte4_to_float((const uint8_t *)row + i);
}

INLINE float row1(enum elem t, const void *row, size_t i) {
    return t == ELEM_F16 ? half_to_float(((const uint16_t *)row)[i]) : (float)((const uint8_t *)row)[i];
}

INLINE void accumulate4(enum op op, v4f *s, v4f *n, v4f q, v4f x) {
    switch (op) {
    case OP_DOT:
        *s += q * x;
        break;
    case OP_L2SQ: {
        v4f d = q - x;
        *s += d * d;
        break;
    }
    case OP_L1:
        *s += abs4(q - x);
        break;
    case OP_COS:
        *s += q * x;
        *n += x * x;
        break;
    }
}

INLINE void accumulate1(enum op op, float *s, float *n, float q, float x) {
    switch (op) {
    case OP_DOT:
        *s += q * x;
        break;
    case OP_L2SQ: {
        float d = q - x;
        *s += d * d;
        break;
    }
    case OP_L1: {
        float d = q - x;
        *s += d < 0 ? -d : d;
        break;
    }
    case OP_COS:
        *s += q * x;
        *n += x * x;
        break;
    }
}

/// Four accumulators (16 elements per step), then 4-wide, then scalar.
INLINE row_sums row_portable(enum op op, enum elem t, const float *q, const void *row, size_t dim) {
    v4f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    v4f n0 = {0}, n1 = {0}, n2 = {0}, n3 = {0};
    size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        accumulate4(op, &s0, &n0, load4(q + i), row4(t, row, i));
        accumulate4(op, &s1, &n1, load4(q + i + 4), row4(t, row, i + 4));
        accumulate4(op, &s2, &n2, load4(q + i + 8), row4(t, row, i + 8));
        accumulate4(op, &s3, &n3, load4(q + i + 12), row4(t, row, i + 12));
    }
    for (; i + 4 <= dim; i += 4) accumulate4(op, &s0, &n0, load4(q + i), row4(t, row, i));
    row_sums r = {hsum4((s0 + s1) + (s2 + s3)), hsum4((n0 + n1) + (n2 + n3))};
    for (; i < dim; i++) accumulate1(op, &r.value, &r.norm, q[i], row1(t, row, i));
    return r;
}

/// The gather loop shared by both levels: prefetch two rows ahead (a 384-d f16
/// row is 12 cache lines that the hardware prefetcher will not guess for a
/// scattered access pattern), score, finish the metric.
#define COMPACT_GATHER_LOOP(row_fn, op, t, esize)                                                   \
    do {                                                                                             \
        const char *b = (const char *)base;                                                          \
        const size_t row_bytes = dim * (esize);                                                      \
        if (count > 0) strata_prefetch(b + (size_t)rows[0] * row_bytes, row_bytes);                 \
        if (count > 1) strata_prefetch(b + (size_t)rows[1] * row_bytes, row_bytes);                  \
        for (size_t i = 0; i < count; i++) {                                                         \
            if (i + 2 < count) strata_prefetch(b + (size_t)rows[i + 2] * row_bytes, row_bytes);      \
            row_sums r = row_fn(op, t, query, b + (size_t)rows[i] * row_bytes, dim);                 \
            out[i] = (op) == OP_DOT ? -r.value : (op) == OP_COS ? neg_cosine(r.value, qn, r.norm) : r.value; \
        }                                                                                            \
    } while (0)

INLINE void gather_portable_op(enum op op, enum elem t, const float *query, const void *base, size_t dim,
                               const uint32_t *rows, size_t count, float *out) {
    float qn = 0;
    if (op == OP_COS) {
        // |q|², once per call.
        v4f s0 = {0}, s1 = {0};
        size_t i = 0;
        for (; i + 8 <= dim; i += 8) {
            v4f a = load4(query + i), c = load4(query + i + 4);
            s0 += a * a;
            s1 += c * c;
        }
        qn = hsum4(s0 + s1);
        for (; i < dim; i++) qn += query[i] * query[i];
    }
    COMPACT_GATHER_LOOP(row_portable, op, t, (t == ELEM_F16 ? sizeof(uint16_t) : sizeof(uint8_t)));
}

INLINE void gather_portable(enum elem t, strata_gather_kind kind, const float *query, const void *base, size_t dim,
                            const uint32_t *rows, size_t count, float *out) {
    switch (kind) {
    case STRATA_GATHER_NEG_DOT:
        gather_portable_op(OP_DOT, t, query, base, dim, rows, count, out);
        break;
    case STRATA_GATHER_L2SQ:
        gather_portable_op(OP_L2SQ, t, query, base, dim, rows, count, out);
        break;
    case STRATA_GATHER_NEG_COSINE:
        gather_portable_op(OP_COS, t, query, base, dim, rows, count, out);
        break;
    case STRATA_GATHER_L1:
    default: // as strata_gather_distances_f32: anything else is L1
        gather_portable_op(OP_L1, t, query, base, dim, rows, count, out);
        break;
    }
}

static void gather_f16_portable(strata_gather_kind kind, const float *query, const uint16_t *base, size_t dim,
                                const uint32_t *rows, size_t count, float *out) {
    gather_portable(ELEM_F16, kind, query, base, dim, rows, count, out);
}

static void gather_u8_portable(strata_gather_kind kind, const float *query, const uint8_t *base, size_t dim,
                               const uint32_t *rows, size_t count, float *out) {
    gather_portable(ELEM_U8, kind, query, base, dim, rows, count, out);
}

static void f16_to_f32_portable(const uint16_t *in, float *out, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v4f v = half4_to_float(in + i);
        memcpy(out + i, &v, sizeof v);
    }
    for (; i < n; i++) out[i] = half_to_float(in[i]);
}

static void f32_to_f16_portable(const float *in, uint16_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = float_to_half(in[i]);
}

static void u8_to_f32_portable(const uint8_t *in, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (float)in[i];
}

// MARK: - Level table

typedef struct compact_kernels {
    const char *name;
    void (*gather_f16)(strata_gather_kind, const float *, const uint16_t *, size_t, const uint32_t *, size_t,
                       float *);
    void (*gather_u8)(strata_gather_kind, const float *, const uint8_t *, size_t, const uint32_t *, size_t, float *);
    void (*f16_to_f32)(const uint16_t *, float *, size_t);
    void (*f32_to_f16)(const float *, uint16_t *, size_t);
    void (*u8_to_f32)(const uint8_t *, float *, size_t);
} compact_kernels;

static const compact_kernels compact_portable = {
    .name = "portable",
    .gather_f16 = gather_f16_portable,
    .gather_u8 = gather_u8_portable,
    .f16_to_f32 = f16_to_f32_portable,
    .f32_to_f16 = f32_to_f16_portable,
    .u8_to_f32 = u8_to_f32_portable,
};

// MARK: - AVX2 + FMA + F16C level

#if STRATA_HAVE_X86_KERNELS
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Lane mask (all-ones in lanes 0..<rem), rem in 1...7.
INLINE __m256i tail_mask8(size_t rem) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Eight row elements at `p` widened to f32 (16 or 8 bytes read).
INLINE __m256 row8(enum elem t, const void *p) {
    if (t == ELEM_F16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

INLINE void accumulate8(enum op op, __m256 *s, __m256 *n, __m256 q, __m256 x) {
    switch (op) {
    case OP_DOT:
        *s = _mm256_fmadd_ps(q, x, *s);
        break;
    case OP_L2SQ: {
        __m256 d = _mm256_sub_ps(q, x);
        *s = _mm256_fmadd_ps(d, d, *s);
        break;
    }
    case OP_L1:
        *s = _mm256_add_ps(*s, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(q, x)));
        break;
    case OP_COS:
        *s = _mm256_fmadd_ps(q, x, *s);
        *n = _mm256_fmadd_ps(x, x, *n);
        break;
    }
}

/// Four accumulators (32 elements per step), then 8-wide, then the last
/// dim % 8 elements: the row through a zero-padded copy (there is no 16- or
/// 8-bit masked load in AVX2), the query with vmaskmovps. Padded lanes are 0 in
/// both, so they add 0 to every sum.
INLINE row_sums row_avx2(enum op op, enum elem t, const float *q, const void *row, size_t dim) {
    const size_t esize = t == ELEM_F16 ? 2 : 1;
    const char *x = (const char *)row;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    __m256 n0 = _mm256_setzero_ps(), n1 = _mm256_setzero_ps(), n2 = _mm256_setzero_ps(), n3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        accumulate8(op, &s0, &n0, _mm256_loadu_ps(q + i), row8(t, x + i * esize));
        accumulate8(op, &s1, &n1, _mm256_loadu_ps(q + i + 8), row8(t, x + (i + 8) * esize));
        accumulate8(op, &s2, &n2, _mm256_loadu_ps(q + i + 16), row8(t, x + (i + 16) * esize));
        accumulate8(op, &s3, &n3, _mm256_loadu_ps(q + i + 24), row8(t, x + (i + 24) * esize));
    }
    for (; i + 8 <= dim; i += 8) accumulate8(op, &s0, &n0, _mm256_loadu_ps(q + i), row8(t, x + i * esize));
    if (i < dim) {
        const size_t rem = dim - i;
        _Alignas(16) char tail[16] = {0};
        memcpy(tail, x + i * esize, rem * esize);
        accumulate8(op, &s1, &n1, _mm256_maskload_ps(q + i, tail_mask8(rem)), row8(t, tail));
    }
    row_sums r = {hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))), 0};
    if (op == OP_COS) r.norm = hsum8(_mm256_add_ps(_mm256_add_ps(n0, n1), _mm256_add_ps(n2, n3)));
    return r;
}

INLINE float self_dot_avx2(const float *q, size_t dim) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        __m256 a = _mm256_loadu_ps(q + i), c = _mm256_loadu_ps(q + i + 8);
        s0 = _mm256_fmadd_ps(a, a, s0);
        s1 = _mm256_fmadd_ps(c, c, s1);
    }
    for (; i + 8 <= dim; i += 8) {
        __m256 a = _mm256_loadu_ps(q + i);
        s0 = _mm256_fmadd_ps(a, a, s0);
    }
    if (i < dim) {
        __m256 a = _mm256_maskload_ps(q + i, tail_mask8(dim - i));
        s1 = _mm256_fmadd_ps(a, a, s1);
    }
    return hsum8(_mm256_add_ps(s0, s1));
}

INLINE void gather_avx2_op(enum op op, enum elem t, const float *query, const void *base, size_t dim,
                           const uint32_t *rows, size_t count, float *out) {
    const float qn = op == OP_COS ? self_dot_avx2(query, dim) : 0;
    COMPACT_GATHER_LOOP(row_avx2, op, t, (t == ELEM_F16 ? sizeof(uint16_t) : sizeof(uint8_t)));
}

INLINE void gather_avx2(enum elem t, strata_gather_kind kind, const float *query, const void *base, size_t dim,
                        const uint32_t *rows, size_t count, float *out) {
    switch (kind) {
    case STRATA_GATHER_NEG_DOT:
        gather_avx2_op(OP_DOT, t, query, base, dim, rows, count, out);
        break;
    case STRATA_GATHER_L2SQ:
        gather_avx2_op(OP_L2SQ, t, query, base, dim, rows, count, out);
        break;
    case STRATA_GATHER_NEG_COSINE:
        gather_avx2_op(OP_COS, t, query, base, dim, rows, count, out);
        break;
    case STRATA_GATHER_L1:
    default:
        gather_avx2_op(OP_L1, t, query, base, dim, rows, count, out);
        break;
    }
}

static void gather_f16_avx2(strata_gather_kind kind, const float *query, const uint16_t *base, size_t dim,
                            const uint32_t *rows, size_t count, float *out) {
    gather_avx2(ELEM_F16, kind, query, base, dim, rows, count, out);
}

static void gather_u8_avx2(strata_gather_kind kind, const float *query, const uint8_t *base, size_t dim,
                           const uint32_t *rows, size_t count, float *out) {
    gather_avx2(ELEM_U8, kind, query, base, dim, rows, count, out);
}

static void f16_to_f32_avx2(const uint16_t *in, float *out, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, row8(ELEM_F16, in + i));
    if (i < n) {
        _Alignas(16) uint16_t tail[8] = {0};
        memcpy(tail, in + i, (n - i) * sizeof(uint16_t));
        _mm256_maskstore_ps(out + i, tail_mask8(n - i), row8(ELEM_F16, tail));
    }
}

static void f32_to_f16_avx2(const float *in, uint16_t *out, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
    if (i < n) {
        _Alignas(16) uint16_t tail[8];
        __m256 v = _mm256_maskload_ps(in + i, tail_mask8(n - i));
        _mm_store_si128((__m128i *)tail, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
        memcpy(out + i, tail, (n - i) * sizeof(uint16_t));
    }
}

static void u8_to_f32_avx2(const uint8_t *in, float *out, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, row8(ELEM_U8, in + i));
    for (; i < n; i++) out[i] = (float)in[i];
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

static const compact_kernels compact_avx2 = {
    .name = "avx2",
    .gather_f16 = gather_f16_avx2,
    .gather_u8 = gather_u8_avx2,
    .f16_to_f32 = f16_to_f32_avx2,
    .f32_to_f16 = f32_to_f16_avx2,
    .u8_to_f32 = u8_to_f32_avx2,
};
#endif

// MARK: - Dispatch

static const compact_kernels *compact_resolve(void) {
#if STRATA_HAVE_X86_KERNELS
    // Follows the f32 level (so STRATA_DISTANCE_ISA=portable applies here too);
    // F16C is checked separately because the avx2 f32 level does not need it.
    if (strata_distance_selected()->isa >= STRATA_ISA_AVX2) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("f16c")) return &compact_avx2;
    }
#endif
    return &compact_portable;
}

// NULL until the first call resolves it; racing first calls compute the same
// table, so a plain release store suffices (as distance.c).
static _Atomic(const compact_kernels *) compact_selected = NULL;

static const compact_kernels *compact(void) {
    const compact_kernels *k = atomic_load_explicit(&compact_selected, memory_order_acquire);
    if (__builtin_expect(k == NULL, 0)) {
        k = compact_resolve();
        atomic_store_explicit(&compact_selected, k, memory_order_release);
    }
    return k;
}

void strata_gather_distances_f16(strata_gather_kind kind, const float *query, const uint16_t *base, size_t dim,
                                 const uint32_t *rows, size_t count, float *out) {
    compact()->gather_f16(kind, query, base, dim, rows, count, out);
}

void strata_gather_distances_u8(strata_gather_kind kind, const float *query, const uint8_t *base, size_t dim,
                                const uint32_t *rows, size_t count, float *out) {
    compact()->gather_u8(kind, query, base, dim, rows, count, out);
}

void strata_f16_to_f32(const uint16_t *in, float *out, size_t n) { compact()->f16_to_f32(in, out, n); }

void strata_f32_to_f16(const float *in, uint16_t *out, size_t n) { compact()->f32_to_f16(in, out, n); }

void strata_u8_to_f32(const uint8_t *in, float *out, size_t n) { compact()->u8_to_f32(in, out, n); }
