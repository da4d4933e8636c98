// The structural scan of a JSON body into a tape (see strata_json.h).
#include "strata_json.h"

#include <stdlib.h>
#include <string.h>

// Byte classes: one table load per byte in the hot loops.
enum { SPACE = 1, NUMBER = 2 };
static const uint8_t byte_class[256] = {
    ['\t'] = SPACE, ['\n'] = SPACE, ['\r'] = SPACE, [' '] = SPACE,
    ['0'] = NUMBER, ['1'] = NUMBER, ['2'] = NUMBER, ['3'] = NUMBER, ['4'] = NUMBER,
    ['5'] = NUMBER, ['6'] = NUMBER, ['7'] = NUMBER, ['8'] = NUMBER, ['9'] = NUMBER,
    ['.'] = NUMBER, ['e'] = NUMBER, ['E'] = NUMBER, ['+'] = NUMBER, ['-'] = NUMBER,
};

static int is_space(uint8_t c) { return byte_class[c] == SPACE; }

static int is_number_byte(uint8_t c) { return byte_class[c] == NUMBER; }

static int push(strata_json_tape *tape, uint32_t kind_flags, uint32_t a, uint32_t b) {
    if (tape->count == tape->capacity) {
        size_t capacity = tape->capacity < 64 ? 64 : tape->capacity * 2;
        strata_json_entry *grown = realloc(tape->entries, capacity * sizeof(strata_json_entry));
        if (grown == NULL) return 0;
        tape->entries = grown;
        tape->capacity = capacity;
    }
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
            size_t start = i++;
            while (i < length && is_number_byte(bytes[i])) i++;
            if (!push(tape, STRATA_JSON_NUMBER, (uint32_t)start, (uint32_t)i)) goto out_of_memory;
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
    tape->entries = NULL;
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
