// Distance kernels: the portable level and the run-time dispatch.
// The AVX2 and AVX-512 levels live in distance_avx2.c and distance_avx512.c.
//
// Portable level: C vector extensions (4 floats per vector, which is SSE2 on
// baseline x86-64 and NEON on arm64), four independent accumulators so the adds
// pipeline, scalar tail. Plain scalar loops would not vectorise: without
// -ffast-math the compiler may not reassociate a float sum.
#include "strata_distance.h"
#include "distance_internal.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static inline v4f load4(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v); // unaligned load; compiles to one movups / ldr q
    return v;
}

static inline float hsum4(v4f v) { return (v[0] + v[1]) + (v[2] + v[3]); }

static inline v4f abs4(v4f v) {
    const v4i mask = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
    return (v4f)((v4i)v & mask);
}

static float dot_portable(const float *a, const float *b, size_t n) {
    v4f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 += load4(a + i) * load4(b + i);
        s1 += load4(a + i + 4) * load4(b + i + 4);
        s2 += load4(a + i + 8) * load4(b + i + 8);
        s3 += load4(a + i + 12) * load4(b + i + 12);
    }
    for (; i + 4 <= n; i += 4) s0 += load4(a + i) * load4(b + i);
    float s = hsum4((s0 + s1) + (s2 + s3));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static float l2sq_portable(const float *a, const float *b, size_t n) {
    v4f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v4f d0 = load4(a + i) - load4(b + i);
        v4f d1 = load4(a + i + 4) - load4(b + i + 4);
        v4f d2 = load4(a + i + 8) - load4(b + i + 8);
        v4f d3 = load4(a + i + 12) - load4(b + i + 12);
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (; i + 4 <= n; i += 4) {
        v4f d = load4(a + i) - load4(b + i);
        s0 += d * d;
    }
    float s = hsum4((s0 + s1) + (s2 + s3));
    for (; i < n; i++) {
        float d = a[i] - b[i];
        s += d * d;
    }
    return s;
}

static float l1_portable(const float *a, const float *b, size_t n) {
    v4f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 += abs4(load4(a + i) - load4(b + i));
        s1 += abs4(load4(a + i + 4) - load4(b + i + 4));
        s2 += abs4(load4(a + i + 8) - load4(b + i + 8));
        s3 += abs4(load4(a + i + 12) - load4(b + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 += abs4(load4(a + i) - load4(b + i));
    float s = hsum4((s0 + s1) + (s2 + s3));
    for (; i < n; i++) {
        float d = a[i] - b[i];
        s += d < 0 ? -d : d;
    }
    return s;
}

// Batch forms: one row at a time. No software prefetch; see distance_internal.h.
#define STRATA_PORTABLE_BATCH(name, pair)                                                        \
    static void name(const float *q, const float *base, size_t count, size_t dim, float *out) { \
        for (size_t r = 0; r < count; r++) out[r] = pair(q, base + r * dim, dim);                \
    }

STRATA_PORTABLE_BATCH(dot_batch_portable, dot_portable)
STRATA_PORTABLE_BATCH(l2sq_batch_portable, l2sq_portable)
STRATA_PORTABLE_BATCH(l1_batch_portable, l1_portable)

static const strata_distance_kernels kernels_portable = {
    .isa = STRATA_ISA_PORTABLE,
    .name = "portable",
    .dot = dot_portable,
    .l2sq = l2sq_portable,
    .l1 = l1_portable,
    .dot_batch = dot_batch_portable,
    .l2sq_batch = l2sq_batch_portable,
    .l1_batch = l1_batch_portable,
};

// MARK: - Square roots

// __builtin_elementwise_sqrt lowers to the sqrt instruction (llvm.sqrt) with no
// errno side effect, so no libm call and the loop vectorises; __builtin_sqrtf
// would keep an errno-setting libm call on the negative-input path.
#if defined(__has_builtin) && __has_builtin(__builtin_elementwise_sqrt)
#define STRATA_SQRT(x) __builtin_elementwise_sqrt(x)
#else
#define STRATA_SQRT(x) __builtin_sqrt(x)
#endif

void strata_sqrt_f32_inplace(float *values, size_t count) {
    for (size_t i = 0; i < count; i++) values[i] = STRATA_SQRT(values[i]);
}

float strata_sqrt_f32(float x) { return STRATA_SQRT(x); }

double strata_sqrt_f64(double x) { return STRATA_SQRT(x); }

// MARK: - Dispatch

static int cpu_supports(strata_isa isa) {
    switch (isa) {
    case STRATA_ISA_PORTABLE:
        return 1;
#if STRATA_HAVE_X86_KERNELS
    // __builtin_cpu_supports also checks that the OS saves the wider register
    // state (XCR0), so a "yes" means the instructions will not fault.
    case STRATA_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case STRATA_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f");
#endif
    default:
        return 0;
    }
}

const strata_distance_kernels *strata_distance_kernels_for(strata_isa isa) {
    if (!cpu_supports(isa)) return NULL;
    switch (isa) {
    case STRATA_ISA_PORTABLE:
        return &kernels_portable;
#if STRATA_HAVE_X86_KERNELS
    case STRATA_ISA_AVX2:
        return &strata_distance_kernels_avx2;
    case STRATA_ISA_AVX512:
        return &strata_distance_kernels_avx512;
#endif
    default:
        return NULL;
    }
}

// Default preference, best first. Measured on AMD EPYC (Zen 5), 384-d f32, in
// cache: AVX-512 beats AVX2 (see docs/benchmarks.md); out of cache all levels
// are bound by memory bandwidth.
static const strata_isa default_order[] = {STRATA_ISA_AVX512, STRATA_ISA_AVX2, STRATA_ISA_PORTABLE};

static const strata_distance_kernels *resolve(void) {
    const char *forced = getenv("STRATA_DISTANCE_ISA");
    if (forced != NULL) {
        static const struct { const char *name; strata_isa isa; } names[] = {
            {"portable", STRATA_ISA_PORTABLE}, {"avx2", STRATA_ISA_AVX2}, {"avx512", STRATA_ISA_AVX512}};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strcmp(forced, names[i].name) == 0) {
                const strata_distance_kernels *k = strata_distance_kernels_for(names[i].isa);
                if (k != NULL) return k;
            }
        }
    }
    for (size_t i = 0; i < sizeof default_order / sizeof default_order[0]; i++) {
        const strata_distance_kernels *k = strata_distance_kernels_for(default_order[i]);
        if (k != NULL) return k;
    }
    return &kernels_portable;
}

// NULL until the first call resolves it. Racing first calls compute the same
// table, so a plain store is enough; acquire/release publishes it (on x86 both
// are ordinary moves, so the steady-state cost is one load).
static _Atomic(const strata_distance_kernels *) selected_kernels = NULL;

const strata_distance_kernels *strata_distance_selected(void) {
    const strata_distance_kernels *k = atomic_load_explicit(&selected_kernels, memory_order_acquire);
    if (__builtin_expect(k == NULL, 0)) {
        k = resolve();
        atomic_store_explicit(&selected_kernels, k, memory_order_release);
    }
    return k;
}

const char *strata_distance_isa_name(void) { return strata_distance_selected()->name; }

float strata_dot_f32(const float *a, const float *b, size_t dim) {
    return strata_distance_selected()->dot(a, b, dim);
}

float strata_l2sq_f32(const float *a, const float *b, size_t dim) {
    return strata_distance_selected()->l2sq(a, b, dim);
}

float strata_l1_f32(const float *a, const float *b, size_t dim) {
    return strata_distance_selected()->l1(a, b, dim);
}

void strata_dot_batch_f32(const float *query, const float *base, size_t count, size_t dim, float *out) {
    strata_distance_selected()->dot_batch(query, base, count, dim, out);
}

void strata_l2sq_batch_f32(const float *query, const float *base, size_t count, size_t dim, float *out) {
    strata_distance_selected()->l2sq_batch(query, base, count, dim, out);
}

void strata_l1_batch_f32(const float *query, const float *base, size_t count, size_t dim, float *out) {
    strata_distance_selected()->l1_batch(query, base, count, dim, out);
}
