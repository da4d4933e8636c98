#ifndef STRATA_DISTANCE_H
#define STRATA_DISTANCE_H
// f32 distance kernels with run-time instruction-set dispatch.
//
// Three implementations of every kernel exist: a portable one (C vector
// extensions; SSE2 on baseline x86-64, NEON on arm64), AVX2+FMA, and AVX-512F.
// The x86 ones are compiled with per-function target attributes, so the library
// needs no -march/-mcpu flags and runs on any x86-64 CPU; the best level the CPU
// and OS support is picked once, on first use (see strata_distance_selected).
//
// Contracts shared by all kernels:
//   * `dim` is any value >= 0 (no multiple-of-8/16 requirement; tails are masked).
//     dim == 0 gives 0.
//   * Pointers need only float alignment (4 bytes); 64-byte aligned rows are faster.
//   * Inputs are read-only and never retained; the kernels allocate nothing, have
//     no shared mutable state, and are safe to call from any number of threads.
//   * Results are sums of float products in an unspecified order, so the three
//     levels may differ in the last bits (relative error ~ dim * FLT_EPSILON).
//     NaN or infinite inputs propagate to the result as IEEE arithmetic dictates.
#include <stddef.h>

#if defined(__clang__)
#define STRATA_NULLABLE _Nullable
#pragma clang assume_nonnull begin
#else
#define STRATA_NULLABLE
#endif

/// Instruction-set levels, in increasing order of capability.
typedef enum strata_isa {
    STRATA_ISA_PORTABLE = 0,
    STRATA_ISA_AVX2 = 1,   // AVX2 + FMA (x86-64-v3 class)
    STRATA_ISA_AVX512 = 2, // AVX-512F
} strata_isa;

/// sum(a[i] * b[i]), sum((a[i] - b[i])^2) or sum(|a[i] - b[i]|) over `dim` floats.
typedef float (*strata_pair_fn)(const float *a, const float *b, size_t dim);

/// Scores `query` against `count` row-major vectors of `dim` floats starting at
/// `base` (row r at base + r * dim) and writes out[r], r in 0..<count.
/// `out` must not overlap `query` or `base`. Streams `base` once, in order
/// (four rows at a time in the x86 levels, so each query load serves four rows).
typedef void (*strata_batch_fn)(const float *query, const float *base, size_t count, size_t dim,
                                float *out);

/// One implementation level of every kernel. Tables are immutable statics.
typedef struct strata_distance_kernels {
    strata_isa isa;
    /// "portable", "avx2" or "avx512".
    const char *name;
    strata_pair_fn dot;
    strata_pair_fn l2sq;
    strata_pair_fn l1;
    strata_batch_fn dot_batch;
    strata_batch_fn l2sq_batch;
    strata_batch_fn l1_batch;
} strata_distance_kernels;

/// The table for `isa`, or NULL when this build lacks it or this CPU/OS cannot
/// run it. Use it to force a level (tests, benchmarks). Thread-safe.
const strata_distance_kernels *STRATA_NULLABLE strata_distance_kernels_for(strata_isa isa);

/// The table the strata_*_f32 functions below use. Chosen once, on first call:
/// the environment variable STRATA_DISTANCE_ISA (portable|avx2|avx512) if set and
/// supported, else the first supported level of the default order avx512, avx2,
/// portable. Thread-safe (concurrent first calls pick the same table).
const strata_distance_kernels *strata_distance_selected(void);

/// Name of the selected level: "portable", "avx2" or "avx512".
const char *strata_distance_isa_name(void);

/// The selected level's kernels (see strata_pair_fn / strata_batch_fn).
float strata_dot_f32(const float *a, const float *b, size_t dim);
float strata_l2sq_f32(const float *a, const float *b, size_t dim);
float strata_l1_f32(const float *a, const float *b, size_t dim);
void strata_dot_batch_f32(const float *query, const float *base, size_t count, size_t dim, float *out);
void strata_l2sq_batch_f32(const float *query, const float *base, size_t count, size_t dim, float *out);
void strata_l1_batch_f32(const float *query, const float *base, size_t count, size_t dim, float *out);

/// values[i] = sqrt(values[i]) for i in 0..<count, in place (IEEE 754 correctly
/// rounded; negative or NaN inputs give NaN). Vectorised. Exists because
/// Swift's squareRoot() on Linux goes through libm's errno-setting sqrtf: a
/// libm link dependency and a branch that keeps loops from vectorising.
void strata_sqrt_f32_inplace(float *values, size_t count);

/// Correctly rounded square roots without libm or errno (see above).
float strata_sqrt_f32(float x);
double strata_sqrt_f64(double x);

#if defined(__clang__)
#pragma clang assume_nonnull end
#endif

#endif
