#ifndef STRATA_JSON_H
#define STRATA_JSON_H
// The byte-level half of StrataJSON's request decoder: one pass over a JSON
// body that records every value as a tape entry, and exact decimal-to-binary
// conversion of number tokens. Values are checked lazily, as Foundation's
// JSONDecoder checks them: the scan fixes the structure (brackets, commas,
// colons, literals, where strings and numbers start and end); a string's
// escapes and UTF-8 and a number's grammar are checked when the value is read.
// The scan also converts, as it passes, each number that is JSON syntax inside
// the exact fast path to the nearest double (STRATA_JSON_FLAG_DOUBLE): a body
// of vectors is then read once, not scanned and parsed again.
//
// Contracts: inputs are never retained, no shared mutable state, thread-safe.
// Offsets are 32-bit: bodies are limited to 4 GiB - 1 bytes (the server's body
// limit is far below).
#include <stddef.h>
#include <stdint.h>

#if defined(__clang__)
#pragma clang assume_nonnull begin
#endif

typedef enum {
    STRATA_JSON_NULL = 0,
    STRATA_JSON_FALSE = 1,
    STRATA_JSON_TRUE = 2,
    STRATA_JSON_NUMBER = 3,
    STRATA_JSON_STRING = 4,
    STRATA_JSON_ARRAY = 5,
    STRATA_JSON_OBJECT = 6,
} strata_json_kind;

/// A string entry whose bytes contain a backslash (an escape to resolve).
#define STRATA_JSON_FLAG_ESCAPED 0x100u

/// A number entry the scan already converted: `tape.numbers[index]` holds the
/// double nearest its decimal value (strtod's; what strata_json_number_f64
/// returns when its status is 1). Set only for tokens that are JSON number
/// syntax and inside the fast paths (strata_json_read_number); every other
/// number is converted from its bytes when read.
#define STRATA_JSON_FLAG_DOUBLE 0x200u

/// One value. `kind_flags & 0xFF` is a strata_json_kind.
/// - string: `a` = offset of the first content byte, `b` = offset of the closing quote;
/// - number: `a` = offset of the first byte, `b` = one past the last;
/// - array / object: `a` = element / member count, `b` = index of the entry after
///   the whole value (its last descendant + 1). An object's members follow it as
///   key (a string entry), value, key, value...
/// - literals: `a` = offset of the first byte, `b` unused.
typedef struct {
    uint32_t kind_flags;
    uint32_t a;
    uint32_t b;
} strata_json_entry;

/// The entries of one document, owned by the caller: free with strata_json_tape_free.
/// `numbers` runs parallel to `entries` (same capacity); only the slots of
/// entries flagged STRATA_JSON_FLAG_DOUBLE are written.
typedef struct {
    strata_json_entry *_Nullable entries;
    double *_Nullable numbers;
    size_t count;
    size_t capacity;
    /// Offset of the byte where scanning stopped, when the scan failed.
    size_t error_offset;
} strata_json_tape;

/// Scans `length` bytes (a leading UTF-8 byte-order mark is skipped). Returns 1
/// when the body is one well-formed value (trailing commas in arrays and objects
/// are accepted, as JSONDecoder accepts them) surrounded by whitespace; 0 when
/// not (tape->error_offset says where); -1 when memory ran out. Nesting deeper
/// than `max_depth` fails (the caller checks depth first, with its own message).
int strata_json_scan(const uint8_t *bytes, size_t length, uint32_t max_depth, strata_json_tape *tape);

void strata_json_tape_free(strata_json_tape *tape);

/// 1 when arrays and objects nest deeper than `limit` (brackets inside strings,
/// with their escapes as the scan reads them, do not count; the body need not be
/// well-formed).
int strata_json_nests_deeper_than(const uint8_t *bytes, size_t length, uint32_t limit);

/// Number tokens. Each returns 1 with the correctly rounded (ties to even) value
/// in *out; 0 when the token is valid JSON number syntax but outside the fast
/// paths (more than 19 significant digits, an exponent of 100000 or more, a
/// result that would be subnormal, zero from non-zero digits, or infinite, or,
/// rarely, a rounding they cannot decide: a tie with an exponent beyond ±19):
/// the caller then converts with the C library, as JSONDecoder does; -1 when
/// the token is not JSON number syntax (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?).
int strata_json_number_f32(const uint8_t *token, size_t length, float *out);
int strata_json_number_f64(const uint8_t *token, size_t length, double *out);

/// Converts `count` number entries of `tape` (entries[first + i] for i < count,
/// each a STRATA_JSON_NUMBER) into out[i]: with `via_double` 0, the float
/// nearest the decimal (strata_json_number_f32); with 1, the float nearest the
/// double nearest the decimal (as a JSON number decoded as Double, then
/// narrowed), which must be finite. Returns `count` when all converted, else
/// the index of the first entry that did not (the caller's slower path takes
/// it from there).
size_t strata_json_floats(const uint8_t *bytes, const strata_json_tape *tape, size_t first, size_t count,
                          int via_double, float *out);

/// Reads the number token that starts at bytes[start] (a '-' or a digit) in
/// one pass: the token ends at the first byte after `start` that is not a
/// number byte ('0'-'9', '.', 'e', 'E', '+', '-'), the scan's rule, and *end is
/// set to it. Returns 1 and the double nearest the decimal in *out when the
/// token is JSON number syntax with a normal result that the fast paths decide
/// (any number of digits: with more than 19 significant digits, when the first
/// 19 and the first 19 plus one in the last round to the same double); 0
/// otherwise (the token is then converted, or refused, from its bytes when
/// read, as before).
int strata_json_read_number(const uint8_t *bytes, size_t length, size_t start, size_t *end, double *out);

/// 1 when every digit before the exponent is zero (a token that really is zero).
int strata_json_number_is_zero(const uint8_t *token, size_t length);

/// 1 when the token has no fraction and no exponent (-?[0-9]+).
int strata_json_number_is_integer_syntax(const uint8_t *token, size_t length);

#if defined(__clang__)
#pragma clang assume_nonnull end
#endif

#endif
