#ifndef STRATA_SPARSE_H
#define STRATA_SPARSE_H
// Helpers of the sparse inverted-index search (Sources/StrataSegment/SparseIndex.swift).
#include <stddef.h>

#if defined(__clang__)
#pragma clang assume_nonnull begin
#endif

/// The smallest i < n with scores[i] > threshold and scores[i] != 0, or n.
/// The collect pass of a scoring window: once the top-k is full almost no
/// accumulated score beats its worst, so the scan runs 16 compares at a time.
size_t strata_first_candidate_f32(const float *scores, size_t n, float threshold);

#if defined(__clang__)
#pragma clang assume_nonnull end
#endif

#endif
