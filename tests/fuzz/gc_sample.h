/* A small real geocoding index for the fuzz targets and the loader's unit
 * test: built from the address file below (four communes, two of them
 * homonyms, a former commune name, a lieu-dit complement, a toponym,
 * suffixes), with the library's own builder. tests/fuzz/corpus-fuzz_index/
 * holds the saved form of each sample (the unit test checks that they are
 * current and rewrites them when GF_WRITE_SEEDS=1). */
#ifndef GF_TESTS_GC_SAMPLE_H
#define GF_TESTS_GC_SAMPLE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoflux/ctx.h"
#include "geoflux/geocode.h"

static const char gc_sample_bal[] =
    "cle_interop;commune_insee;commune_nom;commune_deleguee_nom;voie_nom;lieudit_complement_nom;numero;suffixe;code_postal;long;lat\n"
    "35047_0001_00001;35047;Bruz;;Rue des Acacias;;1;;35170;-1.7454643;48.0282820\n"
    "35047_0001_00002;35047;Bruz;;Rue des Acacias;;2;;35170;-1.7456337;48.0279876\n"
    "35047_0001_00003;35047;Bruz;;Rue des Acacias;;3;bis;35170;-1.7453;48.0284\n"
    "35047_0001_00009;35047;Bruz;;Rue des Acacias;;9;;35170;-1.7449;48.0290\n"
    "35047_0002_00012;35047;Bruz;Pont-Réan;Avenue du Général de Gaulle;Le Manoir;12;a;35170;-1.7401;48.0312\n"
    "35047_0002_00014;35047;Bruz;Pont-Réan;Avenue du Général de Gaulle;;14;;35170;-1.7399;48.0314\n"
    "35047_0003_99999;35047;Bruz;;La Haute Motte;;99999;;35170;-1.7602;48.0201\n"
    "35088_0010_00001;35088;Corps-Nuds;;Rue de Chanteloup;;1;;35230;-1.5883112;47.9775042\n"
    "35088_0010_00002;35088;Corps-Nuds;;Rue de Chanteloup;;2;ter;35230;-1.5883435;47.9776486\n"
    "35088_0011_00005;35088;Corps-Nuds;;Allée des Acacias;;5;;35230;-1.5901;47.9790\n"
    "25524_0001_00004;25524;Saint-Martin;;Grande Rue;;4;;25000;6.02;47.24\n"
    "32385_0001_00007;32385;Saint-Martin;;Grande Rue;;7;;32300;0.38;43.52\n";

/* An address file without a row: an index with no commune at all. */
static const char gc_sample_empty_bal[] =
    "cle_interop;commune_insee;commune_nom;voie_nom;numero;suffixe;long;lat\n";

/* Builds an index from CSV text (through a temporary file: the builder
 * reads files). */
static inline gf_status gc_sample_build(gf_ctx *ctx, const char *csv, gf_gc_index **out)
{
    char path[] = "/tmp/gf_gc_sample_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return GF_ERR_IO;
    size_t n = strlen(csv);
    int ok = write(fd, csv, n) == (ssize_t)n;
    close(fd);
    const char *paths[1] = {path};
    gf_gc_build_opts bo = {.paths = paths, .npaths = 1, .threads = 1};
    gf_status st = ok ? gf_gc_index_build(ctx, &bo, out) : GF_ERR_IO;
    unlink(path);
    return st;
}

/* The saved bytes of the index built from csv, in a malloc'd buffer (8-byte
 * aligned, as a mapping is) that the caller frees. */
static inline gf_status gc_sample_bytes(gf_ctx *ctx, const char *csv, unsigned char **buf, size_t *len)
{
    gf_gc_index *ix = NULL;
    gf_status st = gc_sample_build(ctx, csv, &ix);
    if (st) return st;
    char path[] = "/tmp/gf_gc_sample_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { gf_gc_index_destroy(ix); return GF_ERR_IO; }
    close(fd);
    st = gf_gc_index_save(ix, ctx, path);
    gf_gc_index_destroy(ix);
    FILE *f = st ? NULL : fopen(path, "rb");
    unlink(path);
    if (!f) return st ? st : GF_ERR_IO;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc(sz > 0 ? (size_t)sz : 1);
    if (!*buf || sz <= 0 || fread(*buf, 1, (size_t)sz, f) != (size_t)sz) { fclose(f); free(*buf); return GF_ERR_IO; }
    fclose(f);
    *len = (size_t)sz;
    return GF_OK;
}

#endif
