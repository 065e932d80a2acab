/* Unit tests of the Hilbert key (src/core/hilbert.c): the table-driven
 * encoder equals the classic bit-by-bit walk at every order 1..32,
 * d2xy inverts xy2d, and the curve is a Hilbert curve (a bijection on
 * small grids whose consecutive cells are neighbours). */
#include <stdint.h>
#include <stdlib.h>

#include "gf_test.h"
#include "core/hilbert.h"

/* The classic rotate-and-flip walk, one bit a level: the reference. */
static uint64_t classic_xy2d(int order, uint32_t x32, uint32_t y32)
{
    uint64_t n = 1ull << order, x = x32, y = y32, d = 0;
    for (uint64_t s = n / 2; s > 0; s /= 2) {
        uint64_t rx = (x & s) > 0, ry = (y & s) > 0;
        d += s * s * ((3 * rx) ^ ry);
        if (ry == 0) {
            if (rx == 1) { x = n - 1 - x; y = n - 1 - y; }
            uint64_t t = x; x = y; y = t;
        }
    }
    return d;
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t next(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static void test_reference(void)
{
    int bad = 0;
    for (int order = 1; order <= 32; order++) {
        uint64_t mask = order == 32 ? 0xffffffffull : (1ull << order) - 1;
        for (int i = 0; i < 20000; i++) {
            uint32_t x = (uint32_t)(next() & mask), y = (uint32_t)(next() & mask);
            if (i == 0) x = y = 0;
            if (i == 1) x = y = (uint32_t)mask;
            if (i == 2) { x = (uint32_t)mask; y = 0; }
            uint64_t d = gf_hilbert_xy2d(order, x, y);
            if (d != classic_xy2d(order, x, y)) bad++;
            uint32_t rx, ry;
            gf_hilbert_d2xy(order, d, &rx, &ry);
            if (rx != x || ry != y) bad++;
            if (order < 32 && d >> (2 * order)) bad++; /* below 4^order */
        }
    }
    CHECK(bad == 0);
    CHECK(gf_hilbert_xy2d(0, 5, 7) == 0);
    /* known values (the pmtiles package's zxyToTileId minus the zoom base) */
    CHECK(gf_hilbert_xy2d(1, 0, 0) == 0 && gf_hilbert_xy2d(1, 0, 1) == 1);
    CHECK(gf_hilbert_xy2d(1, 1, 1) == 2 && gf_hilbert_xy2d(1, 1, 0) == 3);
    CHECK(gf_hilbert_xy2d(2, 1, 3) == 6);
}

static void test_curve(void)
{
    /* every cell once, consecutive positions one step apart */
    for (int order = 1; order <= 7; order++) {
        uint64_t n = 1ull << order, cells = n * n;
        unsigned char *seen = calloc(cells, 1);
        int bad = 0;
        for (uint32_t x = 0; x < n; x++)
            for (uint32_t y = 0; y < n; y++) {
                uint64_t d = gf_hilbert_xy2d(order, x, y);
                if (d >= cells || seen[d]++) bad++;
            }
        uint32_t px, py;
        gf_hilbert_d2xy(order, 0, &px, &py);
        if (px || py) bad++; /* starts at the origin */
        for (uint64_t d = 1; d < cells; d++) {
            uint32_t x, y;
            gf_hilbert_d2xy(order, d, &x, &y);
            uint32_t dx = x > px ? x - px : px - x, dy = y > py ? y - py : py - y;
            if (dx + dy != 1) bad++;
            px = x; py = y;
        }
        CHECK(bad == 0);
        free(seen);
    }
}

static void test_prefix(void)
{
    /* a cell's index at order k is the top 2k bits of its points' at 32 */
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        uint32_t x = (uint32_t)next(), y = (uint32_t)next();
        uint64_t d = gf_hilbert_xy2d(32, x, y);
        for (int k = 1; k < 32; k++)
            if (gf_hilbert_xy2d(k, x >> (32 - k), y >> (32 - k)) != d >> (64 - 2 * k)) bad++;
    }
    CHECK(bad == 0);
}

int main(void)
{
    test_reference();
    test_curve();
    test_prefix();
    GF_TEST_END();
}
