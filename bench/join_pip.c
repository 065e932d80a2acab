/* The join's point-in-polygon alone: gf_join_locate() on uniform random
 * points over the boundaries' extent (the worst case for the grid: every
 * border is hit as often as its area allows), one thread, CPU time.
 * usage: join_pip BOUNDARIES [NPOINTS]   prints: points seconds points/s inside */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "geoflux/join.h"
#include "join/join_int.h"

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    long n = argc > 2 ? atol(argv[2]) : 10000000;
    gf_ctx *ctx = NULL;
    gf_ctx_create(&ctx);
    gf_join_opts o = {.path = argv[1]};
    gf_join_index *ix = NULL;
    if (gf_join_index_load(ctx, &o, &ix)) { fprintf(stderr, "%s\n", gf_ctx_errmsg(ctx)); return 1; }
    double *xy = malloc(2 * (size_t)n * sizeof *xy);
    unsigned long long s = 88172645463325252ull;
    double w = ix->cw * ix->nx, h = ix->ch * ix->ny;
    for (long i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        xy[2 * i] = ix->x0 + w * (double)(s >> 11) / 9007199254740992.0;
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        xy[2 * i + 1] = ix->y0 + h * (double)(s >> 11) / 9007199254740992.0;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    long inside = 0;
    for (long i = 0; i < n; i++) inside += gf_join_locate(ix, xy[2 * i], xy[2 * i + 1]) >= 0;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    double sec = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
    printf("%ld %.3f %.0f %ld\n", n, sec, (double)n / sec, inside);
    free(xy);
    gf_join_index_destroy(ix);
    gf_ctx_destroy(ctx);
    return 0;
}
