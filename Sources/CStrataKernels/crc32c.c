// CRC32C (Castagnoli, reflected polynomial 0x82F63B78).
// Hardware path: SSE4.2 `crc32` instruction, 8 bytes per step, selected at run
// time with __builtin_cpu_supports so the library still runs on CPUs without it.
// Portable path: slicing-by-8 tables built once (thread-safe via pthread_once).
#include "strata_crc32c.h"
#include <pthread.h>
#include <string.h>

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : (c >> 1);
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = table[0][i];
        for (int s = 1; s < 8; s++) {
            c = table[0][c & 0xFF] ^ (c >> 8);
            table[s][i] = c;
        }
    }
}

static uint32_t crc32c_portable(uint32_t crc, const uint8_t *p, size_t n) {
    pthread_once(&table_once, build_tables);
    crc = ~crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        // Little-endian hosts only (x86-64, aarch64 Linux).
        uint32_t lo = (uint32_t)word ^ crc;
        uint32_t hi = (uint32_t)(word >> 32);
        crc = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^
              table[4][lo >> 24] ^ table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^
              table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) crc = table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = ~crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}

static int has_sse42(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    }
    return cached;
}
#endif

uint32_t strata_crc32c_extend(uint32_t crc, const void *data, size_t length) {
#if defined(__x86_64__)
    if (has_sse42()) return crc32c_sse42(crc, (const uint8_t *)data, length);
#endif
    return crc32c_portable(crc, (const uint8_t *)data, length);
}

int strata_crc32c_is_hardware(void) {
#if defined(__x86_64__)
    return has_sse42();
#else
    return 0;
#endif
}
