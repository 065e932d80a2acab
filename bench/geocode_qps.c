/* Matcher speed without I/O: loads an index, reads queries
 * (adresse,postcode,city,... CSV) into memory, then times gf_gc_geocode()
 * over all of them on one thread. Built by bench/geocode.sh against
 * libgeoflux. usage: geocode_qps INDEX QUERIES.csv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geoflux/geocode.h"

typedef struct q { char *f[3]; } q;

static int split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line, *w;
    while (n < max) {
        f[n++] = w = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '"' && p[1] == '"') { *w++ = '"'; p += 2; }
                else if (*p == '"') { p++; break; }
                else if (!*p) break;
                else *w++ = *p++;
            }
        } else {
            while (*p && *p != ',' && *p != '\n' && *p != '\r') *w++ = *p++;
        }
        char c = *p;
        *w = 0;
        if (c != ',') break;
        p++;
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: geocode_qps INDEX QUERIES.csv\n"); return 2; }
    gf_ctx *ctx;
    gf_gc_index *ix;
    if (gf_ctx_create(&ctx) || gf_gc_index_load(ctx, argv[1], &ix)) { fprintf(stderr, "%s\n", gf_ctx_errmsg(ctx)); return 1; }
    FILE *fp = fopen(argv[2], "r");
    if (!fp) { perror(argv[2]); return 1; }
    size_t n = 0, cap = 1024;
    q *qs = malloc(cap * sizeof *qs);
    char line[4096];
    fgets(line, sizeof line, fp); /* header */
    while (fgets(line, sizeof line, fp)) {
        char *f[8];
        char *copy = strdup(line);
        if (split(copy, f, 8) < 3) { free(copy); continue; }
        if (n == cap) qs = realloc(qs, (cap *= 2) * sizeof *qs);
        qs[n].f[0] = f[0]; qs[n].f[1] = f[1]; qs[n].f[2] = f[2];
        n++;
    }
    fclose(fp);
    gf_gc_scratch *s;
    gf_gc_scratch_create(ix, &s);
    struct timespec t0, t1;
    size_t found = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < n; i++) {
        gf_gc_query qu = {.q = qs[i].f[0], .qlen = strlen(qs[i].f[0]), .postcode = qs[i].f[1],
                          .postcodelen = strlen(qs[i].f[1]), .city = qs[i].f[2], .citylen = strlen(qs[i].f[2])};
        gf_gc_result r;
        gf_gc_geocode(ix, s, &qu, &r);
        found += r.type == GF_GC_HOUSENUMBER;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("%zu %.3f %.0f %zu\n", n, sec, n / sec, found);
    gf_gc_scratch_destroy(s);
    gf_gc_index_destroy(ix);
    gf_ctx_destroy(ctx);
    return 0;
}
