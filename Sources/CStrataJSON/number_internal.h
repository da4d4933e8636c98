// Internal to CStrataJSON: the byte rule the scan and the number reader share.
#ifndef STRATA_JSON_NUMBER_INTERNAL_H
#define STRATA_JSON_NUMBER_INTERNAL_H
#include <stdint.h>

/// The byte classes of the scan: a number token runs over these bytes.
static inline int strata_json_is_number_byte(uint8_t c) {
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

#endif
