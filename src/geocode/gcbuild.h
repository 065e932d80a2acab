/* Private to the geocoding index's builder (index.c) and its freezing
 * (freeze.c): the builder's growable tables, and the helpers both use. */
#ifndef GF_GEOCODE_GCBUILD_H
#define GF_GEOCODE_GCBUILD_H

#include <stddef.h>
#include <stdint.h>
#include "geocode/gc.h"

/* A numbered address that names a lieu-dit complement: its place, and
 * the address as (street, number, suffix), found again once the addresses
 * are sorted (finish). */
typedef struct gc_ldpair {
    uint32_t place, street;
    int32_t num;
    uint32_t suffix;
} gc_ldpair;

struct gf_gc_builder {
    const char *const *inputs; int ninputs; /* gf_gc_index_build()'s, to name the rejected rows' files */
    gc_commune *communes; uint32_t nc, cc;
    uint8_t *c_poste_name;  /* per commune: name came from La Poste (replaced by an address file's) */
    int32_t *c_plon, *c_plat; /* La Poste position, INT32_MIN none */
    gc_street *streets; uint32_t ns, cs;
    gc_addr *addrs; uint32_t na, ca;
    char *pool; uint64_t plen, pcap;
    uint32_t *h_insee; uint32_t hi_cap;
    uint32_t *h_street; uint32_t hs_cap;
    uint64_t *pc; uint32_t npc, cpc;
    gc_alias *al; uint32_t nal, cal;
    gc_ldpair *ldp; uint32_t nldp, cldp;
    uint32_t last_c, last_s;
    uint32_t sfx_off[64]; char sfx[64][16]; int nsfx;
};

/* *p grown (doubling from 1024) to hold need elements of elt bytes:
 * 0, or -1 when out of memory or past 2^31 elements (*p unchanged). */
int gc_grow(void **p, uint32_t *cap, uint32_t need, size_t elt);
/* s[0..n) appended NUL-terminated to the string pool, its offset in *off
 * (0, the empty string, when n is 0): 0, or -1 when out of memory or past
 * the 4 GB the offsets address. */
int gc_pool_add(gf_gc_builder *b, const char *s, size_t n, uint32_t *off);
/* The commune and street hash tables (open addressing, at most half full)
 * rebuilt for n entries: 0, or -1 when out of memory. */
int gc_rehash_insee(uint32_t **tab, uint32_t *cap, const gc_commune *cs, uint32_t n);
int gc_rehash_street(uint32_t **tab, uint32_t *cap, const gc_street *ss, uint32_t n, const char *pool);

#endif
