/* The geocoding index file: a header, then the index's arrays in a fixed
 * order, each on an 8-byte boundary, in native byte order (checked by a
 * marker). A CRC-32 of the whole file detects damage before anything in it
 * is trusted; the loader then checks every count, offset and index the file
 * holds, so that a crafted file with a good checksum is refused too.
 *
 * Private to gcfile.c (which writes and loads it) and freeze.c, and to the
 * programs that craft index files on purpose: the loader's unit test and the
 * fuzz target that mutates real index files (and re-seals them so that
 * mutations get past the CRC). */
#ifndef GF_GEOCODE_GCFILE_H
#define GF_GEOCODE_GCFILE_H

#include <stddef.h>
#include <stdint.h>
#include "geoflux/ctx.h"
#include "geocode/gc.h"

#define GC_MAGIC "GFGCIDX1"
/* 3: CRC-32, positions and grid range-checked, next_name chains ascending;
 * 4: streets carry their commune déléguée (oldcity, oldcitycode);
 * 5: lieux-dits carry the addresses that name them (GC_S_LD_ADDRS);
 * 6: same layout, other contents: one street per commune déléguée (homonyms
 *    share a name in h_street's probe chains), a lieu-dit named like a
 *    numbered street has an entry of its own, lieux-dits and places are
 *    aliases of their commune (a version 5 file would answer those queries
 *    the old way without saying so) */
#define GC_VERSION 6u
#define GC_ENDIAN 0x01020304u
/* the reverse grid never has more cells than this (build_grid() sizes its
 * cells for it; the loader refuses more) */
#define GC_GRID_MAXCELLS 4000000u

typedef struct gc_fhdr {
    char magic[8];
    uint32_t version, endian;
    uint32_t ncommunes, nstreets, naddrs, h_insee_cap, h_street_cap, h_cname_cap, npostcodes, ntri, ngrid_items,
        g_nx, g_ny, naliases, nld;
    uint32_t pad; /* zero */
    uint64_t poollen, filelen;
    double g_lon0, g_lat0, g_cell;
    uint32_t crc;      /* CRC-32 (zlib) of the whole file, this field counted as zero */
    uint32_t reserved; /* zero */
} gc_fhdr;

/* The sections, in file order. */
enum {
    GC_S_COMMUNES, GC_S_STREETS, GC_S_ADDRS, GC_S_POOL, GC_S_H_INSEE, GC_S_H_STREET, GC_S_H_CNAME, GC_S_POSTCODES,
    GC_S_ALIASES, GC_S_TRI_KEYS, GC_S_TRI_VALS, GC_S_GRID_START, GC_S_GRID_ITEMS, GC_S_LD_ADDRS, GC_NSECT
};

/* Offset and size in bytes of every section described by the header's
 * counts, and the file length they add up to. Returns 0, or -1 when a size
 * or the total does not fit in a size_t. */
int gc_file_layout(const gc_fhdr *h, size_t off[GC_NSECT], size_t size[GC_NSECT], size_t *total);

/* CRC-32 of an index file of len bytes (len >= sizeof(gc_fhdr)) held in
 * memory, its crc field counted as zero. */
uint32_t gc_file_crc(const void *file, size_t len);

/* Opens the index held in p (len bytes, 8-byte aligned, borrowed: it must
 * stay valid and unchanged while the index lives) after checking the
 * header, the CRC and every offset and index in it. name is what messages
 * call the file. GF_ERR_PARSE when the file is refused. Caller frees with
 * gf_gc_index_destroy(). */
gf_status gc_index_open(gf_ctx *ctx, const char *name, const void *p, size_t len, gf_gc_index **out);

#endif
