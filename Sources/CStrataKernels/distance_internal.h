// Private to CStrataKernels: the per-level kernel tables that distance.c
// dispatches between. Not part of the public header.
#ifndef STRATA_DISTANCE_INTERNAL_H
#define STRATA_DISTANCE_INTERNAL_H
#include "strata_distance.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define STRATA_HAVE_X86_KERNELS 1
extern const strata_distance_kernels strata_distance_kernels_avx2 __attribute__((visibility("hidden")));
extern const strata_distance_kernels strata_distance_kernels_avx512 __attribute__((visibility("hidden")));
#else
#define STRATA_HAVE_X86_KERNELS 0
#endif

// Software prefetch: deliberately absent from the batch kernels. Measured on
// AMD EPYC Zen 5 (100k x 384 f32, one query, rows contiguous): the hardware
// streamer already reaches ~44 GB/s per core with the AVX-512 kernel, and
// prefetching every line of the 4-row block 2-8 KiB ahead was no faster out of
// cache (35-45 ns per row vs 34-38 ns without) while doubling the in-cache cost
// (5.3 -> 11 ns per row), because each prefetch takes a load slot. Re-measure
// before adding it back on another CPU family.

#endif
