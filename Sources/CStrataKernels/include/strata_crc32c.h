#ifndef STRATA_CRC32C_H
#define STRATA_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/// Extends a CRC32C (Castagnoli) over `length` bytes. Pass 0 as `crc` to start.
/// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run
/// time), else a slicing-by-8 table. Thread-safe; no allocation.
uint32_t strata_crc32c_extend(uint32_t crc, const void *data, size_t length);

/// 1 when the hardware path is in use, 0 for the portable table path.
int strata_crc32c_is_hardware(void);

#endif
