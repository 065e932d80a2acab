/* Hilbert curve keys (see hilbert.h).
 *
 * xy2d reads four bits of each coordinate at a time from a table instead
 * of walking the curve one bit at a time: eight lookups instead of 32
 * rounds for a 2^32 grid key. Walking down the curve, the quadrant frame
 * is the original one flipped (both axes) and/or swapped: a state of two
 * bits. lut[state][x4 << 4 | y4] holds the 4 base-4 digits of those bits
 * and the state after them (bits 8-9). The table is filled once per
 * process from the classic bit-by-bit rule (rotate when the y bit is 0,
 * flip too when the x bit is 1) and only read afterwards; tests/unit/
 * test_hilbert.c checks it against that rule at every order. */
#include <pthread.h>

#include "core/hilbert.h"

static uint16_t lut[4][256];
static pthread_once_t lut_once = PTHREAD_ONCE_INIT;

static void lut_fill(void)
{
    for (int st = 0; st < 4; st++)
        for (int xy = 0; xy < 256; xy++) {
            int f = st & 1, s = st >> 1, d = 0;
            for (int b = 3; b >= 0; b--) {
                int bx = (xy >> (4 + b)) & 1, by = (xy >> b) & 1;
                if (f) { bx ^= 1; by ^= 1; }
                if (s) { int t = bx; bx = by; by = t; }
                d = d << 2 | ((3 * bx) ^ by);
                if (!by) { f ^= bx; s ^= 1; }
            }
            lut[st][xy] = (uint16_t)(d | (f | s << 1) << 8);
        }
}

uint64_t gf_hilbert_xy2d(int order, uint32_t x, uint32_t y)
{
    if (order <= 0) return 0;
    if (order > 32) order = 32;
    pthread_once(&lut_once, lut_fill);
    /* The table reads whole nibbles, so the walk starts at the order
     * rounded up to a multiple of 4. Each extra leading level has x and y
     * bits 0: it adds a 0 digit and swaps the axes, so an odd number of
     * them is undone by swapping x and y first. */
    int k = (order + 3) / 4;
    if ((4 * k - order) & 1) { uint32_t t = x; x = y; y = t; }
    uint64_t d = 0;
    uint32_t st = 0;
    for (k--; k >= 0; k--) {
        uint32_t e = lut[st][((x >> (4 * k)) & 15) << 4 | ((y >> (4 * k)) & 15)];
        d = d << 8 | (e & 255);
        st = e >> 8;
    }
    return d;
}

void gf_hilbert_d2xy(int order, uint64_t d, uint32_t *ox, uint32_t *oy)
{
    if (order < 0) order = 0;
    if (order > 32) order = 32;
    uint64_t n = 1ull << order, x = 0, y = 0, t = d;
    for (uint64_t s = 1; s < n; s *= 2) {
        uint64_t rx = 1 & (t / 2), ry = 1 & (t ^ rx);
        if (ry == 0) {
            if (rx == 1) { x = s - 1 - x; y = s - 1 - y; }
            uint64_t tmp = x; x = y; y = tmp;
        }
        x += s * rx;
        y += s * ry;
        t /= 4;
    }
    *ox = (uint32_t)x;
    *oy = (uint32_t)y;
}
