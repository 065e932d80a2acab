/* The encoders' byte buffer: growth, and the JSON string escaper against a
 * byte-by-byte reference (the escaper copies 8 bytes at a time, so every
 * position of an escaped byte in a word, and every tail length, counts). */
#include <stdint.h>
#include <stdlib.h>

#include "geoflux/pipeline.h"
#include "gf_test.h"

/* RFC 8259: '"' and '\\' escaped, control characters as \n \r \t or \u00XX,
 * everything else (UTF-8 included) as is. */
static size_t ref_escape(const unsigned char *p, size_t n, char *out)
{
    size_t w = 0;
    out[w++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') { out[w++] = '\\'; out[w++] = (char)c; }
        else if (c == '\n') { out[w++] = '\\'; out[w++] = 'n'; }
        else if (c == '\r') { out[w++] = '\\'; out[w++] = 'r'; }
        else if (c == '\t') { out[w++] = '\\'; out[w++] = 't'; }
        else if (c < 0x20) w += (size_t)sprintf(out + w, "\\u%04x", c);
        else out[w++] = (char)c;
    }
    out[w++] = '"';
    return w;
}

int main(void)
{
    gf_buf b = {0};
    CHECK(gf_buf_json_str(&b, "Rue de l'\xc3\x89glise \"12\"\\", 22) == GF_OK);
    static const char w1[] = "\"Rue de l'\xc3\x89glise \\\"12\\\"\\\\\"";
    CHECK(b.len == sizeof w1 - 1 && !memcmp(b.p, w1, sizeof w1 - 1));
    b.len = 0;
    CHECK(gf_buf_json_str(&b, "", 0) == GF_OK && b.len == 2 && !memcmp(b.p, "\"\"", 2));
    b.len = 0;
    CHECK(gf_buf_json_str(&b, "a\x01\x1f\x7f\n", 5) == GF_OK);
    static const char w2[] = "\"a\\u0001\\u001f\x7f\\n\"";
    CHECK(b.len == sizeof w2 - 1 && !memcmp(b.p, w2, sizeof w2 - 1));

    /* random strings over the bytes that matter and their neighbours */
    static const unsigned char alpha[] = {'a', 'Z', ' ', '"', '\\', 0, 1, '\n', '\r', '\t', 0x1f, 0x20, 0x21,
                                          0x5b, 0x5d, 0x7f, 0x80, 0xc3, 0xa9, 0xff, '!', '#'};
    unsigned char in[64];
    char want[64 * 6 + 2];
    srand(18);
    int bad = 0;
    for (int k = 0; k < 50000; k++) {
        size_t n = (size_t)(rand() % 40);
        int mostly_plain = k % 3; /* long runs with an escape here and there */
        for (size_t i = 0; i < n; i++)
            in[i] = mostly_plain && rand() % 10 ? (unsigned char)('a' + rand() % 26) : alpha[rand() % sizeof alpha];
        size_t wl = ref_escape(in, n, want);
        size_t before = b.len = (size_t)(k % 5); /* appends after what is there */
        if (gf_buf_json_str(&b, (const char *)in, n) != GF_OK || b.len - before != wl || memcmp(b.p + before, want, wl))
            bad++;
    }
    CHECK(bad == 0);
    gf_buf_free(&b);
    CHECK(b.p == NULL && b.len == 0);
    GF_TEST_END();
}
