// Private to CStrataKernels: the per-level quantized kernel tables that
// quantized.c dispatches between. Not part of the public header.
#ifndef STRATA_QUANTIZED_INTERNAL_H
#define STRATA_QUANTIZED_INTERNAL_H
#include "strata_quantized.h"
#include "distance_internal.h"

#if STRATA_HAVE_X86_KERNELS
extern const strata_quantized_kernels strata_quantized_kernels_avx2 __attribute__((visibility("hidden")));
extern const strata_quantized_kernels strata_quantized_kernels_avx512 __attribute__((visibility("hidden")));
#endif

#endif
