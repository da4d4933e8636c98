// Exact decimal-to-binary conversion of JSON number tokens (see strata_json.h).
//
// A token is read as w * 10^e with w < 10^19 (at most 19 significant digits).
// For |e| <= 19 the exact value is formed with 128-bit integer arithmetic:
// w * 10^e as a 128-bit product, or w / 10^-e as a 64-bit quotient with at
// least 63 significant bits plus the remainder as a sticky bit. Rounding that
// to 24 or 53 bits (ties to even) is the correctly rounded float or double:
// the same value strtof/strtod give, with no double rounding. Everything else
// (more digits, larger exponents, subnormal or out-of-range results) goes
// back to the caller's C-library path.
#include "strata_json.h"

#include <string.h>

#include "number_internal.h"

static const uint64_t powers_of_ten[20] = {
    1ull,
    10ull,
    100ull,
    1000ull,
    10000ull,
    100000ull,
    1000000ull,
    10000000ull,
    100000000ull,
    1000000000ull,
    10000000000ull,
    100000000000ull,
    1000000000000ull,
    10000000000000ull,
    100000000000000ull,
    1000000000000000ull,
    10000000000000000ull,
    100000000000000000ull,
    1000000000000000000ull,
    10000000000000000000ull,
};

typedef struct {
    uint64_t digits;  // w, at most 19 significant digits
    int exponent;     // e
    int negative;
    int exact;        // 0 when digits were dropped or the exponent is huge
} decimal;

/// True when the 8 bytes (little-endian load) are all ASCII digits.
static int eight_digits(uint64_t chunk) {
    return (chunk & 0xF0F0F0F0F0F0F0F0ull) == 0x3030303030303030ull &&
           ((chunk + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) == 0x3030303030303030ull;
}

/// The value of 8 ASCII digits loaded little-endian (the first digit in the low byte).
static uint64_t eight_digit_value(uint64_t chunk) {
    chunk -= 0x3030303030303030ull;
    chunk = chunk * 10 + (chunk >> 8);  // pairs: each even byte holds 10 * a + b
    uint64_t pairs_low = chunk & 0x000000FF000000FFull;           // pairs 0 and 2
    uint64_t pairs_high = (chunk >> 16) & 0x000000FF000000FFull;  // pairs 1 and 3
    // (p0 * 100 + p1) * 10000 + (p2 * 100 + p3), gathered in bits 32..63.
    return (pairs_low * (100 + (1000000ull << 32)) + pairs_high * (1 + (10000ull << 32))) >> 32;
}

/// Reads the exponent digits of a number (after its 'e' or 'E', at p[*at]):
/// an optional sign, then digits. Returns -1 when there are no digits, 0 when
/// the value is 100000 or more (outside any exact path), else 1 with the
/// signed value in *exponent; *at ends after the digits either way.
static int read_exponent(const uint8_t *p, size_t n, size_t *at, int *exponent) {
    size_t i = *at;
    int negative = 0;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        negative = p[i] == '-';
        i++;
    }
    size_t first = i;
    long value = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
        if (value < 100000) value = value * 10 + (p[i] - '0');
        i++;
    }
    *at = i;
    if (i == first) return -1;
    *exponent = negative ? -(int)value : (int)value;
    return value < 100000;
}

/// Parses JSON number syntax. Returns -1 when the token is not a JSON number.
static int parse_decimal(const uint8_t *p, size_t n, decimal *d) {
    size_t i = 0;
    d->digits = 0;
    d->exponent = 0;
    d->negative = 0;
    d->exact = 1;
    if (i < n && p[i] == '-') {
        d->negative = 1;
        i++;
    }
    if (i >= n) return -1;
    int significant = 0;  // digits in w (leading zeros excluded)
    if (p[i] == '0') {
        i++;
    } else if (p[i] >= '1' && p[i] <= '9') {
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (significant < 19) {
                d->digits = d->digits * 10 + (uint64_t)(p[i] - '0');
                significant++;
            } else {
                // Beyond 19 digits: still an integer part, so the scale grows.
                d->exponent++;
                if (p[i] != '0') d->exact = 0;
            }
            i++;
        }
    } else {
        return -1;
    }
    if (i < n && p[i] == '.') {
        i++;
        size_t first = i;
        if (significant == 0) {
            while (i < n && p[i] == '0') {  // leading zeros of the fraction only scale
                d->exponent--;
                i++;
            }
        }
        // Eight digits at a time while they fit in the 19 kept.
        while (n - i >= 8 && significant + 8 <= 19) {
            uint64_t chunk;
            memcpy(&chunk, p + i, 8);
            if (!eight_digits(chunk)) break;
            d->digits = d->digits * 100000000ull + eight_digit_value(chunk);
            significant += d->digits != 0 ? 8 : 0;
            d->exponent -= 8;
            i += 8;
        }
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (significant < 19) {
                if (significant > 0 || p[i] != '0') {
                    d->digits = d->digits * 10 + (uint64_t)(p[i] - '0');
                    significant++;
                }
                d->exponent--;
            } else if (p[i] != '0') {
                d->exact = 0;
            }
            i++;
        }
        if (i == first) return -1;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        int exponent = 0;
        int status = read_exponent(p, n, &i, &exponent);
        if (status < 0) return -1;
        if (status == 0) d->exact = 0;
        d->exponent += exponent;
    }
    if (i != n) return -1;
    return 0;
}

static int leading_zeros(uint64_t x) { return __builtin_clzll(x); }

/// numerator / divisor when the quotient fits in 64 bits (one divq on x86-64,
/// where the compiler would call the general 128-bit division).
static uint64_t divide(unsigned __int128 numerator, uint64_t divisor, uint64_t *remainder) {
#if defined(__x86_64__)
    uint64_t quotient, rest;
    __asm__("divq %4" : "=a"(quotient), "=d"(rest) : "a"((uint64_t)numerator), "d"((uint64_t)(numerator >> 64)),
            "rm"(divisor));
    *remainder = rest;
    return quotient;
#else
    uint64_t quotient = (uint64_t)(numerator / divisor);
    *remainder = (uint64_t)(numerator - (unsigned __int128)quotient * divisor);
    return quotient;
#endif
}

/// The correctly rounded binary value of d (nonzero digits) with `bits` bits of
/// significand, as (significand with its top bit at bits-1, exponent of that
/// top bit). Returns 0 when outside the exact fast path.
static int round_decimal(const decimal *d, int bits, uint64_t *significand, int *binary_exponent) {
    if (!d->exact || d->exponent > 19 || d->exponent < -19) return 0;
    uint64_t top;  // normalised: top bit set
    int sticky;
    int exponent;  // exponent of top's top bit
    if (d->exponent >= 0) {
        unsigned __int128 product = (unsigned __int128)d->digits * powers_of_ten[d->exponent];
        uint64_t hi = (uint64_t)(product >> 64), lo = (uint64_t)product;
        if (hi != 0) {
            int lz = leading_zeros(hi);
            top = lz == 0 ? hi : (hi << lz) | (lo >> (64 - lz));
            sticky = (lz == 0 ? lo : lo << lz) != 0;
            exponent = 127 - lz;
        } else {
            int lz = leading_zeros(lo);
            top = lo << lz;
            sticky = 0;
            exponent = 63 - lz;
        }
    } else {
        uint64_t divisor = powers_of_ten[-d->exponent];
        int digits_bits = 64 - leading_zeros(d->digits);
        int divisor_bits = 64 - leading_zeros(divisor);
        int shift = 63 + divisor_bits - digits_bits;  // quotient in [2^62, 2^64)
        unsigned __int128 numerator = (unsigned __int128)d->digits << shift;
        uint64_t remainder;
        uint64_t quotient = divide(numerator, divisor, &remainder);
        int lz = leading_zeros(quotient);
        top = quotient << lz;
        sticky = remainder != 0;
        exponent = 63 - lz - shift;
    }
    int drop = 64 - bits;
    uint64_t mantissa = top >> drop;
    uint64_t rest = top & ((1ull << drop) - 1);
    uint64_t half = 1ull << (drop - 1);
    if (rest > half || (rest == half && (sticky || (mantissa & 1)))) {
        mantissa++;
        if (mantissa == (1ull << bits)) {
            mantissa >>= 1;
            exponent++;
        }
    }
    *significand = mantissa;
    *binary_exponent = exponent;
    return 1;
}

/// The IEEE bit pattern of d's correctly rounded value with a `bits`-bit
/// significand and `exponent_bits` exponent bits (24/8: float, 53/11: double),
/// for normal results only: 1 with the pattern, 0 outside the exact fast path.
static int compose(const decimal *d, int bits, int exponent_bits, uint64_t *pattern) {
    int total_bits = bits + exponent_bits;  // 32 or 64, sign included
    uint64_t sign = (uint64_t)d->negative << (total_bits - 1);
    if (d->digits == 0) {
        if (!d->exact) return 0;
        *pattern = sign;  // ±0
        return 1;
    }
    uint64_t significand;
    int exponent;
    if (!round_decimal(d, bits, &significand, &exponent)) return 0;
    int bias = (1 << (exponent_bits - 1)) - 1;
    if (exponent < 1 - bias || exponent > bias) return 0;  // subnormal or out of range
    *pattern = sign | ((uint64_t)(exponent + bias) << (bits - 1)) | (significand & ((1ull << (bits - 1)) - 1));
    return 1;
}

/// The IEEE bit pattern of the token's correctly rounded value (see
/// `compose`); the status of strata_json_number_f32.
static int convert(const uint8_t *token, size_t length, int bits, int exponent_bits, uint64_t *pattern) {
    decimal d;
    if (parse_decimal(token, length, &d) < 0) return -1;
    return compose(&d, bits, exponent_bits, pattern);
}

int strata_json_number_f32(const uint8_t *token, size_t length, float *out) {
    uint64_t pattern;
    int status = convert(token, length, 24, 8, &pattern);
    if (status == 1) {
        uint32_t narrow = (uint32_t)pattern;
        memcpy(out, &narrow, sizeof narrow);
    }
    return status;
}

int strata_json_number_f64(const uint8_t *token, size_t length, double *out) {
    uint64_t pattern;
    int status = convert(token, length, 53, 11, &pattern);
    if (status == 1) memcpy(out, &pattern, sizeof pattern);
    return status;
}

size_t strata_json_floats(const uint8_t *bytes, const strata_json_tape *tape, size_t first, size_t count,
                          int via_double, float *out) {
    const strata_json_entry *entries = tape->entries;
    for (size_t i = 0; i < count; i++) {
        const strata_json_entry *entry = &entries[first + i];
        if ((entry->kind_flags & 0xFF) != STRATA_JSON_NUMBER) return i;
        if (via_double) {
            double value;
            if (entry->kind_flags & STRATA_JSON_FLAG_DOUBLE) {
                value = tape->numbers[first + i];
            } else if (strata_json_number_f64(bytes + entry->a, entry->b - entry->a, &value) != 1) {
                return i;
            }
            float narrowed = (float)value;
            if (narrowed - narrowed != 0.0f) return i;  // infinite
            out[i] = narrowed;
        } else if (strata_json_number_f32(bytes + entry->a, entry->b - entry->a, &out[i]) != 1) {
            return i;
        }
    }
    return count;
}

// MARK: - The scan's number reader

static const double exact_powers_of_ten[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/// Per byte of `chunk` minus '0' in every byte: the high bit set in the lowest
/// byte that is not a digit (bytes above it may be flagged wrongly, since a
/// borrow or carry only moves upwards; callers use the lowest flag only).
static inline uint64_t non_digit_flags(uint64_t offset_chunk) {
    return (offset_chunk | (offset_chunk + 0x7676767676767676ull)) & 0x8080808080808080ull;
}

/// The value of the digits in the low `n` bytes (1...8) of `offset_chunk`
/// (each byte a digit value 0...9, the first digit in the lowest byte).
static inline uint64_t leading_digits_value(uint64_t offset_chunk, int n) {
    uint64_t chunk = n == 8 ? offset_chunk : offset_chunk << (8 * (8 - n));  // as leading zeros
    chunk = chunk * 10 + (chunk >> 8);
    uint64_t pairs_low = chunk & 0x000000FF000000FFull;
    uint64_t pairs_high = (chunk >> 16) & 0x000000FF000000FFull;
    return (pairs_low * (100 + (1000000ull << 32)) + pairs_high * (1 + (10000ull << 32))) >> 32;
}

/// Reads the run of digits at bytes[*at], eight at a time, into *value (value
/// * 10^k + the run's digits) while at most 19 digits have been read in all;
/// *digits counts every digit of the run. Returns the run's length.
static inline size_t read_digits(const uint8_t *bytes, size_t length, size_t *at, uint64_t *value, int *digits) {
    size_t i = *at;
    while (length - i >= 8) {
        uint64_t chunk;
        memcpy(&chunk, bytes + i, 8);
        chunk -= 0x3030303030303030ull;
        uint64_t flags = non_digit_flags(chunk);
        int n = flags != 0 ? __builtin_ctzll(flags) >> 3 : 8;
        if (n == 0) break;
        if (*digits + n <= 19) *value = *value * powers_of_ten[n] + leading_digits_value(chunk, n);
        *digits += n;
        i += (size_t)n;
        if (n < 8) {
            size_t run = i - *at;
            *at = i;
            return run;
        }
    }
    while (i < length && bytes[i] >= '0' && bytes[i] <= '9') {
        if (*digits < 19) *value = *value * 10 + (uint64_t)(bytes[i] - '0');
        *digits += 1;
        i++;
    }
    size_t run = i - *at;
    *at = i;
    return run;
}

int strata_json_read_number(const uint8_t *bytes, size_t length, size_t start, size_t *end, double *out) {
    size_t i = start;
    decimal d = {0, 0, 0, 1};
    int digits = 0, valid = 1;
    if (bytes[i] == '-') {
        d.negative = 1;
        i++;
    }
    if (i < length && bytes[i] == '0') {
        i++;  // a digit after it is caught below: the token runs on
    } else if (i < length && bytes[i] >= '1' && bytes[i] <= '9') {
        read_digits(bytes, length, &i, &d.digits, &digits);
    } else {
        valid = 0;
    }
    if (valid && i < length && bytes[i] == '.') {
        i++;
        size_t fraction = read_digits(bytes, length, &i, &d.digits, &digits);
        if (fraction == 0) valid = 0;
        d.exponent = -(int)fraction;
    }
    if (valid && i < length && (bytes[i] | 0x20) == 'e') {
        i++;
        int exponent = 0;
        if (read_exponent(bytes, length, &i, &exponent) != 1) valid = 0;
        d.exponent += exponent;
    }
    // The token runs on over number bytes (the scan's rule); any it did not
    // read as JSON number syntax leave it to the reader's checks.
    if (i < length && strata_json_is_number_byte(bytes[i])) {
        valid = 0;
        while (i < length && strata_json_is_number_byte(bytes[i])) i++;
    }
    *end = i;
    if (!valid || digits > 19) return 0;
    if (d.digits != 0 && d.digits <= (1ull << 53) && d.exponent >= -22 && d.exponent <= 22) {
        // Both operands exact: IEEE division (multiplication) rounds the
        // quotient (product) correctly, ties to even (Clinger's fast path).
        double value = (double)d.digits;
        value = d.exponent < 0 ? value / exact_powers_of_ten[-d.exponent] : value * exact_powers_of_ten[d.exponent];
        *out = d.negative ? -value : value;
        return 1;
    }
    uint64_t pattern;
    if (!compose(&d, 53, 11, &pattern)) return 0;
    memcpy(out, &pattern, sizeof pattern);
    return 1;
}

int strata_json_number_is_zero(const uint8_t *token, size_t length) {
    for (size_t i = 0; i < length; i++) {
        uint8_t c = token[i];
        if (c == 'e' || c == 'E') break;
        if (c >= '1' && c <= '9') return 0;
    }
    return 1;
}

int strata_json_number_is_integer_syntax(const uint8_t *token, size_t length) {
    size_t i = 0;
    if (i < length && token[i] == '-') i++;
    if (i == length) return 0;
    for (; i < length; i++) {
        if (token[i] < '0' || token[i] > '9') return 0;
    }
    return 1;
}
