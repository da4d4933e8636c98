// The structural scan of a JSON body into a tape (see strata_json.h).
#include "strata_json.h"

#include <stdlib.h>
#include <string.h>


// Whitespace: one table load per byte in the hot loops.
static const uint8_t space_bytes[256] = {['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [' '] = 1};

static int is_space(uint8_t c) { return space_bytes[c]; }

/// Grows the tape's entries and numbers to hold at least `capacity` entries.
static int reserve(strata_json_tape *tape, size_t capacity) {
    if (capacity <= tape->capacity) return 1;
    strata_json_entry *entries = realloc(tape->entries, capacity * sizeof(strata_json_entry));
    if (entries == NULL) return 0;
    tape->entries = entries;
    double *numbers = realloc(tape->numbers, capacity * sizeof(double));
    if (numbers == NULL) return 0;
    tape->numbers = numbers;
    tape->capacity = capacity;
    return 1;
}

static int push(strata_json_tape *tape, uint32_t kind_flags, uint32_t a, uint32_t b) {
    if (tape->count == tape->capacity && !reserve(tape, tape->capacity < 64 ? 64 : tape->capacity * 2)) return 0;
    tape->entries[tape->count++] = (strata_json_entry){kind_flags, a, b};
    return 1;
}

/// Scans a string whose opening quote is at bytes[*at - 1]; on success *at is
/// one past the closing quote. Contents are not checked (JSONDecoder checks
/// them when the string is read).
static int scan_string(const uint8_t *bytes, size_t length, size_t *at, strata_json_tape *tape, int *oom) {
    size_t start = *at, i = start;
    uint32_t flags = STRATA_JSON_STRING;
    const uint8_t *quote = memchr(bytes + i, '"', length - i);
    if (quote == NULL) return 0;
    size_t q = (size_t)(quote - bytes);
    const uint8_t *slash = memchr(bytes + i, '\\', q - i);
    if (slash == NULL) {
        i = q;
    } else {
        // Escapes: a byte loop from the first backslash. As in JSONDecoder's
        // scanner, a backslash takes the next byte, and `\u` four more bytes
        // whatever they are (their meaning is checked when the string is read).
        flags |= STRATA_JSON_FLAG_ESCAPED;
        i = (size_t)(slash - bytes);
        for (;;) {
            if (i >= length) return 0;
            uint8_t c = bytes[i];
            if (c == '"') break;
            if (c != '\\') {
                i += 1;
            } else if (i + 1 < length && bytes[i + 1] == 'u') {
                i += 6;
            } else {
                i += 2;
            }
        }
    }
    if (!push(tape, flags, (uint32_t)start, (uint32_t)i)) {
        *oom = 1;
        return 0;
    }
    *at = i + 1;
    return 1;
}

static int literal(const uint8_t *bytes, size_t length, size_t at, const char *word, size_t n) {
    return length - at >= n && memcmp(bytes + at, word, n) == 0;
}

int strata_json_scan(const uint8_t *bytes, size_t length, uint32_t max_depth, strata_json_tape *tape) {
    tape->count = 0;
    tape->error_offset = 0;
    if (length >= 0xFFFFFFFFu) return 0;
    // A first guess that spares the regrowth copies of big bodies (vectors:
    // ~20 bytes a value); untouched capacity costs address space only.
    if (!reserve(tape, length / 16 + 64)) return -1;
    // Open containers: their entry indices, and whether each is an object.
    uint32_t stack_small[80];
    uint32_t *stack = stack_small;
    size_t stack_capacity = sizeof(stack_small) / sizeof(stack_small[0]);
    if ((size_t)max_depth + 1 > stack_capacity) {
        stack = malloc(((size_t)max_depth + 1) * sizeof(uint32_t));
        if (stack == NULL) return -1;
        stack_capacity = (size_t)max_depth + 1;
    }
    size_t depth = 0;
    int oom = 0, ok = 0;
    size_t i = 0;
    if (length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) i = 3;

// After a value: skip whitespace, then close containers or expect the next element.
#define SKIP_SPACE() \
    while (i < length && is_space(bytes[i])) i++

    for (;;) {
        // Expecting a value at i.
        SKIP_SPACE();
        if (i >= length) goto fail;
        uint8_t c = bytes[i];
        if (c == '{' || c == '[') {
            int object = c == '{';
            if (depth >= max_depth) goto fail;
            if (!push(tape, object ? STRATA_JSON_OBJECT : STRATA_JSON_ARRAY, 0, 0)) goto out_of_memory;
            stack[depth++] = (uint32_t)(tape->count - 1);
            i++;
            SKIP_SPACE();
            if (i < length && bytes[i] == (object ? '}' : ']')) {
                i++;
                depth--;
                tape->entries[tape->count - 1].b = (uint32_t)tape->count;
                goto after_value;
            }
            if (object) goto expect_key;
            continue;
        } else if (c == '"') {
            i++;
            if (!scan_string(bytes, length, &i, tape, &oom)) goto string_fail;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t start = i;
            double value;
            int converted = strata_json_read_number(bytes, length, start, &i, &value);
            uint32_t flags = STRATA_JSON_NUMBER | (converted ? STRATA_JSON_FLAG_DOUBLE : 0);
            if (!push(tape, flags, (uint32_t)start, (uint32_t)i)) goto out_of_memory;
            if (converted) tape->numbers[tape->count - 1] = value;
            // The rest of a run of numbers in one array (a vector) is read
            // here, with one count update at the end, not a round of the
            // general loop per element. Anything else (whitespace before a
            // comma, another kind of value, the closing bracket) goes back to
            // the general loop, which also counts this first number.
            if (depth > 0 && (tape->entries[stack[depth - 1]].kind_flags & 0xFF) == STRATA_JSON_ARRAY) {
                uint32_t more = 0;
                while (i + 1 < length && bytes[i] == ',') {
                    size_t next = i + 1;
                    while (next < length && is_space(bytes[next])) next++;
                    if (next >= length || !(bytes[next] == '-' || (bytes[next] >= '0' && bytes[next] <= '9'))) break;
                    if (!push(tape, STRATA_JSON_NUMBER, (uint32_t)next, 0)) goto out_of_memory;
                    converted = strata_json_read_number(bytes, length, next, &i, &value);
                    strata_json_entry *entry = &tape->entries[tape->count - 1];
                    entry->b = (uint32_t)i;
                    if (converted) {
                        entry->kind_flags |= STRATA_JSON_FLAG_DOUBLE;
                        tape->numbers[tape->count - 1] = value;
                    }
                    more++;
                }
                tape->entries[stack[depth - 1]].a += more;
            }
        } else if (c == 't' && literal(bytes, length, i, "true", 4)) {
            if (!push(tape, STRATA_JSON_TRUE, (uint32_t)i, 0)) goto out_of_memory;
            i += 4;
        } else if (c == 'f' && literal(bytes, length, i, "false", 5)) {
            if (!push(tape, STRATA_JSON_FALSE, (uint32_t)i, 0)) goto out_of_memory;
            i += 5;
        } else if (c == 'n' && literal(bytes, length, i, "null", 4)) {
            if (!push(tape, STRATA_JSON_NULL, (uint32_t)i, 0)) goto out_of_memory;
            i += 4;
        } else {
            goto fail;
        }

    after_value:
        if (depth == 0) {
            SKIP_SPACE();
            if (i != length) goto fail;
            ok = 1;
            break;
        }
        {
            strata_json_entry *container = &tape->entries[stack[depth - 1]];
            int object = (container->kind_flags & 0xFF) == STRATA_JSON_OBJECT;
            container->a++;
            SKIP_SPACE();
            if (i >= length) goto fail;
            uint8_t close = object ? '}' : ']';
            if (bytes[i] == close) {
                i++;
                container->b = (uint32_t)tape->count;
                depth--;
                goto after_value;
            }
            if (bytes[i] != ',') goto fail;
            i++;
            SKIP_SPACE();
            // One trailing comma before the closing bracket is accepted.
            if (i < length && bytes[i] == close) {
                i++;
                container->b = (uint32_t)tape->count;
                depth--;
                goto after_value;
            }
            if (!object) continue;
        }
    expect_key:
        SKIP_SPACE();
        if (i >= length || bytes[i] != '"') goto fail;
        i++;
        if (!scan_string(bytes, length, &i, tape, &oom)) goto string_fail;
        SKIP_SPACE();
        if (i >= length || bytes[i] != ':') goto fail;
        i++;
        continue;

    string_fail:
        if (oom) goto out_of_memory;
        goto fail;
    }
#undef SKIP_SPACE
    if (stack != stack_small) free(stack);
    return ok;

fail:
    if (stack != stack_small) free(stack);
    tape->error_offset = i;
    return 0;

out_of_memory:
    if (stack != stack_small) free(stack);
    return -1;
}

void strata_json_tape_free(strata_json_tape *tape) {
    free(tape->entries);
    free(tape->numbers);
    tape->entries = NULL;
    tape->numbers = NULL;
    tape->count = 0;
    tape->capacity = 0;
}

int strata_json_nests_deeper_than(const uint8_t *bytes, size_t length, uint32_t limit) {
    long depth = 0;
    int in_string = 0, escaped = 0;
    for (size_t i = 0; i < length; i++) {
        uint8_t byte = bytes[i];
        if (in_string) {
            if (escaped) {
                escaped = 0;
                if (byte == 'u') i += 4;  // the scan's rule: `\u` takes four more bytes
            } else if (byte == '\\') {
                escaped = 1;
            } else if (byte == '"') {
                in_string = 0;
            }
            continue;
        }
        switch (byte) {
        case '"': in_string = 1; break;
        case '[':
        case '{':
            depth++;
            if (depth > (long)limit) return 1;
            break;
        case ']':
        case '}': depth--; break;
        default: break;
        }
    }
    return 0;
}
