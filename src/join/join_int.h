/* Private layout of the commune index, shared by src/join/index.c (load,
 * grid, point-in-polygon, nearest) and src/join/stage.c (statistics). */
#ifndef GF_JOIN_INT_H
#define GF_JOIN_INT_H

#include <stdint.h>
#include "geoflux/join.h"

/* One polygon edge, endpoints ordered so that ay < by (x order when
 * horizontal): both polygons that share an edge then evaluate the very same
 * expression, which is what makes border points go to exactly one of them. */
typedef struct jx_edge {
    double ax, ay, bx, by;
} jx_edge;

/* A candidate polygon in a grid cell: test edges[eoff .. eoff+n) (its edges
 * in the cell's row band that reach the cell or further east), or, when
 * full is set, the polygon covers the whole cell. */
typedef struct jx_cand {
    uint32_t poly;
    uint32_t eoff;
    uint32_t n : 31;
    uint32_t full : 1;
} jx_cand;

/* A grid cell: n == 0 means uniform, and first is then the covering
 * polygon + 1 (0: none); else candidates cands[first .. first+n). */
typedef struct jx_cell {
    uint32_t first;
    uint32_t n;
} jx_cell;

/* One boundary feature (a polygon or multipolygon of one commune). */
typedef struct jx_poly {
    int commune;
    uint32_t ring0, nrings;   /* rings[ring0 .. ring0+nrings) */
    double bbox[4];           /* minx, miny, maxx, maxy */
    unsigned char *wkb;       /* valid geometry, WGS84, for the statistics layer */
    size_t wkblen;
    long fid;                 /* feature order in the source, for stable sorting */
} jx_poly;

typedef struct jx_ring {
    uint32_t v0, nv;          /* vertices xy[2*v0 .. 2*(v0+nv)), closed */
} jx_ring;

typedef struct jx_commune {
    char *code, *name;
} jx_commune;

struct gf_join_index {
    jx_commune *communes;
    int ncommunes;
    jx_poly *polys;
    int npolys;
    jx_ring *rings;
    size_t nrings;
    double *xy;
    size_t nv;
    /* grid */
    double x0, y0, cw, ch, icw, ich;
    int nx, ny;
    jx_cell *cells;
    jx_cand *cands;
    size_t ncands;
    jx_edge *edges;  /* band edges, grouped by row then polygon, east first */
    size_t nedges;
};

#endif
